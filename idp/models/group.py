"""Groups with owners and direct members (nested membership is not modelled)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from idp.db import FIRST_VERSION, Base, fold_case, new_id, utcnow, weak_etag


class Group(Base):
    __tablename__ = "groups"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        Index("ix_groups_tenant_display_name", "tenant_id", "display_name"),
        Index("ix_groups_tenant_display_name_normalized", "tenant_id", "display_name_normalized"),
        Index("ix_groups_tenant_external_id", "tenant_id", "external_id"),
        Index("ix_groups_tenant_modified_at", "tenant_id", "modified_at"),
        Index("ix_groups_tenant_created_at", "tenant_id", "created_at", "id"),  # SCIM's default order
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    # Not indexed alone: every index above starts with it (migration 0018 dropped the duplicate).
    tenant_id: Mapped[str] = mapped_column(String(36), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False)
    display_name: Mapped[str] = mapped_column(String(256), nullable=False)
    display_name_normalized: Mapped[str | None] = mapped_column(String(256))
    description: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(256))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=FIRST_VERSION)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    modified_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    members: Mapped[list[GroupMember]] = relationship(back_populates="group", cascade="all, delete-orphan")
    owners: Mapped[list[GroupOwner]] = relationship(back_populates="group", cascade="all, delete-orphan")

    @validates("display_name")
    def _fold_display_name(self, _key: str, value: str | None) -> str | None:
        self.display_name_normalized = fold_case(value)
        return value

    @property
    def etag(self) -> str:
        return weak_etag(self.version)


class GroupMember(Base):
    """A user directly in a group; both rows belong to the same tenant (enforced by composite keys)."""

    __tablename__ = "group_members"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "group_id"], ["groups.tenant_id", "groups.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"),
        Index("ix_group_members_user", "user_id"),
    )

    tenant_id: Mapped[str] = mapped_column(String(36), nullable=False)
    group_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    group: Mapped[Group] = relationship(back_populates="members")


class GroupOwner(Base):
    __tablename__ = "group_owners"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "group_id"], ["groups.tenant_id", "groups.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"),
        Index("ix_group_owners_user", "user_id"),
    )

    tenant_id: Mapped[str] = mapped_column(String(36), nullable=False)
    group_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)

    group: Mapped[Group] = relationship(back_populates="owners")
