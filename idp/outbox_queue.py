"""A durable delivery queue in a table (the transactional outbox), shared by mail and back-channel logout.

A row is written in the caller's transaction, so it exists only if what caused it committed. Workers deliver it
later: a worker *claims* a due row with a conditional UPDATE (the row must still be due when the UPDATE runs),
so exactly one worker wins each row even with several processes; the claim carries a lease, and a row whose
lease ran out (its worker died mid-send) becomes due again. A failed try puts the row back to ``pending`` after a
backoff, or ``failed`` when its attempts are used up or the error is permanent; ``last_error`` says why.

Models mix in :class:`QueuedRow`; each delivery kind supplies how to prepare and send one row
(:func:`deliver_round`).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.types import Integer, String, Text

from idp.db import Database, utcnow

QUEUE_STATUSES = ("pending", "sending", "sent", "failed")
DEFAULT_LEASE = timedelta(minutes=5)
MAX_ERROR_LENGTH = 2000
log = logging.getLogger(__name__)
Prepared = TypeVar("Prepared")


class QueuedRow:
    """Columns of a queued delivery: ``status`` moves pending -> sending (claimed, with a lease) -> sent | failed."""

    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=8)
    next_attempt_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()


def new_worker_id() -> str:
    return f"worker-{secrets.token_hex(8)}"


def exponential_backoff(base: timedelta, cap: timedelta) -> Callable[[int], timedelta]:
    """Wait after ``attempts`` failed tries: base, 2*base, 4*base, ... capped."""
    return lambda attempts: min(base * (2 ** max(attempts - 1, 0)), cap)


def _due(model: Any, now: datetime):  # type: ignore[no-untyped-def]
    return and_(
        model.attempts < model.max_attempts,
        or_(
            and_(model.status == "pending", model.next_attempt_at <= now),
            and_(model.status == "sending", model.lease_until < now),
        ),
    )


def _abandon_exhausted(db: Session, model: Any, now: datetime) -> None:
    """Rows whose worker died on their last allowed attempt: give up on them, saying why."""
    db.execute(
        update(model)
        .where(model.status == "sending", model.lease_until < now, model.attempts >= model.max_attempts)
        .values(status="failed", claimed_by=None, lease_until=None,
                last_error="delivery was interrupted on the last allowed attempt")
    )


def claim_due(db: Session, model: Any, *, worker: str, now: datetime, limit: int = 50,
              lease: timedelta = DEFAULT_LEASE) -> list[str]:
    """Claim up to ``limit`` due rows for ``worker``; returns the ids this worker now owns."""
    _abandon_exhausted(db, model, now)
    candidates = db.scalars(select(model.id).where(_due(model, now)).order_by(model.next_attempt_at).limit(limit))
    claimed: list[str] = []
    for row_id in candidates.all():
        result = db.execute(
            update(model)
            .where(model.id == row_id, _due(model, now))
            .values(status="sending", claimed_by=worker, lease_until=now + lease, attempts=model.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(row_id)
    return claimed


def mark_sent(db: Session, model: Any, row_id: str, *, worker: str, now: datetime) -> bool:
    result = db.execute(
        update(model)
        .where(model.id == row_id, model.claimed_by == worker)
        .values(status="sent", sent_at=now, claimed_by=None, lease_until=None, last_error=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


def mark_failed(db: Session, model: Any, row_id: str, *, worker: str, now: datetime, error: str,
                backoff: Callable[[int], timedelta], permanent: bool = False) -> str | None:
    """Record a failed try: back to ``pending`` after ``backoff(attempts)``, or ``failed`` when attempts are used
    up or the error is permanent. Returns the new status (None if this worker no longer owns the row)."""
    row = db.scalar(select(model).where(model.id == row_id, model.claimed_by == worker))
    if row is None:
        return None
    row.last_error = error[:MAX_ERROR_LENGTH]
    row.claimed_by = None
    row.lease_until = None
    if permanent or row.attempts >= row.max_attempts:
        row.status = "failed"
    else:
        row.status = "pending"
        row.next_attempt_at = now + backoff(row.attempts)
    return row.status  # type: ignore[no-any-return]


@dataclass
class DeliveryReport:
    sent: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def claimed(self) -> int:
        return len(self.sent) + len(self.retrying) + len(self.failed)

    def summary(self) -> str:
        return f"sent {len(self.sent)}, to retry {len(self.retrying)}, failed {len(self.failed)}"


def deliver_round(
    database: Database, model: Any, *, prepare: Callable[[Any], Prepared], send: Callable[[Prepared], None],
    is_permanent: Callable[[Exception], bool], backoff: Callable[[int], timedelta], now: datetime | None = None,
    limit: int = 50, lease: timedelta = DEFAULT_LEASE, worker: str | None = None, what: str = "delivery",
) -> DeliveryReport:
    """Claim the rows due at ``now`` (one short transaction), then for each: ``prepare`` it from its row (while
    a session is open), ``send`` it (no transaction held), settle it (one transaction). Any exception from
    ``send`` is recorded on the row and retried unless ``is_permanent`` says otherwise."""
    worker = worker or new_worker_id()
    when = now or utcnow()
    report = DeliveryReport()
    with database.transaction() as db:
        claimed = claim_due(db, model, worker=worker, now=when, limit=limit, lease=lease)
    for row_id in claimed:
        with database.sessionmaker() as db:
            row = db.get(model, row_id)
            assert row is not None  # claimed rows are never deleted by delivery
            prepared = prepare(row)
        try:
            send(prepared)
        except Exception as exc:  # any failure is recorded on the row and retried
            error = f"{type(exc).__name__}: {exc}"
            with database.transaction() as db:
                status = mark_failed(db, model, row_id, worker=worker, now=when, error=error, backoff=backoff,
                                     permanent=is_permanent(exc))
            log.warning("%s %s not delivered (%s): %s", what, row_id, status, error)
            (report.failed if status == "failed" else report.retrying).append(row_id)
            continue
        with database.transaction() as db:
            mark_sent(db, model, row_id, worker=worker, now=when)
        report.sent.append(row_id)
    return report


def poll_forever(run_round: Callable[[str], DeliveryReport], *, interval: float = 5.0,
                 on_report: Callable[[DeliveryReport], None] | None = None,
                 should_stop: Callable[[], bool] = lambda: False) -> None:
    """Run ``run_round(worker_id)`` every ``interval`` seconds (immediately again while there was work)."""
    worker = new_worker_id()
    while not should_stop():
        report = run_round(worker)
        if on_report and report.claimed:
            on_report(report)
        if not report.claimed:
            time.sleep(interval)
