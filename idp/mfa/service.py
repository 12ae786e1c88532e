"""TOTP second factor (RFC 6238 through pyotp) and recovery codes, for guests and members alike (no Flask).

* Enrolment: :func:`begin_enrolment` creates (or, on a reload, reuses) an unconfirmed authenticator whose secret is
  sealed with a key derived from ``PORTICO_SECRET_KEY`` (:class:`idp.secretbox.SecretBox`, bound to tenant, user
  and authenticator); :func:`confirm_enrolment` checks the first code and returns 10 recovery codes, shown once
  and stored as keyed digests.
* Verification (:func:`verify`): a 6-digit code of the current time step or one step either side; a step that
  was accepted once (or an older one) is refused, atomically, so a code cannot be replayed even by a second
  process. A recovery code works once. At most :data:`MAX_FAILURES` wrong entries per
  :data:`FAILURE_WINDOW` per user; wrong entries are audited, so the caller must commit even when the check fails.
* :func:`reset` (an administrator's "reset MFA"): the authenticator and the recovery codes are deleted; the user
  enrols again at the next sign-in that requires MFA.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import pyotp
import segno
from sqlalchemy import delete, func, or_, update
from sqlalchemy.orm import Session

from idp import audit
from idp.db import new_id, scoped
from idp.errors import Conflict
from idp.languages import N_, Message
from idp.models import AuditEvent, RecoveryCode, Tenant, TotpAuthenticator, User
from idp.secretbox import SecretBox, derive_key, digests_equal, keyed_digest

SECRET_PURPOSE = "mfa-totp-secret"
RECOVERY_PURPOSE = "mfa-recovery-code"
DIGITS = 6
PERIOD = 30
VALID_WINDOW = 1  # steps accepted either side of the current one (clock drift)
RECOVERY_CODES = 10
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
VERIFY_FAILED = "Verify MFA code"


class Outcome(StrEnum):
    VERIFIED = "verified"
    INVALID = "invalid"
    MALFORMED = "malformed"
    REPLAYED = "replayed"
    TOO_MANY_ATTEMPTS = "tooManyAttempts"
    NOT_ENROLLED = "notEnrolled"


MESSAGES = {  # message ids: the pages show them translated (idp.i18n.localize)
    Outcome.VERIFIED: N_("The code is correct."),
    Outcome.INVALID: N_("That code is not correct. Enter the current code from your authenticator app."),
    Outcome.MALFORMED: N_("Enter the 6-digit code from your authenticator app, or one of your recovery codes."),
    Outcome.REPLAYED: N_("That code was already used. Wait for the next code from your authenticator app."),
    Outcome.TOO_MANY_ATTEMPTS: N_("Too many wrong codes were entered. Wait 15 minutes and try again."),
    Outcome.NOT_ENROLLED: N_("No authenticator app is registered for this account yet."),
}


@dataclass(frozen=True)
class Verification:
    outcome: Outcome
    method: str | None = None  # "totp" | "recoveryCode" when verified
    recovery_codes_left: int | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.VERIFIED

    @property
    def message(self) -> str:
        return MESSAGES[self.outcome]

    @property
    def text(self) -> Message:
        return Message(MESSAGES[self.outcome])


@dataclass(frozen=True)
class Enrolment:
    secret: str  # base32, for manual entry
    provisioning_uri: str  # otpauth://totp/...
    qr_svg_data_uri: str

    @property
    def grouped_secret(self) -> str:
        """The manual key in groups of four, as authenticator apps show it."""
        return " ".join(self.secret[i:i + 4] for i in range(0, len(self.secret), 4))


def _box(secret_key: str) -> SecretBox:
    return SecretBox(secret_key, SECRET_PURPOSE)


def _context(row: TotpAuthenticator) -> str:
    return f"{row.tenant_id}/{row.user_id}/{row.id}"


def _authenticator(db: Session, tenant: Tenant, user: User) -> TotpAuthenticator | None:
    return db.scalar(scoped(TotpAuthenticator, tenant.id).where(TotpAuthenticator.user_id == user.id))


def is_enrolled(db: Session, tenant: Tenant, user: User) -> bool:
    row = _authenticator(db, tenant, user)
    return row is not None and row.confirmed_at is not None


def account_name(user: User) -> str:
    """What the authenticator app lists: the address people know (a guest's UPN holds ``#EXT#``)."""
    return user.mail or user.user_principal_name


def begin_enrolment(db: Session, tenant: Tenant, user: User, *, secret_key: str) -> Enrolment:
    """The secret to register (QR code and manual key). Refused when an authenticator is already confirmed."""
    row = _authenticator(db, tenant, user)
    if row is not None and row.confirmed_at is not None:
        raise Conflict("an authenticator app is already registered; ask an administrator to reset MFA",
                       field="mfa")
    if row is None:
        row = TotpAuthenticator(id=new_id(), tenant_id=tenant.id, user_id=user.id, secret_encrypted="")
        row.secret_encrypted = _box(secret_key).seal(pyotp.random_base32(), context=_context(row))
        db.add(row)
        db.flush()
    secret = _box(secret_key).open(row.secret_encrypted, context=_context(row))
    uri = pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD).provisioning_uri(
        name=account_name(user), issuer_name=tenant.display_name)
    qr = segno.make(uri, error="m").svg_data_uri(scale=4, title=f"QR code for {tenant.display_name}")
    return Enrolment(secret=secret, provisioning_uri=uri, qr_svg_data_uri=qr)


