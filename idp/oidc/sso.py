"""The SSO session cookie: an opaque secret per tenant, scoped to the tenant's path."""

from __future__ import annotations

from flask import request
from werkzeug.wrappers import Response

from idp.models import SsoSession, Tenant
from idp.oidc import store
from idp.runtime import request_db, runtime

COOKIE_NAME = "portico_sso"


def _path(tenant: Tenant) -> str:
    return f"/{tenant.slug}/"


def current_session(tenant: Tenant) -> SsoSession | None:
    return store.find_session(request_db(), tenant, request.cookies.get(COOKIE_NAME))


def set_cookie(response: Response, tenant: Tenant, value: str) -> None:
    response.set_cookie(COOKIE_NAME, value, path=_path(tenant), httponly=True, samesite="Lax",
                        secure=runtime().settings.is_production,
                        max_age=int(store.SSO_SESSION_LIFETIME.total_seconds()))


def clear_cookie(response: Response, tenant: Tenant) -> None:
    response.delete_cookie(COOKIE_NAME, path=_path(tenant), httponly=True, samesite="Lax",
                           secure=runtime().settings.is_production)
