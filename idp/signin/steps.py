"""Sign-in routes: after the user identifies (email address), the first route that handles the address
continues the journey. The member password route is the fallback; the guest journey (home-realm discovery:
upstream IdP, email one-time passcode) registers its routes ahead of it with :func:`register_route`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy.orm import Session

from idp.models import Tenant

EXTENSION_KEY = "portico.signin_routes"
PASSWORD_ROUTE = "password"


@dataclass(frozen=True)
class SignInRoute:
    name: str
    handles: Callable[[Session, Tenant, str], bool]
    endpoint: str | None  # Flask endpoint continuing the journey (None: handled on the sign-in page itself)


def _always(_db: Session, _tenant: Tenant, _email: str) -> bool:
    return True


def init_routes(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = [SignInRoute(PASSWORD_ROUTE, _always, None)]


def register_route(app: Flask, route: SignInRoute) -> None:
    """Add a route ahead of the password fallback."""
    routes: list[SignInRoute] = app.extensions[EXTENSION_KEY]
    routes.insert(len(routes) - 1, route)


def choose_route(db: Session, tenant: Tenant, email: str) -> SignInRoute:
    for route in current_app.extensions[EXTENSION_KEY]:
        if route.handles(db, tenant, email):
            return route
    raise LookupError("no sign-in route")  # unreachable: the password route handles everything
