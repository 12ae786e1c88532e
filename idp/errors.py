"""Domain errors raised by services; each interface maps them to its own wire format.

Services never know about HTTP: a view turns ``NotFound`` into a 404 page, the OAuth endpoints into an OAuth
error, SCIM into a SCIM Error and the CLI into exit code 2.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every rule violation a service reports. ``code`` is stable and machine-readable."""

    code = "invalidRequest"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationError(DomainError):
    code = "invalidInput"


class NotFound(DomainError):
    code = "notFound"


class Conflict(DomainError):
    code = "conflict"


class Forbidden(DomainError):
    code = "forbidden"
