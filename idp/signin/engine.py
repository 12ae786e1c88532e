"""The journey engine (Flask): start a flow, record who authenticated, walk the registered steps, finish.

A flow ends in :func:`finish`: an SSO session (``amr`` per decision 9; 24 hours for an email-OTP guest) and a
redirect to where the journey was going — the redeem link's ``inviteRedirectUrl``, the waiting authorization
request (``/authorize?resume=``), or the tenant's landing page.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from idp import audit, signin_log
from idp.directory.applications import find_application_by_client_id
from idp.i18n import page_language
from idp.invitations.automatic import redeem_automatically
from idp.models import Invitation, Tenant, User
from idp.oidc import pending, store
from idp.oidc.sso import current_session, set_cookie
from idp.oidc.store import SSO_SESSION_LIFETIME
from idp.otp import DEFAULT_POLICY as OTP_POLICY
from idp.otp import MAIL_IDENTITY_ISSUER
from idp.policy.acr import acr_for, asks_for_mfa
from idp.policy.conditional_access import mfa_status
from idp.runtime import request_db, runtime
from idp.sign_in_policy import Credential, PolicyCheck, check_sign_in, record_check
from idp.signin import context, guests, messages
from idp.signin.steps import Flow, register_step, registered_steps
from idp.tenancy import current_tenant


def error_page(title: str, message: str, status: int = 400, *, reference: str | None = None) -> tuple[str, int]:
    """A readable page: what happened (``title``) and what to do (``message``), both translated; ``reference``
    names the setting that decided, for the administrator (an identifier, shown as it is)."""
    return render_template("error.html", title=title, message=message, reference=reference,
                           tenant=current_tenant()), status


def expired_page() -> tuple[str, int]:
    return error_page(gettext("This sign-in has expired"),
                      gettext("Your sign-in took too long or was started in another window. Go back to the "
                              "application (or open the invitation link again) and start over."))


def begin(email: str, *, request_id: str | None = None, invitation_id: str | None = None,
          guest_id: str | None = None, return_to: str | None = None) -> Flow:
    """Start a new flow for ``email`` (replacing any unfinished one in this browser)."""
    flow: Flow = {"email": email, "request_id": request_id or None, "invitation_id": invitation_id,
                  "guest_id": guest_id, "return_to": return_to, "done": []}
    context.set_flow(flow)
    return flow


def user_of(flow: Flow) -> User | None:
    user_id = flow.get("user_id")
    return request_db().get(User, user_id) if user_id else None


def client_of(request_id: str | None) -> tuple[str, str | None]:
    """The client id and display name of the application the waiting authorization request is for (``""`` when
    the journey started from a redeem link or the login page)."""
    waiting = pending.load(request_id)
    client_id = ((waiting or {}).get("params") or {}).get("client_id", [""])[0]
    app = find_application_by_client_id(request_db(), current_tenant(), client_id) if client_id else None
    return client_id, app.display_name if app is not None else None


def requested_acr_values(flow: Flow) -> str | None:
    """The ``acr_values`` of the authorization request this journey signs in for (``None`` without one)."""
    waiting = pending.load(flow.get("request_id"))
    return ((waiting or {}).get("params") or {}).get("acr_values", [None])[0]


def credential_of(flow: Flow) -> Credential | None:
    """The identity the route authenticated (``None`` for a member's password)."""
    identity = flow.get("identity") or {}
    if not identity.get("issuer"):
        return None
    home = request_db().get(Tenant, flow["home_tenant_id"]) if flow.get("home_tenant_id") else None
    return Credential(identity["issuer"], identity.get("sub"), home)


def policy_check(flow: Flow, user: User) -> PolicyCheck:
    """§5.4 for this sign-in (:func:`idp.sign_in_policy.check_sign_in`, the one policy check of Portico)."""
    return check_sign_in(request_db(), current_tenant(), user, client_of(flow.get("request_id"))[0],
                         base_url=runtime().settings.base_url, upstream_amr=flow.get("upstream_amr") or (),
                         mfa_completed=bool(flow.get("mfa_completed")), credential=credential_of(flow))


def log_check(flow: Flow, user: User, check: PolicyCheck, *, outcome: signin_log.Outcome | None = None,
              reason: str | None = None) -> None:
    """The sign-in log entry of this attempt (in the request's transaction; the caller commits)."""
    client_id, name = client_of(flow.get("request_id"))
    record_check(request_db(), current_tenant(), user, check, client_id=client_id, app_display_name=name,
                 client_ip=request.remote_addr, amr=flow.get("amr") or (), outcome=outcome, reason=reason)


def log_failure(reason: str, *, user: User | None = None, typed_name: str | None = None,
                request_id: str | None = None, upstream_idp: str | None = None) -> None:
    """A refused attempt before any policy ran (wrong password or code, an upstream identity not invited)."""
    client_id, name = client_of(request_id)
    signin_log.record_sign_in(request_db(), current_tenant(), outcome="failure", reason=reason, user=user,
                              user_principal_name=typed_name, client_id=client_id or None, app_display_name=name,
                              upstream_idp=upstream_idp, client_ip=request.remote_addr)
    request_db().commit()


def authenticated(user: User, *, amr: list[str], identity: dict[str, str],
                  home_tenant_id: str | None = None, upstream_amr: list[str] | None = None) -> ResponseReturnValue:
    """A route proved who this is: remember it and walk the steps."""
    flow = context.flow()
    flow.update(user_id=user.id, amr=amr, identity=identity, home_tenant_id=home_tenant_id,
                upstream_amr=upstream_amr or [], auth_time=int(time.time()), done=[], mfa_required=False,
                mfa_completed=False)
    context.set_flow(flow)
    return advance()


def step_up(user: User, amr: list[str], request_id: str, *, session_id: str) -> ResponseReturnValue:
    """A member's single-factor SSO session meets a request for more (``acr_values=2``): the journey continues
    from the session's first factor (no new password), so the steps ask only for the second factor; :func:`finish`
    then raises that session (same ``sid``) instead of starting another."""
    begin(user.user_principal_name, request_id=request_id)
    context.change_flow(session_id=session_id)
    return authenticated(user, amr=amr, identity={})


def advance() -> ResponseReturnValue:
    flow = context.flow()
    if not flow.get("user_id"):
        return expired_page()
    done = list(flow.get("done") or [])
    for step in registered_steps():
        if step.name in done:
            continue
        if step.is_needed(flow):
            return step.start(flow)
        done.append(step.name)
    flow["done"] = done
    return finish(flow)


def complete_step(name: str, **changes: Any) -> ResponseReturnValue:
    """Called by a step's page when the user has finished it: mark it done, go on."""
    flow = context.flow()
    if not flow.get("user_id"):
        return expired_page()
    context.change_flow(done=[*(flow.get("done") or []), name], **changes)
    return advance()


def finish(flow: Flow) -> ResponseReturnValue:
    db = request_db()
    tenant = current_tenant()
    user = user_of(flow)
    if user is None or not user.account_enabled:
        return expired_page()
    amr = list(flow.get("amr") or [])
    home_issuer = (flow.get("identity") or {}).get("issuer")
    lifetime = OTP_POLICY.session_lifetime if home_issuer == MAIL_IDENTITY_ISSUER else SSO_SESSION_LIFETIME
    auth_time = int(flow.get("auth_time") or 0) or int(time.time())
    check = policy_check(flow, user)
    acr = acr_for(mfa_status(check.context)[0])
    raised = current_session(tenant) if flow.get("session_id") else None
    cookie = None
    if raised is not None and raised.id == flow["session_id"] and raised.user_id == user.id:
        store.raise_session(raised, amr=amr, auth_time=auth_time, acr=acr)  # a step-up: the cookie stays
    else:
        cookie, _ = store.start_session(db, tenant, user.id, amr=amr, idp=home_issuer, lifetime=lifetime,
                                        auth_time=auth_time, acr=acr)
    audit.record(db, tenant_id=tenant.id, actor=user.id, activity="Sign-in", target_type="user", target_id=user.id,
                 details={"method": home_issuer or "password", "amr": amr, "acr": acr})
    log_check(flow, user, check, outcome="success",
              reason=("Multi-factor authentication completed; " if flow.get("mfa_completed") else "")
              + check.decision.message)
    db.commit()
    context.set_flow(None)
    if flow.get("return_to"):
        target = flow["return_to"]
    elif pending.load(flow.get("request_id")) is not None:
        target = url_for("oidc_pages.authorize", resume=flow["request_id"])
    else:
        target = url_for("tenant_pages.landing")
    response = redirect(target)
    if cookie is not None:
        set_cookie(response, tenant, cookie)
    return response


def blocked(flow: Flow, user: User, check: PolicyCheck) -> ResponseReturnValue:
    """End the flow on a page naming the refusal; audit event and sign-in log entry."""
    audit.record(request_db(), tenant_id=current_tenant().id, actor=user.id, activity="Sign-in blocked",
                 target_type="user", target_id=user.id, details={"reason": check.decision.message})
    log_check(flow, user, check)
    request_db().commit()
    context.set_flow(None)
    organization = current_tenant().display_name
    refusal = messages.sign_in_refusal(check.decision, organization=organization, email=flow.get("email"))
    return error_page(gettext("Sign-in blocked by your organization's access policy"),
                      refusal.message + " " + gettext("Ask the administrator of %(organization)s for access.",
                                                      organization=organization), 403, reference=refusal.reference)


# -- built-in steps -----------------------------------------------------------------------------------------
class PolicyStep:
    """Cross-tenant access, then conditional access (§5.4). ``requireMfa``, or an authorization request whose
    ``acr_values`` prefers ``2`` (:mod:`idp.policy.acr`), hands over to the ``mfa`` step
    (:mod:`idp.signin.mfa_step`)."""

    name = "policy"

    def is_needed(self, flow: Flow) -> bool:
        return True

    def start(self, flow: Flow) -> ResponseReturnValue:
        user = user_of(flow)
        if user is None:
            return expired_page()
        check = policy_check(flow, user)
        decision = check.decision
        if decision.outcome == "block":
            return blocked(flow, user, check)
        if decision.outcome == "requireMfa":
            log_check(flow, user, check, reason=f"Multi-factor authentication required: {decision.message}")
            request_db().commit()
            return complete_step(self.name, mfa_required=True)
        if asks_for_mfa(requested_acr_values(flow)) and not mfa_status(check.context)[0]:
            # the application asked for acr 2 (acr_values); an upstream's mfa counts only when inbound trust does
            return complete_step(self.name, mfa_required=True)
        return complete_step(self.name)


class RedemptionConsentStep:
    """§1.9: a still-pending guest reviews permissions ("Review permissions") before redemption completes."""

    name = "consent"

    def is_needed(self, flow: Flow) -> bool:
        user = user_of(flow)
        return user is not None and user.external_user_state == "PendingAcceptance"

    def start(self, flow: Flow) -> ResponseReturnValue:
        if self._redeemed_automatically(flow):
            return complete_step(self.name)
        return redirect(url_for("journey.review"))

    @staticmethod
    def _redeemed_automatically(flow: Flow) -> bool:
        """§5.6: a guest who signed in at a home tenant of this deployment whose outbound settings and this
        tenant's inbound settings both allow automatic redemption skips the page and gets a notification mail."""
        db, tenant, user = request_db(), current_tenant(), user_of(flow)
        identity = flow.get("identity") or {}
        if user is None or not flow.get("home_tenant_id") or not identity.get("issuer"):
            return False
        invitation = (db.get(Invitation, flow["invitation_id"]) if flow.get("invitation_id")
                      else guests.pending_invitation(db, tenant, user))
        if invitation is None or invitation.tenant_id != tenant.id or invitation.ticket_consumed_at is not None:
            return False
        redeemed = redeem_automatically(db, tenant, invitation, sign_in_type="federated", issuer=identity["issuer"],
                                        issuer_assigned_id=identity.get("sub"),
                                        application_url=invitation.invite_redirect_url or url_for(
                                            "tenant_pages.landing", _external=True), language=page_language())
        db.commit()
        return redeemed is not None


def init_steps(app: Flask) -> None:
    register_step(app, PolicyStep())
    register_step(app, RedemptionConsentStep())
