"""SQLite under concurrent requests: a transaction that read before another connection committed can still
write (it takes the write lock at its first write with ``BEGIN IMMEDIATE`` and waits its turn), and a
transaction's writes stay atomic. Uses its own SQLite file whatever database the suite runs on."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from idp import migrate
from idp.db import Database
from idp.directory import groups, tenants
from idp.models import Group, Tenant


@pytest.fixture()
def sqlite_database(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'concurrency.db'}")
    migrate.upgrade(database.engine)
    with database.transaction() as session:
        tenants.create_tenant(session, "contoso", "Contoso", domain_suffix="portico.example")
    yield database
    database.dispose()


def test_a_transaction_that_read_before_another_commit_can_still_write(sqlite_database: Database) -> None:
    with sqlite_database.sessionmaker() as first, first.begin():
        tenant = first.scalar(select(Tenant))  # `first` reads ...
        with sqlite_database.transaction() as second:  # ... another connection writes and commits ...
            groups.create_group(second, second.merge(tenant), "Written by the second connection")
        groups.create_group(first, tenant, "Written by the first connection")  # ... and `first` still writes
    with sqlite_database.sessionmaker() as session:
        names = set(session.scalars(select(Group.display_name)))
    assert names == {"Written by the second connection", "Written by the first connection"}


def test_a_failed_transaction_leaves_none_of_its_writes(sqlite_database: Database) -> None:
    with pytest.raises(RuntimeError), sqlite_database.transaction() as session:
        tenant = session.scalar(select(Tenant))
        groups.create_group(session, tenant, "One")
        groups.create_group(session, tenant, "Two")
        raise RuntimeError("fails after two writes")
    with sqlite_database.sessionmaker() as session:
        assert session.scalar(select(func.count()).select_from(Group)) == 0


def test_reads_take_no_write_lock(sqlite_database: Database) -> None:
    """A long read-only request does not hold up writers (they would wait up to busy_timeout otherwise)."""
    with sqlite_database.sessionmaker() as reader, reader.begin():
        tenant = reader.scalar(select(Tenant))
        assert tenant is not None
        connection = reader.connection().connection.dbapi_connection
        assert connection is not None and not connection.in_transaction
        with sqlite_database.transaction() as writer:
            groups.create_group(writer, writer.merge(tenant), "Not blocked")


def test_synchronous_follows_the_setting(tmp_path: Path) -> None:
    for setting, pragma in (("NORMAL", 1), ("FULL", 2)):
        database = Database(f"sqlite:///{tmp_path / f'{setting}.db'}", sqlite_synchronous=setting)
        with database.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == pragma
        database.dispose()
