"""SCIM with tokens from the tenant's own token endpoint, revocation honoured, and guest creation going through
the invitation service's policy checks."""

from __future__ import annotations

import base64

from flask import Flask
from flask.testing import FlaskClient
from scim_support import USER_SCHEMA, Scim

from idp import policy_store
from idp.db import Database
from idp.directory import applications
from idp.models import Invitation, Tenant, User


def client_credentials(client: FlaskClient, database: Database, tenant: Tenant, scopes: list[str]) -> tuple:
    with database.transaction() as s:
        created = applications.create_application(s, tenant, name="File share", redirect_uris=[],
                                                  grant_types=["client_credentials"], scopes=scopes)
    basic = base64.b64encode(f"{created.application.client_id}:{created.client_secret}".encode()).decode()
    response = client.post(f"/{tenant.slug}/token", data={"grant_type": "client_credentials",
                                                          "scope": " ".join(scopes)},
                           headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 200, response.json
    return response.json["access_token"], basic


def test_token_endpoint_token_reads_and_writes_then_revocation_stops_it(
    app: Flask, client: FlaskClient, database: Database, contoso: Tenant
) -> None:
    token, basic = client_credentials(client, database, contoso, ["scim.read", "scim.write"])
    scim = Scim(client, "contoso", token)
    created = scim.post("Users", {"schemas": [USER_SCHEMA], "userName": "bob@contoso.portico.example"})
    assert created.status_code == 201, created.json
    assert scim.get(f"Users/{created.json['id']}").status_code == 200
    revoked = client.post("/contoso/revoke", data={"token": token}, headers={"Authorization": f"Basic {basic}"})
    assert revoked.status_code == 200
    assert scim.get(f"Users/{created.json['id']}").status_code == 401


def test_guest_creation_obeys_the_invitation_policies(
    app: Flask, client: FlaskClient, database: Database, contoso: Tenant
) -> None:
    with database.transaction() as s:
        policy_store.update_external_collaboration(s, contoso, {"b2bManagementPolicy": {
            "InvitationsAllowedAndBlockedDomainsPolicy": {"BlockedDomains": ["blocked.example"]}}},
            policy="b2bManagementPolicy", roles=None, actor="test")
    token, _ = client_credentials(client, database, contoso, ["scim.read", "scim.write"])
    scim = Scim(client, "contoso", token)
    refused = scim.post("Users", {"schemas": [USER_SCHEMA], "userName": "ann@blocked.example", "userType": "Guest"})
    assert refused.status_code == 403, refused.json
    assert "blocked.example" in refused.json["detail"]
    allowed = scim.post("Users", {"schemas": [USER_SCHEMA], "userName": "ann@fine.example", "userType": "Guest"})
    assert allowed.status_code == 201
    with database.sessionmaker() as s:
        assert s.query(User).filter_by(user_type="Guest").count() == 1
        invitation = s.query(Invitation).one()  # created exactly as an invitation without mail
        assert invitation.invited_user_email_address == "ann@fine.example"
        assert invitation.send_invitation_message is False
