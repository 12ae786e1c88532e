"""Fixtures for the OpenID provider tests: a member of contoso and a first-party relying party."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from oidc_support import PASSWORD, LiveServer, RelyingParty, make_rp

from idp.db import Database
from idp.directory import users
from idp.models import Tenant

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


@pytest.fixture
def chromium() -> Iterator[object]:
    """Debian's Chromium, headless, through Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def member(database: Database, contoso: Tenant) -> str:
    with database.transaction() as s:
        user = users.create_member(s, contoso, "ada@contoso.com", password=PASSWORD, display_name="Ada Lovelace")
        return user.id


@pytest.fixture
def rp(database: Database, contoso: Tenant) -> RelyingParty:
    return make_rp(database, contoso)


@pytest.fixture
def live(settings) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    """The app on a real loopback HTTP server (its own base URL)."""
    server = LiveServer(settings)
    yield server
    server.close()


@pytest.fixture
def cli_env(settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Point the ``portico`` command at the test database and keys."""
    monkeypatch.setenv("PORTICO_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PORTICO_KEYS_DIR", str(settings.keys_dir))
    monkeypatch.setenv("PORTICO_INSTANCE_DIR", str(settings.instance_dir))
