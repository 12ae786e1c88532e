"""Email one-time passcodes (spec decision 1). Each row is one code sent; the rows double as the send log
that the rate limits count, so the limits hold across processes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import Base, new_id, utcnow


class EmailOtpCode(Base):
    __tablename__ = "email_otp_codes"
    __table_args__ = (
        Index("ix_email_otp_codes_tenant_email_created_at", "tenant_id", "email_normalized", "created_at"),
        Index("ix_email_otp_codes_client_ip_created_at", "client_ip", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("tenants.id", ondelete="CASCADE"), index=True, nullable=False
    )
    email_normalized: Mapped[str] = mapped_column(String(320), nullable=False)
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    client_ip: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(nullable=False)
    failed_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    superseded_at: Mapped[datetime | None] = mapped_column()
    consumed_at: Mapped[datetime | None] = mapped_column()
