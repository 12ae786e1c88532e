"""Stored policy objects of a tenant, each kept as its Graph JSON document (validated by ``idp.policy``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import Base, new_id, utcnow


class PolicyDocument(Base):
    """``kind`` names the policy object (``externalCollaboration``, ``crossTenantAccessDefault``,
    ``crossTenantAccessPartner``, ``conditionalAccess``); ``key`` tells several of a kind apart ('' if single)."""

    __tablename__ = "policy_documents"
    __table_args__ = (UniqueConstraint("tenant_id", "kind", "key"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("tenants.id", ondelete="CASCADE"), index=True, nullable=False
    )
    kind: Mapped[str] = mapped_column(String(64), nullable=False)
    key: Mapped[str] = mapped_column(String(256), nullable=False, default="")
    document: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    modified_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, nullable=False)
    modified_by: Mapped[str | None] = mapped_column(String(256))

    __mapper_args__ = {"version_id_col": version}