def _clean(code: str) -> str:
    return "".join((code or "").split()).replace("-", "").lower()


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD)
    current = totp.timecode(now)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _claim_step(db: Session, row: TotpAuthenticator, step: int) -> bool:
    """Record ``step`` as used unless it (or a later one) already was: one atomic conditional UPDATE."""
    result = db.execute(
        update(TotpAuthenticator)
        .where(TotpAuthenticator.id == row.id,
               or_(TotpAuthenticator.last_used_step.is_(None), TotpAuthenticator.last_used_step < step))
        .values(last_used_step=step)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def _recent_failures(db: Session, tenant: Tenant, user: User, now: datetime) -> int:
    stmt = scoped(AuditEvent, tenant.id).where(
        AuditEvent.target_id == user.id, AuditEvent.activity == VERIFY_FAILED, AuditEvent.result == "failure",
        AuditEvent.occurred_at > now - FAILURE_WINDOW,
    ).with_only_columns(func.count())
    return int(db.scalar(stmt) or 0)


def _failed(db: Session, tenant: Tenant, user: User, outcome: Outcome, now: datetime) -> Verification:
    event = audit.record(db, tenant_id=tenant.id, actor=user.id, activity=VERIFY_FAILED, target_type="user",
                         target_id=user.id, result="failure", details={"outcome": outcome.value})
    event.occurred_at = now
    db.flush()
    return Verification(outcome)


def _recovery_digest(secret_key: str, user_id: str, code: str) -> str:
    return keyed_digest(derive_key(secret_key, RECOVERY_PURPOSE), f"{user_id}:{code}")


def new_recovery_codes(db: Session, tenant: Tenant, user: User, *, secret_key: str, now: datetime) -> list[str]:
    """Replace the user's recovery codes with 10 fresh ones (``xxxxx-xxxxx``); returned once, stored hashed."""
    db.execute(delete(RecoveryCode).where(RecoveryCode.tenant_id == tenant.id, RecoveryCode.user_id == user.id))
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODES)]
    for code in codes:
        db.add(RecoveryCode(tenant_id=tenant.id, user_id=user.id, created_at=now,
                            code_hash=_recovery_digest(secret_key, user.id, code)))
    db.flush()
    return [f"{c[:5]}-{c[5:]}" for c in codes]


