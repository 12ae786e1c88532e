"""Authlib wiring: thin subclasses of Authlib's server components, configured in one place.

Everything tenant-specific is read from the current request (``g.tenant``, the request's DB session), so one
:class:`PorticoAuthorizationServer` per Flask app serves every tenant. Business rules (codes, refresh-token
families, revocation, sessions) live in :mod:`idp.oidc.store`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.integrations.flask_oauth2.requests import FlaskOAuth2Payload, FlaskOAuth2Request
from authlib.oauth2.rfc6749 import (
    AuthorizationCodeMixin,
    ClientMixin,
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    OAuth2Payload,
    OAuth2Request,
    TokenMixin,
    grants,
    scope_to_list,
)
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oidc.core import OpenIDCode
from flask import Flask, g
from flask import request as flask_request
from joserfc.jwk import KeySet
from sqlalchemy.orm import Session

from idp import signin_log
from idp.db import scoped
from idp.directory.applications import find_application_cached, verify_client_secret
from idp.models import Application, AuthorizationCode, RefreshToken, SsoSession, User
from idp.oidc import store
from idp.oidc.claims import OIDC_SCOPES, user_claims
from idp.oidc.client_keys import JwksFetchError, client_jwks_cache
from idp.runtime import request_db, runtime
from idp.sign_in_policy import check_sign_in, record_check
from idp.tenancy import current_tenant, issuer
from idp.tokens import (
    DEFAULT_ACCESS_TOKEN_LIFETIME,
    InvalidToken,
    access_token_audience,
    issue_access_token,
    verify_access_token,
)

EXTENSION_KEY = "portico.oidc"
SECRET_METHODS = ("client_secret_basic", "client_secret_post")
ALL_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
CONFIDENTIAL_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]
ID_TOKEN_LIFETIME = 3600


# -- adapters: Portico rows seen through Authlib's mixins -------------------------------------------------
class Client(ClientMixin):
    def __init__(self, app: Application) -> None:
        self.app = app
        self.client_id = app.client_id
        self.id_token_signed_response_alg = app.id_token_signed_response_alg or "RS256"

    def get_client_id(self) -> str:
        return self.app.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None  # OIDC: redirect_uri is always required

    def get_allowed_scope(self, scope: str) -> str:
        allowed = set(self.app.scopes)
        return " ".join(s for s in scope_to_list(scope or "") or [] if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.app.redirect_uris  # exact match only

    def check_client_secret(self, client_secret: str) -> bool:
        return verify_client_secret(self.app, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        registered = self.app.token_endpoint_auth_method
        if self.app.is_public:
            return method == "none"
        if registered in SECRET_METHODS:
            return method in SECRET_METHODS  # a secret is accepted in either place
        return method == registered

    def check_response_type(self, response_type: str) -> bool:
        return response_type in self.app.response_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.app.grant_types


class Code(AuthorizationCodeMixin):
    def __init__(self, row: AuthorizationCode) -> None:
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope

    def get_nonce(self) -> str | None:
        return self.row.nonce

    def get_auth_time(self) -> int:
        return self.row.auth_time

    def get_acr(self) -> str | None:
        return self.row.acr

    def get_amr(self) -> list[str]:
        return list(self.row.amr)


class AccessToken(TokenMixin):
    """A verified JWT access token (introspection, revocation, UserInfo)."""

    kind = "access_token"

    def __init__(self, claims: dict[str, Any]) -> None:
        self.claims = claims

    def check_client(self, client: Client) -> bool:
        return self.claims.get("client_id") == client.get_client_id()

    def get_scope(self) -> str:
        return str(self.claims.get("scope", ""))

    def get_expires_in(self) -> int:
        return int(self.claims["exp"]) - int(self.claims["iat"])

    def is_expired(self) -> bool:
        return int(self.claims["exp"]) <= time.time()

    def is_revoked(self) -> bool:
        return False  # verify_access_token already consulted the revocation list

    def introspection(self) -> dict[str, Any]:
        keys = ("scope", "client_id", "sub", "aud", "iss", "exp", "iat", "jti", "tid", "sid")
        return {"active": True, "token_type": "Bearer", **{k: self.claims[k] for k in keys if k in self.claims}}


@dataclass(frozen=True)
class TokenSubject:
    """The user a refresh issues tokens to when nothing but its id is needed (a member: see ``RefreshGrant``)."""

    id: str


class Refresh(TokenMixin):
    kind = "refresh_token"

    def __init__(self, row: RefreshToken | store.LiveRefreshToken, client_id: str) -> None:
        self.row = row
        self.client_id = client_id

    def check_client(self, client: Client) -> bool:
        return self.row.application_id == client.app.id

    def get_scope(self) -> str:
        return self.row.scope

    def get_expires_in(self) -> int:
        return int((self.row.expires_at - self.row.created_at).total_seconds())

    def is_expired(self) -> bool:
        return store.is_expired(self.row.expires_at)

    def is_revoked(self) -> bool:
        return self.row.revoked_at is not None or self.row.rotated_at is not None

    def introspection(self) -> dict[str, Any]:
        return {
            "active": True, "token_type": "refresh_token", "scope": self.row.scope, "client_id": self.client_id,
            "sub": self.row.user_id, "iss": issuer(), "tid": self.row.tenant_id,
            "iat": int(self.row.created_at.timestamp()), "exp": int(self.row.expires_at.timestamp()),
        }


class AuthorizationRequest(OAuth2Request):
    """An authorization request from saved parameters (``name -> [values]``), so it can be resumed."""

    def __init__(self, uri: str, params: dict[str, list[str]], headers: Any = None) -> None:
        super().__init__("GET", uri, headers=headers)
        self.payload = _ParamsPayload(params)

    @property
    def args(self) -> dict[str, str]:
        return self.payload.data

    @property
    def form(self) -> dict[str, str]:
        return {}


def public_url() -> str:
    """The request's URL as clients see it: ``PORTICO_BASE_URL`` + path + query.

    Behind a TLS-terminating proxy the app sees plain http on an internal host, and Authlib refuses any
    OAuth request whose URL is not https (or loopback). The public base URL is configuration, so use it."""
    query = flask_request.query_string.decode("latin-1")
    return runtime().settings.base_url + flask_request.path + (f"?{query}" if query else "")


class PublicFlaskRequest(FlaskOAuth2Request):
    def __init__(self, request: Any) -> None:
        OAuth2Request.__init__(self, request.method, public_url(), headers=request.headers)
        self._request = request
        self.payload = FlaskOAuth2Payload(request)


class _ParamsPayload(OAuth2Payload):
    def __init__(self, params: dict[str, list[str]]) -> None:
        self._datalist = {k: list(v) for k, v in params.items()}
        self._data = {k: v[0] for k, v in params.items() if v}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> dict[str, list[str]]:
        return self._datalist


# -- helpers ----------------------------------------------------------------------------------------------
def _db() -> Session:
    return request_db()


def enabled_user(user_id: str) -> User | None:
    user = _db().scalar(scoped(User, current_tenant().id).where(User.id == user_id))
    return user if user is not None and user.account_enabled else None


def revoke_out_of_band(change: Callable[[Session], None]) -> None:
    """Persist a security revocation even though the current request fails (its session is rolled back)."""
    with runtime().database.transaction() as db:
        change(db)


def revoke_family_out_of_band(reuse: store.RefreshReused) -> None:
    tenant_id, family_id = reuse.tenant_id, reuse.family_id
    revoke_out_of_band(lambda db: store.revoke_family(db, tenant_id, family_id))


def is_revoked_jti(jti: str) -> bool:
    return store.is_access_token_revoked(_db(), jti)


def read_access_token(token: str, *, audience: str | None = None) -> AccessToken | None:
    """This tenant's valid, unrevoked access token, or ``None``."""
    try:
        claims = verify_access_token(runtime().keys, token, issuer=issuer(), audience=audience,
                                     is_revoked=is_revoked_jti)
    except InvalidToken:
        return None
    if claims.get("tid") != current_tenant().id:
        return None
    return AccessToken(claims)


