"""OIDC endpoints under ``/{tenant}``: thin adapters between HTTP and the Authlib server / the store."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import AccessDeniedError, InvalidRequestError, scope_to_list
from authlib.oidc.core.errors import (
    ConsentRequiredError,
    InteractionRequiredError,
    RequestNotSupportedError,
    RequestURINotSupportedError,
)
from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from joserfc import jwt
from joserfc.errors import JoseError
from werkzeug.wrappers import Response
from wtforms import HiddenField, SubmitField

from idp.directory.applications import find_application_by_client_id
from idp.directory.tenants import find_tenant
from idp.i18n import N_, SUPPORTED_LANGUAGES, translated_pages
from idp.keys import ALGORITHMS
from idp.models import Application
from idp.oidc import cors, pending, store
from idp.oidc.claims import CLAIMS_SUPPORTED, describe_scopes, user_claims
from idp.oidc.logout import enqueue_logouts
from idp.oidc.prompt import decide_authentication, parse_max_age
from idp.oidc.provider import (
    ALL_AUTH_METHODS,
    CONFIDENTIAL_AUTH_METHODS,
    AuthorizationRequest,
    enabled_user,
    public_url,
    resource_protector,
    server,
    session_user,
)
from idp.oidc.sso import clear_cookie, current_session
from idp.policy.acr import SUPPORTED_ACR_VALUES, needs_step_up
from idp.runtime import request_db, runtime
from idp.signin import engine
from idp.tenancy import current_tenant, issuer, tenant_blueprint

blueprint = tenant_blueprint("oidc", __name__, error_format="json")
pages = translated_pages(tenant_blueprint("oidc_pages", __name__, error_format="html"))
metadata_blueprint = Blueprint("oauth_metadata", __name__)
RESPONSE_MODES = ("query", "form_post")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


# -- metadata ---------------------------------------------------------------------------------------------
def provider_metadata(iss: str, scopes: list[str]) -> dict[str, Any]:
    return {
        "issuer": iss,
        "authorization_endpoint": f"{iss}/authorize",
        "token_endpoint": f"{iss}/token",
        "userinfo_endpoint": f"{iss}/userinfo",
        "jwks_uri": f"{iss}/.well-known/jwks.json",
        "end_session_endpoint": f"{iss}/logout",
        "introspection_endpoint": f"{iss}/introspect",
        "revocation_endpoint": f"{iss}/revoke",
        "scopes_supported": scopes,
        "response_types_supported": ["code"],
        "response_modes_supported": list(RESPONSE_MODES),
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": list(ALGORITHMS),
        "token_endpoint_auth_methods_supported": ALL_AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256"],
        "introspection_endpoint_auth_methods_supported": CONFIDENTIAL_AUTH_METHODS,
        "introspection_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256"],
        "revocation_endpoint_auth_methods_supported": ALL_AUTH_METHODS,
        "revocation_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": list(CLAIMS_SUPPORTED),
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "acr_values_supported": list(SUPPORTED_ACR_VALUES),
        "ui_locales_supported": list(SUPPORTED_LANGUAGES),
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
    }


# Endpoints a browser-based relying party calls: the public documents from any origin, the token, revocation
# and UserInfo endpoints from the origins of the tenant's registered redirect URIs (idp.oidc.cors).
PUBLIC_ENDPOINTS = {"oidc.openid_configuration", "oidc.oauth_metadata_tenant_path", "oauth_metadata.oauth_metadata"}
RP_ENDPOINTS = {"oidc.token", "oidc.revoke", "oidc.userinfo"}


@blueprint.after_request
@metadata_blueprint.after_request
def _cross_origin(response: Response) -> Response:
    origin = request.headers.get("Origin")
    if not origin:
        return response
    if request.endpoint in PUBLIC_ENDPOINTS:
        return cors.allow_origin(response, "*")
    if request.endpoint in RP_ENDPOINTS and cors.tenant_origin_allowed(request_db(), current_tenant(), origin):
        return cors.allow_origin(response, origin)
    return response


def _metadata_response(slug: str) -> Response:
    iss = runtime().settings.issuer_for(slug)
    response = jsonify(provider_metadata(iss, ["openid", "profile", "email", "offline_access",
                                               "scim.read", "scim.write"]))
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


@blueprint.get("/.well-known/openid-configuration")
def openid_configuration() -> Response:
    return _metadata_response(current_tenant().slug)


@blueprint.get("/.well-known/oauth-authorization-server")
def oauth_metadata_tenant_path() -> Response:
    return _metadata_response(current_tenant().slug)


@metadata_blueprint.get("/.well-known/oauth-authorization-server/<tenant>")
def oauth_metadata(tenant: str) -> Response | tuple[Response, int]:
    """RFC 8414 §3.1: the well-known segment inserted before the issuer's path."""
    if find_tenant(request_db(), tenant) is None:
        return jsonify(error="invalid_request", error_description=f"unknown tenant {tenant!r}"), 404
    return _metadata_response(tenant)


