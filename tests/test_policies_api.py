"""``{issuer}/api/v1/policies/...``: external collaboration settings in Graph shapes, enforced at invite time."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from idp.db import Database
from idp.directory import roles, users
from idp.models import Tenant

ISSUER = "http://127.0.0.1:5000/contoso"
BASE = "/contoso/api/v1/policies"


def test_defaults_in_graph_shape(client: FlaskClient, mint) -> None:
    auth = client.get(f"{BASE}/authorizationPolicy", headers=mint("Policy.Read.All"))
    assert auth.status_code == 200
    assert auth.json["id"] == "authorizationPolicy" and auth.json["allowInvitesFrom"] == "everyone"
    assert auth.json["guestUserRoleId"] == "10dae51f-b6af-4016-8d66-8c2a99b929b3"
    b2b = client.get(f"{BASE}/b2bManagementPolicy", headers=mint("Policy.Read.All"))
    assert b2b.json["definition"] == {"B2BManagementPolicy": {"InvitationsAllowedAndBlockedDomainsPolicy": {}}}
    whole = client.get(f"{BASE}/externalCollaboration", headers=mint("Policy.Read.All")).json
    assert whole["emailOtpForGuests"] is True and whole["selfServiceSignUp"] == {"isEnabled": False}


def test_patch_then_invites_obey(client: FlaskClient, mint) -> None:
    write = mint("Policy.ReadWrite.Authorization")
    patched = client.patch(f"{BASE}/b2bManagementPolicy", headers=write, json={"definition": {
        "B2BManagementPolicy": {"InvitationsAllowedAndBlockedDomainsPolicy": {"BlockedDomains": ["fabrikam.com"]}}}})
    assert patched.status_code == 204
    b2b = client.get(f"{BASE}/b2bManagementPolicy", headers=write).json
    assert b2b["definition"]["B2BManagementPolicy"]["InvitationsAllowedAndBlockedDomainsPolicy"] == {
        "BlockedDomains": ["fabrikam.com"]}
    refused = client.post("/contoso/api/v1/invitations", headers=mint("User.Invite.All"),
                          json={"invitedUserEmailAddress": "a@fabrikam.com", "inviteRedirectUrl": "https://x.example/"})
    assert refused.status_code == 403
    assert refused.json["error"]["target"] == "b2bManagementPolicy.BlockedDomains"
    assert "fabrikam.com" in refused.json["error"]["message"]

    assert client.patch(f"{BASE}/authorizationPolicy", headers=write,
                        json={"allowInvitesFrom": "none"}).status_code == 204
    off = client.post("/contoso/api/v1/invitations", headers=mint("User.Invite.All"),
                      json={"invitedUserEmailAddress": "a@woodgrove.com", "inviteRedirectUrl": "https://x.example/"})
    assert off.status_code == 403 and off.json["error"]["target"].endswith("allowInvitesFrom")


@pytest.mark.parametrize(
    ("path", "body", "target"),
    [
        ("authorizationPolicy", {"allowInvitesFrom": "sometimes"}, "allowInvitesFrom"),
        ("authorizationPolicy", {"unknownSetting": 1}, "unknownSetting"),
        ("b2bManagementPolicy", {"definition": {"InvitationsAllowedAndBlockedDomainsPolicy": {
            "AllowedDomains": ["a.com"], "BlockedDomains": ["b.com"]}}}, "BlockedDomains"),
        ("b2bManagementPolicy", {"definition": {"InvitationsAllowedAndBlockedDomainsPolicy": {
            "BlockedDomains": ["*.b.com"]}}}, "BlockedDomains"),
        ("externalCollaboration", {"selfServiceSignUp": {"isEnabled": "maybe"}}, "selfServiceSignUp.isEnabled"),
    ],
)
def test_bad_patches_are_400_naming_the_field(client: FlaskClient, mint, path: str, body: dict,
                                              target: str) -> None:
    response = client.patch(f"{BASE}/{path}", headers=mint("Policy.ReadWrite.Authorization"), json=body)
    assert response.status_code == 400, response.json
    assert target in response.json["error"]["target"]
    assert client.get(f"{BASE}/authorizationPolicy", headers=mint("Policy.Read.All")).json["allowInvitesFrom"] == \
        "everyone"


def test_scopes_and_roles(client: FlaskClient, mint, database: Database, contoso: Tenant) -> None:
    assert client.get(f"{BASE}/authorizationPolicy").status_code == 401
    assert client.patch(f"{BASE}/authorizationPolicy", headers=mint("Policy.Read.All"),
                        json={"allowInvitesFrom": "none"}).status_code == 403
    with database.transaction() as s:
        inviter = users.create_member(s, contoso, "inviter@contoso.com")
        roles.assign_role(s, contoso, inviter, "Guest Inviter")
    delegated = mint("Policy.ReadWrite.Authorization", "User.Invite.All", subject=inviter.id)
    refused = client.patch(f"{BASE}/authorizationPolicy", headers=delegated, json={"allowInvitesFrom": "none"})
    assert refused.status_code == 403  # a Guest Inviter can invite but cannot change settings
    invited = client.post("/contoso/api/v1/invitations", headers=delegated,
                          json={"invitedUserEmailAddress": "a@woodgrove.com", "inviteRedirectUrl": "https://x.example/"})
    assert invited.status_code == 201
