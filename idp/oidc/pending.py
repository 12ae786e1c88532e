"""Authorization requests waiting for sign-in or consent, kept in the signed Flask session cookie.

Each entry is the request's parameters plus progress marks (``requested_at``, ``consented``, ``denied``);
the user comes back to ``/authorize?resume=<id>``. Only a few are kept per browser.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from flask import session

KEY = "oidc_pending"
MAX_PENDING = 5


def save(params: dict[str, list[str]], **marks: Any) -> str:
    pending: dict[str, Any] = dict(session.get(KEY, {}))
    while len(pending) >= MAX_PENDING:
        pending.pop(min(pending, key=lambda k: pending[k]["requested_at"]))
    request_id = secrets.token_urlsafe(12)
    pending[request_id] = {"params": params, "requested_at": int(time.time()), **marks}
    session[KEY] = pending
    return request_id


def load(request_id: str | None) -> dict[str, Any] | None:
    if not request_id:
        return None
    return session.get(KEY, {}).get(request_id)


def mark(request_id: str, **marks: Any) -> None:
    pending = dict(session.get(KEY, {}))
    if request_id in pending:
        pending[request_id] = {**pending[request_id], **marks}
        session[KEY] = pending


def drop(request_id: str | None) -> None:
    pending = dict(session.get(KEY, {}))
    if request_id and pending.pop(request_id, None) is not None:
        session[KEY] = pending