def confirm_enrolment(db: Session, tenant: Tenant, user: User, code: str, *, secret_key: str,
                      now: datetime) -> tuple[Verification, list[str]]:
    """Check the first code of a new authenticator; on success it is confirmed and recovery codes are issued."""
    row = _authenticator(db, tenant, user)
    if row is None or row.confirmed_at is not None:
        return Verification(Outcome.NOT_ENROLLED), []
    if _recent_failures(db, tenant, user, now) >= MAX_FAILURES:
        return Verification(Outcome.TOO_MANY_ATTEMPTS), []
    entered = _clean(code)
    if len(entered) != DIGITS or not entered.isdigit():
        return Verification(Outcome.MALFORMED), []
    step = _matching_step(_box(secret_key).open(row.secret_encrypted, context=_context(row)), entered, now)
    if step is None:
        return _failed(db, tenant, user, Outcome.INVALID, now), []
    if not _claim_step(db, row, step):
        return Verification(Outcome.REPLAYED), []
    row.confirmed_at = now
    codes = new_recovery_codes(db, tenant, user, secret_key=secret_key, now=now)
    audit.record(db, tenant_id=tenant.id, actor=user.id, activity="Register authenticator app",
                 target_type="user", target_id=user.id, details={"method": "totp"})
    db.flush()
    return Verification(Outcome.VERIFIED, "totp", RECOVERY_CODES), codes


def _use_recovery_code(db: Session, tenant: Tenant, user: User, entered: str, *, secret_key: str,
                       now: datetime) -> bool:
    digest = _recovery_digest(secret_key, user.id, entered)
    unused = db.scalars(scoped(RecoveryCode, tenant.id).where(RecoveryCode.user_id == user.id,
                                                               RecoveryCode.used_at.is_(None)))
    match = next((r for r in unused if digests_equal(r.code_hash, digest)), None)
    if match is None:
        return False
    result = db.execute(update(RecoveryCode).where(RecoveryCode.id == match.id, RecoveryCode.used_at.is_(None))
                        .values(used_at=now).execution_options(synchronize_session=False))
    return result.rowcount == 1  # type: ignore[attr-defined]


def recovery_codes_left(db: Session, tenant: Tenant, user: User) -> int:
    stmt = scoped(RecoveryCode, tenant.id).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    return int(db.scalar(stmt.with_only_columns(func.count())) or 0)


def verify(db: Session, tenant: Tenant, user: User, code: str, *, secret_key: str, now: datetime) -> Verification:
    """A TOTP code (±1 step, never the same step twice) or an unused recovery code."""
    row = _authenticator(db, tenant, user)
    if row is None or row.confirmed_at is None:
        return Verification(Outcome.NOT_ENROLLED)
    if _recent_failures(db, tenant, user, now) >= MAX_FAILURES:
        return Verification(Outcome.TOO_MANY_ATTEMPTS)
    entered = _clean(code)
    if len(entered) == DIGITS and entered.isdigit():
        step = _matching_step(_box(secret_key).open(row.secret_encrypted, context=_context(row)), entered, now)
        if step is None:
            return _failed(db, tenant, user, Outcome.INVALID, now)
        if not _claim_step(db, row, step):
            return _failed(db, tenant, user, Outcome.REPLAYED, now)
        return Verification(Outcome.VERIFIED, "totp")
    if len(entered) == 10 and all(c in "0123456789abcdef" for c in entered):
        if not _use_recovery_code(db, tenant, user, entered, secret_key=secret_key, now=now):
            return _failed(db, tenant, user, Outcome.INVALID, now)
        left = recovery_codes_left(db, tenant, user)
        audit.record(db, tenant_id=tenant.id, actor=user.id, activity="Use MFA recovery code", target_type="user",
                     target_id=user.id, details={"left": left})
        return Verification(Outcome.VERIFIED, "recoveryCode", left)
    return Verification(Outcome.MALFORMED)


def reset(db: Session, tenant: Tenant, user: User, *, actor: str) -> bool:
    """Delete the user's authenticator and recovery codes; ``False`` when there was nothing to reset."""
    removed = db.execute(delete(TotpAuthenticator).where(TotpAuthenticator.tenant_id == tenant.id,
                                                         TotpAuthenticator.user_id == user.id)).rowcount
    codes = db.execute(delete(RecoveryCode).where(RecoveryCode.tenant_id == tenant.id,
                                                  RecoveryCode.user_id == user.id)).rowcount
    audit.record(db, tenant_id=tenant.id, actor=actor, activity="Reset MFA", target_type="user", target_id=user.id,
                 details={"authenticators": removed, "recoveryCodes": codes})
    db.flush()
    return bool(removed or codes)
