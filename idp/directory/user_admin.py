"""Administering existing users: finding them (type, invitation state, text) and disabling or deleting them.

Rules: an administrator cannot disable or delete their own account (no lock-out by mistake); disabling ends the
user's SSO sessions and revokes their refresh tokens at once; deleting removes the user with everything that
hangs off it (identities, invitations, role assignments, memberships) through the foreign keys' cascades.
"""

from __future__ import annotations

from sqlalchemy import or_
from sqlalchemy.orm import Session

from idp import audit
from idp.db import scoped
from idp.errors import Conflict, ValidationError
from idp.models import SsoSession, Tenant, User
from idp.models.user import EXTERNAL_USER_STATES, USER_TYPES

NO_STATE = "None"  # members and guests not created by invitation have no externalUserState
STATE_FILTERS = (*EXTERNAL_USER_STATES, NO_STATE)


def search_users(db: Session, tenant: Tenant, *, user_type: str | None = None, state: str | None = None,
                 text: str | None = None, limit: int = 200) -> list[User]:
    """Users ordered by UPN; ``text`` matches display name, UPN or mail (case-insensitive substring)."""
    stmt = scoped(User, tenant.id)
    if user_type:
        if user_type not in USER_TYPES:
            raise ValidationError(f"user type must be one of {', '.join(USER_TYPES)}", field="type")
        stmt = stmt.where(User.user_type == user_type)
    if state:
        if state not in STATE_FILTERS:
            raise ValidationError(f"invitation state must be one of {', '.join(STATE_FILTERS)}", field="state")
        stmt = stmt.where(User.external_user_state.is_(None) if state == NO_STATE
                          else User.external_user_state == state)
    if text and text.strip():
        needle = text.strip()
        stmt = stmt.where(or_(User.display_name.icontains(needle, autoescape=True),
                              User.user_principal_name.icontains(needle, autoescape=True),
                              User.mail.icontains(needle, autoescape=True)))
    return list(db.scalars(stmt.order_by(User.user_principal_name).limit(limit)))


def _not_self(user: User, acting_user_id: str | None, what: str) -> None:
    if acting_user_id is not None and user.id == acting_user_id:
        raise Conflict(f"you cannot {what} your own account", field="user")


def set_account_enabled(db: Session, tenant: Tenant, user: User, enabled: bool, *, actor: str,
                        acting_user_id: str | None = None) -> None:
    """``accountEnabled``; disabling also signs the user out everywhere (sessions ended, refresh tokens revoked)."""
    from idp.oidc import store  # the provider's session rules: one place ends a session

    if not enabled:
        _not_self(user, acting_user_id, "disable")
    if user.account_enabled == enabled:
        return
    user.account_enabled = enabled
    if not enabled:
        live = scoped(SsoSession, tenant.id).where(SsoSession.user_id == user.id, SsoSession.ended_at.is_(None))
        for session in db.scalars(live).all():
            store.end_session(db, session)
    db.flush()
    audit.record(db, tenant_id=tenant.id, actor=actor, activity="Enable account" if enabled else "Disable account",
                 target_type="user", target_id=user.id, details={"userPrincipalName": user.user_principal_name})


def delete_user(db: Session, tenant: Tenant, user: User, *, actor: str, acting_user_id: str | None = None) -> None:
    from idp.directory.users import delete_user as remove  # one deletion path (SCIM uses it too)

    _not_self(user, acting_user_id, "delete")
    remove(db, tenant, user, actor=actor)
