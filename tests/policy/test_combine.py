"""Combined decisions: invitation (§5.4, most restrictive wins), pending redemption (§6.5, §5.9), sign-in (§5.4)."""

from __future__ import annotations

from typing import Any

import pytest

from idp.policy.combine import invitation_decision, redemption_decision, sign_in_decision
from idp.policy.conditional_access import ConditionalAccessPolicy, SignInContext
from idp.policy.cross_tenant_access import (
    SYSTEM_DEFAULT,
    DefaultConfiguration,
    PartnerConfiguration,
    Subject,
    resolve,
)
from idp.policy.external_collaboration import DomainList, ExternalCollaborationSettings, Inviter

FABRIKAM = "fabrikam"
BLOCK_ALL = {
    "usersAndGroups": {"accessType": "blocked", "targets": [{"target": "AllUsers", "targetType": "user"}]},
    "applications": {"accessType": "blocked", "targets": [{"target": "AllApplications",
                                                           "targetType": "application"}]},
}
ALLOW_ALL_CTA = resolve(SYSTEM_DEFAULT, None)
PARTNER_BLOCKS = resolve(SYSTEM_DEFAULT, PartnerConfiguration.from_graph(
    {"tenantId": FABRIKAM, "b2bCollaborationInbound": BLOCK_ALL}, default=SYSTEM_DEFAULT))
DEFAULT_BLOCKS = resolve(DefaultConfiguration.from_graph({"b2bCollaborationInbound": BLOCK_ALL}), None)
HOME_BLOCKS_OUT = resolve(SYSTEM_DEFAULT, PartnerConfiguration.from_graph(
    {"tenantId": "contoso", "b2bCollaborationOutbound": BLOCK_ALL}, default=SYSTEM_DEFAULT))

ANY = ExternalCollaborationSettings()
DENY_FABRIKAM = ExternalCollaborationSettings(domain_list=DomainList.deny("fabrikam.com"))
ALLOW_FABRIKAM = ExternalCollaborationSettings(domain_list=DomainList.allow("fabrikam.com"))
ADMINS_ONLY = ExternalCollaborationSettings(allow_invites_from="adminsAndGuestInviters",
                                            domain_list=DomainList.deny("fabrikam.com"))


@pytest.mark.parametrize(
    ("settings", "inviter", "resource", "home", "allowed", "refused_by", "refusals"),
    [
        pytest.param(ANY, Inviter.member(), ALLOW_ALL_CTA, None, True, None, 0, id="§5.4-defaults-allow"),
        pytest.param(DENY_FABRIKAM, Inviter.member(), ALLOW_ALL_CTA, None, False,
                     "b2bManagementPolicy.BlockedDomains", 1, id="seed-1-blocked-domain-wins-over-cta-allow-all"),
        pytest.param(ALLOW_FABRIKAM, Inviter.member(), PARTNER_BLOCKS, None, False,
                     f"crossTenantAccessPolicy/partners/{FABRIKAM}.b2bCollaborationInbound.usersAndGroups", 1,
                     id="§5.4-allowlist-cannot-override-explicit-cta-block"),
        pytest.param(ALLOW_FABRIKAM, Inviter.member(), DEFAULT_BLOCKS, None, False,
                     "crossTenantAccessPolicy/default.b2bCollaborationInbound.usersAndGroups", 1,
                     id="issue-7-most-restrictive-default-cta-block-also-refuses"),
        pytest.param(ALLOW_FABRIKAM, Inviter.member(), ALLOW_ALL_CTA, HOME_BLOCKS_OUT, False,
                     "crossTenantAccessPolicy/partners/contoso.b2bCollaborationOutbound.usersAndGroups", 1,
                     id="§5.4-home-outbound-must-allow"),
        pytest.param(ALLOW_FABRIKAM, Inviter.member(), ALLOW_ALL_CTA, None, True, None, 0,
                     id="§5.4-allowlisted-domain-cta-allows"),
        pytest.param(ADMINS_ONLY, Inviter.member(), PARTNER_BLOCKS, None, False,
                     "authorizationPolicy.allowInvitesFrom", 3, id="§5.4-inviter-checked-first-all-reasons-kept"),
        pytest.param(ADMINS_ONLY, Inviter.member("Guest Inviter"), ALLOW_ALL_CTA, None, False,
                     "b2bManagementPolicy.BlockedDomains", 1, id="§5.4-guest-inviter-still-bound-by-domain-list"),
    ],
)
def test_invitation_decision(settings: ExternalCollaborationSettings, inviter: Inviter, resource: Any,
                             home: Any, allowed: bool, refused_by: str | None, refusals: int) -> None:
    decision = invitation_decision(settings, inviter, "ann@fabrikam.com", resource=resource, home=home)
    assert decision.allowed is allowed
    assert decision.refused_by == refused_by
    assert len(decision.refusals) == refusals
    policies = {r.policy.split("/")[0] for r in decision.reasons}
    assert {"authorizationPolicy", "b2bManagementPolicy", "crossTenantAccessPolicy"} <= policies


