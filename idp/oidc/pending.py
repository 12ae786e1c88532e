"""Authorization requests waiting for sign-in or consent, kept server-side in the sign-in journey
(``idp.signin.journey``; the browser holds only the journey's opaque cookie).

Each entry is the request's parameters plus progress marks (``requested_at``, ``consented``, ``denied``,
``account_chosen``) and its ``language`` (from ``ui_locales``); the user comes back to
``/authorize?resume=<id>``. Only a few are kept per browser. The journey's ``language`` is the one of the request
saved or resumed last: every page of the sign-in shows in it (:mod:`idp.i18n`).
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from flask_babel import refresh

from idp.i18n import ui_language
from idp.signin import context
from idp.signin import journey as store


def save(params: dict[str, list[str]], **marks: Any) -> str:
    request_id = secrets.token_urlsafe(12)
    language = ui_language((params.get("ui_locales") or [""])[0])
    entry = {"params": params, "requested_at": int(time.time()), "language": language, **marks}
    context.update({**store.add_pending(context.state(), request_id, entry), "language": language})
    refresh()
    return request_id


def resume(request_id: str) -> None:
    """The user came back to this request: the journey speaks its language again."""
    entry = load(request_id)
    if entry is not None and context.state().get("language") != entry.get("language"):
        context.update({**context.state(), "language": entry.get("language")})
        refresh()


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
