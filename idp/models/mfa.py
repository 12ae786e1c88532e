"""Second factors: a user's TOTP authenticator (secret encrypted at rest) and single-use recovery codes
(stored as keyed digests)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import Base, new_id, utcnow


def _user_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE")


class TotpAuthenticator(Base):
    """One TOTP authenticator per user. ``confirmed_at`` is ``None`` while enrolment waits for the first code;
    ``last_used_step`` is the newest time step accepted, so the same code (or an older one) never works twice."""

    __tablename__ = "mfa_totp_authenticators"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id"), _user_fk())

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("tenants.id", ondelete="CASCADE"), index=True, nullable=False
    )
    user_id: Mapped[str] = mapped_column(String(36), nullable=False)
    secret_encrypted: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    confirmed_at: Mapped[datetime | None] = mapped_column()
    last_used_step: Mapped[int | None] = mapped_column(Integer)


class RecoveryCode(Base):
    """A single-use recovery code, stored as HMAC-SHA256 under a key derived from ``PORTICO_SECRET_KEY``."""

    __tablename__ = "mfa_recovery_codes"
    __table_args__ = (_user_fk(), Index("ix_mfa_recovery_codes_user", "tenant_id", "user_id"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(36), nullable=False)
    user_id: Mapped[str] = mapped_column(String(36), nullable=False)
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column()
