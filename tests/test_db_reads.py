"""``read_without_transaction``: a read-only session without BEGIN/ROLLBACK on PostgreSQL, left alone elsewhere."""

from __future__ import annotations

import warnings

import pytest
from sqlalchemy import select

from idp import db
from idp.db import Database, read_without_transaction
from idp.models import Tenant


def test_a_read_only_session_runs_its_statements_on_their_own(database: Database, contoso: Tenant) -> None:
    with database.sessionmaker() as session:
        switched = read_without_transaction(session)
        assert session.scalar(select(Tenant.slug).where(Tenant.id == contoso.id)) == "contoso"
        dbapi = session.connection().connection.dbapi_connection
        if database.engine.dialect.name == "postgresql":
            assert switched and dbapi.autocommit
        else:  # SQLite reads already run outside a transaction (BEGIN IMMEDIATE at the first write)
            assert not switched and not dbapi.in_transaction
    with database.transaction() as session:  # the pooled connection is transactional again
        session.merge(contoso).display_name = "Contoso Ltd"
        session.flush()
        dbapi = session.connection().connection.dbapi_connection
        assert dbapi.in_transaction if database.engine.dialect.name == "sqlite" else not dbapi.autocommit


def test_a_session_that_already_read_keeps_its_transaction(database: Database, contoso: Tenant) -> None:
    with database.sessionmaker() as session:
        session.scalar(select(Tenant.slug))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert read_without_transaction(session) is False
        if database.engine.dialect.name == "postgresql":
            assert not session.connection().connection.dbapi_connection.autocommit


def test_a_pinged_connection_can_still_read_without_a_transaction(database: Database, contoso: Tenant,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A connection pinged at checkout (idle for a while) is handed out outside a transaction."""
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", -1.0)  # every checkout pings
    for _ in range(2):
        with database.sessionmaker() as session:
            read_without_transaction(session)
            assert session.scalar(select(Tenant.slug).where(Tenant.id == contoso.id)) == "contoso"
    with database.transaction() as session:
        session.merge(contoso).display_name = "Contoso Ltd"
    with database.sessionmaker() as session:
        assert session.scalar(select(Tenant.display_name).where(Tenant.id == contoso.id)) == "Contoso Ltd"
