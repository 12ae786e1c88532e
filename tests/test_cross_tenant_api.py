"""``{issuer}/api/v1/policies/crossTenantAccessPolicy/...``: Graph shapes, inheritance, consistency, and the
invitation check that reads what the API stored."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from idp.db import Database
from idp.directory import roles, users
from idp.models import Tenant

ISSUER = "http://127.0.0.1:5000/contoso"
BASE = "/contoso/api/v1/policies/crossTenantAccessPolicy"
BLOCK_ALL_USERS = {"usersAndGroups": {"accessType": "blocked",
                                      "targets": [{"target": "AllUsers", "targetType": "user"}]},
                   "applications": {"accessType": "blocked",
                                    "targets": [{"target": "AllApplications", "targetType": "application"}]}}


@pytest.fixture
def write(mint) -> dict[str, str]:
    return mint("Policy.ReadWrite.CrossTenantAccess", "User.Invite.All")


def test_default_is_the_system_default_until_patched_then_reset(client: FlaskClient, write) -> None:
    default = client.get(f"{BASE}/default", headers=write).json
    assert default["isServiceDefault"] is True
    assert default["b2bCollaborationInbound"]["usersAndGroups"]["accessType"] == "allowed"
    assert default["b2bDirectConnectInbound"]["usersAndGroups"]["accessType"] == "blocked"
    patched = client.patch(f"{BASE}/default", headers=write, json={"inboundTrust": {"isMfaAccepted": True}})
    assert patched.status_code == 204
    after = client.get(f"{BASE}/default", headers=write).json
    assert after["isServiceDefault"] is False and after["inboundTrust"]["isMfaAccepted"] is True
    assert client.post(f"{BASE}/default/resetToSystemDefault", headers=write).status_code == 204
    assert client.get(f"{BASE}/default", headers=write).json == default


def test_partner_lifecycle_and_null_inherits(client: FlaskClient, write, fabrikam: Tenant) -> None:
    created = client.post(f"{BASE}/partners", headers=write, json={"tenantId": fabrikam.id,
                                                                    "inboundTrust": {"isMfaAccepted": True}})
    assert created.status_code == 201, created.json
    assert created.json["tenantId"] == fabrikam.id and created.json["b2bCollaborationInbound"] is None
    duplicate = client.post(f"{BASE}/partners", headers=write, json={"tenantId": fabrikam.id})
    assert duplicate.status_code == 409
    assert client.patch(f"{BASE}/partners/{fabrikam.id}", headers=write,
                        json={"inboundTrust": None}).status_code == 204
    assert client.get(f"{BASE}/partners/{fabrikam.id}", headers=write).json["inboundTrust"] is None
    assert [p["tenantId"] for p in client.get(f"{BASE}/partners", headers=write).json["value"]] == [fabrikam.id]
    assert client.delete(f"{BASE}/partners/{fabrikam.id}", headers=write).status_code == 204
    assert client.get(f"{BASE}/partners/{fabrikam.id}", headers=write).status_code == 404


def test_inbound_block_of_a_partner_refuses_its_invitees(client: FlaskClient, write, fabrikam: Tenant) -> None:
    assert client.post(f"{BASE}/partners", headers=write, json={
        "tenantId": fabrikam.id, "b2bCollaborationInbound": BLOCK_ALL_USERS}).status_code == 201
    refused = client.post("/contoso/api/v1/invitations", headers=write, json={
        "invitedUserEmailAddress": "ann@fabrikam.com", "inviteRedirectUrl": "https://x.example/"})
    assert refused.status_code == 403 and "b2bCollaborationInbound" in refused.json["error"]["target"]
    other = client.post("/contoso/api/v1/invitations", headers=write, json={
        "invitedUserEmailAddress": "ann@woodgrove.com", "inviteRedirectUrl": "https://x.example/"})
    assert other.status_code == 201


@pytest.mark.parametrize(
    ("path", "method", "body", "target"),
    [
        ("/default", "patch", {"b2bCollaborationInbound": {"usersAndGroups": {"accessType": "sometimes"}}},
         "accessType"),
        ("/default", "patch", {"automaticUserConsentSettings": {"inboundAllowed": True}},
         "automaticUserConsentSettings"),
        ("/default", "patch", {"unknown": 1}, "unknown"),
        ("/partners", "post", {"inboundTrust": {"isMfaAccepted": True}}, "tenantId"),
    ],
)
def test_invalid_writes_are_400_naming_the_field(client: FlaskClient, write, path: str, method: str, body: dict,
                                                 target: str) -> None:
    response = getattr(client, method)(f"{BASE}{path}", headers=write, json=body)
    assert response.status_code == 400, response.json
    assert target in response.json["error"]["target"]
    assert client.get(f"{BASE}/default", headers=write).json["isServiceDefault"] is True


def test_roles_and_scopes(client: FlaskClient, mint, database: Database, contoso: Tenant) -> None:
    assert client.get(f"{BASE}/default").status_code == 401
    assert client.patch(f"{BASE}/default", headers=mint("Policy.Read.All"),
                        json={"inboundTrust": {"isMfaAccepted": True}}).status_code == 403
    with database.transaction() as s:
        security = users.create_member(s, contoso, "sec@contoso.com")
        roles.assign_role(s, contoso, security, "Security Administrator")
        inviter = users.create_member(s, contoso, "inv@contoso.com")
        roles.assign_role(s, contoso, inviter, "Guest Inviter")
    body = {"inboundTrust": {"isMfaAccepted": True}}
    assert client.patch(f"{BASE}/default", headers=mint("Policy.ReadWrite.CrossTenantAccess", subject=inviter.id),
                        json=body).status_code == 403
    assert client.patch(f"{BASE}/default", headers=mint("Policy.ReadWrite.CrossTenantAccess", subject=security.id),
                        json=body).status_code == 204
