"""Delivering due outbox messages: claim (one short transaction), send, settle (one transaction each)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from idp.db import Database
from idp.mail.outbox import DEFAULT_LEASE, backoff
from idp.mail.transport import Transport, build_message, is_permanent
from idp.models import OutboxMessage
from idp.outbox_queue import DeliveryReport, deliver_round, poll_forever

__all__ = ["DeliveryReport", "deliver_due", "deliver_forever"]


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
    try:
        return deliver_round(database, OutboxMessage, prepare=lambda row: build_message(row, mail_from),
                             send=transport.send, is_permanent=is_permanent, backoff=backoff, now=now, limit=limit,
                             lease=lease, worker=worker, what="mail")
    finally:
        transport.close()


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
    poll_forever(lambda worker: deliver_due(database, transport, mail_from=mail_from, worker=worker, limit=limit),
                 interval=interval, on_report=on_report, should_stop=should_stop)
