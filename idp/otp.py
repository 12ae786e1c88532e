"""Email one-time passcodes for guests (b2b-collaboration.md §4, spec decision 1).

8 digits from a CSPRNG, valid 30 minutes, 5 wrong entries invalidate a code, a newer code supersedes older
ones, at most 5 sends per 15 minutes and 20 per 24 hours per address and tenant, plus a per-IP limit. Codes are
stored as HMAC-SHA256 under a key derived from ``PORTICO_SECRET_KEY`` and compared in constant time. The code
mail goes through the outbox in the caller's transaction. All state is in the database (works across processes);
the clock is passed in as ``now``.

:func:`verify_code` returns a :class:`CodeCheck` instead of raising for a wrong code: a wrong entry must be
*counted*, and the caller's transaction has to commit for the count to stick.
"""

from __future__ import annotations

import ipaddress
import secrets
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Select, delete, literal, select, text, update
from sqlalchemy.orm import Session

from idp import mail
from idp.db import across_tenants, new_id, scoped
from idp.directory import users
from idp.directory.emails import normalize_email, validate_address
from idp.errors import DomainError, ValidationError
from idp.languages import DEFAULT_LANGUAGE, N_, NP_, Message, translate
from idp.models import EmailOtpCode, Tenant, User, UserIdentity
from idp.secretbox import derive_key, digests_equal, keyed_digest

MAIL_IDENTITY_ISSUER = "mail"
KEY_PURPOSE = "email-otp-code"
OTP_MAIL_MAX_ATTEMPTS = 4  # a code mail delivered after its code expired is useless
MAIL_SUBJECT = N_("%(organization)s sign-in code")


@dataclass(frozen=True)
class RateLimit:
    sends: int
    window: timedelta


@dataclass(frozen=True)
class OtpPolicy:
    digits: int = 8
    lifetime: timedelta = timedelta(minutes=30)
    max_failed_attempts: int = 5
    address_limits: tuple[RateLimit, ...] = (RateLimit(5, timedelta(minutes=15)), RateLimit(20, timedelta(hours=24)))
    ip_limits: tuple[RateLimit, ...] = (RateLimit(30, timedelta(minutes=15)), RateLimit(100, timedelta(hours=24)))
    session_lifetime: timedelta = timedelta(hours=24)  # the guest session an email OTP sign-in creates


DEFAULT_POLICY = OtpPolicy()


