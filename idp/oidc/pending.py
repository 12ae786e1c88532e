"""Authorization requests waiting for sign-in or consent, kept server-side in the sign-in journey
(``idp.signin.journey``; the browser holds only the journey's opaque cookie).

Each entry is the request's parameters plus progress marks (``requested_at``, ``consented``, ``denied``);
the user comes back to ``/authorize?resume=<id>``. Only a few are kept per browser.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from idp.signin import context
from idp.signin import journey as store


def save(params: dict[str, list[str]], **marks: Any) -> str:
    request_id = secrets.token_urlsafe(12)
    entry = {"params": params, "requested_at": int(time.time()), **marks}
    context.update(store.add_pending(context.state(), request_id, entry))
    return request_id


def load(request_id: str | None) -> dict[str, Any] | None:
    if not request_id:
        return None
    entry = context.state().get("pending", {}).get(request_id)
    return dict(entry) if entry else None


def mark(request_id: str, **marks: Any) -> None:
    if load(request_id) is not None:
        context.update(store.update_pending(context.state(), request_id, **marks))


def drop(request_id: str | None) -> None:
    if request_id and load(request_id) is not None:
        context.update(store.drop_pending(context.state(), request_id))
