"""Groups, their members and owners."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from idp import audit
from idp.db import scoped, utcnow
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


# -- Provisioning (SCIM) ------------------------------------------------------------------------------------------


def update_group(
    db: Session, tenant: Tenant, group: Group, *, changes: dict[str, Any], actor: str = "system"
) -> Group:
    """Change ``display_name``, ``description`` or ``external_id``; always bumps the version."""
    for key, value in changes.items():
        if key == "display_name":
            name = (value or "").strip()
            if not name or len(name) > 256:
                raise ValidationError("a group needs a display name of 1-256 characters", field="displayName")
            group.display_name = name
        elif key == "external_id":
            if value is not None and len(value) > 256:
                raise ValidationError("externalId has at most 256 characters", field="externalId")
            group.external_id = value
        elif key == "description":
            group.description = value
        else:
            raise ValidationError(f"{key} cannot be changed", field=key)
    group.modified_at = utcnow()
    db.flush()
    audit.record(db, tenant_id=tenant.id, actor=actor, activity="Update group", target_type="group",
                 target_id=group.id, details={"changed": sorted(changes)})
    return group


def set_members(
    db: Session, tenant: Tenant, group: Group, user_ids: Iterable[str], *, actor: str = "system"
) -> tuple[set[str], set[str]]:
    """Make the group's direct members exactly ``user_ids`` (users of the same tenant); returns (added, removed).

    Users whose membership changed are touched too, since their ``groups`` changed.
    """
    wanted = set(user_ids)
    current = set(member_ids(db, tenant, group))
    added, removed = wanted - current, current - wanted
    if added:
        found = set(db.scalars(scoped(User, tenant.id).where(User.id.in_(added)).with_only_columns(User.id)))
        missing = added - found
        if missing:
            raise ValidationError(f"no user {sorted(missing)[0]!r} in tenant {tenant.slug!r}", field="members")
    if removed:
        db.execute(delete(GroupMember).where(GroupMember.tenant_id == tenant.id, GroupMember.group_id == group.id,
                                             GroupMember.user_id.in_(removed)))
        db.expire(group, ["members"])
    for user_id in sorted(added):
        db.add(GroupMember(tenant_id=tenant.id, group_id=group.id, user_id=user_id))
    changed = added | removed
    if changed:
        now = utcnow()
        # One statement for all of them (an ORM flush updates each row on its own, to check its version):
        # each user gets a new version (ETag) and lastModified, as an ORM change would give it.
        db.execute(update(User).where(User.tenant_id == tenant.id, User.id.in_(changed))
                   .values(modified_at=now, version=User.version + 1))
        group.modified_at = now
        db.flush()
        audit.record(db, tenant_id=tenant.id, actor=actor, activity="Update group members", target_type="group",
                     target_id=group.id, details={"added": sorted(added), "removed": sorted(removed)})
    return added, removed


def delete_group(db: Session, tenant: Tenant, group: Group, *, actor: str = "system") -> None:
    if group.tenant_id != tenant.id:
        raise NotFound(f"no group {group.id!r} in tenant {tenant.slug!r}", field="group")
    now = utcnow()
    members = select(GroupMember.user_id).where(GroupMember.tenant_id == tenant.id, GroupMember.group_id == group.id)
    for user in db.scalars(scoped(User, tenant.id).where(User.id.in_(members))):
        user.modified_at = now  # their groups changed
    audit.record(db, tenant_id=tenant.id, actor=actor, activity="Delete group", target_type="group",
                 target_id=group.id, details={"displayName": group.display_name})
    db.delete(group)
    db.flush()
