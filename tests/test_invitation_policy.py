"""Invitations obey the stored policies: external collaboration settings and cross-tenant access, most
restrictive wins, and each refusal names the setting (issue 5, spec §5.4, §6)."""

from __future__ import annotations

import pytest

from idp import policy_store
from idp.db import Database
from idp.directory import roles, users
from idp.errors import Forbidden
from idp.invitations import service
from idp.invitations.model import InvitationRequest, Inviter
from idp.models import Invitation, Tenant, User
from idp.models.policy_document import PolicyDocument

ISSUER = "http://127.0.0.1:5000/contoso"


def settings_patch(database: Database, tenant: Tenant, patch: dict, roles_: tuple[str, ...] = (
        "Global Administrator",), policy: str = "b2bManagementPolicy") -> None:
    with database.transaction() as s:
        policy_store.update_external_collaboration(s, tenant, patch, policy=policy, roles=roles_, actor="admin")


def invite(database: Database, tenant: Tenant, email: str, inviter: Inviter = Inviter(operator=True)):
    with database.transaction() as s:
        return service.invite(s, tenant, InvitationRequest(email, "https://app.example/"), inviter, issuer=ISSUER)


def block(database: Database, tenant: Tenant, domains: list[str]) -> None:
    settings_patch(database, tenant, {"b2bManagementPolicy": {
        "InvitationsAllowedAndBlockedDomainsPolicy": {"BlockedDomains": domains}}})


def test_seed_1_blocked_domain_refuses_even_when_cross_tenant_access_allows_all(
    database: Database, contoso: Tenant
) -> None:
    block(database, contoso, ["fabrikam.com"])
    with database.sessionmaker() as s:  # cross-tenant access: system default, allows everyone
        effective = policy_store.effective_cross_tenant(s, contoso, None)
        assert effective.b2b_collaboration_inbound.users_and_groups.access_type == "allowed"
    with pytest.raises(Forbidden) as refused:
        invite(database, contoso, "ann@Fabrikam.com")
    assert refused.value.field == "b2bManagementPolicy.BlockedDomains"
    with database.sessionmaker() as s:
        assert s.query(User).filter_by(user_type="Guest").count() == 0
        assert s.query(Invitation).count() == 0
    invite(database, contoso, "ann@woodgrove.com")  # other domains are still fine


def test_seed_2_blocking_later_stops_new_invites_and_pending_redemptions_only(
    database: Database, contoso: Tenant
) -> None:
    redeemed = invite(database, contoso, "early@fabrikam.com")
    pending = invite(database, contoso, "late@fabrikam.com")
    with database.transaction() as s:
        invitation = s.get(Invitation, redeemed.invitation.id)
        service.complete_redemption(s, contoso, invitation, sign_in_type="federated", issuer="mail",
                                    issuer_assigned_id="early@fabrikam.com")
    block(database, contoso, ["fabrikam.com"])

    with pytest.raises(Forbidden, match="fabrikam.com"):
        invite(database, contoso, "new@fabrikam.com")
    with pytest.raises(Forbidden) as refused, database.transaction() as s:
        service.complete_redemption(s, contoso, s.get(Invitation, pending.invitation.id), sign_in_type="federated",
                                    issuer="mail", issuer_assigned_id="late@fabrikam.com")
    assert refused.value.field == "b2bManagementPolicy.BlockedDomains"
    with database.sessionmaker() as s:
        assert users.get_user(s, contoso, pending.user.id).external_user_state == "PendingAcceptance"
        early = users.get_user(s, contoso, redeemed.user.id)
        assert early.external_user_state == "Accepted" and early.account_enabled  # kept, not touched


def test_allow_list_is_exact_and_case_insensitive(database: Database, contoso: Tenant) -> None:
    settings_patch(database, contoso, {"b2bManagementPolicy": {
        "InvitationsAllowedAndBlockedDomainsPolicy": {"AllowedDomains": ["Partner.com"]}}})
    invite(database, contoso, "a@PARTNER.com")
    for address in ("a@sub.partner.com", "a@other.com"):
        with pytest.raises(Forbidden) as refused:
            invite(database, contoso, address)
        assert refused.value.field == "b2bManagementPolicy.AllowedDomains"


@pytest.mark.parametrize(
    ("mode", "caller_roles", "user_type", "allowed"),
    [
        ("everyone", (), "Guest", True),
        ("everyone", (), "Member", True),
        ("adminsGuestInvitersAndAllMembers", (), "Member", True),
        ("adminsGuestInvitersAndAllMembers", (), "Guest", False),
        ("adminsAndGuestInviters", (), "Member", False),
        ("adminsAndGuestInviters", ("Guest Inviter",), "Member", True),
        ("adminsAndGuestInviters", ("User Administrator",), "Member", True),
        ("none", ("Global Administrator",), "Member", False),
    ],
)
def test_allow_invites_from_through_the_service(database: Database, contoso: Tenant, mode: str,
                                                caller_roles: tuple[str, ...], user_type: str, allowed: bool) -> None:
    settings_patch(database, contoso, {"allowInvitesFrom": mode}, policy="authorizationPolicy")
    with database.transaction() as s:
        if user_type == "Member":
            caller = users.create_member(s, contoso, "caller@contoso.com")
        else:
            caller = users.create_guest(s, contoso, "caller@elsewhere.com")
        for role in caller_roles:
            roles.assign_role(s, contoso, caller, role)
    inviter = Inviter(user=caller, roles=frozenset(caller_roles))
    if allowed:
        invite(database, contoso, "x@fabrikam.com", inviter)
    else:
        with pytest.raises(Forbidden) as refused:
            invite(database, contoso, "x@fabrikam.com", inviter)
        assert refused.value.field.endswith("allowInvitesFrom")


def test_app_only_refused_only_when_invitations_are_off(database: Database, contoso: Tenant) -> None:
    settings_patch(database, contoso, {"allowInvitesFrom": "adminsAndGuestInviters"}, policy="authorizationPolicy")
    invite(database, contoso, "a@fabrikam.com", Inviter(client_id="automation"))
    settings_patch(database, contoso, {"allowInvitesFrom": "none"}, policy="authorizationPolicy")
    with pytest.raises(Forbidden):
        invite(database, contoso, "b@fabrikam.com", Inviter(client_id="automation"))


def test_guest_inviter_can_invite_but_not_change_settings(database: Database, contoso: Tenant) -> None:
    with pytest.raises(Forbidden):
        settings_patch(database, contoso, {"allowInvitesFrom": "everyone"}, ("Guest Inviter",),
                       policy="authorizationPolicy")
    with database.sessionmaker() as s:
        assert s.query(PolicyDocument).count() == 0


def test_cross_tenant_access_of_both_tenants_applies(database: Database, contoso: Tenant, fabrikam: Tenant) -> None:
    """fabrikam.com is fabrikam's verified domain: its outbound settings toward contoso count too (§5.4)."""
    with database.transaction() as s:
        s.add(PolicyDocument(tenant_id=fabrikam.id, kind=policy_store.CROSS_TENANT_PARTNER, key=contoso.id,
                             document={"tenantId": contoso.id, "b2bCollaborationOutbound": {
                                 "usersAndGroups": {"accessType": "blocked",
                                                    "targets": [{"target": "AllUsers", "targetType": "user"}]},
                                 "applications": {"accessType": "blocked",
                                                  "targets": [{"target": "AllApplications",
                                                               "targetType": "application"}]}}}))
    with pytest.raises(Forbidden, match="(?i)outbound"):
        invite(database, contoso, "ann@fabrikam.com")
    invite(database, contoso, "ann@woodgrove.com")