# -- authorization endpoint -------------------------------------------------------------------------------
EXPIRED_REQUEST = N_("This sign-in request has expired. Go back to the application and sign in again.")


def _error_page(message: str, status: int = 400, *, reference: str | None = None) -> tuple[str, int]:
    """``message`` is translated when the catalog knows it (Portico's own messages are marked with ``N_``)."""
    return render_template("error.html", title=gettext("This sign-in request cannot continue"),
                           message=gettext(message), reference=reference), status


def _unusable_request(error: OAuth2Error, params: dict[str, list[str]]) -> tuple[str, int]:
    """The page for an authorization request that cannot be answered to the application (RFC 6749 §4.1.2.1:
    unknown client or unregistered ``redirect_uri``). It tells the person in their language; Authlib's English
    ``error_description`` stays on the page as the reference for the application's developer."""
    client_id = (params.get("client_id") or [""])[0]
    redirect_uri = (params.get("redirect_uri") or [""])[0]
    application = find_application_by_client_id(request_db(), current_tenant(), client_id) if client_id else None
    organization = current_tenant().display_name
    if not client_id:
        message = gettext("The application did not say which application it is (the request has no client_id). "
                          "Go back and tell the application's owner.")
    elif application is None:
        message = gettext("The application “%(client_id)s” is not registered with %(organization)s. Go back and "
                          "tell the application's owner.", client_id=client_id, organization=organization)
    elif not redirect_uri:
        message = gettext("The application did not say where to return after the sign-in (the request has no "
                          "redirect_uri). Go back and tell the application's owner.")
    elif redirect_uri not in application.redirect_uris:
        message = gettext("%(redirect_uri)s is not a registered address of %(application)s, so the sign-in "
                          "cannot return there. Go back and tell the application's owner.",
                          redirect_uri=redirect_uri, application=application.display_name)
    else:
        message = gettext("The application sent a sign-in request that cannot be used. Go back and tell the "
                          "application's owner.")
    reference = f"{error.error}: {error.description}" if error.description else error.error
    return _error_page(message, reference=reference)


def _deliver(location: str, params: dict[str, list[str]]) -> Response | str:
    """Send the authorization response (code or error) with ``iss`` (RFC 9207), by redirect or form_post."""
    parts = urlsplit(location)
    fields = parse_qsl(parts.query, keep_blank_values=True) + [("iss", issuer())]
    mode = (params.get("response_mode") or ["query"])[0]
    if mode == "form_post":
        redirect_uri = params.get("redirect_uri", [""])[0]
        own = set(parse_qsl(urlsplit(redirect_uri).query, keep_blank_values=True))
        response_fields = [f for f in fields if f not in own]
        return render_template("oidc/form_post.html", action=redirect_uri, fields=response_fields)
    return redirect(urlunsplit(parts._replace(query=urlencode(fields))))


# Authlib raises these without an error_description; every redirected error carries one.
ERROR_DESCRIPTIONS = {
    "login_required": "The user is not signed in (or must sign in again) and prompt=none forbids the sign-in page.",
    "consent_required": "The user has not allowed this application yet and prompt=none forbids asking.",
    "account_selection_required": "The user must choose an account and prompt=none forbids asking.",
    "interaction_required": "The request needs the user's interaction and prompt=none forbids it.",
}


def _oauth_error(error: OAuth2Error, params: dict[str, list[str]]) -> Response | str | tuple[str, int]:
    if not error.redirect_uri:  # unknown client or unregistered redirect_uri: never redirect
        return _unusable_request(error, params)
    error.description = error.description or ERROR_DESCRIPTIONS.get(error.error, "")
    _status, _body, headers = error()
    return _deliver(dict(headers)["Location"], params)