def find_token(token: str, hint: str | None) -> AccessToken | Refresh | None:
    order = ("refresh_token", "access_token") if hint == "refresh_token" else ("access_token", "refresh_token")
    for kind in order:
        if kind == "access_token" and token.count(".") == 2:
            found = read_access_token(token)
            if found:
                return found
        if kind == "refresh_token":
            row = store.peek_refresh_token(_db(), current_tenant().id, token)
            if row is not None:
                app = _db().get(Application, row.application_id)
                return Refresh(row, app.client_id if app else "")
    return None


def enforce_policy_at_refresh(user: User, row: store.LiveRefreshToken, client: Client) -> None:
    """Spec decision 8: a guest's refresh re-runs cross-tenant access and conditional access. A block fails the
    refresh with ``invalid_grant`` naming the refusing setting (the user object and the token are kept, so the
    refresh works again once the setting allows it); ``mfa`` requirements were enforced at the interactive
    sign-in, whose ``amr`` the refresh token carries. Every attempt is written to the sign-in log (a refused
    one in its own transaction, since the request's is rolled back)."""
    tenant = current_tenant()
    check = check_sign_in(_db(), tenant, user, client.get_client_id(), base_url=runtime().settings.base_url,
                          upstream_amr=row.amr, mfa_completed="mfa" in row.amr)
    details = {"client_id": client.get_client_id(), "app_display_name": client.app.display_name,
               "kind": "refreshToken", "client_ip": flask_request.remote_addr, "amr": row.amr}
    if check.decision.outcome != "block":
        record_check(_db(), tenant, user, check, reason="token refreshed; policies allow", outcome="success",
                     **details)
        return
    refused_by = signin_log.refused_setting(check.decision)
    message = check.decision.message
    user_id = user.id

    def log_refusal(db: Session) -> None:
        refused_user = db.get(User, user_id)
        assert refused_user is not None
        record_check(db, tenant, refused_user, check, **details)

    revoke_out_of_band(log_refusal)
    raise InvalidGrantError(f"Access is blocked by {refused_by}: {message}")


