"""Guest journey pages: home-realm routing, email one-time passcode (``Send code`` / ``Code`` / ``Verify``),
the redeem link (``{issuer}/redeem``) and "Review permissions" (``Accept`` / ``Cancel``)."""

from __future__ import annotations

import logging

from flask import Flask, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import Length

from idp import otp
from idp.db import utcnow
from idp.errors import DomainError
from idp.federation import client as federation_client
from idp.federation import service as federation
from idp.federation.accounts import bind_upstream_identity, match_upstream_identity
from idp.i18n import N_, localize, page_language, translated_pages
from idp.invitations import service as invitations
from idp.models import IdentityProvider, Invitation, User
from idp.oidc import pending
from idp.policy.home_realm import RouteKind
from idp.policy.linking import LinkDecision, LinkOutcome
from idp.runtime import request_db, runtime
from idp.signin import context, engine, guests, home_tenant, messages, mfa_step
from idp.signin.steps import SignInRoute, register_route, register_step
from idp.tenancy import current_tenant, issuer, tenant_blueprint

log = logging.getLogger(__name__)
blueprint = translated_pages(tenant_blueprint("journey", __name__, error_format="html"))
GUEST_ROUTE = "guest"


def _not_invited(email: str) -> tuple[str, int]:
    tenant = current_tenant()
    return engine.error_page(
        gettext("You have not been invited to %(organization)s", organization=tenant.display_name),
        gettext("%(email)s is not a member or guest of %(organization)s. Ask someone in the organization to invite "
                "you, then open the link in the invitation mail.", email=email, organization=tenant.display_name),
        403)


# -- routing (home-realm discovery) ------------------------------------------------------------------------
@blueprint.get("/signin/route")
def route() -> ResponseReturnValue:
    tenant = current_tenant()
    flow = context.flow()
    email = flow.get("email")
    if not email:
        return engine.expired_page()
    db = request_db()
    guest = db.get(User, flow["guest_id"]) if flow.get("guest_id") else guests.find_guest(db, tenant, email)
    if guest is None or guest.tenant_id != tenant.id:
        return _not_invited(email)
    try:
        decision = guests.home_realm(db, tenant, email, guest, issuer_for=runtime().settings.issuer_for)
    except ValueError:  # not an email address (or a redemption order the policy store should have refused)
        log.warning("home-realm discovery refused %r in %s", email, tenant.slug, exc_info=True)
        return engine.error_page(gettext("This address cannot be used"), gettext(
            "%(email)s cannot be used to sign in to %(organization)s. Check the address and try again.",
            email=email, organization=tenant.display_name))
    log.info("home realm for %s in %s: %s (%s)", email, tenant.slug, decision.kind, decision.reason)
    context.change_flow(guest_id=guest.id, route={"kind": str(decision.kind), "provider_id": decision.provider_id,
                                                  "home_issuer": decision.home_issuer})
    if decision.kind is RouteKind.EMAIL_OTP:
        return redirect(url_for("journey.email_otp"))
    if decision.kind is RouteKind.BLOCKED:
        return engine.error_page(gettext("You cannot sign in here right now"), messages.route_refusal(
            decision, organization=tenant.display_name, email=email), 403, reference=str(decision.reason))
    if decision.kind is RouteKind.UPSTREAM and decision.provider_id:
        return _to_upstream(federation.get_provider(db, tenant, decision.provider_id), email)
    settings = runtime().settings
    home = home_tenant.tenant_of_issuer(db, decision.home_issuer or "", issuer_for=settings.issuer_for)
    if home is None:  # a partner deployment: its administrator registers it as an oidc identity provider
        return engine.error_page(
            gettext("Your home organization is not set up here"),
            gettext("%(email)s belongs to another organization, but %(organization)s has no identity provider for "
                    "%(issuer)s. Ask the administrator to add it.", email=email, organization=tenant.display_name,
                    issuer=decision.home_issuer), 403)
    provider = home_tenant.federation_provider(db, tenant, home, issuer_for=settings.issuer_for,
                                               secret_key=settings.secret_key, production=settings.is_production)
    db.commit()
    return _to_upstream(provider, email)


