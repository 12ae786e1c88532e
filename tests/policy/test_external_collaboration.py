"""External collaboration settings (b2b-collaboration.md §4, §6): model, Graph shapes and decisions."""

from __future__ import annotations

import pytest

from idp.errors import Forbidden, ValidationError
from idp.policy.external_collaboration import (
    DomainList,
    ExternalCollaborationSettings,
    Inviter,
    is_domain_allowed,
    is_email_otp_enabled,
    is_self_service_sign_up_enabled,
    may_invite,
    may_leave,
    may_redeem,
)

GA, UA, GI, SA = "Global Administrator", "User Administrator", "Guest Inviter", "Security Administrator"

CALLERS = {
    "member": Inviter.member(),
    "guest": Inviter.guest(),
    "global-admin": Inviter.member(GA),
    "user-admin": Inviter.member(UA),
    "guest-inviter": Inviter.member(GI),
    "guest-with-guest-inviter-role": Inviter.guest(GI),
    "security-admin": Inviter.member(SA),
    "app-only": Inviter.application(),
}

# §6.2 table: who can invite, for every value and every caller kind; §1.1 for app-only calls.
ALLOW_INVITES_FROM_TABLE = {
    "everyone": {name: True for name in CALLERS},
    "adminsGuestInvitersAndAllMembers": {
        "member": True, "guest": False, "global-admin": True, "user-admin": True, "guest-inviter": True,
        "guest-with-guest-inviter-role": True, "security-admin": True, "app-only": True,
    },
    "adminsAndGuestInviters": {
        "member": False, "guest": False, "global-admin": True, "user-admin": True, "guest-inviter": True,
        "guest-with-guest-inviter-role": True, "security-admin": False, "app-only": True,
    },
    "none": {name: False for name in CALLERS},
}


@pytest.mark.parametrize(
    ("mode", "caller", "expected"),
    [
        pytest.param(mode, caller, expected, id=f"§6.2-{mode}-{caller}")
        for mode, row in ALLOW_INVITES_FROM_TABLE.items()
        for caller, expected in row.items()
    ],
)
def test_allow_invites_from(mode: str, caller: str, expected: bool) -> None:
    settings = ExternalCollaborationSettings.from_graph({"allowInvitesFrom": mode})
    decision = may_invite(settings, CALLERS[caller])
    assert decision.allowed is expected
    assert decision.reasons[0].name == "authorizationPolicy.allowInvitesFrom"
    assert mode in decision.message
    if not expected:
        assert decision.refused_by == "authorizationPolicy.allowInvitesFrom"
        with pytest.raises(Forbidden) as raised:
            decision.raise_if_denied()
        assert raised.value.field == "authorizationPolicy.allowInvitesFrom"


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        pytest.param("member", True, id="§6.2-guest-with-member-permissions-counts-as-member"),
        pytest.param("limited", False, id="§6.2-limited-guest-is-not-a-member"),
        pytest.param("restricted", False, id="§6.2-restricted-guest-is-not-a-member"),
    ],
)
def test_guests_with_member_permissions_invite_like_members(role: str, expected: bool) -> None:
    settings = ExternalCollaborationSettings.from_graph(
        {"allowInvitesFrom": "adminsGuestInvitersAndAllMembers", "guestUserRole": role}
    )
    assert may_invite(settings, Inviter.guest()).allowed is expected


