"""Applications (OAuth clients): registration, client secrets, assignments.

Client secrets are 256-bit random strings, so a SHA-256 digest is a sufficient hash (a slow password hash would
cost every token request dearly for no gain); comparisons are constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy.orm import Session, selectinload

from idp import audit
from idp.config import is_loopback_host
from idp.db import scoped, utcnow
from idp.errors import NotFound, ValidationError
from idp.models import AppAssignment, Application, ApplicationSecret, Group, Tenant, User
from idp.row_cache import RowCache, watch

watch(Application, ApplicationSecret)

GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
SCOPE_CHARS = set("!#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~")
ID_TOKEN_ALGS = ("RS256", "ES256")


@dataclass(frozen=True)
class CreatedApplication:
    application: Application
    client_secret: str | None  # shown once; only its hash is stored


def hash_client_secret(secret: str) -> str:
    return "sha256$" + hashlib.sha256(secret.encode()).hexdigest()


def verify_client_secret(application: Application, secret: str) -> bool:
    """Whether ``secret`` is one of the application's unexpired secrets (compared in constant time)."""
    candidate = hash_client_secret(secret)
    now = utcnow()
    ok = False
    for stored in application.secrets:
        expired = stored.expires_at is not None and stored.expires_at <= now
        ok |= hmac.compare_digest(stored.secret_hash, candidate) and not expired
    return ok


def validate_redirect_uri(uri: str, *, production: bool) -> str:
    parts = urlsplit(uri)
    if not parts.scheme or parts.fragment:
        raise ValidationError(f"redirect URI {uri!r} must be absolute and have no fragment", field="redirect_uri")
    if parts.scheme in ("http", "https"):
        if not parts.hostname:
            raise ValidationError(f"redirect URI {uri!r} has no host", field="redirect_uri")
        if parts.scheme == "http" and production and not is_loopback_host(parts.hostname):
            raise ValidationError(f"redirect URI {uri!r} must use https in production", field="redirect_uri")
    elif parts.scheme in ("javascript", "data", "file", "vbscript"):
        raise ValidationError(f"redirect URI scheme {parts.scheme!r} is not allowed", field="redirect_uri")
    return uri


def validate_jwks_uri(uri: str, *, production: bool) -> str:
    """Where a ``private_key_jwt`` client publishes its keys: https (plain http only to a loopback host outside
    production, as for other URLs in config); no loopback in production, no fragment, no credentials."""
    parts = urlsplit(uri or "")
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment or parts.username:
        raise ValidationError(f"jwks_uri {uri!r} must be an absolute https URL", field="jwks_uri")
    if len(uri) > 2048:
        raise ValidationError("jwks_uri is longer than 2048 characters", field="jwks_uri")
    loopback = is_loopback_host(parts.hostname)
    if production and (parts.scheme != "https" or loopback):
        raise ValidationError(f"jwks_uri {uri!r} must be a public https URL in production", field="jwks_uri")
    if parts.scheme == "http" and not loopback:
        raise ValidationError(f"jwks_uri {uri!r} must use https (plain http only to a loopback host in "
                              "development)", field="jwks_uri")
    return uri


def validate_jwks(jwks: dict[str, Any]) -> dict[str, Any]:
    """A registered JWK Set of public keys only."""
    try:
        keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
    except (ValueError, TypeError, KeyError, JoseError) as exc:
        raise ValidationError(f"jwks is not a valid JWK Set: {exc}", field="jwks") from None
    if any(key.is_private for key in keys.keys):
        raise ValidationError("jwks must hold public keys only", field="jwks")
    return keys.as_dict(private=False)


def validate_scope(scope: str) -> str:
    if not scope or any(c not in SCOPE_CHARS for c in scope):
        raise ValidationError(f"{scope!r} is not a valid OAuth scope token", field="scope")
    return scope


