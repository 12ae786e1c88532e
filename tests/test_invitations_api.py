"""Contract of ``POST/GET {issuer}/api/v1/invitations`` (Graph request/response shapes, Graph errors)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from idp.db import Database
from idp.directory import roles, users
from idp.models import Invitation, Tenant, User

ISSUER = "http://127.0.0.1:5000/contoso"
URL = "/contoso/api/v1/invitations"


def post(client: FlaskClient, headers: dict[str, str], body: object):
    return client.post(URL, json=body, headers=headers)


def test_create_returns_201_with_the_graph_shape(client: FlaskClient, mint, database: Database,
                                                 contoso: Tenant) -> None:
    response = post(client, mint("User.Invite.All"), {"invitedUserEmailAddress": "john@fabrikam.com",
                                      "inviteRedirectUrl": "https://app.example/"})
    assert response.status_code == 201, response.json
    body = response.json
    assert set(body) >= {"id", "inviteRedeemUrl", "invitedUserDisplayName", "invitedUserType",
                         "invitedUserEmailAddress", "sendInvitationMessage", "resetRedemption",
                         "inviteRedirectUrl", "status", "invitedUserMessageInfo", "invitedUser"}
    assert body["sendInvitationMessage"] is False and body["invitedUserType"] == "Guest"
    assert body["resetRedemption"] is False and body["status"] == "PendingAcceptance"
    assert body["inviteRedeemUrl"].startswith(f"{ISSUER}/redeem?")
    assert body["invitedUserMessageInfo"] == {"messageLanguage": None, "customizedMessageBody": None,
                                              "ccRecipients": [{"emailAddress": {"name": None, "address": None}}]}
    assert body["invitedUser"]["userPrincipalName"] == "john_fabrikam.com#EXT#@contoso.portico.example"
    with database.sessionmaker() as s:
        guest = users.get_user(s, contoso, body["invitedUser"]["id"])
        assert guest.external_user_state == "PendingAcceptance"
        assert guest.sponsors == []  # app-only caller: no inviter to default to

    again = post(client, mint("User.Invite.All"), {"invitedUserEmailAddress": "John@Fabrikam.com",
                                  "inviteRedirectUrl": "https://app.example/"})
    assert again.status_code == 201
    assert again.json["invitedUser"]["id"] == body["invitedUser"]["id"]
    assert again.json["inviteRedeemUrl"] != body["inviteRedeemUrl"]

    listed = client.get(URL, headers=mint("User.Invite.All"))
    assert listed.status_code == 200 and len(listed.json["value"]) == 2
    one = client.get(f"{URL}/{body['id']}", headers=mint("User.Invite.All"))
    assert one.status_code == 200 and one.json["id"] == body["id"] and one.json["inviteRedeemUrl"] is None


@pytest.mark.parametrize(
    ("body", "target"),
    [
        ({"inviteRedirectUrl": "https://a.example/"}, "invitedUserEmailAddress"),
        ({"invitedUserEmailAddress": "a@x.com"}, "inviteRedirectUrl"),
        ({"invitedUserEmailAddress": "a+b@x.com", "inviteRedirectUrl": "https://a.example/"},
         "invitedUserEmailAddress"),
        ({"invitedUserEmailAddress": "a@x.com", "inviteRedirectUrl": "https://a.example/", "invitedUserType": "X"},
         "invitedUserType"),
        ({"invitedUserEmailAddress": "a@x.com", "inviteRedirectUrl": "https://a.example/", "bogus": 1}, "bogus"),
        ({"invitedUserEmailAddress": "a@x.com", "inviteRedirectUrl": "https://a.example/",
          "sendInvitationMessage": "perhaps"}, "sendInvitationMessage"),
        ({"invitedUserEmailAddress": "a@x.com", "inviteRedirectUrl": "https://a.example/",
          "invitedUserMessageInfo": {"ccRecipients": [{"emailAddress": {"address": "c@x.com"}},
                                                      {"emailAddress": {"address": "d@x.com"}}]}},
         "invitedUserMessageInfo.ccRecipients"),
        ({"invitedUserEmailAddress": "a@x.com", "inviteRedirectUrl": "https://a.example/",
          "resetRedemption": True}, "invitedUser.id"),
    ],
)
def test_bad_requests_are_400_graph_errors_and_write_nothing(client: FlaskClient, mint, database: Database,
                                                             body: dict, target: str) -> None:
    response = post(client, mint("User.Invite.All"), body)
    assert response.status_code == 400, response.json
    assert response.json["error"]["code"] == "BadRequest"
    assert response.json["error"]["target"] == target
    assert response.json["error"]["message"]
    with database.sessionmaker() as s:
        assert s.query(Invitation).count() == 0 and s.query(User).count() == 0


def test_not_json_is_a_400(client: FlaskClient, mint) -> None:
    response = client.post(URL, data="nope", headers=mint("User.Invite.All") | {"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json["error"]["code"] == "BadRequest"


def test_authentication_and_scopes(client: FlaskClient, mint, fabrikam: Tenant) -> None:
    body = {"invitedUserEmailAddress": "a@x.com", "inviteRedirectUrl": "https://a.example/"}
    missing = post(client, {}, body)
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"] == "Bearer"
    assert missing.json["error"]["code"] == "InvalidAuthenticationToken"
    garbage = post(client, {"Authorization": "Bearer nope"}, body)
    assert garbage.status_code == 401 and 'error="invalid_token"' in garbage.headers["WWW-Authenticate"]
    wrong_scope = post(client, mint("scim.read"), body)
    assert wrong_scope.status_code == 403 and wrong_scope.json["error"]["code"] == "Authorization_RequestDenied"
    other_tenant = post(client, mint("User.Invite.All", tenant=fabrikam, issuer="http://127.0.0.1:5000/fabrikam"), body)
    assert other_tenant.status_code == 401
    assert client.get(URL).status_code == 401


def test_member_invites_need_a_global_administrator(client: FlaskClient, mint, database: Database,
                                                    contoso: Tenant) -> None:
    with database.transaction() as s:
        admin = users.create_member(s, contoso, "admin@contoso.com")
        roles.assign_role(s, contoso, admin, "Global Administrator")
        inviter = users.create_member(s, contoso, "inviter@contoso.com")
        roles.assign_role(s, contoso, inviter, "Guest Inviter")
    body = {"invitedUserEmailAddress": "m@x.com", "inviteRedirectUrl": "https://a.example/",
            "invitedUserType": "Member"}
    refused = post(client, mint("User.Invite.All", subject=inviter.id), body)
    assert refused.status_code == 403 and refused.json["error"]["target"].endswith("invitedUserType")
    refused_app = post(client, mint("User.Invite.All"), body)
    assert refused_app.status_code == 403
    accepted = post(client, mint("User.Invite.All", subject=admin.id), body)
    assert accepted.status_code == 201 and accepted.json["invitedUserType"] == "Member"
    with database.sessionmaker() as s:
        guest = users.get_user(s, contoso, accepted.json["invitedUser"]["id"])
        assert [sp.sponsor_user_id for sp in guest.sponsors] == [admin.id]  # delegated: inviter sponsors


def test_existing_member_conflicts(client: FlaskClient, mint, database: Database, contoso: Tenant) -> None:
    with database.transaction() as s:
        users.create_member(s, contoso, "bob@contoso.com")
    response = post(client, mint("User.Invite.All"), {"invitedUserEmailAddress": "bob@contoso.com",
                                     "inviteRedirectUrl": "https://a.example/"})
    assert response.status_code == 409 and "already exists" in response.json["error"]["message"]


def test_unknown_items_and_tenants(client: FlaskClient, mint) -> None:
    assert client.get(f"{URL}/nope", headers=mint("User.Invite.All")).status_code == 404
    response = client.get("/nowhere/api/v1/invitations")
    assert response.status_code == 404 and response.json["error"]["code"] == "tenantNotFound"


def test_openapi_is_generated_from_the_models(client: FlaskClient, contoso: Tenant) -> None:
    response = client.get("/contoso/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json
    assert doc["openapi"].startswith("3.") and doc["servers"] == [{"url": f"{ISSUER}/api/v1"}]
    create = doc["paths"]["/invitations"]["post"]
    assert set(create["responses"]) >= {"201", "400", "401", "403", "409"}
    schema = doc["components"]["schemas"]["InvitationCreate"]
    assert set(schema["required"]) == {"invitedUserEmailAddress", "inviteRedirectUrl"}
    assert schema["properties"]["invitedUserType"]["enum"] == ["Guest", "Member"]
    assert "InvitationCreated" in doc["components"]["schemas"]


def test_openapi_lists_every_route_of_the_api(client: FlaskClient, app: Flask, contoso: Tenant) -> None:
    """Each route of the API blueprint is documented (and nothing undocumented is served)."""
    doc = client.get("/contoso/api/v1/openapi.json").json
    documented = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.endpoint != "api.openapi":
            path = rule.rule.removeprefix("/<tenant>/api/v1")
            for name in ("<invitation_id>", "<partner_id>", "<policy_id>"):
                path = path.replace(name, "{id}")
            served |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert served == documented
