"""Mail: a durable outbox written in the caller's transaction, delivered over SMTP with retries.

Callers use :func:`enqueue` (inside their transaction) and, for templated mail, :func:`compose`; delivery runs
in ``portico mail deliver`` (or :func:`deliver_due` in tests).
"""

from idp.mail.compose import Composed, compose
from idp.mail.delivery import DeliveryReport, deliver_due, deliver_forever
from idp.mail.outbox import enqueue
from idp.mail.transport import ConsoleTransport, SmtpTransport, Transport, transport_for

__all__ = [
    "Composed",
    "ConsoleTransport",
    "DeliveryReport",
    "SmtpTransport",
    "Transport",
    "compose",
    "deliver_due",
    "deliver_forever",
    "enqueue",
    "transport_for",
]
