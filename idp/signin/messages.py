"""What a refused sign-in tells the person, in the page's language (Flask-Babel).

The policy modules decide with stable codes and keep English sentences for administrators (the sign-in log, the
audit trail, API errors: ``crossTenantAccessPolicy/default.b2bCollaborationInbound.usersAndGroups blocks
AllUsers``). A page tells the person what happened and what to do instead, translated here from those codes:
the refusing setting of a :class:`~idp.policy.decision.Decision`, the :class:`~idp.policy.home_realm.Reason` of a
blocked route, the :class:`~idp.policy.linking.LinkOutcome` of an upstream identity. The setting that refused
stays on the page as a reference for the administrator (an identifier, never translated).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext

from idp.errors import DomainError
from idp.i18n import localize
from idp.policy import SignInDecision
from idp.policy.cross_tenant_access import INBOUND, OUTBOUND
from idp.policy.home_realm import HomeRealmRoute
from idp.policy.home_realm import Reason as RouteReason
from idp.policy.linking import LinkDecision, LinkOutcome


@dataclass(frozen=True)
class Refusal:
    """A sentence for the person and, for the administrator, the identifier of the setting that decided."""

    message: str
    reference: str | None = None


def _domain(email: str | None) -> str:
    return (email or "").rpartition("@")[2].lower()


def setting_refusal(setting: str | None, *, organization: str, email: str | None = None) -> str:
    """The refusal of one policy setting (``Reason.setting`` or a fully qualified ``refused_by`` name)."""
    name = setting or ""
    if name.endswith(f"{INBOUND}.usersAndGroups"):
        return gettext("The cross-tenant access settings of %(organization)s do not let your account sign in.",
                       organization=organization)
    if name.endswith(f"{INBOUND}.applications"):
        return gettext("The cross-tenant access settings of %(organization)s do not let guests from your "
                       "organization use this application.", organization=organization)
    if name.endswith(f"{OUTBOUND}.usersAndGroups"):
        return gettext("Your home organization does not let your account sign in to %(organization)s.",
                       organization=organization)
    if name.endswith(f"{OUTBOUND}.applications"):
        return gettext("Your home organization does not let you use this application of %(organization)s.",
                       organization=organization)
    if name.endswith(("BlockedDomains", "AllowedDomains")):
        return gettext("%(organization)s does not accept guests with addresses at %(domain)s.",
                       organization=organization, domain=_domain(email))
    if name.endswith("allowedCloudEndpoints") or name.endswith("tenantId"):
        return gettext("%(organization)s does not collaborate with your organization's deployment.",
                       organization=organization)
    return gettext("The access settings of %(organization)s do not allow this sign-in.", organization=organization)


def sign_in_refusal(decision: SignInDecision, *, organization: str, email: str | None = None) -> Refusal:
    """A blocked sign-in (§5.4): the cross-tenant setting that refused, or the conditional access policy."""
    cross = decision.cross_tenant
    if cross is not None and cross.denied:
        return Refusal(setting_refusal(cross.refusals[0].setting, organization=organization, email=email),
                       cross.refused_by)
    evaluation = decision.conditional_access
    blocking = next((p for p in evaluation.policies if p.enforced and p.outcome == "block"), None) \
        if evaluation is not None else None
    if blocking is not None:
        return Refusal(gettext("The conditional access policy “%(policy)s” of %(organization)s blocks this "
                               "sign-in.", policy=blocking.display_name, organization=organization),
                       f"conditionalAccessPolicies/{blocking.policy_id}")
    if evaluation is not None and evaluation.requires_mfa:
        return Refusal(gettext("%(organization)s requires multi-factor authentication that could not be "
                               "completed for this sign-in.", organization=organization))
    return Refusal(gettext("The access settings of %(organization)s do not allow this sign-in.",
                           organization=organization))


def error_refusal(exc: DomainError, *, organization: str, email: str | None = None) -> Refusal:
    """A service's refusal: its own translatable text, or (a policy ``Forbidden``) the refusing setting."""
    if exc.text is not None:
        return Refusal(localize(exc.text))
    return Refusal(setting_refusal(exc.field, organization=organization, email=email), exc.field)


def route_refusal(route: HomeRealmRoute, *, organization: str, email: str) -> str:
    """Why home-realm discovery found nowhere for this address to sign in."""
    domain = _domain(email)
    if route.reason is RouteReason.BOUND_OTP_DISABLED:
        return gettext("You sign in to %(organization)s with a one-time passcode sent by email, which "
                       "%(organization)s has turned off. An administrator must turn it back on, or reset your "
                       "redemption so that you can sign in another way.", organization=organization)
    if route.reason is RouteReason.BOUND_PROVIDER_REMOVED:
        return gettext("The identity provider you accepted the invitation with is no longer set up for "
                       "%(organization)s. An administrator must set it up again, or reset your redemption so that "
                       "you can sign in another way.", organization=organization)
    if route.reason is RouteReason.FALLBACK_OTP_DISABLED:
        return gettext("No identity provider is set up for %(domain)s, and %(organization)s has turned off "
                       "one-time passcodes for guests. An administrator must turn them on, or set up an identity "
                       "provider for %(domain)s.", organization=organization, domain=domain)
    return gettext("No identity provider is set up for %(domain)s, and %(organization)s has no other way for "
                   "guests to sign in. An administrator must set up an identity provider for %(domain)s, or let "
                   "guests sign in with a one-time passcode.", organization=organization, domain=domain)


def link_refusal(decision: LinkDecision, *, issuer: str, email: str | None) -> str:
    """Why an identity from an upstream provider cannot be used for an account here (decision 6)."""
    address = email or ""
    if decision.outcome is LinkOutcome.REFUSE_UNVERIFIED:
        return gettext("%(issuer)s did not mark %(email)s as verified, so it cannot be linked to an existing "
                       "account.", issuer=issuer, email=address)
    if decision.outcome is LinkOutcome.REFUSE_AMBIGUOUS:
        return gettext("More than one account of this organization has the address %(email)s.", email=address)
    if decision.outcome is LinkOutcome.REFUSE_BOUND_ELSEWHERE:
        return gettext("%(email)s already signs in with another identity provider; an administrator must reset "
                       "your redemption to change it.", email=address)
    return gettext("No account of this organization has the address of this identity.")
