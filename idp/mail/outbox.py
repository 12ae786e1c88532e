"""The outbox: writing messages in the caller's transaction, and the claim/settle steps of delivery
(:mod:`idp.outbox_queue`, shared with back-channel logout).

Several delivery processes may run at once. A process *claims* a due row with a conditional UPDATE (the row must
still be due when the UPDATE runs), so exactly one process wins each row; the claim carries a lease, and a row
whose lease ran out (its process died mid-send) becomes due again. Delivery is therefore at-least-once only
across a crash between the SMTP server accepting a message and the row being marked sent; every message carries
a stable ``Message-ID`` (derived from the row id) so receivers can drop such a duplicate.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from idp import outbox_queue as queue
from idp.db import utcnow
from idp.directory.emails import validate_address
from idp.errors import ValidationError
from idp.models import OutboxMessage
from idp.outbox_queue import exponential_backoff

DEFAULT_MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=1)
DEFAULT_LEASE = queue.DEFAULT_LEASE


def enqueue(
    db: Session,
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    cc: str | None = None,
    reply_to: str | None = None,
    tenant_id: str | None = None,
    kind: str = "message",
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    now: datetime | None = None,
) -> OutboxMessage:
    """Add a message to the outbox inside the caller's transaction: it is sent only if that transaction commits."""
    address = validate_address(to, field="to")
    cc = validate_address(cc, field="cc") if cc else None
    reply_to = validate_address(reply_to, field="reply_to") if reply_to else None
    subject = " ".join((subject or "").split())
    if not subject:
        raise ValidationError("a message needs a subject", field="subject")
    if not (text or "").strip():
        raise ValidationError("a message needs a text part", field="text")
    if max_attempts < 1:
        raise ValidationError("max_attempts must be at least 1", field="max_attempts")
    when = now or utcnow()
    message = OutboxMessage(
        tenant_id=tenant_id,
        kind=kind,
        to_address=address,
        cc_address=cc,
        reply_to=reply_to,
        subject=subject,
        text_body=text,
        html_body=html,
        status="pending",
        attempts=0,
        max_attempts=max_attempts,
        next_attempt_at=when,
        created_at=when,
    )
    db.add(message)
    db.flush()
    return message


backoff = exponential_backoff(BACKOFF_BASE, BACKOFF_CAP)
"""Wait before the next try after ``attempts`` failed tries: 1, 2, 4, ... minutes, capped at an hour."""


def claim_due(
    db: Session, *, worker: str, now: datetime, limit: int = 50, lease: timedelta = DEFAULT_LEASE
) -> list[str]:
    """Claim up to ``limit`` due messages for ``worker``; returns the ids this worker now owns."""
    return queue.claim_due(db, OutboxMessage, worker=worker, now=now, limit=limit, lease=lease)


def mark_sent(db: Session, message_id: str, *, worker: str, now: datetime) -> bool:
    return queue.mark_sent(db, OutboxMessage, message_id, worker=worker, now=now)


def mark_failed(
    db: Session, message_id: str, *, worker: str, now: datetime, error: str, permanent: bool = False
) -> str | None:
    """Record a failed try (see :func:`idp.outbox_queue.mark_failed`)."""
    return queue.mark_failed(db, OutboxMessage, message_id, worker=worker, now=now, error=error, backoff=backoff,
                             permanent=permanent)


def recent_messages(db: Session, *, limit: int = 50) -> list[OutboxMessage]:
    """The newest messages first (the development mail page)."""
    return list(db.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at.desc()).limit(limit)))
