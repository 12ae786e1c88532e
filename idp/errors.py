"""Domain errors raised by services; each interface maps them to its own wire format.

Services never know about HTTP: a view turns ``NotFound`` into a 404 page, the OAuth endpoints into an OAuth
error, SCIM into a SCIM Error and the CLI into exit code 2.
"""

from __future__ import annotations

from idp.languages import Message


class DomainError(Exception):
    """Base of every rule violation a service reports. ``code`` is stable and machine-readable.

    A service whose message reaches a sign-in page passes a :class:`~idp.languages.Message`: the page shows
    ``text`` translated; ``message`` (and ``str()``) is the English text for logs and API errors."""

    code = "invalidRequest"

    def __init__(self, message: str | Message, *, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.text: Message | None = message if isinstance(message, Message) else None
        self.field = field


class ValidationError(DomainError):
    code = "invalidInput"


class NotFound(DomainError):
    code = "notFound"


class Conflict(DomainError):
    code = "conflict"


class Forbidden(DomainError):
    code = "forbidden"
