"""OpenID Back-Channel Logout 1.0: a signed logout token POSTed to each relying party of an ended session.

Reliable and off the user's path: the logout writes one :class:`~idp.models.BackchannelLogout` row per relying
party in its own transaction (:func:`enqueue_logouts`); a worker (``portico logout deliver``, or
:func:`deliver_due`) POSTs them. A relying party that is down or answers 5xx is retried with backoff
(``BACKOFF_BASE`` doubling up to ``BACKOFF_CAP``, ``MAX_ATTEMPTS`` tries: about 40 minutes in all); a 4xx answer
(the RP refused the token) is final. The token is signed at each try, so a late retry still carries a token
within its short lifetime; its ``jti`` stays the same, so an RP that got an earlier copy can tell.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import requests
from joserfc import jwt
from sqlalchemy.orm import Session

from idp.db import Database, utcnow
from idp.keys import KeyStore
from idp.models import Application, BackchannelLogout, SsoSession
from idp.outbox_queue import DEFAULT_LEASE, DeliveryReport, deliver_round, exponential_backoff, poll_forever

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_LIFETIME = 120
POST_TIMEOUT = (3.05, 5.0)  # connect, read (seconds)
MAX_ATTEMPTS = 10
BACKOFF_BASE = timedelta(seconds=10)
BACKOFF_CAP = timedelta(minutes=10)
backoff = exponential_backoff(BACKOFF_BASE, BACKOFF_CAP)
RETRYABLE_4XX = (408, 425, 429)


class RelyingPartyRefused(Exception):
    """The relying party answered the logout POST with a non-2xx status."""

    def __init__(self, status: int) -> None:
        super().__init__(f"the relying party answered HTTP {status}")
        self.status = status

    @property
    def permanent(self) -> bool:
        return 400 <= self.status < 500 and self.status not in RETRYABLE_4XX


def logout_claims(issuer: str, application: Application, session: SsoSession) -> dict[str, Any]:
    """The logout token's claims except ``iat``/``exp`` (added when it is signed)."""
    return {"iss": issuer, "aud": application.client_id, "jti": uuid.uuid4().hex, "sub": session.user_id,
            "sid": session.id, "tid": session.tenant_id, "events": {BACKCHANNEL_EVENT: {}}}


def sign_logout_token(keys: KeyStore, claims: dict[str, Any], alg: str, *, now: int | None = None) -> str:
    issued = int(time.time()) if now is None else now
    key = keys.signing_key(alg)
    return jwt.encode({"alg": alg, "kid": key.kid, "typ": "logout+jwt"},
                      {**claims, "iat": issued, "exp": issued + LOGOUT_TOKEN_LIFETIME}, key)


def enqueue_logouts(db: Session, issuer: str, applications: list[Application], session: SsoSession, *,
                    now: datetime | None = None) -> list[BackchannelLogout]:
    """Queue a logout token for every application with a ``backchannel_logout_uri``, in the caller's
    transaction (sent only if the logout commits)."""
    when = now or utcnow()
    rows = [
        BackchannelLogout(tenant_id=session.tenant_id, application_id=app.id, uri=app.backchannel_logout_uri,
                          alg=app.id_token_signed_response_alg or "RS256",
                          claims=logout_claims(issuer, app, session), status="pending", attempts=0,
                          max_attempts=MAX_ATTEMPTS, next_attempt_at=when, created_at=when)
        for app in applications if app.backchannel_logout_uri
    ]
    db.add_all(rows)
    db.flush()
    return rows


def _is_permanent(exc: Exception) -> bool:
    return isinstance(exc, RelyingPartyRefused) and exc.permanent


def deliver_due(database: Database, keys: KeyStore, *, now: datetime | None = None, limit: int = 50,
                lease: timedelta = DEFAULT_LEASE, worker: str | None = None,
                post: Callable[..., requests.Response] = requests.post) -> DeliveryReport:
    """POST every logout token due at ``now``; safe to run in several processes at once."""

    def send(prepared: tuple[str, str]) -> None:
        uri, token = prepared
        response = post(uri, data={"logout_token": token}, timeout=POST_TIMEOUT, allow_redirects=False,
                        headers={"Cache-Control": "no-store"})
        if not 200 <= response.status_code < 300:
            raise RelyingPartyRefused(response.status_code)

    return deliver_round(database, BackchannelLogout,
                         prepare=lambda row: (row.uri, sign_logout_token(keys, row.claims, row.alg)),
                         send=send, is_permanent=_is_permanent, backoff=backoff, now=now, limit=limit, lease=lease,
                         worker=worker, what="back-channel logout")


def deliver_forever(database: Database, keys: KeyStore, *, interval: float = 2.0, limit: int = 50,
                    on_report: Callable[[DeliveryReport], None] | None = None,
                    should_stop: Callable[[], bool] = lambda: False) -> None:
    poll_forever(lambda worker: deliver_due(database, keys, worker=worker, limit=limit), interval=interval,
                 on_report=on_report, should_stop=should_stop)