# -- upstream identity providers ------------------------------------------------------------------------------
UPSTREAM_PAGES = {
    "accessDenied": (N_("You did not allow the sign-in"),
                     N_("%(name)s reported that the sign-in was cancelled or refused. Go back and sign in again, "
                        "and allow access when %(name)s asks.")),
    "invalidState": (N_("This sign-in could not be matched"),
                     N_("The answer from %(name)s does not belong to the sign-in started in this browser (it may "
                        "have been opened twice, or taken too long). Go back to the application and start again.")),
    "unreachable": (N_("%(name)s cannot be reached"),
                    N_("Portico could not contact %(name)s. Try again in a few minutes; if it keeps happening, tell "
                       "the administrator of %(org)s.")),
    "invalidIdToken": (N_("%(name)s sent an identity that cannot be trusted"),
                       N_("The sign-in answer from %(name)s failed its security checks, so it was refused. Try "
                          "again; if it keeps happening, tell the administrator of %(org)s.")),
    "tokenError": (N_("%(name)s did not complete the sign-in"),
                   N_("The sign-in code from %(name)s could not be used (it may have expired or been used "
                      "already). Go back to the application and sign in again.")),
}
UPSTREAM_DEFAULT_PAGE = (N_("%(name)s could not sign you in"),
                         N_("The sign-in at %(name)s failed. Go back to the application and try again; if it keeps "
                            "happening, tell the administrator of %(org)s."))


def _upstream_failure(provider: IdentityProvider, exc: federation_client.UpstreamError) -> tuple[str, int]:
    log.warning("upstream sign-in at %s (%s) failed: %s: %s", provider.name, provider.id, exc.reason,
                exc.detail or exc)
    title, message = UPSTREAM_PAGES.get(exc.reason, UPSTREAM_DEFAULT_PAGE)
    values = {"name": provider.name, "org": current_tenant().display_name}
    return engine.error_page(gettext(title, **values), gettext(message, **values), 502 if exc.reason == "unreachable"
                             else 400)


def _to_upstream(provider: IdentityProvider, email: str) -> ResponseReturnValue:
    redirect_uri = f"{issuer()}/signin/callback"
    try:
        with federation_client.UpstreamClient(provider) as client:
            url, waiting = client.begin(redirect_uri, login_hint=email)
    except federation_client.UpstreamError as exc:
        return _upstream_failure(provider, exc)
    context.change_flow(upstream=waiting.to_dict())
    return redirect(url)


def _upstream_user(identity: federation_client.UpstreamIdentity, flow: dict) -> User | LinkDecision:
    """The user this upstream identity signs in as, or the decision saying why none (decision 6)."""
    db = request_db()
    tenant = current_tenant()
    decision = match_upstream_identity(db, tenant, identity)
    invited = db.get(User, flow["guest_id"]) if flow.get("guest_id") else None
    if decision.outcome is LinkOutcome.BOUND:
        user = db.get(User, decision.user_id)
        return user if user is not None else decision
    if flow.get("invitation_id") and invited is not None and decision.user_id in (None, invited.id) and \
            decision.outcome in (LinkOutcome.LINK, LinkOutcome.NO_MATCH, LinkOutcome.REFUSE_UNVERIFIED):
        return invited  # the redeem link proved the invited mailbox: whoever redeems it becomes that guest
    if decision.outcome is LinkOutcome.LINK and decision.user_id:
        user = db.get(User, decision.user_id)
        if user is not None and user.external_user_state != "PendingAcceptance":
            bind_upstream_identity(db, user, identity)  # pending guests are bound when redemption completes
            db.commit()
        return user if user is not None else decision
    return decision


