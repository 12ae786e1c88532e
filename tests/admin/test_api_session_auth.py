"""The JSON API also accepts a signed-in administrator's session (issue 5), with a CSRF header for writes; bearer
tokens work exactly as before."""

from __future__ import annotations

from admin_support import admin_client, csrf_token
from flask import Flask
from flask.testing import FlaskClient

from idp.db import Database
from idp.models import Invitation, Tenant
from idp.runtime import runtime
from idp.tokens import issue_access_token

API = "/contoso/api/v1"
INVITATION = {"invitedUserEmailAddress": "pat@partner.example", "inviteRedirectUrl": "https://apps.example/"}


def _token(client: FlaskClient) -> str:
    return csrf_token(client.get("/contoso/admin/invite").text)


def test_signed_in_admin_invites_through_the_api_with_the_csrf_header(guest_inviter: FlaskClient,
                                                                      database: Database) -> None:
    refused = guest_inviter.post(f"{API}/invitations", json=INVITATION)
    assert refused.status_code == 403 and "X-CSRF-Token" in refused.json["error"]["message"]
    forged = guest_inviter.post(f"{API}/invitations", json=INVITATION, headers={"X-CSRF-Token": "forged"})
    assert forged.status_code == 403
    with database.sessionmaker() as s:
        assert s.query(Invitation).count() == 0
    created = guest_inviter.post(f"{API}/invitations", json=INVITATION,
                                 headers={"X-CSRF-Token": _token(guest_inviter)})
    assert created.status_code == 201, created.json
    assert created.json["invitedUserEmailAddress"] == "pat@partner.example"
    listed = guest_inviter.get(f"{API}/invitations")  # reads need no CSRF header
    assert listed.status_code == 200 and len(listed.json["value"]) == 1


def test_the_session_admin_is_bound_by_its_roles(guest_inviter: FlaskClient, security_admin: FlaskClient) -> None:
    patch = {"allowInvitesFrom": "none"}
    denied = guest_inviter.patch(f"{API}/policies/externalCollaboration", json=patch,
                                 headers={"X-CSRF-Token": _token(guest_inviter)})
    assert denied.status_code == 403 and "authorizationPolicy" in denied.json["error"]["message"]
    token = csrf_token(security_admin.get("/contoso/admin/cross-tenant-access").text)
    allowed = security_admin.patch(f"{API}/policies/crossTenantAccessPolicy/default", headers={"X-CSRF-Token": token},
                                   json={"inboundTrust": {"isMfaAccepted": True}})
    assert allowed.status_code == 204


def test_members_without_a_role_and_anonymous_callers_are_refused(app: Flask, database: Database,
                                                                  contoso: Tenant) -> None:
    assert app.test_client().get(f"{API}/invitations").status_code == 401
    member = admin_client(app, database, contoso, "max")
    response = member.get(f"{API}/invitations")
    assert response.status_code == 403 and "no administrator role" in response.json["error"]["message"]


def test_a_bearer_token_is_judged_on_its_own_even_with_a_session(app: Flask, guest_inviter: FlaskClient,
                                                                 contoso: Tenant) -> None:
    issuer = "http://127.0.0.1:5000/contoso"
    token, _ = issue_access_token(runtime(app).keys, issuer=issuer, tenant_id=contoso.id, subject="automation",
                                  client_id="automation", audience=issuer, scopes=["Policy.Read.All"])
    response = guest_inviter.post(f"{API}/invitations", json=INVITATION,
                                  headers={"Authorization": f"Bearer {token}", "X-CSRF-Token": _token(guest_inviter)})
    assert response.status_code == 403 and "User.Invite.All" in response.json["error"]["message"]
    bad = guest_inviter.get(f"{API}/invitations", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401


def test_openapi_documents_the_session_alternative(client: FlaskClient, contoso: Tenant) -> None:
    document = client.get(f"{API}/openapi.json").json
    assert document["components"]["securitySchemes"]["adminSession"] == {
        "type": "apiKey", "in": "cookie", "name": "portico_sso",
        "description": document["components"]["securitySchemes"]["adminSession"]["description"]}
    assert document["components"]["securitySchemes"]["csrfHeader"]["name"] == "X-CSRF-Token"
    assert {"adminSession": [], "csrfHeader": []} in document["paths"]["/invitations"]["post"]["security"]
    assert {"adminSession": []} in document["paths"]["/invitations"]["get"]["security"]
