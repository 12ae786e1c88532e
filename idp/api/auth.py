"""Who is calling the JSON API: an OAuth bearer token of this tenant (app-only or delegated) with the scope an
operation needs, or, without a bearer token, an administrator signed in to the admin center (the SSO session
cookie). Cookie-authenticated writes must carry the CSRF token of an admin page in the ``X-CSRF-Token`` header."""

from __future__ import annotations

from flask import request
from flask_wtf.csrf import validate_csrf
from sqlalchemy.orm import Session
from wtforms.validators import ValidationError as WtfValidationError

from idp.api.errors import ApiAuthError
from idp.db import scoped
from idp.directory.roles import roles_of
from idp.invitations.model import Inviter
from idp.models import Tenant, User
from idp.oidc.store import is_access_token_revoked
from idp.runtime import runtime
from idp.tokens import InvalidToken, token_scopes, verify_access_token


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def authenticate(db: Session, tenant: Tenant, issuer: str, required_scope: str | tuple[str, ...]) -> Inviter:
    """The caller as an :class:`Inviter` when the token holds one of ``required_scope``; raises
    :class:`ApiAuthError` (401/403) otherwise."""
    accepted = (required_scope,) if isinstance(required_scope, str) else required_scope
    token = bearer_token()
    if token is None:
        return _signed_in_admin(db, tenant)
    rt = runtime()
    try:
        claims = verify_access_token(rt.keys, token, issuer=issuer, audience=issuer,
                                     is_revoked=lambda jti: is_access_token_revoked(db, jti))
    except InvalidToken as exc:
        raise ApiAuthError(401, "InvalidAuthenticationToken", str(exc), bearer_error="invalid_token") from None
    if claims.get("tid") != tenant.id:
        raise ApiAuthError(401, "InvalidAuthenticationToken", "the token belongs to another tenant",
                           bearer_error="invalid_token")
    if not set(accepted) & token_scopes(claims):
        raise ApiAuthError(403, "Authorization_RequestDenied", f"the token lacks the scope {' or '.join(accepted)}")
    client_id = str(claims.get("client_id", ""))
    subject = str(claims.get("sub", ""))
    if subject == client_id:
        return Inviter(client_id=client_id)
    user = db.scalar(scoped(User, tenant.id).where(User.id == subject))
    if user is None or not user.account_enabled:
        raise ApiAuthError(401, "InvalidAuthenticationToken", "the token's user no longer exists or is disabled",
                           bearer_error="invalid_token")
    return Inviter(user=user, client_id=client_id, roles=frozenset(roles_of(db, tenant, user)))


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"


def _signed_in_admin(db: Session, tenant: Tenant) -> Inviter:
    """The admin center's signed-in administrator; what they may do is then decided by their roles, exactly as for
    a delegated token (the services check the roles of a user caller)."""
    from idp.admin.auth import ANY_ADMIN, signed_in_admin

    admin = signed_in_admin(db, tenant)
    if admin is None:
        raise ApiAuthError(401, "InvalidAuthenticationToken",
                           "an OAuth bearer token or a signed-in administrator is required")
    if not admin.holds(ANY_ADMIN):
        raise ApiAuthError(403, "Authorization_RequestDenied", "the signed-in user holds no administrator role")
    if request.method not in SAFE_METHODS:
        try:
            validate_csrf(request.headers.get(CSRF_HEADER, ""))
        except WtfValidationError:
            raise ApiAuthError(403, "Authorization_RequestDenied",
                               f"a write with the session cookie needs the {CSRF_HEADER} header (CSRF token)") from None
    return admin.inviter
