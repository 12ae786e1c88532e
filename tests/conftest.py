"""Shared fixtures: a migrated database (SQLite, or PostgreSQL when PORTICO_TEST_DATABASE_URL is set),
signing keys, settings, the Flask app, and the two tenants most tests use."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session

import idp.models  # noqa: F401
from idp import create_app, migrate
from idp.config import Settings
from idp.db import Base, Database, make_engine
from idp.directory import tenants
from idp.keys import KeyStore
from idp.models import Tenant
from idp.row_cache import invalidate_all

SUFFIX = "portico.example"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def _reset_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _worker_database(url: str, worker: str) -> str:
    """With pytest-xdist, each worker gets its own PostgreSQL database next to the configured one."""
    if worker == "master":
        return url
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> str:
    url = os.environ.get("PORTICO_TEST_DATABASE_URL")
    if url:
        url = _worker_database(url, worker_id)
        _reset_postgres(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'portico.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def database(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture(autouse=True)
def _clean_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "database" not in request.fixturenames:
        return
    database: Database = request.getfixturevalue("database")
    tables = [t for t in reversed(Base.metadata.sorted_tables)]
    with database.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(t.name for t in tables)} CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())
    invalidate_all()  # the wipe went behind the ORM's back (Core deletes): no cached copy may survive it


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("keys") / "keys"
    KeyStore(directory).ensure()
    return directory


@pytest.fixture
def settings(database_url: str, keys_dir: Path, tmp_path: Path, database: Database) -> Settings:
    return Settings(
        database_url=database_url,
        base_url="http://127.0.0.1:5000",
        secret_key="test-secret-key-0123456789abcdef",
        keys_dir=keys_dir,
        instance_dir=tmp_path / "instance",
        tenant_domain_suffix=SUFFIX,
        env="development",
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    application = create_app(settings)
    application.config["TESTING"] = True
    yield application
    application.extensions["portico"].database.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    """A session for arranging and inspecting data; committed by the test when it needs to be."""
    with database.sessionmaker() as s:
        yield s


@pytest.fixture
def contoso(database: Database) -> Tenant:
    with database.transaction() as s:
        return tenants.create_tenant(s, "contoso", "Contoso", domain_suffix=SUFFIX, verified_domains=["contoso.com"])


@pytest.fixture
def mint(app: Flask, contoso: Tenant):
    """Bearer headers for contoso's API: ``mint(*scopes, subject=, tenant=, issuer=)`` signs an access token as the
    tenant's token endpoint would (``subject`` equal to the client id means app-only)."""
    from idp.runtime import runtime
    from idp.tokens import issue_access_token

    def make(*scopes: str, subject: str = "automation", tenant: Tenant = contoso,
             issuer: str | None = None) -> dict[str, str]:
        iss = issuer or f"http://127.0.0.1:5000/{tenant.slug}"
        token, _ = issue_access_token(runtime(app).keys, issuer=iss, tenant_id=tenant.id, subject=subject,
                                      client_id="automation", audience=iss, scopes=scopes)
        return {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture
def fabrikam(database: Database) -> Tenant:
    with database.transaction() as s:
        return tenants.create_tenant(s, "fabrikam", "Fabrikam", domain_suffix=SUFFIX,
                                     verified_domains=["fabrikam.com"])


@pytest.fixture
def live(settings: Settings) -> Iterator[object]:
    """The app on a real loopback HTTP server (its own base URL)."""
    from oidc_support import LiveServer

    server = LiveServer(settings)
    yield server
    server.close()


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


@pytest.fixture(scope="module")
def op_server() -> Iterator[object]:
    """A small real OpenID provider (Authlib) on loopback, shared by a test module; reset it per test."""
    from authlib_op import running_op

    with running_op() as provider:
        yield provider
