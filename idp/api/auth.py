"""Who is calling the JSON API: an OAuth bearer token of this tenant (app-only or delegated) with the scope an
operation needs."""

from __future__ import annotations

from flask import request
from sqlalchemy.orm import Session

from idp.api.errors import ApiAuthError
from idp.db import scoped
from idp.directory.roles import roles_of
from idp.invitations.model import Inviter
from idp.models import Tenant, User
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
        raise ApiAuthError(401, "InvalidAuthenticationToken", "an OAuth bearer token is required")
    rt = runtime()
    try:
        claims = verify_access_token(rt.keys, token, issuer=issuer, audience=issuer)
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
