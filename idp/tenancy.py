"""Resolving the tenant from the first path segment, for every tenant-owned URL (``/{tenant}/...``).

Each interface makes its blueprints with :func:`tenant_blueprint`, naming the error format it speaks, so an
unknown tenant is a 404 in that format: a readable page, OAuth-style JSON or a SCIM Error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, g, jsonify, render_template
from flask_babel import gettext
from werkzeug.wrappers import Response

from idp.directory.tenants import find_tenant_cached
from idp.models import Tenant
from idp.runtime import request_db, runtime


class UnknownTenant(Exception):
    def __init__(self, slug: str) -> None:
        super().__init__(slug)
        self.slug = slug


def _html_not_found(exc: UnknownTenant) -> tuple[str, int]:
    return (
        render_template(
            "error.html",
            title=gettext("Organization not found"),
            message=gettext("There is no organization called “%(slug)s” here. Check the address you were given.",
                            slug=exc.slug),
        ),
        404,
    )


def _json_not_found(exc: UnknownTenant) -> tuple[Response, int]:
    return jsonify(error="invalid_request", error_description=f"unknown tenant {exc.slug!r}"), 404


def _graph_not_found(exc: UnknownTenant) -> tuple[Response, int]:
    return jsonify(error={"code": "tenantNotFound", "message": f"unknown tenant {exc.slug!r}"}), 404


def _scim_not_found(exc: UnknownTenant) -> tuple[Response, int]:
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": "404",
        "detail": f"unknown tenant {exc.slug!r}",
    }
    response = jsonify(body)
    response.content_type = "application/scim+json"
    return response, 404


ERROR_FORMATS: dict[str, Callable[[UnknownTenant], Any]] = {
    "html": _html_not_found,
    "json": _json_not_found,
    "graph": _graph_not_found,
    "scim": _scim_not_found,
}


def tenant_blueprint(name: str, import_name: str, *, error_format: str, url_prefix: str = "") -> Blueprint:
    """A blueprint mounted under ``/<tenant>{url_prefix}`` whose requests have ``g.tenant`` loaded."""
    blueprint = Blueprint(name, import_name, url_prefix=f"/<tenant>{url_prefix}")

    @blueprint.url_value_preprocessor
    def _pull_tenant(_endpoint: str | None, values: dict[str, Any] | None) -> None:
        g.tenant_slug = (values or {}).pop("tenant", None)

    @blueprint.url_defaults
    def _add_tenant(_endpoint: str, values: dict[str, Any]) -> None:
        if "tenant" not in values and "tenant" in g:
            values["tenant"] = g.tenant.slug

    @blueprint.before_request
    def _load_tenant() -> None:
        tenant = find_tenant_cached(request_db(), runtime().database.rows, g.tenant_slug or "")
        if tenant is None:
            raise UnknownTenant(g.tenant_slug or "")
        g.tenant = tenant

    blueprint.register_error_handler(UnknownTenant, ERROR_FORMATS[error_format])
    return blueprint


def current_tenant() -> Tenant:
    return g.tenant


def issuer() -> str:
    """The current tenant's issuer: ``{PORTICO_BASE_URL}/{slug}``."""
    return runtime().settings.issuer_for(current_tenant().slug)
