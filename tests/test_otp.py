"""Email one-time passcodes (spec decision 1), end to end through the outbox and a real SMTP server."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from smtp_capture import MAIL_FROM, Mailbox, smtp_server
from sqlalchemy import select

from idp import otp
from idp.config import SmtpSettings
from idp.db import Database
from idp.mail import SmtpTransport, deliver_due
from idp.models import EmailOtpCode, OutboxMessage, Tenant
from idp.otp import CheckOutcome, OtpPolicy, OtpRateLimited, RateLimit

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
SECRET = "test-secret-key-0123456789abcdef"
GUEST = "ann@partner.com"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, SmtpSettings]]:
    with smtp_server() as server:
        yield server


def send(database: Database, tenant: Tenant, email: str = GUEST, *, now: datetime = NOW,
         ip: str | None = "192.0.2.10", policy: OtpPolicy = otp.DEFAULT_POLICY) -> otp.SentCode:
    with database.transaction() as db:
        return otp.send_code(db, tenant, email, now=now, secret_key=SECRET, client_ip=ip, policy=policy)


def verify(database: Database, tenant: Tenant, code: str, email: str = GUEST, *, now: datetime = NOW,
           db_url: str | None = None) -> otp.CodeCheck:
    target = Database(db_url) if db_url else database
    try:
        with target.transaction() as db:
            return otp.verify_code(db, tenant, email, code, now=now, secret_key=SECRET)
    finally:
        if db_url:
            target.dispose()


def code_in_outbox(database: Database, sent: otp.SentCode) -> str:
    with database.sessionmaker() as db:
        row = db.get(OutboxMessage, sent.message_id)
        assert row is not None
        return re.findall(r"\b\d{8}\b", row.text_body)[0]


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**8:08d}"


def test_code_arrives_by_smtp_and_works_once_even_after_a_restart(
    database: Database, database_url: str, contoso: Tenant, smtp: tuple[Mailbox, SmtpSettings]
) -> None:
    mailbox, settings = smtp
    sent = send(database, contoso, "Ann@Partner.com")
    assert sent.expires_at == NOW + timedelta(minutes=30)
    deliver_due(database, SmtpTransport(settings), mail_from=MAIL_FROM, now=NOW)
    [message] = mailbox.messages
    assert message["To"] == "Ann@partner.com" and message["Subject"] == "Contoso sign-in code"
    text_part = message.get_body(("plain",)).get_content()
    html_part = message.get_body(("html",)).get_content()
    [code] = re.findall(r"\b\d{8}\b", text_part)
    assert code in html_part and "30 minutes" in text_part
    # a fresh engine stands for a restarted (or another) app process: nothing lived in memory
    check = verify(database, contoso, code, now=NOW + timedelta(minutes=5), db_url=database_url)
    assert check.ok and check.email == GUEST and check.code_id == sent.code_id
    again = verify(database, contoso, code, now=NOW + timedelta(minutes=6))
    assert again.outcome is CheckOutcome.NO_CODE and "Send a new code" in again.message


def test_codes_are_eight_csprng_digits_stored_only_as_keyed_hashes(database: Database, contoso: Tenant) -> None:
    codes = set()
    for i in range(5):
        sent = send(database, contoso, f"user{i}@partner.com")
        code = code_in_outbox(database, sent)
        assert len(code) == 8 and code.isdigit()
        codes.add(code)
        with database.sessionmaker() as db:
            row = db.get(EmailOtpCode, sent.code_id)
            assert row is not None
            assert code not in row.code_hash and row.code_hash != hashlib.sha256(code.encode()).hexdigest()
            assert len(row.code_hash) == 64
    assert len(codes) == 5


def test_code_expires_after_thirty_minutes(database: Database, contoso: Tenant) -> None:
    code = code_in_outbox(database, send(database, contoso))
    expired = verify(database, contoso, code, now=NOW + timedelta(minutes=30))
    assert expired.outcome is CheckOutcome.EXPIRED and "expired" in expired.message
    code2 = code_in_outbox(database, send(database, contoso, now=NOW + timedelta(minutes=31)))
    assert verify(database, contoso, code2, now=NOW + timedelta(minutes=60, seconds=59)).ok


def test_five_wrong_entries_invalidate_the_code(database: Database, contoso: Tenant) -> None:
    code = code_in_outbox(database, send(database, contoso))
    lefts = [verify(database, contoso, wrong(code)).attempts_left for _ in range(4)]
    assert lefts == [4, 3, 2, 1]
    fifth = verify(database, contoso, wrong(code))
    assert fifth.outcome is CheckOutcome.TOO_MANY_ATTEMPTS and fifth.attempts_left == 0
    after = verify(database, contoso, code)
    assert after.outcome is CheckOutcome.TOO_MANY_ATTEMPTS and not after.ok
    fresh = code_in_outbox(database, send(database, contoso, now=NOW + timedelta(minutes=1)))
    assert verify(database, contoso, fresh, now=NOW + timedelta(minutes=1)).ok


def test_malformed_entries_are_not_counted(database: Database, contoso: Tenant) -> None:
    code = code_in_outbox(database, send(database, contoso))
    for entry in ("", "1234", "abcdefgh", "123456789", "１２３４５６７８"):
        assert verify(database, contoso, entry).outcome is CheckOutcome.MALFORMED
    assert verify(database, contoso, f" {code[:4]} {code[4:]} ").ok


def test_a_newer_code_supersedes_older_ones(database: Database, contoso: Tenant) -> None:
    first = code_in_outbox(database, send(database, contoso))
    second = code_in_outbox(database, send(database, contoso, now=NOW + timedelta(minutes=1)))
    while second == first:  # one chance in 10^8; the test needs two different codes
        second = code_in_outbox(database, send(database, contoso, now=NOW + timedelta(minutes=1)))
    old = verify(database, contoso, first, now=NOW + timedelta(minutes=2))
    assert old.outcome is CheckOutcome.SUPERSEDED and "most recent email" in old.message
    assert verify(database, contoso, second, now=NOW + timedelta(minutes=2)).ok


def test_codes_do_not_cross_tenants_or_addresses(database: Database, contoso: Tenant, fabrikam: Tenant) -> None:
    code = code_in_outbox(database, send(database, contoso))
    assert verify(database, fabrikam, code).outcome is CheckOutcome.NO_CODE
    assert verify(database, contoso, code, email="bob@partner.com").outcome is CheckOutcome.NO_CODE
    assert verify(database, contoso, code).ok


def test_five_sends_per_fifteen_minutes_per_address(database: Database, contoso: Tenant) -> None:
    for minute in range(5):
        send(database, contoso, now=NOW + timedelta(minutes=minute))
    with pytest.raises(OtpRateLimited) as caught:
        send(database, contoso, now=NOW + timedelta(minutes=10))
    assert caught.value.scope == "address"
    assert caught.value.retry_after == timedelta(minutes=5)  # the first send leaves the window at 09:15
    assert caught.value.retry_after_seconds == 300 and "5 minutes" in caught.value.message
    send(database, contoso, "other@partner.com", now=NOW + timedelta(minutes=10))  # another address is not limited
    send(database, contoso, now=NOW + timedelta(minutes=15, seconds=1))
    with database.sessionmaker() as db:
        assert len(db.scalars(select(EmailOtpCode).where(EmailOtpCode.email_normalized == GUEST)).all()) == 6


def test_twenty_sends_per_day_per_address_and_tenant(
    database: Database, contoso: Tenant, fabrikam: Tenant
) -> None:
    for i in range(20):
        send(database, contoso, now=NOW + timedelta(minutes=16 * i), ip=None)
    late = NOW + timedelta(hours=8)
    with pytest.raises(OtpRateLimited) as caught:
        send(database, contoso, now=late, ip=None)
    assert caught.value.retry_after == NOW + timedelta(hours=24) - late
    send(database, fabrikam, now=late, ip=None)  # the same address in another tenant has its own budget
    send(database, contoso, now=NOW + timedelta(hours=24, seconds=1), ip=None)


def test_per_ip_limit_spans_addresses_and_tenants(database: Database, contoso: Tenant, fabrikam: Tenant) -> None:
    policy = OtpPolicy(ip_limits=(RateLimit(3, timedelta(minutes=15)),))
    send(database, contoso, "a@partner.com", policy=policy)
    send(database, contoso, "b@partner.com", policy=policy)
    send(database, fabrikam, "c@partner.com", policy=policy)
    with pytest.raises(OtpRateLimited) as caught:
        send(database, contoso, "d@partner.com", now=NOW + timedelta(minutes=1), policy=policy)
    assert caught.value.scope == "ip" and caught.value.retry_after == timedelta(minutes=14)
    send(database, contoso, "d@partner.com", ip="198.51.100.7", now=NOW + timedelta(minutes=1), policy=policy)


def test_default_per_ip_limit_holds(database: Database, contoso: Tenant) -> None:
    for i in range(30):
        send(database, contoso, f"user{i}@partner.com", now=NOW + timedelta(seconds=i))
    with pytest.raises(OtpRateLimited) as caught:
        send(database, contoso, "user31@partner.com", now=NOW + timedelta(seconds=31))
    assert caught.value.scope == "ip"


def test_a_rate_limited_send_writes_nothing(database: Database, contoso: Tenant) -> None:
    for minute in range(5):
        send(database, contoso, now=NOW + timedelta(minutes=minute))
    code = code_in_outbox(database, send(database, contoso, "x@partner.com"))  # unrelated, for contrast
    with pytest.raises(OtpRateLimited):
        send(database, contoso, now=NOW + timedelta(minutes=6))
    with database.sessionmaker() as db:
        assert len(db.scalars(select(OutboxMessage)).all()) == 6
    assert verify(database, contoso, code, email="x@partner.com").ok


def test_rolled_back_send_leaves_no_code_and_no_mail(database: Database, contoso: Tenant) -> None:
    with pytest.raises(RuntimeError), database.transaction() as db:
        otp.send_code(db, contoso, GUEST, now=NOW, secret_key=SECRET)
        raise RuntimeError("the sign-in step failed after the code was issued")
    with database.sessionmaker() as db:
        assert db.scalars(select(EmailOtpCode)).all() == [] and db.scalars(select(OutboxMessage)).all() == []


def test_concurrent_verifications_of_one_code_succeed_once(database: Database, contoso: Tenant) -> None:
    code = code_in_outbox(database, send(database, contoso))
    results: list[otp.CodeCheck] = []
    barrier = threading.Barrier(4)

    def run() -> None:
        barrier.wait()
        try:
            results.append(verify(database, contoso, code))
        except Exception as exc:  # SQLite may refuse a concurrent writer; that is a refusal, not a success
            results.append(otp.CodeCheck(outcome=CheckOutcome.NO_CODE, email=GUEST, message=str(exc)))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.ok for r in results) == 1


def test_bad_input_is_refused(database: Database, contoso: Tenant) -> None:
    from idp.errors import ValidationError

    with pytest.raises(ValidationError):
        send(database, contoso, "not-an-address")
    with pytest.raises(ValidationError, match="not an IP address"):
        send(database, contoso, ip="999.1.1.1")


def test_old_rows_are_purged_after_the_longest_window(database: Database, contoso: Tenant) -> None:
    send(database, contoso)
    with database.transaction() as db:
        assert otp.purge_old_codes(db, now=NOW + timedelta(hours=23)) == 0
    with database.transaction() as db:
        assert otp.purge_old_codes(db, now=NOW + timedelta(hours=24, seconds=1)) == 1


def test_an_otp_sign_in_binds_the_mail_identity(database: Database, contoso: Tenant) -> None:
    from idp.directory import users

    with database.transaction() as db:
        guest = users.create_guest(db, contoso, "Ann@Partner.com")
        otp.bind_mail_identity(db, guest, "Ann@Partner.com")
    with database.sessionmaker() as db:
        stored = users.get_user(db, contoso, guest.id)
        assert {"signInType": "federated", "issuer": "mail", "issuerAssignedId": GUEST} in [
            i.as_dict() for i in stored.identities]


def test_retry_after_is_the_latest_of_the_limits_reached(database: Database, contoso: Tenant) -> None:
    policy = OtpPolicy(address_limits=(RateLimit(2, timedelta(minutes=15)), RateLimit(3, timedelta(hours=24))))
    send(database, contoso, now=NOW, policy=policy)
    send(database, contoso, now=NOW + timedelta(hours=1, minutes=55), policy=policy)
    send(database, contoso, now=NOW + timedelta(hours=2), policy=policy)
    with pytest.raises(OtpRateLimited) as caught:  # both the 15-minute (9 min left) and the daily limit are reached
        send(database, contoso, now=NOW + timedelta(hours=2, minutes=1), policy=policy)
    assert caught.value.retry_after == timedelta(hours=21, minutes=59)
    assert "22 hours" in caught.value.message


def test_concurrent_sends_cannot_exceed_the_limit(database: Database, contoso: Tenant) -> None:
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def run() -> None:
        barrier.wait()
        try:
            send(database, contoso)
            outcomes.append("sent")
        except OtpRateLimited:
            outcomes.append("limited")

    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with database.sessionmaker() as db:
        stored = len(db.scalars(select(EmailOtpCode)).all())
    assert sorted(outcomes) == ["limited"] * 3 + ["sent"] * 5 and stored == 5
