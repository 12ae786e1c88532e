"""The sign-in journey's two seams.

**Routes** — after the user identifies (email address), the first route that handles the address continues the
journey. The member password route is the fallback; the guest route (home-realm discovery: upstream IdP, home
tenant, email one-time passcode) is registered ahead of it with :func:`register_route`.

**Steps** — once a route has *authenticated* someone, the journey walks an ordered registry of steps
(``policy`` -> [``mfa``] -> ``consent`` -> finish). A step is any object with the :class:`Step` protocol::

    class MfaStep:
        name = "mfa"
        def is_needed(self, flow: Flow) -> bool: ...      # e.g. flow.get("mfa_required") and not done
        def start(self, flow: Flow) -> ResponseReturnValue: ...  # show its page / redirect to its blueprint

and is registered with ``register_step(app, MfaStep(), after="policy")``. The step's own page, when the user has
finished it, calls :func:`idp.signin.engine.complete_step` with its name, which marks it done and continues with
the next step. A step that is not needed is skipped (and marked done). Steps read and write the flow
(``idp.signin.context.flow`` / ``change_flow``) and never call each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from flask import Flask, current_app
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from idp.models import Tenant

EXTENSION_KEY = "portico.signin_routes"
STEPS_KEY = "portico.signin_steps"
PASSWORD_ROUTE = "password"
Flow = dict[str, Any]


@dataclass(frozen=True)
class SignInRoute:
    name: str
    handles: Callable[[Session, Tenant, str], bool]
    endpoint: str | None  # Flask endpoint continuing the journey (None: handled on the sign-in page itself)


def _always(_db: Session, _tenant: Tenant, _email: str) -> bool:
    return True


def init_routes(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = [SignInRoute(PASSWORD_ROUTE, _always, None)]
    app.extensions.setdefault(STEPS_KEY, [])


def register_route(app: Flask, route: SignInRoute) -> None:
    """Add a route ahead of the password fallback."""
    routes: list[SignInRoute] = app.extensions[EXTENSION_KEY]
    routes.insert(len(routes) - 1, route)


def choose_route(db: Session, tenant: Tenant, email: str) -> SignInRoute:
    for route in current_app.extensions[EXTENSION_KEY]:
        if route.handles(db, tenant, email):
            return route
    raise LookupError("no sign-in route")  # unreachable: the password route handles everything


# -- steps after authentication ---------------------------------------------------------------------------
@runtime_checkable
class Step(Protocol):
    """One step of the journey after authentication (see the module docstring)."""

    name: str

    def is_needed(self, flow: Flow) -> bool: ...

    def start(self, flow: Flow) -> ResponseReturnValue: ...


def register_step(app: Flask, step: Step, *, after: str | None = None, before: str | None = None) -> None:
    """Insert ``step`` after (or before) the named step; at the end when neither is given or found."""
    steps: list[Step] = app.extensions.setdefault(STEPS_KEY, [])
    if any(s.name == step.name for s in steps):
        raise ValueError(f"a sign-in step named {step.name!r} is already registered")
    names = [s.name for s in steps]
    if after in names:
        steps.insert(names.index(after) + 1, step)
    elif before in names:
        steps.insert(names.index(before), step)
    else:
        steps.append(step)


def registered_steps(app: Flask | None = None) -> list[Step]:
    return list((app or current_app).extensions.get(STEPS_KEY, []))


def has_step(name: str) -> bool:
    return any(s.name == name for s in registered_steps())
