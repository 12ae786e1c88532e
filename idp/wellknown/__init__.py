"""Per-tenant public documents: the JWKS and the tenant landing page."""

from __future__ import annotations

from flask import jsonify, render_template
from werkzeug.wrappers import Response

from idp.i18n import translated_pages
from idp.oidc import cors
from idp.runtime import runtime
from idp.tenancy import current_tenant, issuer, tenant_blueprint

jwks_blueprint = tenant_blueprint("jwks", __name__, error_format="json")
pages_blueprint = translated_pages(tenant_blueprint("tenant_pages", __name__, error_format="html"))


@jwks_blueprint.get("/.well-known/jwks.json")
def jwks() -> Response:
    response = jsonify(runtime().keys.public_jwks())
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return cors.allow_origin(response, "*")  # public keys: any browser-based relying party may read them


@pages_blueprint.get("/")
def landing() -> str:
    return render_template("tenant.html", tenant=current_tenant(), issuer=issuer())