@blueprint.get("/signin/callback")
def upstream_callback() -> ResponseReturnValue:
    tenant = current_tenant()
    flow = context.flow()
    waiting = flow.get("upstream")
    if not waiting:
        return engine.error_page(gettext("This sign-in could not be matched"), gettext(
            "The answer from the identity provider does not belong to a sign-in started in this browser. Go back to "
            "the application and start again."))
    db = request_db()
    provider = db.get(IdentityProvider, waiting["provider_id"])
    if provider is None or provider.tenant_id != tenant.id:
        return engine.expired_page()
    context.change_flow(upstream=None)  # one callback per redirect
    try:
        with federation_client.UpstreamClient(provider) as client:
            identity = client.complete(
                federation_client.PendingAuthorization.from_dict(waiting), request.args.to_dict(),
                client_secret=federation.client_secret(provider, secret_key=runtime().settings.secret_key),
                now=utcnow())
    except federation_client.UpstreamError as exc:
        return _upstream_failure(provider, exc)
    user = _upstream_user(identity, flow)
    if isinstance(user, LinkDecision):
        log.info("upstream identity %s/%s refused: %s", identity.issuer, identity.subject, user.reason)
        engine.log_failure(user.reason, user=db.get(User, flow["guest_id"]) if flow.get("guest_id") else None,
                           typed_name=flow.get("email"), request_id=flow.get("request_id"),
                           upstream_idp=identity.issuer)
        return engine.error_page(
            gettext("You cannot sign in to %(organization)s with this account", organization=tenant.display_name),
            messages.link_refusal(user, issuer=identity.issuer, email=identity.email) + " " + gettext(
                "Ask someone in %(organization)s to invite you, or sign in with the account you were invited with.",
                organization=tenant.display_name), 403, reference=str(user.outcome))
    home = home_tenant.tenant_of_issuer(db, identity.issuer, issuer_for=runtime().settings.issuer_for)
    return engine.authenticated(user, amr=list(identity.amr), upstream_amr=list(identity.amr),
                                identity={"issuer": identity.issuer, "sub": identity.subject},
                                home_tenant_id=home.id if home is not None else None)


# -- email one-time passcode -------------------------------------------------------------------------------
class SendCodeForm(FlaskForm):
    send = SubmitField(_l("Send code"))


class VerifyCodeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[Length(max=32)])
    verify = SubmitField(_l("Verify"))


@blueprint.route("/signin/otp", methods=["GET", "POST"])
def email_otp() -> ResponseReturnValue:
    tenant = current_tenant()
    flow = context.flow()
    route_kind = (flow.get("route") or {}).get("kind")
    if not flow.get("email") or not flow.get("guest_id") or route_kind != RouteKind.EMAIL_OTP:
        return engine.expired_page()
    db = request_db()
    settings = runtime().settings
    send_form, verify_form = SendCodeForm(prefix="send"), VerifyCodeForm(prefix="verify")
    message, error, status = None, None, 200
    sent = bool(flow.get("otp_sent"))
    if request.method == "POST" and send_form.send.data:
        if not send_form.validate_on_submit():
            error, status = gettext("This page was open too long. Send the code again."), 400
        else:
            try:
                otp.send_code(db, tenant, flow["email"], now=utcnow(), secret_key=settings.secret_key,
                              client_ip=request.remote_addr, language=page_language())
                db.commit()
                context.change_flow(otp_sent=True)
                sent, message = True, gettext("We sent a code to %(email)s. It is valid for 30 minutes.",
                                              email=flow["email"])
            except otp.OtpRateLimited as exc:
                db.rollback()
                error, status = localize(exc.text or exc.message), 429
            except DomainError as exc:
                db.rollback()
                log.info("no code sent to %r in %s: %s", flow["email"], tenant.slug, exc)
                error, status = gettext("A code cannot be sent to %(email)s. Check the address, go back to the "
                                        "application and sign in again.", email=flow["email"]), 400
    elif request.method == "POST" and verify_form.verify.data:
        if not verify_form.validate_on_submit():
            error, status = gettext("This page was open too long. Enter the code again."), 400
        else:
            check = otp.verify_code(db, tenant, flow["email"], verify_form.code.data or "", now=utcnow(),
                                    secret_key=settings.secret_key)
            db.commit()
            if check.ok:
                user = db.get(User, flow["guest_id"])
                if user is None or not user.account_enabled:
                    return _not_invited(flow["email"])
                return engine.authenticated(user, amr=["otp"],
                                            identity={"issuer": otp.MAIL_IDENTITY_ISSUER, "sub": check.email})
            error, status = localize(check.text or check.message), 400
            engine.log_failure(check.message, user=db.get(User, flow["guest_id"]), request_id=flow.get("request_id"),
                               upstream_idp=otp.MAIL_IDENTITY_ISSUER)
    return render_template("signin/otp.html", tenant=tenant, email=flow["email"], sent=sent, send_form=send_form,
                           verify_form=verify_form, message=message, error=error), status


