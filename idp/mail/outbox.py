"""The outbox: writing messages in the caller's transaction, and the claim/settle steps of delivery.

Several delivery processes may run at once. A process *claims* a due row with a conditional UPDATE (the row must
still be due when the UPDATE runs), so exactly one process wins each row; the claim carries a lease, and a row
whose lease ran out (its process died mid-send) becomes due again. Delivery is therefore at-least-once only
across a crash between the SMTP server accepting a message and the row being marked sent; every message carries
a stable ``Message-ID`` (derived from the row id) so receivers can drop such a duplicate.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from idp.db import utcnow
from idp.directory.emails import validate_address
from idp.errors import ValidationError
from idp.models import OutboxMessage

DEFAULT_MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=1)
DEFAULT_LEASE = timedelta(minutes=5)
MAX_ERROR_LENGTH = 2000


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


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after ``attempts`` failed tries: 1, 2, 4, ... minutes, capped at an hour."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_CAP)


def new_worker_id() -> str:
    return f"worker-{secrets.token_hex(8)}"


def _due(now: datetime):  # type: ignore[no-untyped-def]
    return and_(
        OutboxMessage.attempts < OutboxMessage.max_attempts,
        or_(
            and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
            and_(OutboxMessage.status == "sending", OutboxMessage.lease_until < now),
        ),
    )


def _abandon_exhausted(db: Session, now: datetime) -> None:
    """Rows whose worker died on their last allowed attempt: give up on them, saying why."""
    db.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == "sending",
            OutboxMessage.lease_until < now,
            OutboxMessage.attempts >= OutboxMessage.max_attempts,
        )
        .values(status="failed", claimed_by=None, lease_until=None,
                last_error="delivery was interrupted on the last allowed attempt")
    )


def claim_due(
    db: Session, *, worker: str, now: datetime, limit: int = 50, lease: timedelta = DEFAULT_LEASE
) -> list[str]:
    """Claim up to ``limit`` due messages for ``worker``; returns the ids this worker now owns."""
    _abandon_exhausted(db, now)
    candidates = db.scalars(
        select(OutboxMessage.id).where(_due(now)).order_by(OutboxMessage.next_attempt_at).limit(limit)
    ).all()
    claimed: list[str] = []
    for message_id in candidates:
        result = db.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, _due(now))
            .values(status="sending", claimed_by=worker, lease_until=now + lease,
                    attempts=OutboxMessage.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            claimed.append(message_id)
    return claimed


def mark_sent(db: Session, message_id: str, *, worker: str, now: datetime) -> bool:
    result = db.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.claimed_by == worker)
        .values(status="sent", sent_at=now, claimed_by=None, lease_until=None, last_error=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def mark_failed(
    db: Session, message_id: str, *, worker: str, now: datetime, error: str, permanent: bool = False
) -> str | None:
    """Record a failed try: back to ``pending`` after a backoff, or ``failed`` when attempts are used up or
    the error is permanent. Returns the new status (None if this worker no longer owns the row)."""
    message = db.scalar(
        select(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.claimed_by == worker)
    )
    if message is None:
        return None
    message.last_error = error[:MAX_ERROR_LENGTH]
    message.claimed_by = None
    message.lease_until = None
    if permanent or message.attempts >= message.max_attempts:
        message.status = "failed"
    else:
        message.status = "pending"
        message.next_attempt_at = now + backoff(message.attempts)
    return message.status



def recent_messages(db: Session, *, limit: int = 50) -> list[OutboxMessage]:
    """The newest messages first (the development mail page)."""
    return list(db.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at.desc()).limit(limit)))
