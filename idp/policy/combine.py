"""Decisions that consult several policies at once, keeping every reason (§5.4, §5.9, §6.5).

* Invitation time: ``allowInvitesFrom``, the domain allow/deny list and cross-tenant access (resource inbound and
  home outbound) are all consulted and the most restrictive outcome wins. Note: §5.4's pseudocode lets an
  allow-listed domain through unless a *partner* entry blocks it; Portico also refuses when the *default*
  cross-tenant settings block the organization, because such a guest could never sign in anyway (issue 7:
  "most restrictive wins"). The reasons say which policy refused.
* Redemption of a still-pending invitation: the domain lists again (§6.5, §5.9) plus cross-tenant access.
* Every sign-in and token refresh of a guest: cross-tenant access first (§5.4 step 1); only if it allows,
  conditional access (step 2). Domain lists are not consulted for guests who already redeemed (§5.9).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from idp.policy.conditional_access import AccessEvaluation, ConditionalAccessPolicy, SignInContext, evaluate
from idp.policy.cross_tenant_access import EffectiveConfiguration, Subject, evaluate_b2b_collaboration
from idp.policy.decision import Decision
from idp.policy.external_collaboration import (
    ExternalCollaborationSettings,
    ExternalUserState,
    Inviter,
    is_domain_allowed,
    may_invite,
    may_redeem,
)


def invitation_decision(
    settings: ExternalCollaborationSettings,
    inviter: Inviter,
    email: str,
    *,
    resource: EffectiveConfiguration,
    home: EffectiveConfiguration | None = None,
    invitee: Subject | None = None,
) -> Decision:
    """May ``inviter`` invite ``email`` now? Reasons from every policy are kept, in the order of §5.4
    (``allowInvitesFrom``, then the domain list, then cross-tenant access); the first refusal names the setting.

    ``resource`` is this tenant's effective cross-tenant settings for the invitee's organization
    (``resolve(default, partner_or_None)``); ``home`` the home organization's settings for this tenant when
    known; ``invitee`` the person's ids in their home tenant when known (otherwise only ``AllUsers`` targets
    can refuse at this point, and specific targets are decided at sign-in).
    """
    reasons = [
        *may_invite(settings, inviter).reasons,
        *is_domain_allowed(settings, email).reasons,
        *evaluate_b2b_collaboration(resource, home, invitee or Subject.unknown(), None, before_sign_in=True).reasons,
    ]
    return Decision.of(*reasons)


def redemption_decision(
    settings: ExternalCollaborationSettings,
    email: str,
    external_user_state: ExternalUserState | None,
    *,
    resource: EffectiveConfiguration,
    home: EffectiveConfiguration | None = None,
    invitee: Subject | None = None,
    application_id: str | None = None,
) -> Decision:
    """May this invitation be redeemed now? The domain lists apply to pending invitations only (§6.5, §5.9);
    cross-tenant access always applies (specific targets need ``invitee``; the sign-in decision that follows
    redemption evaluates them strictly)."""
    reasons = [
        *may_redeem(settings, email, external_user_state).reasons,
        *evaluate_b2b_collaboration(resource, home, invitee or Subject.unknown(), application_id,
                                    before_sign_in=True).reasons,
    ]
    return Decision.of(*reasons)


@dataclass(frozen=True)
class SignInDecision:
    """The policy verdict of one sign-in or token refresh: cross-tenant access, then conditional access
    (``None`` when cross-tenant access already refused, or when the user is not from another organization)."""

    cross_tenant: Decision | None
    conditional_access: AccessEvaluation | None

    @property
    def outcome(self) -> Literal["allow", "requireMfa", "block"]:
        if self.cross_tenant is not None and self.cross_tenant.denied:
            return "block"
        return self.conditional_access.outcome if self.conditional_access else "allow"

    @property
    def message(self) -> str:
        if self.cross_tenant is not None and self.cross_tenant.denied:
            return self.cross_tenant.message
        return self.conditional_access.message if self.conditional_access else "allowed"


def sign_in_decision(
    context: SignInContext,
    policies: Iterable[ConditionalAccessPolicy],
    *,
    subject: Subject,
    home: EffectiveConfiguration | None = None,
) -> SignInDecision:
    """§5.4 at sign-in and refresh (spec README decision 8).

    For an external user (``context.cross_tenant`` set: this tenant's effective settings for their
    organization, the default ones for social and email-OTP guests), resource inbound and — when ``home`` is
    known — home outbound must allow ``subject`` (the person's ids *in the home tenant*, e.g. the upstream
    ``sub`` and group claims; ``Subject.unknown()`` when there are none) and the application; then the
    conditional access policies decide. Internal users (``cross_tenant`` ``None``) go straight to conditional
    access.
    """
    if context.cross_tenant is None:
        return SignInDecision(None, evaluate(policies, context))
    cross = evaluate_b2b_collaboration(context.cross_tenant, home, subject, context.application_id)
    if cross.denied:
        return SignInDecision(cross, None)
    return SignInDecision(cross, evaluate(policies, context))