@pages.route("/authorize", methods=["GET", "POST"])
def authorize() -> Response | str | tuple[str, int]:
    tenant = current_tenant()
    resume_id = request.args.get("resume")
    waiting = pending.load(resume_id) if resume_id else None
    if resume_id and waiting is None:
        return _error_page(EXPIRED_REQUEST)
    if resume_id:
        pending.resume(resume_id)
    params: dict[str, list[str]] = waiting["params"] if waiting else request.values.to_dict(flat=False)
    waiting = waiting or {}
    oauth_request = AuthorizationRequest(public_url(), params, request.headers)
    session = current_session(tenant)
    user = session_user(session)
    prompts = set((oauth_request.payload.data.get("prompt") or "").split())
    try:
        max_age = parse_max_age(oauth_request.payload.data.get("max_age"))
        bad_max_age = False
    except ValueError:
        max_age, bad_max_age = None, True
    hint = oauth_request.payload.data.get("id_token_hint")
    hint_claims = _read_id_token_hint(hint) if hint else None
    decision = decide_authentication(
        prompts=prompts, max_age=max_age, auth_time=session.auth_time if session and user else None,
        requested_at=waiting.get("requested_at"), now=int(time.time()),
        hinted_subject=hint_claims.get("sub") if hint_claims else None, session_subject=user.id if user else None,
        account_chosen=bool(waiting.get("account_chosen")),
    )
    end_user = None if decision.login_required else user
    # acr_values=2 and a single-factor session: the session is not reused as it is, the user steps up
    step_up = (end_user is not None and session is not None
               and needs_step_up(oauth_request.payload.data.get("acr_values"), session.acr))
    try:
        grant = server().get_consent_grant(oauth_request, end_user=end_user)
        mode = oauth_request.payload.data.get("response_mode")
        if mode and mode not in RESPONSE_MODES:
            params = {**params, "response_mode": ["query"]}
            raise InvalidRequestError(f"response_mode {mode!r} is not supported", redirect_uri=grant.redirect_uri)
        if bad_max_age:
            raise InvalidRequestError("max_age must be a non-negative integer", redirect_uri=grant.redirect_uri)
        # OIDC Core §6.1/§6.2: discovery says request objects are not supported, so using one is this error
        if "request" in params:
            raise RequestNotSupportedError(redirect_uri=grant.redirect_uri)
        if "request_uri" in params:
            raise RequestURINotSupportedError(redirect_uri=grant.redirect_uri)
        if hint and hint_claims is None:
            raise InvalidRequestError("id_token_hint is not an ID token of this issuer",
                                      redirect_uri=grant.redirect_uri)
        if step_up and "none" in prompts:
            raise InteractionRequiredError("The application asks for multi-factor authentication (acr_values=2) "
                                           "and prompt=none forbids asking for the second factor.",
                                           redirect_uri=grant.redirect_uri)
    except OAuth2Error as error:
        error.state = oauth_request.payload.state
        return _oauth_error(error, params)

    if waiting.get("denied"):  # the user cancelled (consent, or "Review permissions" before any session)
        pending.drop(resume_id)
        return _oauth_error(AccessDeniedError(redirect_uri=grant.redirect_uri, state=oauth_request.payload.state),
                            params)

    if step_up and end_user is not None and session is not None and not end_user.is_guest and session.idp is None:
        # a member's password session: the journey asks only for the second factor
        return engine.step_up(end_user, list(session.amr), resume_id or pending.save(params), session_id=session.id)
    if decision.login_required or step_up:  # guests sign in again; the journey then asks for the second factor
        request_id = resume_id or pending.save(params)
        if resume_id:
            pending.mark(resume_id, requested_at=int(time.time()))
        return redirect(url_for("signin.login", request=request_id))
    if decision.choose_account:
        return redirect(url_for("oidc_pages.select_account", request=resume_id or pending.save(params)))
    application: Application = grant.request.client.app
    if not store.may_sign_in(request_db(), application, user.id):
        pending.drop(resume_id)
        return _oauth_error(AccessDeniedError(
            "You are not assigned to this application. Ask your administrator for access.",
            redirect_uri=grant.redirect_uri, state=oauth_request.payload.state), params)
    scopes = scope_to_list(grant.request.scope) or []
    consented = waiting.get("consented", False)
    if not application.is_first_party and not consented and (
        "consent" in prompts or not store.has_consent(request_db(), tenant.id, user.id, application.id, scopes)
    ):
        if "none" in prompts:
            return _oauth_error(ConsentRequiredError(redirect_uri=grant.redirect_uri,
                                                     state=oauth_request.payload.state), params)
        request_id = resume_id or pending.save(params)
        return redirect(url_for("oidc_pages.consent", request=request_id))

    oauth_request.sso_session = session
    response = server().create_authorization_response(oauth_request, grant_user=user, grant=grant)
    if response.status_code == 302:
        request_db().commit()
    pending.drop(resume_id)
    return _deliver(response.headers["Location"], params)