@pytest.mark.parametrize(
    ("lists", "address", "expected", "setting"),
    [
        pytest.param(None, "ann@fabrikam.com", True, "InvitationsAllowedAndBlockedDomainsPolicy",
                     id="§6.5-default-any-domain"),
        pytest.param({"BlockedDomains": ["fabrikam.com"]}, "ann@fabrikam.com", False, "BlockedDomains",
                     id="§6.5-blocklist-listed-domain-refused"),
        pytest.param({"BlockedDomains": ["fabrikam.com"]}, "ann@FABRIKAM.Com", False, "BlockedDomains",
                     id="README-5-blocklist-case-insensitive"),
        pytest.param({"BlockedDomains": ["fabrikam.com"]}, "ann@woodgrove.com", True, "BlockedDomains",
                     id="§6.5-blocklist-complement-allowed"),
        pytest.param({"BlockedDomains": ["fabrikam.com"]}, "ann@eu.fabrikam.com", True, "BlockedDomains",
                     id="README-5-blocklist-subdomain-not-matched"),
        pytest.param({"BlockedDomains": ["fabrikam.com"]}, "ann@fabrikam.com.evil.example", True, "BlockedDomains",
                     id="README-5-blocklist-suffix-not-matched"),
        pytest.param({"AllowedDomains": ["Fabrikam.COM"]}, "ann@fabrikam.com", True, "AllowedDomains",
                     id="§6.5-allowlist-listed-domain-allowed"),
        pytest.param({"AllowedDomains": ["fabrikam.com"]}, "ann@woodgrove.com", False, "AllowedDomains",
                     id="§6.5-allowlist-complement-blocked"),
        pytest.param({"AllowedDomains": ["fabrikam.com"]}, "ann@sales.fabrikam.com", False, "AllowedDomains",
                     id="README-5-allowlist-subdomain-must-be-listed"),
        pytest.param({"AllowedDomains": ["fabrikam.com", "sales.fabrikam.com"]}, "ann@sales.fabrikam.com", True,
                     "AllowedDomains", id="README-5-allowlist-subdomain-listed-explicitly"),
        pytest.param({"AllowedDomains": []}, "ann@fabrikam.com", False, "AllowedDomains",
                     id="§6.5-empty-allowlist-allows-nothing"),
        pytest.param({"AllowedDomains": [], "BlockedDomains": []}, "ann@fabrikam.com", True,
                     "InvitationsAllowedAndBlockedDomainsPolicy", id="§6.5-both-lists-empty-any-domain"),
        pytest.param({"AllowedDomains": [], "BlockedDomains": ["fabrikam.com"]}, "ann@fabrikam.com", False,
                     "BlockedDomains", id="§6.5-graph-shape-with-empty-allowlist-is-a-blocklist"),
        pytest.param({"BlockedDomains": ["bücher.example"]}, "ann@xn--bcher-kva.example", False, "BlockedDomains",
                     id="README-5-idna-forms-compare-equal"),
    ],
)
def test_domain_lists(lists: dict | None, address: str, expected: bool, setting: str) -> None:
    policy = {} if lists is None else {"InvitationsAllowedAndBlockedDomainsPolicy": lists}
    settings = ExternalCollaborationSettings.from_graph({"b2bManagementPolicy": policy})
    decision = is_domain_allowed(settings, address)
    assert decision.allowed is expected
    assert decision.reasons[0].name == f"b2bManagementPolicy.{setting}"
    if not expected:
        assert "blocked by the invitation policy" in decision.message


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        pytest.param("Accepted", True, id="§5.9-redeemed-guest-unaffected-by-new-block"),
        pytest.param("PendingAcceptance", False, id="§6.5-pending-invitation-fails-at-redemption"),
        pytest.param(None, False, id="§6.5-no-state-treated-as-pending"),
    ],
)
def test_domain_lists_at_redemption(state: str | None, expected: bool) -> None:
    """Seed example 2: blocking a domain later stops new invites while an already-redeemed guest signs in."""
    settings = ExternalCollaborationSettings(domain_list=DomainList.deny("fabrikam.com"))
    assert is_domain_allowed(settings, "ann@fabrikam.com").denied
    assert may_redeem(settings, "ann@fabrikam.com", state).allowed is expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("document", "otp", "sign_up"),
    [
        pytest.param({}, True, False, id="§4-§6.4-defaults-otp-on-sign-up-off"),
        pytest.param({"allowExternalIdToUseEmailOtp": "disabled"}, False, False, id="§4-otp-disabled"),
        pytest.param({"allowExternalIdToUseEmailOtp": "enabled"}, True, False, id="§4-otp-enabled"),
        pytest.param({"emailOtpForGuests": False}, False, False, id="§4-otp-off-by-flag"),
        pytest.param({"selfServiceSignUp": {"isEnabled": True}}, True, True, id="§6.4-sign-up-on"),
    ],
)
def test_otp_and_self_service_sign_up(document: dict, otp: bool, sign_up: bool) -> None:
    settings = ExternalCollaborationSettings.from_graph(document)
    otp_decision = is_email_otp_enabled(settings)
    assert otp_decision.allowed is otp
    assert otp_decision.reasons[0].setting == "allowExternalIdToUseEmailOtp"
    sign_up_decision = is_self_service_sign_up_enabled(settings)
    assert sign_up_decision.allowed is sign_up
    assert sign_up_decision.reasons[0].name == "authenticationFlowsPolicy.selfServiceSignUp.isEnabled"


@pytest.mark.parametrize(
    ("leave", "privacy", "enabled", "expected", "refused_by"),
    [
        pytest.param(True, True, True, True, None, id="§6.6-leave-allowed"),
        pytest.param(True, False, True, False, "organization.privacyProfile", id="§6.6-needs-privacy-info"),
        pytest.param(False, True, True, False, "externalCollaborationSettings.allowExternalUsersToLeave",
                     id="§6.6-setting-off"),
        pytest.param(True, True, False, False, "user.accountEnabled", id="§6.6-disabled-account"),
    ],
)
def test_leave(leave: bool, privacy: bool, enabled: bool, expected: bool, refused_by: str | None) -> None:
    settings = ExternalCollaborationSettings(allow_external_users_to_leave=leave)
    decision = may_leave(settings, has_privacy_profile=privacy, account_enabled=enabled)
    assert decision.allowed is expected
    assert decision.refused_by == refused_by


