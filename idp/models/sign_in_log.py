"""The sign-in log: one row per sign-in attempt or token refresh, with the policies evaluated and the outcome.

Rows keep the user's id and UPN as text (no foreign key): the log outlives deleted users and applications."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import Base, new_id, utcnow

OUTCOMES = ("success", "failure", "interrupted")


class SignInLogEntry(Base):
    __tablename__ = "sign_in_log"
    __table_args__ = (
        Index("ix_sign_in_log_tenant_created_at", "tenant_id", "created_at"),
        Index("ix_sign_in_log_tenant_user", "tenant_id", "user_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(36), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)  # interactive | refreshToken
    user_id: Mapped[str | None] = mapped_column(String(36))
    user_principal_name: Mapped[str | None] = mapped_column(String(1024))
    user_display_name: Mapped[str | None] = mapped_column(String(256))
    user_type: Mapped[str | None] = mapped_column(String(16))
    home_tenant_id: Mapped[str | None] = mapped_column(String(512))
    app_id: Mapped[str | None] = mapped_column(String(256))  # the application's client id
    app_display_name: Mapped[str | None] = mapped_column(String(256))
    upstream_idp: Mapped[str | None] = mapped_column(String(512))  # issuer the user authenticated at
    client_ip: Mapped[str | None] = mapped_column(String(45))
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)  # success | failure | interrupted
    reason: Mapped[str | None] = mapped_column(String(2000))
    refused_by: Mapped[str | None] = mapped_column(String(512))  # the setting that refused, when one did
    cross_tenant: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    conditional_access: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    amr: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