# -- account chooser (prompt=select_account) ---------------------------------------------------------------
class SelectAccountForm(FlaskForm):
    request_id = HiddenField()
    current = SubmitField(_l("Continue"))  # the page labels it "Continue as <name>"
    another = SubmitField(_l("Use another account"))


@pages.route("/select-account", methods=["GET", "POST"])
def select_account() -> Response | str | tuple[str, int]:
    """The signed-in account, or another one: continuing keeps the session (``auth_time`` unchanged); "Use
    another account" goes to the sign-in page with an empty email field and a new sign-in for this request."""
    tenant = current_tenant()
    form = SelectAccountForm()
    request_id = form.request_id.data or request.args.get("request", "")
    if pending.load(request_id) is None:
        return _error_page(EXPIRED_REQUEST)
    user = session_user(current_session(tenant))
    if user is None:  # the session ended meanwhile: a normal sign-in
        return redirect(url_for("oidc_pages.authorize", resume=request_id))
    if form.validate_on_submit():
        if form.another.data:
            pending.mark(request_id, requested_at=int(time.time()), empty_login_form=True)
            return redirect(url_for("signin.login", request=request_id))
        pending.mark(request_id, account_chosen=True)
        return redirect(url_for("oidc_pages.authorize", resume=request_id))
    form.request_id.data = request_id
    return render_template("oidc/select_account.html", form=form, tenant=tenant, user=user,
                           account_name=user.display_name or user.mail or user.user_principal_name,
                           account_email=user.mail or user.user_principal_name)


# -- consent ----------------------------------------------------------------------------------------------
class ConsentForm(FlaskForm):
    request_id = HiddenField()
    allow = SubmitField(_l("Allow"))
    deny = SubmitField(_l("Cancel"))


@pages.route("/consent", methods=["GET", "POST"])
def consent() -> Response | str | tuple[str, int]:
    tenant = current_tenant()
    form = ConsentForm()
    request_id = form.request_id.data or request.args.get("request", "")
    waiting = pending.load(request_id)
    session = current_session(tenant)
    user = session_user(session)
    if waiting is None or user is None:
        return _error_page(EXPIRED_REQUEST)
    params = waiting["params"]
    application = find_application_by_client_id(request_db(), tenant, params.get("client_id", [""])[0])
    if application is None:
        return _error_page(N_("The application of this request no longer exists."))
    scopes = [s for s in (params.get("scope", [""])[0]).split() if s in application.scopes]
    if form.validate_on_submit():
        if form.allow.data:
            store.remember_consent(request_db(), tenant.id, user.id, application.id, scopes)
            request_db().commit()
            pending.mark(request_id, consented=True)
        else:
            pending.mark(request_id, denied=True)
        return redirect(url_for("oidc_pages.authorize", resume=request_id))
    form.request_id.data = request_id
    return render_template("oidc/consent.html", form=form, application=application, tenant=tenant,
                           scopes=describe_scopes(scopes), user=user)


class RevokeConsentForm(FlaskForm):
    application_id = HiddenField()
    submit = SubmitField(_l("Revoke access"))


@pages.route("/consents", methods=["GET", "POST"])
def consents() -> Response | str | tuple[str, int]:
    tenant = current_tenant()
    user = session_user(current_session(tenant))
    if user is None:
        return redirect(url_for("signin.login"))
    form = RevokeConsentForm()
    if form.validate_on_submit():
        store.revoke_consent(request_db(), tenant.id, user.id, form.application_id.data or "")
        request_db().commit()
        return redirect(url_for("oidc_pages.consents"))
    grants = store.list_consents(request_db(), tenant.id, user.id)
    return render_template("oidc/consents.html", grants=grants, form=form, tenant=tenant,
                           describe=describe_scopes)


# -- token, introspection, revocation, userinfo -----------------------------------------------------------
def _commit_if_ok(response: Response) -> Response:
    if response.status_code == 200:
        request_db().commit()
    response.headers.update(NO_STORE)
    return response


@blueprint.post("/token")
def token() -> Response:
    return _commit_if_ok(server().create_token_response())


@blueprint.post("/introspect")
def introspect() -> Response:
    return _commit_if_ok(server().create_endpoint_response("introspection"))