def test_seed_2_domain_blocked_later() -> None:
    """Seed example 2: blocking a domain later stops new invites, pending invitations fail at redemption, and a
    guest of that domain who already redeemed still signs in."""
    before = invitation_decision(ANY, Inviter.member(), "bob@fabrikam.com", resource=ALLOW_ALL_CTA)
    after = invitation_decision(DENY_FABRIKAM, Inviter.member(), "bob@fabrikam.com", resource=ALLOW_ALL_CTA)
    assert before.allowed and after.denied
    pending = redemption_decision(DENY_FABRIKAM, "bob@fabrikam.com", "PendingAcceptance", resource=ALLOW_ALL_CTA)
    assert pending.refused_by == "b2bManagementPolicy.BlockedDomains"
    redeemed = redemption_decision(DENY_FABRIKAM, "ann@fabrikam.com", "Accepted", resource=ALLOW_ALL_CTA)
    assert redeemed.allowed
    guest = SignInContext(user_id="ann", application_id="crm", user_type="Guest", is_external=True,
                          home_tenant_id=FABRIKAM, cross_tenant=ALLOW_ALL_CTA)
    assert sign_in_decision(guest, [], subject=Subject("ann-home-id")).outcome == "allow"


def test_redemption_still_checks_cross_tenant_access_for_redeemed_guests() -> None:
    decision = redemption_decision(ANY, "ann@fabrikam.com", "Accepted", resource=PARTNER_BLOCKS)
    assert decision.denied
    assert decision.refused_by.endswith("b2bCollaborationInbound.usersAndGroups")  # type: ignore[union-attr]


MFA_FOR_ALL = ConditionalAccessPolicy.from_graph({
    "displayName": "MFA", "state": "enabled",
    "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]}},
    "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
}, id="mfa")


@pytest.mark.parametrize(
    ("cross_tenant", "home", "policies", "outcome", "ca_evaluated"),
    [
        pytest.param(ALLOW_ALL_CTA, None, [], "allow", True, id="§5.4-allowed-no-policies"),
        pytest.param(ALLOW_ALL_CTA, None, [MFA_FOR_ALL], "requireMfa", True, id="§5.4-step-2-ca-after-cta"),
        pytest.param(PARTNER_BLOCKS, None, [MFA_FOR_ALL], "block", False, id="README-8-inbound-block-at-sign-in"),
        pytest.param(ALLOW_ALL_CTA, HOME_BLOCKS_OUT, [], "block", False, id="README-8-home-outbound-block"),
        pytest.param(None, None, [MFA_FOR_ALL], "requireMfa", True, id="§8-internal-user-only-ca"),
    ],
)
def test_sign_in_decision(cross_tenant: Any, home: Any, policies: list[ConditionalAccessPolicy], outcome: str,
                          ca_evaluated: bool) -> None:
    context = SignInContext(user_id="ann", application_id="crm", user_type="Guest", is_external=True,
                            home_tenant_id=FABRIKAM, cross_tenant=cross_tenant)
    decision = sign_in_decision(context, policies, home=home, subject=Subject("ann-home-id"))
    assert decision.outcome == outcome
    assert (decision.conditional_access is not None) is ca_evaluated
    if outcome == "block":
        assert "blocks AllUsers" in decision.message