# -- grants -----------------------------------------------------------------------------------------------
class _IssuesPorticoTokens:
    request: Any
    server: PorticoAuthorizationServer
    GRANT_TYPE: str

    def generate_token(self, user: User | TokenSubject | None = None, scope: str | None = None,
                       grant_type: str | None = None, expires_in: int | None = None,
                       include_refresh_token: bool = True) -> dict[str, Any]:
        return self.server.issue_tokens(self.request, grant_type or self.GRANT_TYPE, user, scope or "",
                                        include_refresh_token)


class CodeGrant(_IssuesPorticoTokens, grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ALL_AUTH_METHODS

    def save_authorization_code(self, code: str, request: Any) -> None:
        session: SsoSession = request.sso_session
        store.create_code(_db(), current_tenant(), store.CodeRequest(
            application_id=request.client.app.id, user_id=request.user.id,
            redirect_uri=request.payload.redirect_uri, scope=request.scope or "",
            nonce=request.payload.data.get("nonce"),
            code_challenge=request.payload.data.get("code_challenge"),
            code_challenge_method=request.payload.data.get("code_challenge_method"),
            auth_time=session.auth_time, acr=session.acr, amr=list(session.amr), sid=session.id,
        ), code)
        store.note_client(_db(), session, request.client.app.id)

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        try:
            row = store.find_code(_db(), current_tenant().id, code, client.app.id)
        except store.CodeReplayed as replay:
            code_id = replay.code_id
            revoke_out_of_band(lambda db: store.revoke_code_outcome(db, code_id))
            raise InvalidGrantError("The authorization code was already used; its tokens are revoked.") from None
        return Code(row) if row else None

    def delete_authorization_code(self, authorization_code: Code) -> None:
        """Codes are marked used (not deleted) in ``issue_tokens`` so a replay can be recognised."""

    def authenticate_user(self, authorization_code: Code) -> User | None:
        return enabled_user(authorization_code.row.user_id)


class RefreshGrant(_IssuesPorticoTokens, grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ALL_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> Refresh | None:
        try:
            row = store.find_refresh_token(_db(), current_tenant().id, refresh_token)
        except store.RefreshReused as reuse:
            revoke_family_out_of_band(reuse)
            raise InvalidGrantError("The refresh token was already used; its family is revoked.") from None
        return Refresh(row, "") if row else None

    def authenticate_user(self, refresh_token: Refresh) -> TokenSubject | None:
        """The token's user if still enabled. Members are refreshed from the token's own query; a guest's or
        external user's refresh loads the user and re-runs the sign-in policies (decision 8)."""
        row = refresh_token.row
        assert isinstance(row, store.LiveRefreshToken)
        if not row.user_enabled:
            raise InvalidGrantError("The user account is disabled.")
        if not row.guest_or_external:
            return TokenSubject(row.user_id)
        user = enabled_user(row.user_id)
        if user is not None:
            enforce_policy_at_refresh(user, row, self.request.client)
        return user

    def revoke_old_credential(self, refresh_token: Refresh) -> None:
        try:
            store.rotate(_db(), refresh_token.row)
        except store.RefreshReused as reuse:
            revoke_family_out_of_band(reuse)
            raise InvalidGrantError("The refresh token was already used; its family is revoked.") from None


class ClientCredentialsGrant(_IssuesPorticoTokens, grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CONFIDENTIAL_AUTH_METHODS

    def validate_token_request(self) -> None:
        super().validate_token_request()
        requested = scope_to_list(self.request.payload.scope or "") or []
        if any(s in OIDC_SCOPES for s in requested):
            raise InvalidScopeError("OpenID scopes need a user; client_credentials cannot request them.")
        if requested and not self.request.client.get_allowed_scope(self.request.payload.scope):
            raise InvalidScopeError("None of the requested scopes is granted to this application.")


class S256CodeChallenge(CodeChallenge):
    """PKCE with S256 only (``plain`` is refused); public clients must use it."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if data.get("code_challenge") and data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE code_challenge_method must be S256; 'plain' is not accepted.")
        if grant.request.client.app.is_public and not data.get("code_challenge"):
            raise InvalidRequestError("Public clients must use PKCE (code_challenge with S256).")
        super().validate_code_challenge(grant, redirect_uri)


class PorticoOpenIDCode(OpenIDCode):
    def exists_nonce(self, nonce: str, request: Any) -> bool:
        stmt = scoped(AuthorizationCode, current_tenant().id).where(
            AuthorizationCode.application_id == request.client.app.id, AuthorizationCode.nonce == nonce
        ).with_only_columns(AuthorizationCode.id)
        return _db().scalar(stmt) is not None

    def get_client_algorithm(self, client: Client) -> str:
        return client.id_token_signed_response_alg

    def resolve_client_private_key(self, client: Client) -> Any:
        return runtime().keys.signing_key(self.get_client_algorithm(client))

    def get_encode_header(self, client: Client) -> dict[str, str]:
        key = self.resolve_client_private_key(client)
        return {"alg": self.get_client_algorithm(client), "kid": key.kid, "typ": "JWT"}

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        now = int(time.time())
        return {"iss": issuer(), "aud": [client.get_client_id()], "azp": client.get_client_id(),
                "tid": current_tenant().id, "iat": now, "exp": now + ID_TOKEN_LIFETIME}

    def get_authorization_code_claims(self, authorization_code: Code) -> dict[str, Any]:
        claims = super().get_authorization_code_claims(authorization_code)
        if authorization_code.row.sid:
            claims["sid"] = authorization_code.row.sid
            session = store.get_session(_db(), authorization_code.row.tenant_id, authorization_code.row.sid)
            if session is not None and session.idp:
                claims["idp"] = session.idp  # the guest's home identity issuer
        return claims

    def generate_user_info(self, user: User, scope: str) -> dict[str, Any]:
        return user_claims(user, scope)


class PrivateKeyJWT(JWTBearerClientAssertion):
    """``private_key_jwt`` (RFC 7523 §2.2) with keys from the application's registered ``jwks`` or its
    ``jwks_uri`` (fetched and cached by :mod:`idp.oidc.client_keys`; refetched once for an unknown ``kid``)."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def get_audiences(self) -> list[str]:
        base = issuer()
        return [base, f"{base}/token", f"{base}/introspect", f"{base}/revoke"]

    def validate_jti(self, claims: dict[str, Any], jti: str) -> bool:
        expires = datetime.fromtimestamp(int(claims["exp"]), UTC)
        return store.claim_assertion_jti(_db(), current_tenant().id, str(claims["sub"]), str(jti), expires)

    def extract_assertion(self, assertion: str) -> tuple[dict[str, Any], dict[str, Any]]:
        headers, claims = super().extract_assertion(assertion)
        g.client_assertion_kid = headers.get("kid") if isinstance(headers.get("kid"), str) else None
        return headers, claims

    def resolve_client_public_key(self, client: Client) -> KeySet:
        app = client.app
        if app.jwks:
            return KeySet.import_key_set(app.jwks)
        if app.jwks_uri:
            try:
                return client_jwks_cache().keys(app.jwks_uri, production=runtime().settings.is_production,
                                                kid=g.get("client_assertion_kid"))
            except JwksFetchError as exc:
                raise InvalidClientError(description=f"The application's keys could not be read: {exc}.") from None
        raise InvalidClientError(description="The application has no registered jwks or jwks_uri.")


class _IgnoresUnknownHints:
    """An unknown ``token_type_hint`` is ignored and every token type searched (RFC 7662 §2.1, RFC 7009 §2.1),
    instead of Authlib's ``unsupported_token_type`` with status 401, which clients read as failed client
    authentication."""

    def check_params(self, request: Any, client: Client) -> None:
        if "token" not in request.form:
            raise InvalidRequestError()


class Introspection(_IgnoresUnknownHints, IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = CONFIDENTIAL_AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> AccessToken | Refresh | None:
        return find_token(token_string, token_type_hint)

    def check_permission(self, token: AccessToken | Refresh, client: Client, request: Any) -> bool:
        return token.check_client(client)  # a client introspects its own tokens only

    def introspect_token(self, token: AccessToken | Refresh) -> dict[str, Any]:
        return token.introspection()


class Revocation(_IgnoresUnknownHints, RevocationEndpoint):
    CLIENT_AUTH_METHODS = ALL_AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> AccessToken | Refresh | None:
        return find_token(token_string, token_type_hint)

    def revoke_token(self, token: AccessToken | Refresh, request: Any) -> None:
        if isinstance(token, AccessToken):
            expires = datetime.fromtimestamp(int(token.claims["exp"]), UTC)
            store.revoke_access_token(_db(), current_tenant().id, token.claims["jti"], expires)
        else:
            store.revoke_family(_db(), token.row.tenant_id, token.row.family_id)


class UserInfoTokenValidator(BearerTokenValidator):
    def authenticate_token(self, token_string: str) -> AccessToken | None:
        return read_access_token(token_string, audience=issuer())


# -- the server -------------------------------------------------------------------------------------------
class PorticoAuthorizationServer(AuthorizationServer):
    def __init__(self, app: Flask) -> None:
        super().__init__(app, query_client=self._query_client, save_token=self._save_token)
        self.register_client_auth_method(PrivateKeyJWT.CLIENT_AUTH_METHOD, PrivateKeyJWT())
        self.register_grant(CodeGrant, [S256CodeChallenge(required=True), PorticoOpenIDCode(require_nonce=False)])
        self.register_grant(RefreshGrant)
        self.register_grant(ClientCredentialsGrant)
        self.register_endpoint(Introspection)
        self.register_endpoint(Revocation)

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        """Accept a prepared request (an authorization request resumed after sign-in or consent); otherwise
        wrap Flask's request under its public URL (see :func:`public_url`)."""
        if isinstance(request, OAuth2Request):
            return request
        return PublicFlaskRequest(flask_request)

    def handle_error_response(self, request: Any, error: OAuth2Error) -> Any:
        """Every ``invalid_client`` is a 401 with ``WWW-Authenticate`` (RFC 6749 §5.2), whatever the method."""
        if error.error == "invalid_client":
            error.status_code = 401
        return super().handle_error_response(request, error)

    @staticmethod
    def _query_client(client_id: str) -> Client | None:
        if not isinstance(client_id, str) or not client_id:
            return None
        app = find_application_cached(_db(), runtime().database.rows, current_tenant(), client_id)
        return Client(app) if app is not None else None

    def issue_tokens(self, request: Any, grant_type: str, user: User | TokenSubject | None, scope: str,
                     include_refresh_token: bool) -> dict[str, Any]:
        """Sign the access token (RFC 9068, :mod:`idp.tokens`) and, for users, a rotating refresh token."""
        client: Client = request.client
        tenant = current_tenant()
        scopes = scope_to_list(scope) or []
        origin: Code | Refresh | None = request.authorization_code or request.refresh_token
        row = origin.row if origin is not None else None
        sid = getattr(row, "sid", None)
        access_token, claims = issue_access_token(
            runtime().keys, issuer=issuer(), tenant_id=tenant.id,
            subject=user.id if user is not None else client.get_client_id(), client_id=client.get_client_id(),
            audience=access_token_audience(issuer(), client.app.access_token_audience, scopes),
            scopes=scopes, extra_claims={"sid": sid} if sid else None,
            alg=client.app.access_token_signed_response_alg or "RS256",
        )
        token: dict[str, Any] = {"token_type": "Bearer", "access_token": access_token,
                                 "expires_in": DEFAULT_ACCESS_TOKEN_LIFETIME, "scope": scope}
        family_id = None
        if user is not None and row is not None and include_refresh_token:
            value, family_id = store.create_refresh_token(
                _db(), tenant.id,
                store.RefreshGrant(application_id=client.app.id, user_id=user.id, scope=scope, sid=sid,
                                   auth_time=row.auth_time, amr=list(row.amr)),
                family_id=row.family_id if isinstance(origin, Refresh) else None,
                access_token_jti=claims["jti"],
            )
            token["refresh_token"] = value
        if isinstance(row, AuthorizationCode):
            try:
                store.mark_code_used(_db(), row, access_token_jti=claims["jti"], refresh_family_id=family_id)
            except store.CodeReplayed:
                raise InvalidGrantError("The authorization code was already used.") from None
        return token

    @staticmethod
    def _save_token(token: dict[str, Any], request: Any) -> None:
        """Tokens are recorded as they are issued (``issue_tokens``); the DB session is committed by the view."""


def make_resource_protector() -> ResourceProtector:
    protector = ResourceProtector()
    protector.register_token_validator(UserInfoTokenValidator())
    return protector


def init_provider(app: Flask) -> PorticoAuthorizationServer:
    server = PorticoAuthorizationServer(app)
    app.extensions[EXTENSION_KEY] = (server, make_resource_protector())
    return server


def server() -> PorticoAuthorizationServer:
    from flask import current_app

    return current_app.extensions[EXTENSION_KEY][0]


def resource_protector() -> ResourceProtector:
    from flask import current_app

    return current_app.extensions[EXTENSION_KEY][1]


def session_user(session: SsoSession | None) -> User | None:
    return enabled_user(session.user_id) if session is not None else None

