"""Fixtures for the OpenID provider tests: a member of contoso and a first-party relying party."""

from __future__ import annotations

import pytest
from oidc_support import PASSWORD, RelyingParty, make_rp

from idp.db import Database
from idp.directory import users
from idp.models import Tenant


@pytest.fixture
def member(database: Database, contoso: Tenant) -> str:
    with database.transaction() as s:
        user = users.create_member(s, contoso, "ada@contoso.com", password=PASSWORD, display_name="Ada Lovelace")
        return user.id


@pytest.fixture
def rp(database: Database, contoso: Tenant) -> RelyingParty:
    return make_rp(database, contoso)


@pytest.fixture
def cli_env(settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Point the ``portico`` command at the test database and keys."""
    monkeypatch.setenv("PORTICO_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PORTICO_KEYS_DIR", str(settings.keys_dir))
    monkeypatch.setenv("PORTICO_INSTANCE_DIR", str(settings.instance_dir))
