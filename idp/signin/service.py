"""Member authentication by email and password (no Flask)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from idp.directory.passwords import hash_password, verify_password
from idp.directory.users import find_users_by_email
from idp.errors import ValidationError
from idp.models import Tenant, User

# verified against when no account matches, so a wrong email costs as much time as a wrong password
_DUMMY_HASH = hash_password("no account has this password")


def authenticate_member(db: Session, tenant: Tenant, email: str, password: str) -> User | None:
    """The enabled member of ``tenant`` with this email (UPN or mail) and password, else ``None``."""
    try:
        candidates = [u for u in find_users_by_email(db, tenant, email)
                      if u.user_type == "Member" and u.password_hash and u.account_enabled]
    except ValidationError:
        candidates = []
    if not candidates:
        verify_password(_DUMMY_HASH, password)
        return None
    for user in candidates:
        if verify_password(user.password_hash, password):
            return user
    return None
