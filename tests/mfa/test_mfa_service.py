"""TOTP enrolment and verification rules (±1 step, no replay, lockout), recovery codes, admin reset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.db import Database
from idp.directory import users
from idp.errors import Conflict
from idp.mfa import service
from idp.mfa.service import Outcome
from idp.models import AuditEvent, RecoveryCode, Tenant, TotpAuthenticator, User
from idp.secretbox import SecretBox, SecretBoxError

KEY = "test-secret-key-0123456789abcdef"
NOW = datetime(2026, 11, 27, 9, 0, 0, tzinfo=UTC)


@pytest.fixture
def db(database: Database) -> Session:
    with database.sessionmaker() as s:
        yield s


@pytest.fixture
def ada(db: Session, contoso: Tenant) -> User:
    user = users.create_member(db, contoso, "ada@contoso.com")
    db.commit()
    return user


def code_at(secret: str, moment: datetime) -> str:
    return pyotp.TOTP(secret).at(moment)


def enrolled(db: Session, tenant: Tenant, user: User) -> tuple[str, list[str]]:
    secret = service.begin_enrolment(db, tenant, user, secret_key=KEY).secret
    result, codes = service.confirm_enrolment(db, tenant, user, code_at(secret, NOW), secret_key=KEY, now=NOW)
    assert result.ok
    return secret, codes


def test_enrolment_secret_is_encrypted_and_stable_across_reloads(db: Session, contoso: Tenant, ada: User) -> None:
    first = service.begin_enrolment(db, contoso, ada, secret_key=KEY)
    again = service.begin_enrolment(db, contoso, ada, secret_key=KEY)
    assert first.secret == again.secret and len(first.secret) == 32
    row = db.scalar(select(TotpAuthenticator))
    assert first.secret not in row.secret_encrypted and row.confirmed_at is None
    with pytest.raises(SecretBoxError):
        SecretBox("another-key-0123456789abcdefghij", service.SECRET_PURPOSE).open(
            row.secret_encrypted, context=f"{row.tenant_id}/{row.user_id}/{row.id}")
    assert first.provisioning_uri.startswith("otpauth://totp/Contoso:ada%40contoso.com?secret=")
    assert "issuer=Contoso" in first.provisioning_uri
    assert first.qr_svg_data_uri.startswith("data:image/svg+xml")
    assert first.grouped_secret.replace(" ", "") == first.secret
    assert not service.is_enrolled(db, contoso, ada)


def test_confirmation_checks_the_code_and_issues_ten_hashed_recovery_codes(db: Session, contoso: Tenant,
                                                                           ada: User) -> None:
    secret = service.begin_enrolment(db, contoso, ada, secret_key=KEY).secret
    assert service.confirm_enrolment(db, contoso, ada, "12345", secret_key=KEY, now=NOW)[0].outcome \
        is Outcome.MALFORMED
    wrong = f"{(int(code_at(secret, NOW)) + 1) % 1_000_000:06d}"
    assert service.confirm_enrolment(db, contoso, ada, wrong, secret_key=KEY, now=NOW)[0].outcome \
        is Outcome.INVALID
    result, codes = service.confirm_enrolment(db, contoso, ada, code_at(secret, NOW), secret_key=KEY, now=NOW)
    assert result.ok and len(codes) == 10 and len(set(codes)) == 10
    assert all(len(c) == 11 and c[5] == "-" for c in codes)
    stored = db.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not {c.replace("-", "") for c in codes} & set(stored)
    assert service.is_enrolled(db, contoso, ada)
    with pytest.raises(Conflict):
        service.begin_enrolment(db, contoso, ada, secret_key=KEY)
    activities = db.scalars(select(AuditEvent.activity).where(AuditEvent.target_id == ada.id)).all()
    assert "Register authenticator app" in activities and "Verify MFA code" in activities


@pytest.mark.parametrize(("offset", "outcome"), [
    (-30, Outcome.REPLAYED),  # an older step than the one used at enrolment
    (0, Outcome.REPLAYED),  # the very code used at enrolment
    (30, Outcome.VERIFIED),  # one step ahead: clock drift is tolerated
    (60, Outcome.INVALID),  # two steps ahead: outside the window
])
def test_window_and_replay(db: Session, contoso: Tenant, ada: User, offset: int, outcome: Outcome) -> None:
    secret, _ = enrolled(db, contoso, ada)
    code = code_at(secret, NOW + timedelta(seconds=offset))
    assert service.verify(db, contoso, ada, code, secret_key=KEY, now=NOW).outcome is outcome


def test_a_code_works_once(db: Session, contoso: Tenant, ada: User) -> None:
    secret, _ = enrolled(db, contoso, ada)
    later = NOW + timedelta(minutes=5)
    assert service.verify(db, contoso, ada, code_at(secret, later), secret_key=KEY, now=later).ok
    assert service.verify(db, contoso, ada, code_at(secret, later), secret_key=KEY, now=later).outcome \
        is Outcome.REPLAYED
    previous_step = code_at(secret, later - timedelta(seconds=30))
    assert service.verify(db, contoso, ada, previous_step, secret_key=KEY, now=later).outcome is Outcome.REPLAYED


def test_recovery_codes_are_single_use(db: Session, contoso: Tenant, ada: User) -> None:
    _, codes = enrolled(db, contoso, ada)
    used = service.verify(db, contoso, ada, codes[3].upper(), secret_key=KEY, now=NOW)
    assert used.ok and used.method == "recoveryCode" and used.recovery_codes_left == 9
    assert service.verify(db, contoso, ada, codes[3], secret_key=KEY, now=NOW).outcome is Outcome.INVALID
    assert service.verify(db, contoso, ada, "abcde-01234", secret_key=KEY, now=NOW).outcome is Outcome.INVALID


def test_too_many_wrong_codes_lock_verification_for_a_while(db: Session, contoso: Tenant, ada: User) -> None:
    secret, _ = enrolled(db, contoso, ada)
    wrong = f"{(int(code_at(secret, NOW)) + 7) % 1_000_000:06d}"
    for _ in range(service.MAX_FAILURES):
        assert service.verify(db, contoso, ada, wrong, secret_key=KEY, now=NOW).outcome is Outcome.INVALID
    soon = NOW + timedelta(minutes=1)
    assert service.verify(db, contoso, ada, code_at(secret, soon), secret_key=KEY, now=soon).outcome \
        is Outcome.TOO_MANY_ATTEMPTS
    later = NOW + service.FAILURE_WINDOW + timedelta(seconds=1)
    assert service.verify(db, contoso, ada, code_at(secret, later), secret_key=KEY, now=later).ok


def test_verify_before_enrolment(db: Session, contoso: Tenant, ada: User) -> None:
    assert service.verify(db, contoso, ada, "123456", secret_key=KEY, now=NOW).outcome is Outcome.NOT_ENROLLED


def test_admin_reset_removes_the_authenticator_and_codes(db: Session, contoso: Tenant, ada: User) -> None:
    secret, _ = enrolled(db, contoso, ada)
    assert service.reset(db, contoso, ada, actor="admin@contoso.com") is True
    assert not service.is_enrolled(db, contoso, ada)
    assert db.scalars(select(RecoveryCode)).all() == []
    assert service.begin_enrolment(db, contoso, ada, secret_key=KEY).secret != secret
    event = db.scalar(select(AuditEvent).where(AuditEvent.activity == "Reset MFA"))
    assert event.actor == "admin@contoso.com" and event.target_id == ada.id
    assert service.reset(db, contoso, ada, actor="admin") is True  # the unconfirmed enrolment goes too
    assert service.reset(db, contoso, ada, actor="admin") is False


def test_guest_account_name_is_the_mail_address(db: Session, contoso: Tenant) -> None:
    guest = users.create_guest(db, contoso, "fiona@fabrikam.com")
    enrolment = service.begin_enrolment(db, contoso, guest, secret_key=KEY)
    assert "Contoso:fiona%40fabrikam.com" in enrolment.provisioning_uri
