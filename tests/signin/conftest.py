"""Fixtures for the guest journey tests: a real SMTP server and the app's settings pointing at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from smtp_capture import Mailbox, smtp_server

from idp.config import SmtpSettings


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, SmtpSettings]]:
    with smtp_server() as pair:
        yield pair