def create_application(
    db: Session,
    tenant: Tenant,
    *,
    name: str,
    redirect_uris: list[str],
    grant_types: list[str],
    scopes: list[str],
    public: bool = False,
    first_party: bool = False,
    assignment_required: bool = False,
    post_logout_redirect_uris: list[str] | None = None,
    id_token_signed_response_alg: str = "RS256",
    access_token_signed_response_alg: str = "RS256",
    production: bool = False,
    client_id: str | None = None,
    actor: str = "system",
    jwks_uri: str | None = None,
    jwks: dict[str, Any] | None = None,
) -> CreatedApplication:
    """Register an application. With ``jwks_uri`` or ``jwks`` it authenticates with ``private_key_jwt`` (and
    gets no client secret); otherwise confidential clients get a secret (``client_secret_basic``/``_post``)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError("an application needs a name", field="name")
    grants = list(dict.fromkeys(grant_types or ["authorization_code"]))
    for grant in grants:
        if grant not in GRANT_TYPES:
            raise ValidationError(f"unknown grant type {grant!r}; known: {', '.join(GRANT_TYPES)}", field="grant_type")
    if public and "client_credentials" in grants:
        raise ValidationError("a public client cannot use client_credentials", field="grant_type")
    uris = [validate_redirect_uri(u, production=production) for u in dict.fromkeys(redirect_uris)]
    if "authorization_code" in grants and not uris:
        raise ValidationError("authorization_code needs at least one redirect URI", field="redirect_uri")
    logout_uris = [validate_redirect_uri(u, production=production) for u in post_logout_redirect_uris or []]
    scope_list = [validate_scope(s) for s in dict.fromkeys(scopes)]
    if id_token_signed_response_alg not in ID_TOKEN_ALGS:
        raise ValidationError(f"id_token_signed_response_alg must be one of {ID_TOKEN_ALGS}", field="alg")
    if access_token_signed_response_alg not in ID_TOKEN_ALGS:
        raise ValidationError(f"access_token_signed_response_alg must be one of {ID_TOKEN_ALGS}", field="alg")
    if jwks_uri and jwks:
        raise ValidationError("register either jwks_uri or jwks, not both", field="jwks_uri")
    key_based = bool(jwks_uri or jwks)
    if key_based and public:
        raise ValidationError("a public client has no keys; jwks_uri/jwks need a confidential client",
                              field="jwks_uri")
    jwks_uri = validate_jwks_uri(jwks_uri, production=production) if jwks_uri else None
    jwks = validate_jwks(jwks) if jwks else None
    auth_method = "none" if public else "private_key_jwt" if key_based else "client_secret_basic"
    app = Application(
        tenant_id=tenant.id,
        client_id=client_id or secrets.token_urlsafe(18),
        display_name=name,
        redirect_uris=uris,
        post_logout_redirect_uris=logout_uris,
        grant_types=grants,
        response_types=["code"] if "authorization_code" in grants else [],
        scopes=scope_list,
        token_endpoint_auth_method=auth_method,
        jwks_uri=jwks_uri,
        jwks=jwks,
        is_public=public,
        is_first_party=first_party,
        assignment_required=assignment_required,
        id_token_signed_response_alg=id_token_signed_response_alg,
        access_token_signed_response_alg=access_token_signed_response_alg,
    )
    secret = None
    if not public and not key_based:
        secret = secrets.token_urlsafe(32)
        app.secrets.append(ApplicationSecret(secret_hash=hash_client_secret(secret), hint=secret[:4]))
    db.add(app)
    db.flush()
    audit.record(db, tenant_id=tenant.id, actor=actor, activity="Add application", target_type="application",
                 target_id=app.id, details={"clientId": app.client_id, "displayName": name})
    return CreatedApplication(application=app, client_secret=secret)


def find_application_by_client_id(db: Session, tenant: Tenant, client_id: str) -> Application | None:
    return db.scalar(scoped(Application, tenant.id).where(Application.client_id == client_id))


def find_application_cached(db: Session, rows: RowCache, tenant: Tenant, client_id: str) -> Application | None:
    """:func:`find_application_by_client_id` through the per-process row cache (secrets loaded): the OAuth
    endpoints look the client up on every request."""
    return rows.get(db, ("application", tenant.id, client_id), lambda own: own.scalar(
        scoped(Application, tenant.id).options(selectinload(Application.secrets))
        .where(Application.client_id == client_id)))


def get_application(db: Session, tenant: Tenant, application_id: str) -> Application:
    app = db.scalar(scoped(Application, tenant.id).where(Application.id == application_id))
    if app is None:
        raise NotFound(f"no application {application_id!r} in tenant {tenant.slug!r}", field="application")
    return app


def list_applications(db: Session, tenant: Tenant) -> list[Application]:
    return list(db.scalars(scoped(Application, tenant.id).order_by(Application.display_name)))


def assign(db: Session, tenant: Tenant, application: Application, principal: User | Group) -> AppAssignment:
    if application.tenant_id != tenant.id or principal.tenant_id != tenant.id:
        raise NotFound("application and principal must belong to this tenant")
    assignment = AppAssignment(
        tenant_id=tenant.id,
        application_id=application.id,
        user_id=principal.id if isinstance(principal, User) else None,
        group_id=principal.id if isinstance(principal, Group) else None,
    )
    db.add(assignment)
    db.flush()
    return assignment
