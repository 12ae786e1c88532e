"""Directory role assignments of a tenant."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import Base, new_id, utcnow

DIRECTORY_ROLES = (
    "Global Administrator",
    "User Administrator",
    "Guest Inviter",
    "Security Administrator",
)


class DirectoryRoleAssignment(Base):
    __tablename__ = "directory_role_assignments"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id", "role"),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"),
        Index("ix_directory_role_assignments_user", "user_id"),
        CheckConstraint(
            "role IN ('Global Administrator', 'User Administrator', 'Guest Inviter', 'Security Administrator')",
            name="role",
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(36), nullable=False)
    user_id: Mapped[str] = mapped_column(String(36), nullable=False)
    role: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