def test_defaults_round_trip_through_graph() -> None:
    document = ExternalCollaborationSettings().to_graph()
    assert document == {
        "allowInvitesFrom": "everyone",
        "guestUserRole": "limited",
        "guestUserRoleId": "10dae51f-b6af-4016-8d66-8c2a99b929b3",
        "allowEmailVerifiedUsersToJoinOrganization": True,
        "b2bManagementPolicy": {"InvitationsAllowedAndBlockedDomainsPolicy": {}},
        "allowExternalIdToUseEmailOtp": "default",
        "emailOtpForGuests": True,
        "selfServiceSignUp": {"isEnabled": False},
        "allowExternalUsersToLeave": True,
    }
    assert ExternalCollaborationSettings.from_graph(document) == ExternalCollaborationSettings()


def test_round_trip_of_custom_settings() -> None:
    settings = ExternalCollaborationSettings.from_graph(
        {
            "allowInvitesFrom": "adminsAndGuestInviters",
            "guestUserRoleId": "2AF84B1E-32C8-42B7-82BC-DAA82404023B",
            "b2bManagementPolicy": {
                "B2BManagementPolicy": {"InvitationsAllowedAndBlockedDomainsPolicy": {
                    "AllowedDomains": ["Fabrikam.com", "fabrikam.com", "woodgrove.com."]}}
            },
            "emailOtpForGuests": False,
            "selfServiceSignUp": {"isEnabled": True},
            "allowExternalUsersToLeave": False,
        }
    )
    assert settings.guest_user_role == "restricted"
    assert settings.domain_list == DomainList("allow", ("fabrikam.com", "woodgrove.com"))
    document = settings.to_graph()
    assert document["b2bManagementPolicy"] == {
        "InvitationsAllowedAndBlockedDomainsPolicy": {"AllowedDomains": ["fabrikam.com", "woodgrove.com"]}
    }
    assert document["guestUserRoleId"] == "2af84b1e-32c8-42b7-82bc-daa82404023b"
    assert ExternalCollaborationSettings.from_graph(document) == settings
    assert settings.authorization_policy()["id"] == "authorizationPolicy"


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        pytest.param("a0b1b346-4d3e-4e8b-98f8-753987be4970", "member", id="§6.3-User-guid-is-member"),
        pytest.param("10dae51f-b6af-4016-8d66-8c2a99b929b3", "limited", id="§6.3-Guest-User-guid-is-limited"),
        pytest.param("2af84b1e-32c8-42b7-82bc-daa82404023b", "restricted", id="§6.3-Restricted-guid-is-restricted"),
        pytest.param("Restricted", "restricted", id="README-guestUserRole-name-any-case"),
    ],
)
def test_guest_user_role_aliases(role: str, expected: str) -> None:
    assert ExternalCollaborationSettings.from_graph({"guestUserRole": role}).guest_user_role == expected
    assert ExternalCollaborationSettings.from_graph({"guestUserRoleId": role}).guest_user_role == expected


def test_patch_keeps_absent_properties() -> None:
    base = ExternalCollaborationSettings(allow_invites_from="none", domain_list=DomainList.deny("a.example"))
    patched = ExternalCollaborationSettings.from_graph({"guestUserRole": "member"}, base=base)
    assert patched.allow_invites_from == "none"
    assert patched.domain_list == base.domain_list
    assert patched.guest_user_role == "member"
    switched = ExternalCollaborationSettings.from_graph(
        {"b2bManagementPolicy": {"InvitationsAllowedAndBlockedDomainsPolicy": {"AllowedDomains": ["b.example"]}}},
        base=base,
    )
    assert switched.domain_list == DomainList("allow", ("b.example",)), "switching modes discards the old list"


