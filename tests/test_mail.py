"""The mail outbox: written with its cause, delivered over real SMTP (aiosmtpd), retried, claimed once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from smtp_capture import MAIL_FROM, Mailbox, free_port, smtp_server
from sqlalchemy import select

from idp.cli import main
from idp.config import SmtpSettings
from idp.db import Database
from idp.directory import users
from idp.errors import ValidationError
from idp.mail import SmtpTransport, deliver_due, enqueue
from idp.mail.outbox import claim_due
from idp.models import OutboxMessage, Tenant, User

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, SmtpSettings]]:
    with smtp_server() as server:
        yield server


def _enqueue(database: Database, to: str = "ann@partner.com", **kwargs: object) -> str:
    with database.transaction() as db:
        return enqueue(db, to=to, subject="Hello", text="plain body", html="<p>html body</p>", now=NOW,
                       **kwargs).id  # type: ignore[arg-type]


def _row(database: Database, message_id: str) -> OutboxMessage:
    with database.sessionmaker() as db:
        row = db.get(OutboxMessage, message_id)
        assert row is not None
        return row


def test_committed_message_is_delivered_once_with_text_and_html(
    database: Database, smtp: tuple[Mailbox, SmtpSettings]
) -> None:
    mailbox, settings = smtp
    message_id = _enqueue(database)
    report = deliver_due(database, SmtpTransport(settings), mail_from=MAIL_FROM, now=NOW)
    assert report.sent == [message_id]
    [received] = mailbox.messages
    assert received["To"] == "ann@partner.com" and received["Subject"] == "Hello"
    assert received["From"] == MAIL_FROM
    assert received["Message-ID"] == f"<{message_id}@portico.example>"
    assert received.get_body(("plain",)).get_content().strip() == "plain body"
    assert received.get_body(("html",)).get_content().strip() == "<p>html body</p>"
    row = _row(database, message_id)
    assert (row.status, row.attempts, row.sent_at) == ("sent", 1, NOW)
    again = deliver_due(database, SmtpTransport(settings), mail_from=MAIL_FROM, now=NOW + timedelta(hours=2))
    assert again.claimed == 0 and len(mailbox.messages) == 1


def test_rolled_back_cause_sends_nothing(
    database: Database, contoso: Tenant, smtp: tuple[Mailbox, SmtpSettings]
) -> None:
    mailbox, settings = smtp
    with pytest.raises(RuntimeError), database.transaction() as db:
        users.create_guest(db, contoso, "ann@partner.com")
        enqueue(db, to="ann@partner.com", subject="You are invited", text="hi", tenant_id=contoso.id, now=NOW)
        raise RuntimeError("the invitation failed after the mail was written")
    with database.sessionmaker() as db:
        assert db.scalars(select(OutboxMessage)).all() == []
        assert db.scalars(select(User)).all() == []
    report = deliver_due(database, SmtpTransport(settings), mail_from=MAIL_FROM, now=NOW + timedelta(hours=1))
    assert report.claimed == 0 and mailbox.messages == []


def test_temporary_smtp_failure_is_retried_after_backoff(
    database: Database, smtp: tuple[Mailbox, SmtpSettings]
) -> None:
    mailbox, settings = smtp
    mailbox.reply_with = ["451 4.3.0 Try again later"]
    message_id = _enqueue(database)
    first = deliver_due(database, SmtpTransport(settings), mail_from=MAIL_FROM, now=NOW)
    assert first.retrying == [message_id] and mailbox.messages == []
    row = _row(database, message_id)
    assert row.status == "pending" and row.attempts == 1
    assert "451" in (row.last_error or "") and "Try again later" in (row.last_error or "")
    assert row.next_attempt_at == NOW + timedelta(minutes=1)
    too_early = deliver_due(database, SmtpTransport(settings), mail_from=MAIL_FROM, now=NOW + timedelta(seconds=59))
    assert too_early.claimed == 0
    second = deliver_due(database, SmtpTransport(settings), mail_from=MAIL_FROM, now=NOW + timedelta(minutes=1))
    assert second.sent == [message_id] and len(mailbox.messages) == 1
    row = _row(database, message_id)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)


def test_attempts_are_bounded_and_the_last_error_is_kept(
    database: Database, smtp: tuple[Mailbox, SmtpSettings]
) -> None:
    mailbox, settings = smtp
    mailbox.reply_with = ["451 4.3.0 first", "452 4.3.1 second", "451 4.3.0 third"]
    message_id = _enqueue(database, max_attempts=2)
    deliver_due(database, SmtpTransport(settings), mail_from=MAIL_FROM, now=NOW)
    report = deliver_due(database, SmtpTransport(settings), mail_from=MAIL_FROM, now=NOW + timedelta(minutes=5))
    assert report.failed == [message_id]
    row = _row(database, message_id)
    assert (row.status, row.attempts) == ("failed", 2) and "second" in (row.last_error or "")
    later = deliver_due(database, SmtpTransport(settings), mail_from=MAIL_FROM, now=NOW + timedelta(days=1))
    assert later.claimed == 0 and mailbox.messages == []


def test_backoff_doubles_between_attempts(database: Database, smtp: tuple[Mailbox, SmtpSettings]) -> None:
    mailbox, settings = smtp
    mailbox.reply_with = ["451 4.3.0 busy"] * 3
    message_id = _enqueue(database)
    when = NOW
    waits = []
    for _ in range(3):
        deliver_due(database, SmtpTransport(settings), mail_from=MAIL_FROM, now=when)
        next_at = _row(database, message_id).next_attempt_at
        waits.append(next_at - when)
        when = next_at
    assert waits == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]


def test_permanent_rejection_fails_without_retry(database: Database, smtp: tuple[Mailbox, SmtpSettings]) -> None:
    mailbox, settings = smtp
    mailbox.reply_with = ["550 5.1.1 No such user"]
    message_id = _enqueue(database)
    report = deliver_due(database, SmtpTransport(settings), mail_from=MAIL_FROM, now=NOW)
    assert report.failed == [message_id]
    row = _row(database, message_id)
    assert row.status == "failed" and row.attempts == 1 and "No such user" in (row.last_error or "")


def test_unreachable_smtp_server_is_retried(database: Database) -> None:
    message_id = _enqueue(database)
    nobody = SmtpSettings(host="127.0.0.1", port=free_port(), mail_from=MAIL_FROM)
    report = deliver_due(database, SmtpTransport(nobody, timeout=2), mail_from=MAIL_FROM, now=NOW)
    assert report.retrying == [message_id]
    row = _row(database, message_id)
    assert row.status == "pending" and "ConnectionRefusedError" in (row.last_error or "")


def test_smtp_login_is_used_when_configured(database: Database) -> None:
    with smtp_server(username="mailer", password="s3cret") as (mailbox, settings):
        message_id = _enqueue(database)
        bad = SmtpSettings(host=settings.host, port=settings.port, username="mailer", password="wrong")
        deliver_due(database, SmtpTransport(bad), mail_from=MAIL_FROM, now=NOW)
        assert mailbox.messages == [] and "SMTPAuthenticationError" in (_row(database, message_id).last_error or "")
        report = deliver_due(database, SmtpTransport(settings), mail_from=MAIL_FROM, now=NOW + timedelta(minutes=1))
        assert report.sent == [message_id] and len(mailbox.messages) == 1


def test_a_claimed_message_is_not_claimed_again_until_its_lease_expires(database: Database) -> None:
    message_id = _enqueue(database)
    with database.transaction() as db:
        assert claim_due(db, worker="a", now=NOW, lease=timedelta(minutes=5)) == [message_id]
    with database.transaction() as db:
        assert claim_due(db, worker="b", now=NOW + timedelta(minutes=4)) == []
    with database.transaction() as db:  # worker a died mid-send: the message becomes due again
        assert claim_due(db, worker="b", now=NOW + timedelta(minutes=6)) == [message_id]
    row = _row(database, message_id)
    assert (row.claimed_by, row.attempts) == ("b", 2)


def test_concurrent_deliverers_send_each_message_exactly_once(
    database: Database, smtp: tuple[Mailbox, SmtpSettings]
) -> None:
    mailbox, settings = smtp
    with database.transaction() as db:
        ids = {enqueue(db, to=f"user{i}@partner.com", subject=f"n{i}", text="x", now=NOW).id for i in range(12)}
    reports = []
    barrier = threading.Barrier(4)

    def run() -> None:
        barrier.wait()
        reports.append(deliver_due(database, SmtpTransport(settings), mail_from=MAIL_FROM, now=NOW, limit=12))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sent = [i for r in reports for i in r.sent]
    assert sorted(sent) == sorted(ids)
    assert sorted(m["To"] for m in mailbox.messages) == sorted(f"user{i}@partner.com" for i in range(12))


def test_enqueue_validates_its_input(database: Database) -> None:
    with pytest.raises(ValidationError, match="not a valid email"), database.transaction() as db:
        enqueue(db, to="not-an-address", subject="s", text="t")
    with pytest.raises(ValidationError, match="subject"), database.transaction() as db:
        enqueue(db, to="a@b.com", subject="  ", text="t")


def test_cli_mail_deliver_once(
    database: Database, database_url: str, keys_dir: Path, tmp_path: Path, smtp: tuple[Mailbox, SmtpSettings]
) -> None:
    mailbox, settings = smtp
    with database.transaction() as db:
        enqueue(db, to="cli@partner.com", subject="From the CLI", text="body")
    env = {
        "PORTICO_DATABASE_URL": database_url,
        "PORTICO_SECRET_KEY": "test-secret-key-0123456789abcdef",
        "PORTICO_INSTANCE_DIR": str(tmp_path),
        "PORTICO_KEYS_DIR": str(keys_dir),
        "PORTICO_SMTP_HOST": settings.host or "",
        "PORTICO_SMTP_PORT": str(settings.port),
        "PORTICO_MAIL_FROM": "Contoso <mail@contoso.com>",
    }
    result = CliRunner().invoke(main, ["mail", "deliver", "--once", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert '"sent"' in result.output
    [received] = mailbox.messages
    assert received["To"] == "cli@partner.com" and received["From"] == "Contoso <mail@contoso.com>"
    second = CliRunner().invoke(main, ["mail", "deliver", "--once"], env=env)
    assert second.exit_code == 0 and "sent 0" in second.output


def test_without_smtp_messages_are_printed_to_the_console(database: Database) -> None:
    import io

    from idp.mail import ConsoleTransport, transport_for

    assert isinstance(transport_for(SmtpSettings(host=None)), ConsoleTransport)
    assert isinstance(transport_for(SmtpSettings(host="127.0.0.1")), SmtpTransport)
    message_id = _enqueue(database)
    out = io.StringIO()
    report = deliver_due(database, ConsoleTransport(out), mail_from=MAIL_FROM, now=NOW)
    assert report.sent == [message_id]
    printed = out.getvalue()
    assert "mail to ann@partner.com: Hello" in printed and "plain body" in printed


def test_development_mail_page_lists_the_outbox(database: Database, settings: object) -> None:
    from flask import Flask

    from idp import create_app

    _enqueue(database, to="page@partner.com")
    app: Flask = create_app(settings)  # type: ignore[arg-type]
    try:
        page = app.test_client().get("/_dev/mail")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "page@partner.com" in html and "Hello" in html and "plain body" in html
    finally:
        app.extensions["portico"].database.dispose()
    production = create_app(settings.with_overrides(env="production"))  # type: ignore[attr-defined]
    try:
        assert production.test_client().get("/_dev/mail").status_code == 404
    finally:
        production.extensions["portico"].database.dispose()


def test_one_connection_serves_a_round_and_survives_a_refused_message(
    database: Database, smtp: tuple[Mailbox, SmtpSettings]
) -> None:
    mailbox, settings = smtp
    with database.transaction() as db:
        ids = [enqueue(db, to=f"r{i}@partner.com", subject=f"m{i}", text="x", now=NOW + timedelta(seconds=i)).id
               for i in range(3)]
    mailbox.reply_with = ["451 4.3.0 not now"]  # the first message of the round is refused
    report = deliver_due(database, SmtpTransport(settings), mail_from=MAIL_FROM, now=NOW + timedelta(minutes=1))
    assert report.retrying == ids[:1] and report.sent == ids[1:]
    assert mailbox.sessions == 1 and [m["To"] for m in mailbox.messages] == ["r1@partner.com", "r2@partner.com"]


def test_failures_are_logged_with_the_reason(
    database: Database, smtp: tuple[Mailbox, SmtpSettings], caplog: pytest.LogCaptureFixture
) -> None:
    mailbox, settings = smtp
    mailbox.reply_with = ["451 4.3.0 Greylisted"]
    message_id = _enqueue(database)
    deliver_due(database, SmtpTransport(settings), mail_from=MAIL_FROM, now=NOW)
    assert any(message_id in r.getMessage() and "Greylisted" in r.getMessage() for r in caplog.records)
