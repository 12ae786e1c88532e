"""Spec decision 8 through the real token endpoint: a guest's refresh re-runs cross-tenant access (contoso
inbound, fabrikam outbound) and conditional access; a block fails with ``invalid_grant`` naming the setting,
the user object stays, and every attempt is in the sign-in log."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient
from oidc_support import RelyingParty, make_rp, refresh

from idp import policy_store, signin_log
from idp.db import Database
from idp.directory import users
from idp.models import SignInLogEntry, Tenant, User
from idp.oidc import store

BLOCK_ALL = {
    "usersAndGroups": {"accessType": "blocked", "targets": [{"target": "AllUsers", "targetType": "user"}]},
    "applications": {"accessType": "blocked",
                     "targets": [{"target": "AllApplications", "targetType": "application"}]},
}
BLOCK_GUESTS = {
    "displayName": "Block guests",
    "conditions": {
        "users": {"includeGuestsOrExternalUsers": {"guestOrExternalUserTypes": "b2bCollaborationGuest",
                                                   "externalTenants": {"membershipKind": "all"}}},
        "applications": {"includeApplications": ["All"]},
    },
    "grantControls": {"operator": "OR", "builtInControls": ["block"]},
}


@dataclass
class Guest:
    user_id: str
    home_user_id: str
    refresh_token: str


def _refresh_token(database: Database, tenant: Tenant, rp: RelyingParty, user_id: str, amr: list[str]) -> str:
    with database.transaction() as s:
        value, _ = store.create_refresh_token(s, tenant.id, store.RefreshGrant(
            application_id=rp.application_id, user_id=user_id, scope="openid offline_access", sid=None,
            auth_time=int(time.time()), amr=amr))
        return value


@pytest.fixture
def rp(database: Database, contoso: Tenant) -> RelyingParty:
    return make_rp(database, contoso)


@pytest.fixture
def guest(database: Database, contoso: Tenant, fabrikam: Tenant, rp: RelyingParty) -> Guest:
    """A fabrikam member who redeemed an invitation to contoso by signing in at fabrikam."""
    with database.transaction() as s:
        home = users.create_member(s, fabrikam, "fiona@fabrikam.com", display_name="Fiona")
        user = users.create_guest(s, contoso, "fiona@fabrikam.com")
        users.add_identity(s, user, sign_in_type="federated", issuer="http://127.0.0.1:5000/fabrikam",
                           issuer_assigned_id=home.id)
        user.external_user_state = "Accepted"
        ids = user.id, home.id
    return Guest(ids[0], ids[1], _refresh_token(database, contoso, rp, ids[0], ["pwd"]))


def _entries(database: Database, tenant: Tenant) -> list[SignInLogEntry]:
    with database.sessionmaker() as s:
        return signin_log.list_sign_ins(s, tenant)


def test_allowed_guest_refreshes_and_is_logged(client: FlaskClient, database: Database, contoso: Tenant,
                                               fabrikam: Tenant, rp: RelyingParty, guest: Guest) -> None:
    response = refresh(client, rp, guest.refresh_token)
    assert response.status_code == 200, response.json
    [entry] = _entries(database, contoso)
    assert (entry.outcome, entry.kind, entry.user_id, entry.app_id) == ("success", "refreshToken", guest.user_id,
                                                                          rp.client_id)
    assert entry.home_tenant_id == fabrikam.id and entry.upstream_idp == "http://127.0.0.1:5000/fabrikam"
    settings = {r["setting"] for r in entry.cross_tenant["reasons"]}
    assert {"b2bCollaborationInbound.usersAndGroups", "b2bCollaborationOutbound.applications"} <= settings


def test_inbound_block_at_resource_fails_the_next_refresh(client: FlaskClient, database: Database,
                                                          contoso: Tenant, fabrikam: Tenant, rp: RelyingParty,
                                                          guest: Guest) -> None:
    first = refresh(client, rp, guest.refresh_token)
    assert first.status_code == 200
    with database.transaction() as s:
        policy_store.create_cross_tenant_partner(s, contoso, {"tenantId": fabrikam.id,
                                                              "b2bCollaborationInbound": BLOCK_ALL},
                                                 roles=None, actor="test")
    blocked = refresh(client, rp, first.json["refresh_token"])
    assert blocked.status_code == 400
    assert blocked.json["error"] == "invalid_grant"
    setting = f"crossTenantAccessPolicy/partners/{fabrikam.id}.b2bCollaborationInbound.usersAndGroups"
    assert setting in blocked.json["error_description"]
    with database.sessionmaker() as s:
        assert s.get(User, guest.user_id) is not None  # the guest object is kept
    newest = _entries(database, contoso)[0]
    assert (newest.outcome, newest.refused_by) == ("failure", setting)
    with database.sessionmaker() as s:
        [graph] = [signin_log.to_graph(e) for e in signin_log.list_sign_ins(
            s, contoso, signin_log.parse_query("1", "outcome eq 'failure'"))]
    assert graph["status"]["errorCode"] == 500213 and graph["refusedBy"] == setting

    with database.transaction() as s:  # unblocked: the same token works again
        policy_store.delete_cross_tenant_partner(s, contoso, fabrikam.id, roles=None, actor="test")
    assert refresh(client, rp, first.json["refresh_token"]).status_code == 200


def test_outbound_block_at_home_tenant_fails_the_refresh(client: FlaskClient, database: Database,
                                                         contoso: Tenant, fabrikam: Tenant, rp: RelyingParty,
                                                         guest: Guest) -> None:
    with database.transaction() as s:
        policy_store.update_cross_tenant_default(s, fabrikam, {"b2bCollaborationOutbound": BLOCK_ALL},
                                                 roles=None, actor="test")
    blocked = refresh(client, rp, guest.refresh_token)
    assert blocked.json["error"] == "invalid_grant"
    assert "crossTenantAccessPolicy/default.b2bCollaborationOutbound" in blocked.json["error_description"]
    assert _entries(database, contoso)[0].refused_by.endswith("b2bCollaborationOutbound.usersAndGroups")


def test_outbound_allow_list_names_home_users_and_groups(client: FlaskClient, database: Database,
                                                        contoso: Tenant, fabrikam: Tenant, rp: RelyingParty,
                                                        guest: Guest) -> None:
    """Outbound targets are the home tenant's own users: allowing only Fiona's fabrikam id lets her through."""
    only = {"usersAndGroups": {"accessType": "allowed", "targets": [{"target": guest.home_user_id,
                                                                     "targetType": "user"}]},
            "applications": {"accessType": "allowed",
                             "targets": [{"target": "AllApplications", "targetType": "application"}]}}
    with database.transaction() as s:
        policy_store.create_cross_tenant_partner(s, fabrikam, {"tenantId": contoso.id,
                                                               "b2bCollaborationOutbound": only},
                                                 roles=None, actor="test")
    assert refresh(client, rp, guest.refresh_token).status_code == 200


def test_conditional_access_block_and_report_only(client: FlaskClient, database: Database, contoso: Tenant,
                                                  rp: RelyingParty, guest: Guest) -> None:
    with database.transaction() as s:
        created = policy_store.create_conditional_access(
            s, contoso, BLOCK_GUESTS | {"state": "enabledForReportingButNotEnforced"}, roles=None, actor="test",
            now_iso="2026-11-27T08:00:00Z")
    allowed = refresh(client, rp, guest.refresh_token)
    assert allowed.status_code == 200, allowed.json
    logged = _entries(database, contoso)[0]
    assert logged.outcome == "success"
    [result] = logged.conditional_access["appliedConditionalAccessPolicies"]
    assert (result["id"], result["result"]) == (created["id"], "reportOnlyFailure")

    with database.transaction() as s:
        policy_store.update_conditional_access(s, contoso, created["id"], {"state": "enabled"}, roles=None,
                                               actor="test")
    blocked = refresh(client, rp, allowed.json["refresh_token"])
    assert blocked.json["error"] == "invalid_grant"
    assert f"conditionalAccessPolicies/{created['id']}" in blocked.json["error_description"]
    assert _entries(database, contoso)[0].outcome == "failure"


def test_members_are_not_re_evaluated(client: FlaskClient, database: Database, contoso: Tenant,
                                      rp: RelyingParty) -> None:
    with database.transaction() as s:
        member = users.create_member(s, contoso, "ada@contoso.com")
        member_id = member.id
    with database.transaction() as s:
        policy_store.create_conditional_access(s, contoso, BLOCK_GUESTS | {"state": "enabled"}, roles=None,
                                               actor="test", now_iso="2026-11-27T08:00:00Z")
    assert refresh(client, rp, _refresh_token(database, contoso, rp, member_id, ["pwd"])).status_code == 200
    assert _entries(database, contoso) == []


def test_an_external_member_is_re_evaluated(client: FlaskClient, database: Database, contoso: Tenant,
                                            fabrikam: Tenant, rp: RelyingParty, guest: Guest) -> None:
    """``userType`` Member with a federated identity (an external member) is re-evaluated like a guest."""
    with database.transaction() as s:
        user = s.get(User, guest.user_id)
        assert user is not None
        user.user_type = "Member"
        policy_store.create_cross_tenant_partner(s, contoso, {"tenantId": fabrikam.id,
                                                              "b2bCollaborationInbound": BLOCK_ALL},
                                                 roles=None, actor="test")
    blocked = refresh(client, rp, guest.refresh_token)
    assert blocked.json["error"] == "invalid_grant"
    assert "b2bCollaborationInbound" in blocked.json["error_description"]


@pytest.mark.parametrize("user_type", ["Member", "Guest"])
def test_a_disabled_user_cannot_refresh(client: FlaskClient, database: Database, contoso: Tenant,
                                        rp: RelyingParty, user_type: str) -> None:
    with database.transaction() as s:
        user = users.create_member(s, contoso, "ada@contoso.com")
        user.user_type = user_type
        user_id = user.id
    token = _refresh_token(database, contoso, rp, user_id, ["pwd"])
    with database.transaction() as s:
        disabled = s.get(User, user_id)
        assert disabled is not None
        disabled.account_enabled = False
    refused = refresh(client, rp, token)
    assert (refused.status_code, refused.json["error"]) == (400, "invalid_grant")
    assert "disabled" in refused.json["error_description"]
    with database.transaction() as s:
        enabled = s.get(User, user_id)
        assert enabled is not None
        enabled.account_enabled = True
    assert refresh(client, rp, token).status_code == 200  # the token itself was not spent