class OtpRateLimited(DomainError):
    """Too many codes were sent; nothing was written. ``retry_after`` says when the next send is allowed."""

    code = "rateLimited"

    def __init__(self, message: str | Message, *, scope: str, retry_after: timedelta) -> None:
        super().__init__(message, field="email" if scope == "address" else None)
        self.scope = scope
        self.retry_after = retry_after

    @property
    def retry_after_seconds(self) -> int:
        return max(1, int(-(-self.retry_after.total_seconds() // 1)))


@dataclass(frozen=True)
class SentCode:
    code_id: str
    email: str
    expires_at: datetime
    message_id: str


class CheckOutcome(StrEnum):
    VERIFIED = "verified"
    INVALID = "invalid"  # wrong code, counted; attempts_left says how many remain
    MALFORMED = "malformed"  # not 8 digits; not counted
    EXPIRED = "expired"
    SUPERSEDED = "superseded"  # an older code of this address; the newest one must be used
    TOO_MANY_ATTEMPTS = "tooManyAttempts"
    NO_CODE = "noCode"  # none requested, or the latest was already used


MESSAGES = {  # message ids: pages show them translated (idp.i18n.localize), the sign-in log in English
    CheckOutcome.VERIFIED: N_("The code is correct."),
    CheckOutcome.INVALID: N_("That code is not correct. Check the latest email and try again."),
    CheckOutcome.MALFORMED: N_("Enter the %(digits)s-digit code from the email."),
    CheckOutcome.EXPIRED: N_("That code has expired. Send a new code."),
    CheckOutcome.SUPERSEDED: N_("A newer code was sent. Use the code from the most recent email."),
    CheckOutcome.TOO_MANY_ATTEMPTS: N_("Too many wrong codes were entered. Send a new code."),
    CheckOutcome.NO_CODE: N_("There is no code waiting for this address. Send a new code."),
}
RATE_LIMITED = {  # (scope, unit) -> singular and plural message ids; %(num)d is the wait
    ("address", "minute"): NP_("Too many codes were sent to this address. Try again in %(num)d minute.",
                               "Too many codes were sent to this address. Try again in %(num)d minutes."),
    ("address", "hour"): NP_("Too many codes were sent to this address. Try again in %(num)d hour.",
                             "Too many codes were sent to this address. Try again in %(num)d hours."),
    ("ip", "minute"): NP_("Too many codes were sent to this network address. Try again in %(num)d minute.",
                          "Too many codes were sent to this network address. Try again in %(num)d minutes."),
    ("ip", "hour"): NP_("Too many codes were sent to this network address. Try again in %(num)d hour.",
                        "Too many codes were sent to this network address. Try again in %(num)d hours."),
}


@dataclass(frozen=True)
class CodeCheck:
    outcome: CheckOutcome
    email: str
    code_id: str | None = None
    attempts_left: int | None = None
    message: str = ""  # in English, for the sign-in log
    text: Message | None = None  # the same, for a page to translate (idp.i18n.localize)

    @property
    def ok(self) -> bool:
        return self.outcome is CheckOutcome.VERIFIED


def _code_hash(secret_key: str, code_id: str, code: str) -> str:
    return keyed_digest(derive_key(secret_key, KEY_PURPOSE), f"{code_id}:{code}")


def generate_code(digits: int) -> str:
    return f"{secrets.randbelow(10**digits):0{digits}d}"


def _normalize_ip(client_ip: str | None) -> str | None:
    if client_ip is None:
        return None
    try:
        return str(ipaddress.ip_address(client_ip.strip()))
    except ValueError:
        raise ValidationError(f"{client_ip!r} is not an IP address", field="client_ip") from None


def _serialize(db: Session, *keys: str) -> None:
    """Concurrent sends for the same address (and the same IP) queue behind each other, so the count-then-insert
    of the limits cannot be raced. PostgreSQL: transaction-scoped advisory locks, address first, then IP.
    SQLite: a write that matches no row takes the database's write lock now, before the limits are read."""
    dialect = db.get_bind().dialect.name
    if dialect == "postgresql":
        for key in keys:
            db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(key.encode())})
    elif dialect == "sqlite":
        db.execute(update(EmailOtpCode).where(literal(False)).values(failed_attempts=EmailOtpCode.failed_attempts)
                   .execution_options(synchronize_session=False))


def _check_limits(db: Session, base: Select[tuple[EmailOtpCode]], limits: tuple[RateLimit, ...], now: datetime,
                  scope: str) -> None:
    """For each limit, the ``sends``-th newest send inside the window (one row at most): if it exists the
    limit is reached, and another send is allowed once that send leaves the window (the latest such moment
    over all the limits reached)."""
    waits = []
    for limit in limits:
        nth_newest = db.scalar(
            base.where(EmailOtpCode.created_at > now - limit.window)
            .with_only_columns(EmailOtpCode.created_at)
            .order_by(EmailOtpCode.created_at.desc())
            .offset(limit.sends - 1)
            .limit(1)
        )
        if nth_newest is not None:
            waits.append(nth_newest + limit.window - now)
    if waits:
        wait = max(waits)
        raise OtpRateLimited(_wait_message(scope, wait), scope=scope, retry_after=wait)


def _wait_message(scope: str, delta: timedelta) -> Message:
    minutes = int(-(-delta.total_seconds() // 60))
    if minutes < 60:
        return Message.plural_of(RATE_LIMITED[(scope, "minute")], minutes)
    return Message.plural_of(RATE_LIMITED[(scope, "hour")], -(-minutes // 60))


def send_code(
    db: Session,
    tenant: Tenant,
    email: str,
    *,
    now: datetime,
    secret_key: str,
    client_ip: str | None = None,
    policy: OtpPolicy = DEFAULT_POLICY,
    language: str = DEFAULT_LANGUAGE,
) -> SentCode:
    """Issue a new code for ``email`` in ``tenant``, supersede older ones and put the code mail in the outbox
    (in ``language``, the sign-in page's).

    Raises :class:`OtpRateLimited` (nothing written) when a send limit is reached."""
    address = validate_address(email)
    normalized = normalize_email(address)
    ip = _normalize_ip(client_ip)
    _serialize(db, f"email-otp:{tenant.id}:{normalized}", *([f"email-otp-ip:{ip}"] if ip else []))
    _check_limits(db, scoped(EmailOtpCode, tenant.id).where(EmailOtpCode.email_normalized == normalized),
                  policy.address_limits, now, "address")
    if ip is not None:
        _check_limits(db, across_tenants(EmailOtpCode).where(EmailOtpCode.client_ip == ip),
                      policy.ip_limits, now, "ip")
    db.execute(
        update(EmailOtpCode)
        .where(EmailOtpCode.tenant_id == tenant.id, EmailOtpCode.email_normalized == normalized,
               EmailOtpCode.superseded_at.is_(None))
        .values(superseded_at=now)
        .execution_options(synchronize_session=False)
    )
    code = generate_code(policy.digits)
    row = EmailOtpCode(tenant_id=tenant.id, email_normalized=normalized, client_ip=ip, created_at=now,
                       expires_at=now + policy.lifetime, failed_attempts=0)
    row.id = new_id()
    row.code_hash = _code_hash(secret_key, row.id, code)
    db.add(row)
    minutes = int(policy.lifetime.total_seconds() // 60)
    composed = mail.compose("email_otp", subject=translate(language, MAIL_SUBJECT, organization=tenant.display_name),
                            language=language, organization=tenant.display_name, code=code, minutes=minutes)
    message = mail.enqueue(db, to=address, subject=composed.subject, text=composed.text, html=composed.html,
                           tenant_id=tenant.id, kind="email_otp", max_attempts=OTP_MAIL_MAX_ATTEMPTS, now=now)
    db.flush()
    return SentCode(code_id=row.id, email=normalized, expires_at=row.expires_at, message_id=message.id)


def _check(outcome: CheckOutcome, email: str, policy: OtpPolicy, *, code_id: str | None = None,
           attempts_left: int | None = None) -> CodeCheck:
    text = Message(MESSAGES[outcome], {"digits": policy.digits} if outcome is CheckOutcome.MALFORMED else {})
    return CodeCheck(outcome=outcome, email=email, code_id=code_id, attempts_left=attempts_left,
                     message=str(text), text=text)


def verify_code(
    db: Session,
    tenant: Tenant,
    email: str,
    code: str,
    *,
    now: datetime,
    secret_key: str,
    policy: OtpPolicy = DEFAULT_POLICY,
) -> CodeCheck:
    """Check ``code`` against the newest code sent to ``email``; a correct code works once.

    Wrong entries are counted on the code row (commit the transaction even when the check fails)."""
    normalized = normalize_email(email)
    entered = "".join((code or "").split()).replace("-", "")
    if len(entered) != policy.digits or not entered.isascii() or not entered.isdigit():
        return _check(CheckOutcome.MALFORMED, normalized, policy)
    by_address = scoped(EmailOtpCode, tenant.id).where(EmailOtpCode.email_normalized == normalized)
    # Every send supersedes all earlier rows, so the newest code is the one row not superseded.
    latest = db.scalar(by_address.where(EmailOtpCode.superseded_at.is_(None)))
    if latest is None or latest.consumed_at is not None:
        return _check(CheckOutcome.NO_CODE, normalized, policy)
    if latest.failed_attempts >= policy.max_failed_attempts:
        return _check(CheckOutcome.TOO_MANY_ATTEMPTS, normalized, policy, code_id=latest.id, attempts_left=0)
    if now >= latest.expires_at:
        return _check(CheckOutcome.EXPIRED, normalized, policy, code_id=latest.id)
    if digests_equal(latest.code_hash, _code_hash(secret_key, latest.id, entered)):
        consumed = db.execute(
            update(EmailOtpCode)
            .where(EmailOtpCode.id == latest.id, EmailOtpCode.consumed_at.is_(None),
                   EmailOtpCode.failed_attempts < policy.max_failed_attempts)
            .values(consumed_at=now)
            .execution_options(synchronize_session=False)
        )
        if consumed.rowcount != 1:  # another request used it a moment ago
            return _check(CheckOutcome.NO_CODE, normalized, policy)
        return _check(CheckOutcome.VERIFIED, normalized, policy, code_id=latest.id)
    older = db.scalars(
        by_address.where(EmailOtpCode.id != latest.id, EmailOtpCode.superseded_at.is_not(None),
                         EmailOtpCode.consumed_at.is_(None), EmailOtpCode.expires_at > now)
    ).all()
    if any(digests_equal(o.code_hash, _code_hash(secret_key, o.id, entered)) for o in older):
        return _check(CheckOutcome.SUPERSEDED, normalized, policy, code_id=latest.id)
    db.execute(
        update(EmailOtpCode)
        .where(EmailOtpCode.id == latest.id, EmailOtpCode.failed_attempts < policy.max_failed_attempts)
        .values(failed_attempts=EmailOtpCode.failed_attempts + 1)
        .execution_options(synchronize_session=False)
    )
    failed = db.scalar(select(EmailOtpCode.failed_attempts).where(EmailOtpCode.id == latest.id)) or 0
    left = max(policy.max_failed_attempts - failed, 0)
    if left == 0:
        return _check(CheckOutcome.TOO_MANY_ATTEMPTS, normalized, policy, code_id=latest.id, attempts_left=0)
    return _check(CheckOutcome.INVALID, normalized, policy, code_id=latest.id, attempts_left=left)


def purge_old_codes(db: Session, *, now: datetime, policy: OtpPolicy = DEFAULT_POLICY) -> int:
    """Delete code rows older than every limit window (they no longer count for anything)."""
    keep = max([policy.lifetime, *(limit.window for limit in (*policy.address_limits, *policy.ip_limits))])
    result = db.execute(delete(EmailOtpCode).where(EmailOtpCode.created_at < now - keep))
    return int(result.rowcount or 0)



def bind_mail_identity(db: Session, user: User, email: str) -> UserIdentity:
    """After a guest's first email OTP sign-in: ``{federated, "mail", email}`` (§4, identity stamp)."""
    return users.add_identity(db, user, sign_in_type="federated", issuer=MAIL_IDENTITY_ISSUER,
                              issuer_assigned_id=normalize_email(email))
