"""Graph-style JSON errors for the management API: ``{"error": {"code", "message", "target"?}}``."""

from __future__ import annotations

from flask import jsonify
from pydantic import ValidationError as PydanticValidationError
from werkzeug.wrappers import Response

from idp.errors import Conflict, DomainError, Forbidden, NotFound, ValidationError

STATUS_AND_CODE: list[tuple[type[DomainError], int, str]] = [
    (ValidationError, 400, "BadRequest"),
    (Forbidden, 403, "Authorization_RequestDenied"),
    (NotFound, 404, "Request_ResourceNotFound"),
    (Conflict, 409, "Request_ObjectConflict"),
]


class ApiAuthError(Exception):
    def __init__(self, status: int, code: str, message: str, *, bearer_error: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.bearer_error = status, code, message, bearer_error


def error_response(status: int, code: str, message: str, target: str | None = None) -> tuple[Response, int]:
    body: dict[str, object] = {"code": code, "message": message}
    if target:
        body["target"] = target
    return jsonify(error=body), status


def domain_error(exc: DomainError) -> tuple[Response, int]:
    for kind, status, code in STATUS_AND_CODE:
        if isinstance(exc, kind):
            return error_response(status, code, exc.message, exc.field)
    return error_response(400, "BadRequest", exc.message, exc.field)


def request_validation_error(exc: PydanticValidationError) -> tuple[Response, int]:
    first = exc.errors()[0]
    target = ".".join(str(part) for part in first["loc"]) or None
    message = f"{target}: {first['msg']}" if target else first["msg"]
    return error_response(400, "BadRequest", message, target)


def auth_error(exc: ApiAuthError) -> tuple[Response, int]:
    response, status = error_response(exc.status, exc.code, exc.message)
    if exc.status == 401:
        value = "Bearer"
        if exc.bearer_error:
            value += f' error="{exc.bearer_error}", error_description="{exc.message}"'
        response.headers["WWW-Authenticate"] = value
    return response, status
