"""The current request's journey (Flask glue): the cookie ``portico_journey`` (HttpOnly, SameSite=Lax, scoped to
the tenant's path) and the per-request row. Writes go through :func:`update`, which commits at once so a redirect
never outruns its state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import after_this_request, g, request
from werkzeug.wrappers import Response

from idp.models import SignInJourney
from idp.runtime import request_db, runtime
from idp.signin import journey as store
from idp.tenancy import current_tenant

COOKIE_NAME = "portico_journey"


def _set_cookie(cookie: str) -> Callable[[Response], Response]:
    def apply(response: Response) -> Response:
        response.set_cookie(COOKIE_NAME, cookie, path=f"/{current_tenant().slug}/", httponly=True, samesite="Lax",
                            secure=runtime().settings.is_production,
                            max_age=int(store.JOURNEY_LIFETIME.total_seconds()))
        return response
    return apply


def current(*, create: bool = False) -> SignInJourney | None:
    if "journey_row" in g and (g.journey_row is not None or not create):
        return g.journey_row  # type: ignore[no-any-return]
    row = store.find(request_db(), current_tenant(), request.cookies.get(COOKIE_NAME))
    if row is None and create:
        cookie, row = store.start(request_db(), current_tenant())
        after_this_request(_set_cookie(cookie))
    g.journey_row = row
    return row


def state() -> dict[str, Any]:
    row = current()
    return dict(row.state) if row is not None else {}


def update(new_state: dict[str, Any]) -> None:
    row = current(create=True)
    assert row is not None
    store.save(row, new_state)
    request_db().commit()


def flow() -> dict[str, Any]:
    return dict(state().get("flow") or {})


def set_flow(values: dict[str, Any] | None) -> None:
    update({**state(), "flow": values})


def change_flow(**changes: Any) -> dict[str, Any]:
    new = {**flow(), **changes}
    set_flow(new)
    return new


def language() -> str | None:
    """The journey's language (the ``ui_locales`` of its authorization request), if it has one."""
    return state().get("language") if "tenant" in g else None
