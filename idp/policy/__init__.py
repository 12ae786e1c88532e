"""Pure policy decisions: no database, no clock, no I/O, no Flask.

Every decision returns its outcome *and* the reasons (:class:`Reason`: the policy object, the setting — named as
the spec names it — whether it allowed, and a sentence), so pages, API errors and sign-in logs can say why.
``Decision.raise_if_denied()`` turns a refusal into :class:`idp.errors.Forbidden` whose ``field`` is the refusing
setting. Settings are frozen dataclasses with ``to_graph()`` / ``from_graph()`` (Graph field names; input is
validated and a bad field raises :class:`idp.errors.ValidationError` naming it).

External collaboration settings (§4, §6) — :mod:`idp.policy.external_collaboration`
    ``ExternalCollaborationSettings`` (``to_graph``/``from_graph(doc, base=)``, ``authorization_policy()``,
    ``b2b_management_policy()``), ``DomainList``, ``Inviter``; decisions ``may_invite`` (allowInvitesFrom),
    ``may_invite_as_member`` (invitedUserType Member), ``is_domain_allowed`` (AllowedDomains / BlockedDomains,
    exact and case-insensitive), ``may_redeem`` (domain lists for pending invitations only),
    ``is_email_otp_enabled``, ``is_self_service_sign_up_enabled``, ``may_leave``.
Cross-tenant access settings (§5, §2.2) — :mod:`idp.policy.cross_tenant_access`
    ``DefaultConfiguration`` / ``PartnerConfiguration`` (``to_graph``/``from_graph``, consistency rules enforced),
    ``reset_to_system_default``, ``resolve(default, partner) -> EffectiveConfiguration`` (null inherits default),
    ``evaluate_inbound`` / ``evaluate_outbound`` / ``evaluate_b2b_collaboration`` for a ``Subject`` and an
    application, ``automatic_redemption`` (§5.6), ``may_delete_partner``; the stored redemption order
    (``RedemptionConfiguration``, §2.2) feeds :func:`idp.policy.home_realm.choose_home_realm`.
Conditional access (§8) — :mod:`idp.policy.conditional_access`
    ``ConditionalAccessPolicy`` (``to_graph``/``from_graph``), ``SignInContext``, ``classify_user`` (§8.1),
    ``evaluate(policies, context) -> AccessEvaluation`` (``allow`` / ``requireMfa`` / ``block``, report-only
    results apart, ``as_log()`` for the sign-in log), ``mfa_status``.
Administration — :mod:`idp.policy.administration`
    ``may_change(policy_object, roles)``: who may change which settings (a Guest Inviter may change none).
Combined — :mod:`idp.policy.combine`
    ``invitation_decision`` (most restrictive wins), ``redemption_decision``, ``sign_in_decision`` (cross-tenant
    access, then conditional access; run at every sign-in and token refresh).
"""

from idp.policy.administration import may_change
from idp.policy.combine import SignInDecision, invitation_decision, redemption_decision, sign_in_decision
from idp.policy.conditional_access import (
    AccessEvaluation,
    ConditionalAccessPolicy,
    PolicyResult,
    SignInContext,
    classify_user,
    evaluate,
    mfa_status,
)
from idp.policy.cross_tenant_access import (
    SYSTEM_DEFAULT,
    AutomaticRedemption,
    CrossTenantAccessPolicy,
    DefaultConfiguration,
    EffectiveConfiguration,
    InboundTrust,
    PartnerConfiguration,
    RedemptionConfiguration,
    Subject,
    automatic_redemption,
    evaluate_b2b_collaboration,
    evaluate_inbound,
    evaluate_outbound,
    may_delete_partner,
    partner_deployment_access,
    reset_to_system_default,
    resolve,
)
from idp.policy.decision import Decision, Reason
from idp.policy.external_collaboration import (
    DomainList,
    ExternalCollaborationSettings,
    Inviter,
    is_domain_allowed,
    is_email_otp_enabled,
    is_self_service_sign_up_enabled,
    may_invite,
    may_invite_as_member,
    may_leave,
    may_redeem,
)

__all__ = [
    "SYSTEM_DEFAULT",
    "AccessEvaluation",
    "AutomaticRedemption",
    "ConditionalAccessPolicy",
    "CrossTenantAccessPolicy",
    "Decision",
    "DefaultConfiguration",
    "DomainList",
    "EffectiveConfiguration",
    "ExternalCollaborationSettings",
    "InboundTrust",
    "Inviter",
    "PartnerConfiguration",
    "PolicyResult",
    "Reason",
    "RedemptionConfiguration",
    "SignInContext",
    "SignInDecision",
    "Subject",
    "automatic_redemption",
    "classify_user",
    "evaluate",
    "evaluate_b2b_collaboration",
    "evaluate_inbound",
    "evaluate_outbound",
    "invitation_decision",
    "is_domain_allowed",
    "is_email_otp_enabled",
    "is_self_service_sign_up_enabled",
    "may_change",
    "may_delete_partner",
    "may_invite",
    "may_invite_as_member",
    "may_leave",
    "may_redeem",
    "mfa_status",
    "partner_deployment_access",
    "redemption_decision",
    "reset_to_system_default",
    "resolve",
    "sign_in_decision",
]
