"""Delivering due outbox messages: claim (one short transaction), send, settle (one transaction each)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from idp.db import Database, utcnow
from idp.mail.outbox import DEFAULT_LEASE, claim_due, mark_failed, mark_sent, new_worker_id
from idp.mail.transport import Transport, build_message, is_permanent
from idp.models import OutboxMessage

log = logging.getLogger(__name__)


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


def deliver_due(
    database: Database,
    transport: Transport,
    *,
    mail_from: str,
    now: datetime | None = None,
    limit: int = 50,
    lease: timedelta = DEFAULT_LEASE,
    worker: str | None = None,
) -> DeliveryReport:
    """Send every message due at ``now`` (up to ``limit``); safe to run in several processes at once."""
    worker = worker or new_worker_id()
    when = now or utcnow()
    report = DeliveryReport()
    with database.transaction() as db:
        claimed = claim_due(db, worker=worker, now=when, limit=limit, lease=lease)
    try:
        _send_claimed(database, transport, claimed, mail_from=mail_from, worker=worker, when=when, report=report)
    finally:
        transport.close()
    return report


def _send_claimed(database: Database, transport: Transport, claimed: list[str], *, mail_from: str, worker: str,
                  when: datetime, report: DeliveryReport) -> None:
    for message_id in claimed:
        with database.sessionmaker() as db:
            row = db.get(OutboxMessage, message_id)
            assert row is not None  # claimed rows are never deleted by delivery
            email = build_message(row, mail_from)
        try:
            transport.send(email)
        except Exception as exc:  # any transport failure is recorded on the row and retried
            error = f"{type(exc).__name__}: {exc}"
            with database.transaction() as db:
                status = mark_failed(db, message_id, worker=worker, now=when, error=error,
                                     permanent=is_permanent(exc))
            log.warning("mail %s not delivered (%s): %s", message_id, status, error)
            (report.failed if status == "failed" else report.retrying).append(message_id)
            continue
        with database.transaction() as db:
            mark_sent(db, message_id, worker=worker, now=when)
        report.sent.append(message_id)


def deliver_forever(
    database: Database,
    transport: Transport,
    *,
    mail_from: str,
    interval: float = 5.0,
    limit: int = 50,
    on_report: Callable[[DeliveryReport], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> None:
    """Poll the outbox every ``interval`` seconds (immediately again while there was work)."""
    worker = new_worker_id()
    while not should_stop():
        report = deliver_due(database, transport, mail_from=mail_from, worker=worker, limit=limit)
        if on_report and report.claimed:
            on_report(report)
        if not report.claimed:
            time.sleep(interval)
