"""The ``mfa`` step of the journey: the adapter between the journey's :class:`~idp.signin.steps.Step` protocol
and the MFA pages' handoff (:mod:`idp.mfa.step`).

The *policy* step sets ``mfa_required`` when conditional access asks for MFA that no trusted claim satisfies (an
upstream ``mfa`` counts only with ``inboundTrust.isMfaAccepted``). This step hands the browser to ``/{tenant}/mfa``
(enrol or verify TOTP) with ``next`` = :func:`done`, which checks the handoff, re-runs the policy check with
``mfa_completed=True``, adds ``otp``/``mfa`` to the ``amr`` and continues the journey.
"""

from __future__ import annotations

from flask import redirect, url_for
from flask.typing import ResponseReturnValue

from idp.i18n import translated_pages
from idp.mfa import step as handoff
from idp.otp import MAIL_IDENTITY_ISSUER
from idp.policy.authentication import SignInFacts, assess_sign_in
from idp.signin import context, engine
from idp.signin.steps import Flow
from idp.tenancy import current_tenant, tenant_blueprint

blueprint = translated_pages(tenant_blueprint("journey_mfa", __name__, error_format="html"))


class _State:
    """What :func:`idp.mfa.step.applies` reads, taken from the flow."""

    def __init__(self, flow: Flow) -> None:
        self.tenant_id = current_tenant().id
        self.user_id: str | None = flow.get("user_id")
        self.mfa_required = bool(flow.get("mfa_required"))
        self.mfa_completed = bool(flow.get("mfa_completed"))


class MfaJourneyStep:
    name = handoff.STEP_NAME

    def is_needed(self, flow: Flow) -> bool:
        return handoff.applies(_State(flow))

    def start(self, flow: Flow) -> ResponseReturnValue:
        return redirect(handoff.start(current_tenant(), flow["user_id"], url_for("journey_mfa.done")))


def _method(flow: Flow) -> str:
    issuer = (flow.get("identity") or {}).get("issuer")
    return "password" if not issuer else "emailOtp" if issuer == MAIL_IDENTITY_ISSUER else "federated"


@blueprint.get("/signin/mfa/done")
def done() -> ResponseReturnValue:
    tenant = current_tenant()
    flow = context.flow()
    user = engine.user_of(flow)
    if user is None or not flow.get("mfa_required") or not handoff.completed(tenant, user.id):
        return engine.expired_page()
    handoff.clear()
    amr = assess_sign_in(SignInFacts(_method(flow), upstream_amr=tuple(flow.get("upstream_amr") or ()),
                                     second_factor_amr="otp", mfa_required=True)).amr
    flow = context.change_flow(mfa_completed=True, amr=list(amr))
    check = engine.policy_check(flow, user)
    if check.decision.outcome != "allow":  # e.g. a block added while the user enrolled
        return engine.blocked(flow, user, check)
    return engine.complete_step(MfaJourneyStep.name)
