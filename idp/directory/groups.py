"""Groups, their members and owners."""

from __future__ import annotations

from sqlalchemy.orm import Session

from idp import audit
from idp.db import scoped
from idp.errors import Conflict, NotFound, ValidationError
from idp.models import Group, GroupMember, GroupOwner, Tenant, User


def create_group(
    db: Session, tenant: Tenant, display_name: str, *, description: str | None = None, actor: str = "system"
) -> Group:
    name = (display_name or "").strip()
    if not name or len(name) > 256:
        raise ValidationError("a group needs a display name of 1-256 characters", field="displayName")
    group = Group(tenant_id=tenant.id, display_name=name, description=description)
    db.add(group)
    db.flush()
    audit.record(db, tenant_id=tenant.id, actor=actor, activity="Add group", target_type="group",
                 target_id=group.id, details={"displayName": name})
    return group


def get_group(db: Session, tenant: Tenant, group_id: str) -> Group:
    group = db.scalar(scoped(Group, tenant.id).where(Group.id == group_id))
    if group is None:
        raise NotFound(f"no group {group_id!r} in tenant {tenant.slug!r}", field="group")
    return group


def find_groups_by_name(db: Session, tenant: Tenant, display_name: str) -> list[Group]:
    return list(db.scalars(scoped(Group, tenant.id).where(Group.display_name == display_name)))


def list_groups(db: Session, tenant: Tenant) -> list[Group]:
    return list(db.scalars(scoped(Group, tenant.id).order_by(Group.display_name)))


def add_member(db: Session, tenant: Tenant, group: Group, user: User, *, actor: str = "system") -> None:
    if group.tenant_id != tenant.id or user.tenant_id != tenant.id:
        raise NotFound("group and user must belong to this tenant")
    already = db.scalar(
        scoped(GroupMember, tenant.id)
        .where(GroupMember.group_id == group.id, GroupMember.user_id == user.id)
        .with_only_columns(GroupMember.user_id)
    )
    if already is not None:
        raise Conflict(f"{user.user_principal_name} is already a member of {group.display_name}", field="member")
    group.members.append(GroupMember(tenant_id=tenant.id, user_id=user.id))
    db.flush()
    audit.record(db, tenant_id=tenant.id, actor=actor, activity="Add member to group", target_type="group",
                 target_id=group.id, details={"userId": user.id})


def add_owner(db: Session, tenant: Tenant, group: Group, user: User) -> None:
    if group.tenant_id != tenant.id or user.tenant_id != tenant.id:
        raise NotFound("group and user must belong to this tenant")
    if any(o.user_id == user.id for o in group.owners):
        raise Conflict(f"{user.user_principal_name} already owns {group.display_name}", field="owner")
    group.owners.append(GroupOwner(tenant_id=tenant.id, user_id=user.id))
    db.flush()


def member_ids(db: Session, tenant: Tenant, group: Group) -> list[str]:
    stmt = scoped(GroupMember, tenant.id).where(GroupMember.group_id == group.id).with_only_columns(GroupMember.user_id)
    return list(db.scalars(stmt))
