"""Journey state in the database (no Flask): the browser holds an opaque cookie, the state lives in
``signin_journeys`` under the cookie's SHA-256 digest.

The state is one JSON document:

* ``pending``: authorization requests waiting for sign-in or consent, by request id (``idp.oidc.pending``);
* ``flow``: the sign-in in progress — ``email``, ``request_id`` (the authorization request to resume),
  ``invitation_id`` (a redeem link), ``route`` (home-realm decision), ``user_id``/``amr``/``identity`` once
  authenticated, and ``done`` (names of the steps finished, see :mod:`idp.signin.steps`).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from idp.db import scoped, utcnow
from idp.models import SignInJourney, Tenant

JOURNEY_LIFETIME = timedelta(hours=2)
MAX_PENDING = 5


def _digest(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


def start(db: Session, tenant: Tenant, *, now: datetime | None = None) -> tuple[str, SignInJourney]:
    """A new journey; returns the cookie value (shown once) and the row."""
    now = now or utcnow()
    cookie = secrets.token_urlsafe(32)
    row = SignInJourney(tenant_id=tenant.id, token_hash=_digest(cookie), state={}, created_at=now, updated_at=now,
                        expires_at=now + JOURNEY_LIFETIME)
    db.add(row)
    db.flush()
    return cookie, row


def find(db: Session, tenant: Tenant, cookie: str | None, *, now: datetime | None = None) -> SignInJourney | None:
    if not cookie:
        return None
    row = db.scalar(scoped(SignInJourney, tenant.id).where(SignInJourney.token_hash == _digest(cookie)))
    if row is None or row.expires_at <= (now or utcnow()):
        return None
    return row


def save(row: SignInJourney, state: dict[str, Any], *, now: datetime | None = None) -> None:
    """Replace the state (a new dict, so the JSON column is written) and extend the journey's life."""
    now = now or utcnow()
    row.state = state
    row.updated_at = now
    row.expires_at = now + JOURNEY_LIFETIME


# -- pending authorization requests ----------------------------------------------------------------------
def add_pending(state: dict[str, Any], request_id: str, entry: dict[str, Any]) -> dict[str, Any]:
    pending = dict(state.get("pending", {}))
    while len(pending) >= MAX_PENDING:
        pending.pop(min(pending, key=lambda k: pending[k]["requested_at"]))
    pending[request_id] = entry
    return {**state, "pending": pending}


def update_pending(state: dict[str, Any], request_id: str, **marks: Any) -> dict[str, Any]:
    pending = dict(state.get("pending", {}))
    if request_id in pending:
        pending[request_id] = {**pending[request_id], **marks}
    return {**state, "pending": pending}


def drop_pending(state: dict[str, Any], request_id: str) -> dict[str, Any]:
    pending = dict(state.get("pending", {}))
    pending.pop(request_id, None)
    return {**state, "pending": pending}