# -- redeem link ---------------------------------------------------------------------------------------------
@blueprint.get("/redeem")
def redeem() -> ResponseReturnValue:
    tenant = current_tenant()
    if request.args.get("tenant") not in (tenant.id, tenant.slug):
        return engine.error_page(gettext("This invitation link is not valid"), gettext(
            "The link belongs to another organization. Use the link from the invitation mail."))
    db = request_db()
    try:
        invitation = invitations.find_redeemable(db, tenant, request.args.get("user", ""),
                                                 request.args.get("ticket", ""))
    except invitations.InvalidTicket as exc:
        return engine.error_page(gettext("This invitation link cannot be used"), localize(exc.text or exc.message))
    guest = db.get(User, invitation.invited_user_id)
    if guest is None or not guest.account_enabled:
        return engine.error_page(gettext("This invitation is no longer valid"), gettext(
            "The invited account was removed or disabled. Ask the person who invited you."))
    engine.begin(invitation.invited_user_email_address, invitation_id=invitation.id, guest_id=guest.id,
                 return_to=invitation.invite_redirect_url)
    return redirect(url_for("journey.route"))


# -- Review permissions (§1.9) ------------------------------------------------------------------------------
class ReviewForm(FlaskForm):
    accept = SubmitField(_l("Accept"))
    cancel = SubmitField(_l("Cancel"))


def _invitation_of(flow: dict, user: User) -> Invitation | None:
    db = request_db()
    if flow.get("invitation_id"):
        return db.get(Invitation, flow["invitation_id"])
    return guests.pending_invitation(db, current_tenant(), user)


@blueprint.route("/signin/review", methods=["GET", "POST"])
def review() -> ResponseReturnValue:
    tenant = current_tenant()
    flow = context.flow()
    user = engine.user_of(flow)
    if user is None or "policy" not in (flow.get("done") or []):
        return engine.expired_page()
    invitation = _invitation_of(flow, user)
    if invitation is None or invitation.tenant_id != tenant.id:
        return engine.error_page(gettext("There is no open invitation for you"), gettext(
            "Ask someone in %(organization)s to invite you again.", organization=tenant.display_name), 403)
    form = ReviewForm()
    if form.validate_on_submit():
        if form.cancel.data:
            context.set_flow(None)
            if pending.load(flow.get("request_id")) is not None:  # JIT: the application gets access_denied
                pending.mark(flow["request_id"], denied=True)
                return redirect(url_for("oidc_pages.authorize", resume=flow["request_id"]))
            return render_template("signin/redemption_cancelled.html", tenant=tenant), 200
        if invitation.ticket_consumed_at is not None:
            return engine.error_page(gettext("This invitation link has already been used"),
                                     gettext("Sign in to the application instead."))
        identity = flow.get("identity") or {}
        db = request_db()
        try:
            invitations.complete_redemption(db, tenant, invitation, sign_in_type="federated",
                                            issuer=identity.get("issuer", ""), issuer_assigned_id=identity.get("sub"))
        except DomainError as exc:
            db.rollback()
            refusal = messages.error_refusal(exc, organization=tenant.display_name,
                                             email=invitation.invited_user_email_address)
            return engine.error_page(gettext("The invitation could not be accepted"), refusal.message, 403,
                                     reference=refusal.reference)
        db.commit()
        return engine.complete_step("consent")
    return render_template("signin/review.html", tenant=tenant, form=form, user=user, invitation=invitation)


def init_guest_journey(app: Flask) -> None:
    register_route(app, SignInRoute(GUEST_ROUTE, lambda db, tenant, email: not guests.is_member_address(
        db, tenant, email), "journey.route"))
    engine.init_steps(app)
    register_step(app, mfa_step.MfaJourneyStep(), after="policy")
    app.register_blueprint(mfa_step.blueprint)
