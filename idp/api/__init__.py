"""The JSON management API under ``{issuer}/api/v1`` (Graph-shaped resources, Graph-style errors)."""

from __future__ import annotations

from flask import jsonify
from pydantic import ValidationError as PydanticValidationError
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from idp.api.errors import ApiAuthError, auth_error, domain_error, error_response, request_validation_error
from idp.errors import DomainError
from idp.tenancy import issuer, tenant_blueprint

blueprint = tenant_blueprint("api", __name__, error_format="graph", url_prefix="/api/v1")
blueprint.register_error_handler(DomainError, domain_error)
blueprint.register_error_handler(PydanticValidationError, request_validation_error)
blueprint.register_error_handler(ApiAuthError, auth_error)


@blueprint.errorhandler(BadRequest)
def _bad_json(exc: BadRequest) -> tuple[Response, int]:
    return error_response(400, "BadRequest", "the body must be a JSON object")


@blueprint.get("/openapi.json")
def openapi() -> Response:
    from idp.api.openapi import build_openapi

    return jsonify(build_openapi(f"{issuer()}/api/v1"))


from idp.api import conditional_access as _conditional_access  # noqa: E402,F401
from idp.api import cross_tenant as _cross_tenant  # noqa: E402,F401
from idp.api import invitations as _invitations  # noqa: E402,F401  (registers the routes)
from idp.api import policies as _policies  # noqa: E402,F401
from idp.api import sign_ins as _sign_ins  # noqa: E402,F401
