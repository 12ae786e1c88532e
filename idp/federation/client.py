"""The upstream client: send a guest to an OIDC / OAuth 2 provider and validate what comes back.

OpenID Connect: discovery, authorization code flow with PKCE (S256), ``state`` and ``nonce``, the code exchanged
with the client secret (``client_secret_post`` when offered, else ``client_secret_basic``), and the ID token
validated with joserfc: signature against the provider's JWKS (asymmetric algorithms only), ``iss``, ``aud``
(+ ``azp``), ``exp``, ``iat``, ``nonce``. Plain OAuth 2: the same flow, then a userinfo call. Claims are mapped
with the provider's claim mapping. Every failure raises :class:`UpstreamError` with a ``reason`` for the log and
a message for the page. No Flask here: the journey stores :class:`PendingAuthorization` in its state.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from idp.errors import DomainError
from idp.federation.presets import PRESETS
from idp.federation.service import identity_issuer
from idp.models import IdentityProvider

log = logging.getLogger(__name__)

ASYMMETRIC_ALGS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
HTTP_TIMEOUT_SECONDS = 10
CLOCK_LEEWAY_SECONDS = 60


class UpstreamError(DomainError):
    """An upstream sign-in failed. ``reason`` is one of: accessDenied, upstreamError, invalidState,
    unreachable, invalidMetadata, tokenError, invalidIdToken, invalidUserinfo, missingClaim."""

    code = "upstreamError"

    def __init__(self, message: str, *, reason: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Endpoints:
    issuer: str | None
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str | None = None
    jwks_uri: str | None = None
    token_auth_methods: tuple[str, ...] = ("client_secret_basic",)
    id_token_algs: tuple[str, ...] = ("RS256",)


@dataclass(frozen=True)
class PendingAuthorization:
    """What must survive between the redirect to the upstream and its callback (server-side only)."""

    provider_id: str
    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, str]) -> PendingAuthorization:
        return cls(**{k: data[k] for k in ("provider_id", "state", "nonce", "code_verifier", "redirect_uri")})


@dataclass(frozen=True)
class UpstreamIdentity:
    provider_id: str
    issuer: str  # the identity issuer to bind: {federated, issuer, subject}
    subject: str
    email: str | None = None
    email_verified: object = None  # as the upstream said it; judge with idp.policy.linking.email_is_verified
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    amr: tuple[str, ...] = ()
    acr: str | None = None
    claims: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UpstreamConfig:
    """Everything the client needs about one upstream, detached from the database row, so that a home-tenant
    federation (another Portico tenant or a partner deployment, §2 ``azureActiveDirectory``) can use the same
    client with a configuration that is not an ``identity_providers`` row."""

    id: str
    name: str
    type: str  # oidc | oauth2 | google | microsoft | facebook
    client_id: str
    scopes: tuple[str, ...]
    claim_mapping: Mapping[str, str]
    identity_issuer: str
    issuer: str | None = None
    authorization_endpoint: str | None = None
    token_endpoint: str | None = None
    userinfo_endpoint: str | None = None

    @property
    def protocol(self) -> str:
        return PRESETS[self.type].protocol

    @classmethod
    def from_provider(cls, provider: IdentityProvider) -> UpstreamConfig:
        return cls(id=provider.id, name=provider.name, type=provider.type, client_id=provider.client_id,
                   scopes=tuple(provider.scopes), claim_mapping=dict(provider.claim_mapping),
                   identity_issuer=identity_issuer(provider), issuer=provider.issuer,
                   authorization_endpoint=provider.authorization_endpoint, token_endpoint=provider.token_endpoint,
                   userinfo_endpoint=provider.userinfo_endpoint)


def map_claims(mapping: Mapping[str, str], raw: Mapping[str, Any]) -> dict[str, Any]:
    """Portico claim -> the upstream's value under the mapped name (absent stays absent)."""
    return {claim: raw[source] for claim, source in mapping.items() if source in raw and raw[source] is not None}


def _expected_issuer(metadata_issuer: str, claims: Mapping[str, Any]) -> str:
    """Microsoft's multi-tenant metadata names ``{tenantid}``; the ID token carries the account's own tenant."""
    if "{tenantid}" in metadata_issuer and isinstance(claims.get("tid"), str):
        return metadata_issuer.replace("{tenantid}", claims["tid"])
    return metadata_issuer


