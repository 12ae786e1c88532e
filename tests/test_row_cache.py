"""The per-process row cache of tenants and OAuth clients (``idp.row_cache``): changes committed in this process
are seen at once, changes made elsewhere within the TTL, unknown keys are never cached."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import inspect, update

from idp.db import Database, utcnow
from idp.directory import applications
from idp.directory.tenants import find_tenant_cached
from idp.models import Tenant
from idp.row_cache import RowCache


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


def _name_of(cache: RowCache, database: Database, slug: str) -> str | None:
    with database.sessionmaker() as session:
        tenant = find_tenant_cached(session, cache, slug)
        return tenant.display_name if tenant else None


def test_a_change_made_behind_this_process_is_seen_after_the_ttl(database: Database, contoso: Tenant,
                                                                  clock: FakeClock) -> None:
    cache = RowCache(database.sessionmaker, 2.0, clock=clock)
    assert _name_of(cache, database, "contoso") == "Contoso"
    with database.engine.begin() as conn:  # another process's write: no ORM session of this process sees it
        conn.execute(update(Tenant.__table__).values(display_name="Contoso Ltd"))
    clock.now += 1.9
    assert _name_of(cache, database, "contoso") == "Contoso"  # within the TTL: the copy
    clock.now += 0.2
    assert _name_of(cache, database, "contoso") == "Contoso Ltd"


def test_a_commit_in_this_process_invalidates_at_once(database: Database, contoso: Tenant, clock: FakeClock) -> None:
    cache = RowCache(database.sessionmaker, 60.0, clock=clock)
    assert _name_of(cache, database, "contoso") == "Contoso"
    with database.transaction() as session:
        session.get(Tenant, contoso.id).display_name = "Renamed"
    assert _name_of(cache, database, "contoso") == "Renamed"
    with database.transaction() as session:  # an ORM bulk UPDATE counts too
        session.execute(update(Tenant).where(Tenant.id == contoso.id).values(display_name="Bulk renamed"))
    assert _name_of(cache, database, "contoso") == "Bulk renamed"


def test_a_rolled_back_change_is_not_seen(database: Database, contoso: Tenant, clock: FakeClock) -> None:
    cache = RowCache(database.sessionmaker, 60.0, clock=clock)
    with database.sessionmaker() as session:
        session.get(Tenant, contoso.id).display_name = "Never committed"
        session.flush()
        session.rollback()
    assert _name_of(cache, database, "contoso") == "Contoso"


def test_unknown_keys_are_not_cached(database: Database, clock: FakeClock) -> None:
    cache = RowCache(database.sessionmaker, 60.0, clock=clock)
    assert _name_of(cache, database, "contoso") is None
    with database.engine.begin() as conn:  # created behind the ORM: no invalidation, yet found at once
        conn.execute(Tenant.__table__.insert().values(
            id="t-1", slug="contoso", display_name="Contoso", initial_domain="contoso.portico.example",
            created_at=inspect(Tenant).columns["created_at"].default.arg(None)))
    assert _name_of(cache, database, "contoso") == "Contoso"


def test_zero_ttl_reads_the_database_every_time(database: Database, contoso: Tenant, clock: FakeClock) -> None:
    cache = RowCache(database.sessionmaker, 0.0, clock=clock)
    assert _name_of(cache, database, "contoso") == "Contoso"
    with database.engine.begin() as conn:
        conn.execute(update(Tenant.__table__).values(display_name="Contoso Ltd"))
    assert _name_of(cache, database, "contoso") == "Contoso Ltd"


def test_the_copy_is_an_ordinary_object_of_the_callers_session(database: Database, contoso: Tenant,
                                                               clock: FakeClock) -> None:
    cache = RowCache(database.sessionmaker, 60.0, clock=clock)
    with database.sessionmaker() as session:
        find_tenant_cached(session, cache, "contoso")
        tenant = find_tenant_cached(session, cache, "contoso")
        assert tenant is not None and tenant in session and inspect(tenant).persistent
        assert "contoso.com" in tenant.verified_domains


def _token(client: FlaskClient, client_id: str, secret: str) -> int:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return client.post("/contoso/token", data={"grant_type": "client_credentials", "scope": "scim.read"},
                       headers={"Authorization": f"Basic {basic}"}).status_code


def _sync_client(database: Database, contoso: Tenant) -> tuple[str, str, str]:
    with database.transaction() as session:
        created = applications.create_application(
            session, session.merge(contoso), name="Sync", redirect_uris=[], grant_types=["client_credentials"],
            scopes=["scim.read"])
        return created.application.client_id, created.client_secret or "", created.application.id


def test_a_removed_client_secret_is_refused_by_the_next_request(client: FlaskClient, database: Database,
                                                               contoso: Tenant) -> None:
    """The token endpoint reads the client through the cache; removing a secret takes effect at once."""
    client_id, secret, app_id = _sync_client(database, contoso)
    assert _token(client, client_id, secret) == 200
    assert _token(client, client_id, secret) == 200  # served from the cache
    with database.transaction() as session:
        application = applications.get_application(session, session.merge(contoso), app_id)
        application.secrets.clear()  # the ORM way a secret is removed (delete-orphan)
    assert _token(client, client_id, secret) == 401


def test_an_expired_client_secret_is_refused(client: FlaskClient, database: Database, contoso: Tenant) -> None:
    client_id, secret, app_id = _sync_client(database, contoso)
    assert _token(client, client_id, secret) == 200
    with database.transaction() as session:
        application = applications.get_application(session, session.merge(contoso), app_id)
        application.secrets[0].expires_at = utcnow() - timedelta(seconds=1)
    assert _token(client, client_id, secret) == 401
