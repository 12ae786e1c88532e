"""Ways to hand a message to the world: SMTP (production) or the console (the demo, no SMTP configured)."""

from __future__ import annotations

import smtplib
import ssl
import sys
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from typing import Protocol, TextIO

from idp.config import SmtpSettings
from idp.models import OutboxMessage

SMTP_TIMEOUT_SECONDS = 30


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Deliver or raise; an exception means the message was not accepted."""

    def close(self) -> None:
        """End a delivery round (release connections)."""


SMTP_POLICY = SMTP.clone(max_line_length=998)


def build_message(row: OutboxMessage, mail_from: str) -> EmailMessage:
    """The MIME message of an outbox row: a text part, plus an HTML alternative when the row has one.
    ``Message-ID`` is derived from the row id so a re-send after a crash is recognisably the same message."""
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "portico.invalid"
    # Long subjects are not folded right after "Subject:", which some parsers read back with a leading space.
    message = EmailMessage(policy=SMTP_POLICY)
    message["From"] = mail_from
    message["To"] = row.to_address
    if row.cc_address:
        message["Cc"] = row.cc_address
    if row.reply_to:
        message["Reply-To"] = row.reply_to
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.created_at)
    message["Message-ID"] = f"<{row.id}@{domain}>"
    message.set_content(row.text_body)
    if row.html_body:
        message.add_alternative(row.html_body, subtype="html")
    return message


def is_permanent(exc: BaseException) -> bool:
    """A 5xx reply about *this message* (its recipient or its content) will not get better by retrying.
    Other failures (connection, login, sender refused) are about our configuration and are retried."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(500 <= code < 600 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPDataError):
        return 500 <= exc.smtp_code < 600
    return False


class SmtpTransport:
    """SMTP with optional STARTTLS (certificate verified) and login. One connection serves a delivery round
    (``close()`` ends it); any error drops the connection so the next message starts afresh. One instance is
    used by one thread at a time."""

    def __init__(self, settings: SmtpSettings, *, timeout: float = SMTP_TIMEOUT_SECONDS) -> None:
        if not settings.host:
            raise ValueError("SmtpTransport needs PORTICO_SMTP_HOST")
        self.settings = settings
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        assert s.host
        smtp = smtplib.SMTP(s.host, s.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if s.starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if s.username:
                smtp.login(s.username, s.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage) -> None:
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            self._smtp.send_message(message)
        except smtplib.SMTPResponseException as exc:
            # smtplib resets the session after a refused recipient or message; 421 means the server hung up
            if exc.smtp_code == 421:
                self.close()
            raise
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()


class ConsoleTransport:
    """Prints messages instead of sending them (development and the demo, when no SMTP host is set)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def send(self, message: EmailMessage) -> None:
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        self.stream.write(
            f"--- mail to {message['To']}: {message['Subject']} ({message['Message-ID']})\n{text}\n--- end of mail\n"
        )
        self.stream.flush()

    def close(self) -> None:
        return None


def transport_for(settings: SmtpSettings) -> Transport:
    return SmtpTransport(settings) if settings.host else ConsoleTransport()
