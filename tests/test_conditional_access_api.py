"""``{issuer}/api/v1/identity/conditionalAccess/policies``: Graph shapes, validation, roles; stored policies feed
the sign-in decision."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from idp import policy_store
from idp.db import Database
from idp.directory import roles, users
from idp.models import Tenant

ISSUER = "http://127.0.0.1:5000/contoso"
BASE = "/contoso/api/v1/identity/conditionalAccess/policies"
MFA_FOR_GUESTS = {
    "displayName": "MFA for guests",
    "state": "enabled",
    "conditions": {
        "users": {"includeGuestsOrExternalUsers": {
            "guestOrExternalUserTypes": "b2bCollaborationGuest",
            "externalTenants": {"membershipKind": "all"}}},
        "applications": {"includeApplications": ["All"]},
    },
    "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
}


def test_create_read_update_delete(client: FlaskClient, mint, database: Database, contoso: Tenant) -> None:
    write = mint("Policy.ReadWrite.ConditionalAccess")
    created = client.post(BASE, headers=write, json=MFA_FOR_GUESTS)
    assert created.status_code == 201, created.json
    policy_id = created.json["id"]
    assert created.json["grantControls"]["builtInControls"] == ["mfa"]
    assert created.json["createdDateTime"].endswith("Z")
    assert client.patch(f"{BASE}/{policy_id}", headers=write,
                        json={"state": "enabledForReportingButNotEnforced"}).status_code == 204
    read = client.get(f"{BASE}/{policy_id}", headers=mint("Policy.Read.All")).json
    assert read["state"] == "enabledForReportingButNotEnforced" and read["displayName"] == "MFA for guests"
    with database.sessionmaker() as s:
        [stored] = policy_store.conditional_access_policies(s, contoso)
        assert stored.id == policy_id and stored.state == "enabledForReportingButNotEnforced"
    assert [p["id"] for p in client.get(BASE, headers=write).json["value"]] == [policy_id]
    assert client.delete(f"{BASE}/{policy_id}", headers=write).status_code == 204
    assert client.get(f"{BASE}/{policy_id}", headers=write).status_code == 404


@pytest.mark.parametrize(
    ("body", "target"),
    [
        ({k: v for k, v in MFA_FOR_GUESTS.items() if k != "grantControls"}, "grantControls"),
        (MFA_FOR_GUESTS | {"state": "on"}, "state"),
        (MFA_FOR_GUESTS | {"sessionControls": {"signInFrequency": {}}}, "sessionControls"),
        (MFA_FOR_GUESTS | {"grantControls": {"operator": "XOR", "builtInControls": ["mfa"]}}, "operator"),
    ],
)
def test_invalid_policies_are_400_naming_the_field(client: FlaskClient, mint, body: dict, target: str) -> None:
    response = client.post(BASE, headers=mint("Policy.ReadWrite.ConditionalAccess"), json=body)
    assert response.status_code == 400, response.json
    assert target in response.json["error"]["target"]
    assert client.get(BASE, headers=mint("Policy.Read.All")).json["value"] == []


def test_only_security_or_global_administrators_change_policies(client: FlaskClient, mint, database: Database,
                                                                contoso: Tenant) -> None:
    with database.transaction() as s:
        admin = users.create_member(s, contoso, "useradmin@contoso.com")
        roles.assign_role(s, contoso, admin, "User Administrator")
        security = users.create_member(s, contoso, "sec@contoso.com")
        roles.assign_role(s, contoso, security, "Security Administrator")
    assert client.post(BASE, headers=mint("Policy.ReadWrite.ConditionalAccess", subject=admin.id),
                       json=MFA_FOR_GUESTS).status_code == 403
    assert client.post(BASE, headers=mint("Policy.ReadWrite.ConditionalAccess", subject=security.id),
                       json=MFA_FOR_GUESTS).status_code == 201
    assert client.post(BASE, headers=mint("Policy.Read.All"), json=MFA_FOR_GUESTS).status_code == 403
