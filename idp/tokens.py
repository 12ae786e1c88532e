"""JWT access tokens (RFC 9068) signed with the deployment's active key, and their verification.

The shared contract between the token endpoint (which issues them) and every Portico resource server (SCIM,
the JSON API, UserInfo) that accepts them:

* header ``{"typ": "at+jwt", "alg": "RS256", "kid": ...}``;
* claims ``iss`` (the tenant's issuer), ``sub`` (user id, or the client_id for client_credentials), ``aud``,
  ``client_id``, ``scope`` (space-separated), ``tid`` (tenant id), ``iat``, ``exp``, ``jti``;
* Portico's own APIs (SCIM, JSON API) are the audience ``{issuer}`` itself: :func:`portico_api_audience`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from idp.bounded_cache import BoundedCache
from idp.keys import KeyStore

ACCESS_TOKEN_TYPE = "at+jwt"
DEFAULT_ACCESS_TOKEN_LIFETIME = 3600


class InvalidToken(Exception):
    """The bearer token is malformed, badly signed, expired, revoked or meant for someone else."""


#: Scopes of Portico's own APIs; a token carrying any of them is always meant for the issuer (audience).
PORTICO_API_SCOPES = frozenset({"scim.read", "scim.write"})


def portico_api_audience(issuer: str) -> str:
    return issuer


def access_token_audience(issuer: str, configured: str | None, scopes: Iterable[str]) -> str | list[str]:
    """The ``aud`` of an access token: the application's configured audience, plus the issuer itself whenever
    the token is for Portico's APIs (API scopes, or ``openid`` for UserInfo) or no audience is configured."""
    wanted = set(scopes)
    audiences = [configured] if configured else []
    if not audiences or wanted & PORTICO_API_SCOPES or "openid" in wanted:
        audiences.append(portico_api_audience(issuer))
    unique = list(dict.fromkeys(audiences))
    return unique[0] if len(unique) == 1 else unique


def issue_access_token(
    keys: KeyStore,
    *,
    issuer: str,
    tenant_id: str,
    subject: str,
    client_id: str,
    audience: str | list[str],
    scopes: Iterable[str],
    lifetime: int = DEFAULT_ACCESS_TOKEN_LIFETIME,
    now: int | None = None,
    extra_claims: dict[str, Any] | None = None,
    alg: str = "RS256",
) -> tuple[str, dict[str, Any]]:
    """Sign an access token with ``alg`` (RS256 or ES256); returns the compact JWT and its claims."""
    issued_at = int(time.time()) if now is None else now
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": subject,
        "aud": audience,
        "client_id": client_id,
        "scope": " ".join(dict.fromkeys(scopes)),
        "tid": tenant_id,
        "iat": issued_at,
        "exp": issued_at + lifetime,
        "jti": uuid.uuid4().hex,
    }
    claims.update(extra_claims or {})
    key = keys.signing_key(alg)
    token = jwt.encode({"alg": alg, "typ": ACCESS_TOKEN_TYPE, "kid": key.kid}, claims, key)
    return token, claims


# Access tokens whose signature and header were already checked, with the key set they were checked against and
# their claims, by token text. A client sends the same bearer token with each request until it expires; decoding
# it and checking its RSA signature cost about a sixth of the CPU of a SCIM ``eq`` lookup. An entry is used only
# with the very key set it was checked against (rebuilt when the keys change: rotation, retirement), and the
# claims (``iss``, ``aud``, ``exp``) and revocation are checked on every request. Failures are never kept.
_CHECKED: BoundedCache[str, tuple[KeySet, dict[str, Any]]] = BoundedCache(4096)


def _checked_claims(keys: KeyStore, token: str) -> dict[str, Any]:
    """The claims of ``token`` once its signature (one of ``keys``) and its ``typ`` are checked."""
    key_set = keys.verification_keys()
    checked = _CHECKED.get(token)
    claims = checked[1] if checked is not None and checked[0] is key_set else None
    if claims is None:
        try:
            decoded = jwt.decode(token, key_set, algorithms=["RS256", "ES256"])
        except (JoseError, ValueError) as exc:
            raise InvalidToken(f"malformed or badly signed token: {exc}") from None
        if str(decoded.header.get("typ", "")).lower() not in (ACCESS_TOKEN_TYPE, "application/at+jwt"):
            raise InvalidToken("not an access token")
        claims = decoded.claims
        _CHECKED.put(token, (key_set, claims))
    return dict(claims)  # the caller's copy


def verify_access_token(
    keys: KeyStore,
    token: str,
    *,
    issuer: str,
    audience: str | None = None,
    now: int | None = None,
    is_revoked: Callable[[str], bool] | None = None,
) -> dict[str, Any]:
    """Check signature, ``typ``, ``iss``, ``aud``, ``exp`` (and revocation); return the claims."""
    claims = _checked_claims(keys, token)
    options: dict[str, Any] = {
        "iss": {"essential": True, "value": issuer},
        "exp": {"essential": True},
        "jti": {"essential": True},
    }
    if audience is not None:
        options["aud"] = {"essential": True, "value": audience}
    try:
        JWTClaimsRegistry(now=now, leeway=30, **options).validate(claims)
    except JoseError as exc:
        raise InvalidToken(f"token rejected: {exc.error}: {exc.description or ''}".strip()) from None
    if is_revoked is not None and is_revoked(claims["jti"]):
        raise InvalidToken("token has been revoked")
    return claims


def token_scopes(claims: dict[str, Any]) -> set[str]:
    return set(str(claims.get("scope", "")).split())
