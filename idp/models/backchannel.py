"""Back-channel logout deliveries (OpenID Back-Channel Logout 1.0): one row per relying party of an ended session,
written in the logout's transaction and delivered by a worker (:mod:`idp.oidc.logout`, :mod:`idp.outbox_queue`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, ForeignKeyConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import Base, new_id
from idp.outbox_queue import QueuedRow


class BackchannelLogout(QueuedRow, Base):
    """The logout token's claims (without ``iat``/``exp``: it is signed afresh at each try, so a retry after
    minutes still carries a current token) and where to POST it; ``last_error`` says why the last try failed."""

    __tablename__ = "backchannel_logouts"
    __table_args__ = (
        Index("ix_backchannel_logouts_status_next_attempt_at", "status", "next_attempt_at"),
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name="status"),
        ForeignKeyConstraint(["tenant_id", "application_id"], ["applications.tenant_id", "applications.id"],
                             ondelete="CASCADE"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("tenants.id", ondelete="CASCADE"), index=True, nullable=False
    )
    application_id: Mapped[str] = mapped_column(String(36), nullable=False)
    uri: Mapped[str] = mapped_column(String(2048), nullable=False)
    alg: Mapped[str] = mapped_column(String(16), nullable=False)
    claims: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
