"""Cross-origin access for browser-based relying parties (single-page apps using the code flow with PKCE).

* The public documents (discovery metadata, the JWKS) may be read from any origin (``*``).
* The token, revocation and UserInfo endpoints answer the origins of the tenant's registered redirect URIs, as
  Keycloak's ``+`` web origin does: an app that may receive codes at ``https://app.example/cb`` may redeem them
  from ``https://app.example``. Other origins get no CORS headers (the browser then refuses the response).

None of these endpoints uses cookies, so credentials are never allowed. Preflights (``OPTIONS``, needed for
UserInfo's ``Authorization`` header) are answered by Flask's automatic ``OPTIONS`` response plus these headers.
Hand-written: flask-cors takes a fixed list of origins, and these come from each tenant's applications.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from idp.db import scoped
from idp.models import Application, Tenant

ALLOWED_METHODS = "GET, POST, OPTIONS"
ALLOWED_HEADERS = "Authorization, Content-Type, DPoP"
PREFLIGHT_MAX_AGE = "600"


def origin_of(uri: str) -> str | None:
    """``scheme://host[:port]`` of an absolute http(s) URI (lower-cased as browsers send it), else ``None``."""
    parts = urlsplit(uri)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def registered_origins(redirect_uris: Iterable[str]) -> set[str]:
    return {origin for origin in map(origin_of, redirect_uris) if origin is not None}


def tenant_origin_allowed(db: Session, tenant: Tenant, origin: str) -> bool:
    """Whether ``origin`` is the origin of a redirect URI registered by one of the tenant's applications."""
    wanted = origin_of(origin)
    if wanted is None or wanted != origin.lower():
        return False
    uris = db.scalars(scoped(Application, tenant.id).with_only_columns(Application.redirect_uris))
    return any(wanted in registered_origins(app_uris or []) for app_uris in uris)


def allow_origin(response: Response, origin: str) -> Response:
    """Add the CORS headers that let ``origin`` (or ``*``) read ``response``."""
    response.headers["Access-Control-Allow-Origin"] = origin
    if origin != "*":
        response.vary.add("Origin")
    response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
    response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
    response.headers["Access-Control-Expose-Headers"] = "WWW-Authenticate"
    response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    return response

