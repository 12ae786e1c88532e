"""Invitations (b2b-collaboration.md §1) and invitees' "Block future invitations" choices."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import Base, new_id, utcnow

INVITATION_STATUSES = ("PendingAcceptance", "Completed")


class Invitation(Base):
    """One invitation request; the ticket of its redeem URL is stored only as a SHA-256 digest."""

    __tablename__ = "invitations"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "invited_user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"),
        UniqueConstraint("ticket_hash"),
        Index("ix_invitations_tenant_created_at", "tenant_id", "created_at"),
        Index("ix_invitations_invited_user", "invited_user_id"),
        CheckConstraint("status IN ('PendingAcceptance', 'Completed')", name="status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("tenants.id", ondelete="CASCADE"), index=True, nullable=False
    )
    invited_user_id: Mapped[str] = mapped_column(String(36), nullable=False)
    invited_user_email_address: Mapped[str] = mapped_column(String(320), nullable=False)
    invited_user_display_name: Mapped[str | None] = mapped_column(String(256))
    invited_user_type: Mapped[str] = mapped_column(String(16), nullable=False, default="Guest")
    invite_redirect_url: Mapped[str] = mapped_column(String(2048), nullable=False)
    send_invitation_message: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    message_info: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    reset_redemption: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    status: Mapped[str] = mapped_column(String(32), nullable=False, default="PendingAcceptance")
    ticket_hash: Mapped[str] = mapped_column(String(80), nullable=False)
    ticket_expires_at: Mapped[datetime | None] = mapped_column()
    ticket_consumed_at: Mapped[datetime | None] = mapped_column()
    invited_by_user_id: Mapped[str | None] = mapped_column(String(36))
    invited_by_client_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    completed_at: Mapped[datetime | None] = mapped_column()


class InvitationBlock(Base):
    """An invitee asked this tenant to stop sending invitations: later invitations create the user, send no mail."""

    __tablename__ = "invitation_blocks"
    __table_args__ = (UniqueConstraint("tenant_id", "email_normalized"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("tenants.id", ondelete="CASCADE"), index=True, nullable=False
    )
    email_normalized: Mapped[str] = mapped_column(String(320), nullable=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
