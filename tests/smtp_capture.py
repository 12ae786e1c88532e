"""A real SMTP server (aiosmtpd) on loopback for tests: it keeps what it receives and can be told to fail."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from idp.config import SmtpSettings

MAIL_FROM = "Portico <no-reply@portico.example>"


class Mailbox:
    """The aiosmtpd handler. ``reply_with`` makes the next DATA commands fail with that reply."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.reply_with: list[str] = []
        self.sessions = 0

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.reply_with:
            return self.reply_with.pop(0)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Authenticator:
    def __init__(self, username: str, password: str) -> None:
        self.username = username.encode()
        self.password = password.encode()

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            self.username, self.password)
        return AuthResult(success=ok, handled=False)


@contextmanager
def smtp_server(*, username: str | None = None, password: str | None = None) -> Iterator[tuple[Mailbox, SmtpSettings]]:
    mailbox = Mailbox()
    port = free_port()
    kwargs: dict[str, Any] = {}
    if username:
        kwargs = {"authenticator": _Authenticator(username, password or ""), "auth_require_tls": False}
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield mailbox, SmtpSettings(host="127.0.0.1", port=port, username=username, password=password,
                                    mail_from=MAIL_FROM)
    finally:
        controller.stop()