@blueprint.post("/revoke")
def revoke() -> Response:
    return _commit_if_ok(server().create_endpoint_response("revocation"))


@blueprint.route("/userinfo", methods=["GET", "POST"])
def userinfo() -> Response | tuple[Response, int, dict[str, str]]:
    protector = resource_protector()
    try:
        access_token = protector.acquire_token(["openid"])
    except OAuth2Error as error:
        return _bearer_error(error.error, error.get_error_description(), error.status_code)
    user = enabled_user(access_token.claims["sub"])
    if user is None:
        return _bearer_error("invalid_token", "the token's user no longer exists or is disabled", 401)
    response = jsonify(user_claims(user, access_token.get_scope()))
    response.headers.update(NO_STORE)
    return response


# Authlib's names for "no Bearer credentials" (none, another scheme, an empty token): RFC 6750 §3.1 defines no
# error code for them, so the challenge carries none and the body says invalid_token.
NO_BEARER_CREDENTIALS = ("missing_authorization", "unsupported_token_type")


def _bearer_error(error: str, description: str, status: int) -> tuple[Response, int, dict[str, str]]:
    safe = description.replace('"', "'")
    header = f'Bearer realm="{issuer()}"'
    if error not in NO_BEARER_CREDENTIALS:
        header += f', error="{error}", error_description="{safe}"'
    if error in NO_BEARER_CREDENTIALS:
        error, safe = "invalid_token", safe or "A Bearer access token is required in the Authorization header."
    body = jsonify(error=error, error_description=safe)
    return body, status, {"WWW-Authenticate": header, **NO_STORE}


# -- logout -----------------------------------------------------------------------------------------------
class LogoutForm(FlaskForm):
    submit = SubmitField(_l("Sign out"))


# The ``typ`` of an ID token: none, or the generic JWT. Access tokens (``at+jwt``) and logout tokens
# (``logout+jwt``) are signed with the same keys and must not pass for one.
ID_TOKEN_TYPES = ("", "jwt")


def _read_id_token_hint(hint: str) -> dict[str, Any] | None:
    """Claims of an ID token this tenant issued (expired ones are fine: OIDC RP-Initiated Logout §2)."""
    try:
        decoded = jwt.decode(hint, runtime().keys.verification_keys(), algorithms=list(ALGORITHMS))
    except (JoseError, ValueError):
        return None
    if str(decoded.header.get("typ", "")).lower() not in ID_TOKEN_TYPES:
        return None
    claims = decoded.claims
    return claims if claims.get("iss") == issuer() and claims.get("sub") and claims.get("aud") else None


@pages.route("/logout", methods=["GET", "POST"])
def logout() -> Response | str | tuple[str, int]:
    tenant = current_tenant()
    values = request.values
    hint_claims = _read_id_token_hint(values["id_token_hint"]) if values.get("id_token_hint") else None
    if values.get("id_token_hint") and hint_claims is None:
        return _error_page(N_("The id_token_hint was not issued by this organization."))
    client_id = values.get("client_id")
    if hint_claims:
        audiences = hint_claims.get("aud")
        audiences = audiences if isinstance(audiences, list) else [audiences]
        if client_id and client_id not in audiences:
            return _error_page(N_("client_id does not match the id_token_hint."))
        client_id = client_id or audiences[0]
    application = find_application_by_client_id(request_db(), tenant, client_id) if client_id else None
    if client_id and application is None:
        return _error_page(N_("Unknown application."))
    target = values.get("post_logout_redirect_uri")
    if target and (application is None or target not in application.post_logout_redirect_uris):
        return _error_page(N_("The post_logout_redirect_uri is not registered for this application."))

    session = current_session(tenant)
    confirmed = hint_claims is not None and session is not None and hint_claims.get("sid") in (None, session.id)
    if session is not None and not confirmed:
        form = LogoutForm()
        if not form.validate_on_submit():
            return render_template("oidc/logout_confirm.html", form=form, tenant=tenant, application=application)
    if session is not None:
        applications = store.end_session(request_db(), session)
        enqueue_logouts(request_db(), issuer(), applications, session)  # delivered by the worker, not here
        request_db().commit()
    if target:
        state = values.get("state")
        response = redirect(target + (("&" if "?" in target else "?") + urlencode({"state": state}) if state else ""))
    else:
        response = Response(render_template("oidc/signed_out.html", tenant=tenant))
    clear_cookie(response, tenant)
    return response