class UpstreamClient:
    def __init__(self, upstream: IdentityProvider | UpstreamConfig, *, http: requests.Session | None = None,
                 timeout: float = HTTP_TIMEOUT_SECONDS) -> None:
        self.provider = upstream if isinstance(upstream, UpstreamConfig) else UpstreamConfig.from_provider(upstream)
        self.http = http or requests.Session()
        self.timeout = timeout

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> UpstreamClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- HTTP ---------------------------------------------------------------------------------------------
    def _get_json(self, url: str, *, what: str, reason: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self.http.get(url, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise self._error("unreachable", f"could not reach {url}", exc) from None
        if response.status_code != 200:
            raise self._error(reason, f"{what} answered HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            raise self._error(reason, f"{what} is not JSON") from None
        if not isinstance(data, dict):
            raise self._error(reason, f"{what} is not a JSON object")
        return data

    def _error(self, reason: str, detail: str, exc: BaseException | None = None) -> UpstreamError:
        name = self.provider.name
        messages = {
            "accessDenied": f"You did not allow {name} to sign you in, so sign-in was cancelled. Try again.",
            "upstreamError": f"{name} could not sign you in. Try again, or contact your administrator.",
            "invalidState": "This sign-in response does not belong to your sign-in (it may be old or forged). "
                            "Start signing in again.",
            "unreachable": f"{name} cannot be reached right now. Try again in a few minutes.",
            "tokenError": f"{name} did not accept the sign-in (the code may have expired). Start signing in again.",
        }
        message = messages.get(reason, f"{name} sent a sign-in response that Portico cannot trust. "
                                        "Contact your administrator.")
        full = f"{detail}: {exc}" if exc else detail
        log.warning("upstream %s (%s) failed: %s: %s", self.provider.id, name, reason, full)
        return UpstreamError(message, reason=reason, detail=full)

    # -- metadata -----------------------------------------------------------------------------------------
    def endpoints(self) -> Endpoints:
        p = self.provider
        if self.provider.protocol == "oauth2":
            assert p.authorization_endpoint and p.token_endpoint
            return Endpoints(issuer=None, authorization_endpoint=p.authorization_endpoint,
                             token_endpoint=p.token_endpoint, userinfo_endpoint=p.userinfo_endpoint,
                             token_auth_methods=("client_secret_post",))
        assert p.issuer
        url = p.issuer.rstrip("/") + "/.well-known/openid-configuration"
        meta = self._get_json(url, what="the discovery document", reason="invalidMetadata")
        issuer = meta.get("issuer")
        templated = self.provider.type == "microsoft" and isinstance(issuer, str) and "{tenantid}" in issuer
        if not isinstance(issuer, str) or (issuer.rstrip("/") != p.issuer.rstrip("/") and not templated):
            raise self._error("invalidMetadata", f"discovery names issuer {issuer!r}, expected {p.issuer!r}")
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(meta.get(key), str):
                raise self._error("invalidMetadata", f"discovery document lacks {key}")
        algs = tuple(a for a in meta.get("id_token_signing_alg_values_supported", ["RS256"]) if a in ASYMMETRIC_ALGS)
        return Endpoints(
            issuer=issuer,
            authorization_endpoint=meta["authorization_endpoint"],
            token_endpoint=meta["token_endpoint"],
            userinfo_endpoint=meta.get("userinfo_endpoint"),
            jwks_uri=meta["jwks_uri"],
            token_auth_methods=tuple(meta.get("token_endpoint_auth_methods_supported", ["client_secret_basic"])),
            id_token_algs=algs or ("RS256",),
        )

    # -- the flow -----------------------------------------------------------------------------------------
    def begin(self, redirect_uri: str, *, login_hint: str | None = None,
              endpoints: Endpoints | None = None) -> tuple[str, PendingAuthorization]:
        """The URL to send the browser to, and what to keep server-side until the callback."""
        ends = endpoints or self.endpoints()
        pending = PendingAuthorization(provider_id=self.provider.id, state=secrets.token_urlsafe(32),
                                       nonce=secrets.token_urlsafe(32), code_verifier=secrets.token_urlsafe(64),
                                       redirect_uri=redirect_uri)
        session = OAuth2Session(self.provider.client_id, scope=" ".join(self.provider.scopes),
                                redirect_uri=redirect_uri, code_challenge_method="S256")
        extra: dict[str, str] = {}
        if self.provider.protocol == "oidc":
            extra["nonce"] = pending.nonce
        if login_hint:
            extra["login_hint"] = login_hint
        url, _ = session.create_authorization_url(ends.authorization_endpoint, state=pending.state,
                                                  code_verifier=pending.code_verifier, **extra)
        return url, pending

    def complete(self, pending: PendingAuthorization, params: Mapping[str, str], *, client_secret: str,
                 now: datetime, endpoints: Endpoints | None = None) -> UpstreamIdentity:
        """Check the callback, exchange the code, validate the ID token (or call userinfo), map the claims."""
        if pending.provider_id != self.provider.id:
            raise self._error("invalidState", "the pending sign-in belongs to another provider")
        state = params.get("state") or ""
        if not hmac.compare_digest(state.encode(), pending.state.encode()):
            raise self._error("invalidState", "state does not match")
        if params.get("error"):
            reason = "accessDenied" if params["error"] == "access_denied" else "upstreamError"
            raise self._error(reason, f"{params['error']}: {params.get('error_description', '')}".strip())
        code = params.get("code")
        if not code:
            raise self._error("upstreamError", "the callback carries neither code nor error")
        ends = endpoints or self.endpoints()
        token = self._exchange(ends, pending, code, client_secret)
        if self.provider.protocol == "oidc":
            raw = self._validate_id_token(ends, token, pending.nonce, now)
            raw = self._merge_userinfo(ends, token, raw)
        else:
            if not ends.userinfo_endpoint:
                raise self._error("invalidMetadata", "no userinfo endpoint configured")
            raw = self._userinfo(ends.userinfo_endpoint, token)
        return self._identity(raw)

    def _exchange(self, ends: Endpoints, pending: PendingAuthorization, code: str,
                  client_secret: str) -> dict[str, Any]:
        method = "client_secret_post" if "client_secret_post" in ends.token_auth_methods else "client_secret_basic"
        try:
            with OAuth2Session(self.provider.client_id, client_secret, token_endpoint_auth_method=method,
                               redirect_uri=pending.redirect_uri) as session:
                token = session.fetch_token(ends.token_endpoint, grant_type="authorization_code", code=code,
                                            code_verifier=pending.code_verifier, timeout=self.timeout)
        except OAuthError as exc:
            raise self._error("tokenError", f"token endpoint refused the code: {exc.error}", exc) from None
        except requests.RequestException as exc:
            raise self._error("unreachable", "could not reach the token endpoint", exc) from None
        except ValueError as exc:
            raise self._error("tokenError", "token endpoint answered something that is not a token", exc) from None
        return dict(token)

    def _validate_id_token(self, ends: Endpoints, token: Mapping[str, Any], nonce: str,
                           now: datetime) -> dict[str, Any]:
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise self._error("invalidIdToken", "the token response has no id_token")
        assert ends.jwks_uri and ends.issuer
        jwks = self._get_json(ends.jwks_uri, what="the JWKS", reason="invalidMetadata")
        try:
            keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
            decoded = jwt.decode(id_token, keys, algorithms=list(ends.id_token_algs))
        except (JoseError, ValueError, TypeError) as exc:
            raise self._error("invalidIdToken", "ID token signature is not valid", exc) from None
        claims = dict(decoded.claims)
        client_id = self.provider.client_id
        registry = jwt.JWTClaimsRegistry(
            now=int(now.timestamp()), leeway=CLOCK_LEEWAY_SECONDS,
            iss={"essential": True, "value": _expected_issuer(ends.issuer, claims)},
            aud={"essential": True, "value": client_id},
            sub={"essential": True}, exp={"essential": True}, iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            registry.validate(claims)
        except JoseError as exc:
            raise self._error("invalidIdToken", "ID token claims are not valid", exc) from None
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != client_id:
            raise self._error("invalidIdToken", "ID token has several audiences and azp is not this client")
        return claims

    def _userinfo(self, url: str, token: Mapping[str, Any]) -> dict[str, Any]:
        access_token = token.get("access_token")
        if not isinstance(access_token, str):
            raise self._error("tokenError", "the token response has no access_token")
        return self._get_json(url, what="the userinfo endpoint", reason="invalidUserinfo",
                              headers={"Authorization": f"Bearer {access_token}"})

    def _merge_userinfo(self, ends: Endpoints, token: Mapping[str, Any], claims: dict[str, Any]) -> dict[str, Any]:
        """Fill what the ID token left out (often email) from userinfo; its ``sub`` must be the same user."""
        wanted = {self.provider.claim_mapping.get(c) for c in ("email", "email_verified", "name")} - {None}
        if not ends.userinfo_endpoint or wanted <= claims.keys() or "access_token" not in token:
            return claims
        info = self._userinfo(ends.userinfo_endpoint, token)
        if info.get("sub") != claims.get("sub"):
            raise self._error("invalidUserinfo", "userinfo describes another subject than the ID token")
        return {**info, **claims}

    def _identity(self, raw: Mapping[str, Any]) -> UpstreamIdentity:
        mapped = map_claims(self.provider.claim_mapping, raw)
        subject = mapped.get("sub")
        if subject is None or str(subject) == "":
            raise self._error("missingClaim", "the upstream did not say who the user is (no subject)")
        amr = mapped.get("amr") or ()
        return UpstreamIdentity(
            provider_id=self.provider.id,
            issuer=self.provider.identity_issuer,
            subject=str(subject),
            email=mapped.get("email") if isinstance(mapped.get("email"), str) else None,
            email_verified=mapped.get("email_verified"),
            name=mapped.get("name"),
            given_name=mapped.get("given_name"),
            family_name=mapped.get("family_name"),
            amr=tuple(str(a) for a in amr) if isinstance(amr, list | tuple) else (str(amr),),
            acr=mapped.get("acr"),
            claims=dict(raw),
        )
