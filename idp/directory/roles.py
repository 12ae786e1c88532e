"""Directory role assignments."""

from __future__ import annotations

from sqlalchemy.orm import Session

from idp import audit
from idp.db import scoped
from idp.errors import ValidationError
from idp.models import DIRECTORY_ROLES, DirectoryRoleAssignment, Tenant, User


def validate_role(role: str) -> str:
    for known in DIRECTORY_ROLES:
        if role.strip().lower() == known.lower():
            return known
    raise ValidationError(f"unknown role {role!r}; roles: {', '.join(DIRECTORY_ROLES)}", field="role")


def assign_role(db: Session, tenant: Tenant, user: User, role: str, *, actor: str = "system") -> None:
    role = validate_role(role)
    if user.tenant_id != tenant.id:
        raise ValidationError("the user belongs to another tenant", field="user")
    if role in roles_of(db, tenant, user):
        return
    db.add(DirectoryRoleAssignment(tenant_id=tenant.id, user_id=user.id, role=role))
    db.flush()
    audit.record(db, tenant_id=tenant.id, actor=actor, activity="Add member to role", target_type="user",
                 target_id=user.id, details={"role": role})


def roles_of(db: Session, tenant: Tenant, user: User) -> set[str]:
    stmt = (
        scoped(DirectoryRoleAssignment, tenant.id)
        .where(DirectoryRoleAssignment.user_id == user.id)
        .with_only_columns(DirectoryRoleAssignment.role)
    )
    return set(db.scalars(stmt))