@pytest.mark.parametrize(
    ("document", "field"),
    [
        pytest.param([], None, id="body-not-an-object"),
        pytest.param({"allowInvitesFrom": "admins"}, "allowInvitesFrom", id="§6.2-unknown-value"),
        pytest.param({"allowInvitesFrom": None}, "allowInvitesFrom", id="§6.2-null"),
        pytest.param({"guestUserRole": "owner"}, "guestUserRole", id="§6.3-unknown-role"),
        pytest.param({"guestUserRoleId": "00000000-0000-0000-0000-000000000000"}, "guestUserRoleId",
                     id="§6.3-unknown-guid"),
        pytest.param({"guestUserRole": "member", "guestUserRoleId": "10dae51f-b6af-4016-8d66-8c2a99b929b3"},
                     "guestUserRoleId", id="§6.3-name-and-guid-disagree"),
        pytest.param({"allowExternalIdToUseEmailOtp": "yes"}, "allowExternalIdToUseEmailOtp", id="§4-bad-enum"),
        pytest.param({"emailOtpForGuests": "true"}, "emailOtpForGuests", id="§4-flag-not-boolean"),
        pytest.param({"emailOtpForGuests": True, "allowExternalIdToUseEmailOtp": "disabled"}, "emailOtpForGuests",
                     id="§4-flag-and-enum-disagree"),
        pytest.param({"selfServiceSignUp": {"isEnabled": 1}}, "selfServiceSignUp.isEnabled", id="§6.4-not-boolean"),
        pytest.param({"selfServiceSignUp": {"enabled": True}}, "selfServiceSignUp.enabled", id="§6.4-unknown-key"),
        pytest.param({"allowExternalUsersToLeave": "no"}, "allowExternalUsersToLeave", id="§6.6-not-boolean"),
        pytest.param({"blockMsolPowerShell": True}, "blockMsolPowerShell", id="unsupported-property"),
        pytest.param(
            {"b2bManagementPolicy": {"InvitationsAllowedAndBlockedDomainsPolicy": {
                "AllowedDomains": ["a.example"], "BlockedDomains": ["b.example"]}}},
            "b2bManagementPolicy.InvitationsAllowedAndBlockedDomainsPolicy.BlockedDomains",
            id="§6.5-exactly-one-list",
        ),
        pytest.param(
            {"b2bManagementPolicy": {"InvitationsAllowedAndBlockedDomainsPolicy": {"BlockedDomains": ["*.a.example"]}}},
            "b2bManagementPolicy.InvitationsAllowedAndBlockedDomainsPolicy.BlockedDomains[0]",
            id="README-5-no-wildcards",
        ),
        pytest.param(
            {"b2bManagementPolicy": {"InvitationsAllowedAndBlockedDomainsPolicy": {
                "AllowedDomains": ["ok.example", "ann@b.example"]}}},
            "b2bManagementPolicy.InvitationsAllowedAndBlockedDomainsPolicy.AllowedDomains[1]",
            id="§6.5-address-is-not-a-domain",
        ),
        pytest.param(
            {"b2bManagementPolicy": {"InvitationsAllowedAndBlockedDomainsPolicy": {"AllowedDomains": ["localhost"]}}},
            "b2bManagementPolicy.InvitationsAllowedAndBlockedDomainsPolicy.AllowedDomains[0]",
            id="§6.5-not-fully-qualified",
        ),
        pytest.param(
            {"b2bManagementPolicy": {"InvitationsAllowedAndBlockedDomainsPolicy": {"AllowedDomains": ["a..example"]}}},
            "b2bManagementPolicy.InvitationsAllowedAndBlockedDomainsPolicy.AllowedDomains[0]",
            id="§6.5-malformed-domain",
        ),
        pytest.param(
            {"b2bManagementPolicy": {"InvitationsAllowedAndBlockedDomainsPolicy": {"AllowedDomains": "a.example"}}},
            "b2bManagementPolicy.InvitationsAllowedAndBlockedDomainsPolicy.AllowedDomains",
            id="§6.5-list-not-a-list",
        ),
        pytest.param(
            {"b2bManagementPolicy": {"InvitationsAllowedAndBlockedDomainsPolicy": {
                "BlockedDomains": [f"d{i}.example.com" for i in range(2000)]}}},
            "b2bManagementPolicy.InvitationsAllowedAndBlockedDomainsPolicy",
            id="§6.5-definition-over-25000-characters",
        ),
    ],
)
def test_from_graph_names_the_bad_field(document: object, field: str | None) -> None:
    with pytest.raises(ValidationError) as raised:
        ExternalCollaborationSettings.from_graph(document)
    assert raised.value.field == field
    if field:
        assert field in raised.value.message


def test_a_domain_list_cannot_hold_domains_in_any_mode() -> None:
    with pytest.raises(ValueError):
        DomainList("any", ("a.example",))


@pytest.mark.parametrize(
    ("inviter", "expected"),
    [
        pytest.param(Inviter.member(GA), True, id="issue-5-member-invite-by-global-admin"),
        pytest.param(Inviter.member(UA, GI), False, id="issue-5-member-invite-not-by-user-admin"),
        pytest.param(Inviter.member(), False, id="issue-5-member-invite-not-by-member"),
        pytest.param(Inviter.application(), False, id="issue-5-member-invite-not-app-only"),
    ],
)
def test_invited_user_type_member_is_for_global_administrators(inviter: Inviter, expected: bool) -> None:
    from idp.policy.external_collaboration import may_invite_as_member

    decision = may_invite_as_member(inviter)
    assert decision.allowed is expected
    assert decision.reasons[0].setting == "invitedUserType"
