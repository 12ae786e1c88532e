"""``insert_rows`` stores what an INSERT stores (defaults included), by COPY on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    cast,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.dialects.postgresql import psycopg
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from idp.bulk_insert import copies, copy_plan, insert_rows
from idp.db import SQLITE_CACHE_KIB, Database, UTCDateTime, make_engine, new_id, utcnow
from idp.directory import users
from idp.models import AuditEvent, Tenant, User, UserIdentity, UserOtherMail


def _user(tenant: Tenant, db: Session, upn: str) -> str:
    return users.provision_member(db, tenant, f"owner-{upn}").id


# The tables imports fill with insert_rows, and the columns they give: key -> a row with unique values from it.
IMPORT_TABLES: dict[str, tuple[Table, Callable[[Tenant, Session, str], dict[str, Any]]]] = {
    "users": (User.__table__, lambda t, db, key: {  # type: ignore[dict-item]
        "tenant_id": t.id, "user_principal_name": f"{key}@contoso.com",
        "user_principal_name_normalized": f"{key}@contoso.com", "display_name": key, "profile_attributes": None}),
    "user_other_mails": (UserOtherMail.__table__, lambda t, db, key: {  # type: ignore[dict-item]
        "tenant_id": t.id, "user_id": _user(t, db, key), "address": f"{key}@x.example",
        "address_normalized": f"{key}@x.example"}),
    "user_identities": (UserIdentity.__table__, lambda t, db, key: {  # type: ignore[dict-item]
        "tenant_id": t.id, "user_id": _user(t, db, key), "sign_in_type": "userPrincipalName", "issuer": "x",
        "issuer_assigned_id": key}),
    "audit_events": (AuditEvent.__table__, lambda t, db, key: {  # type: ignore[dict-item]
        "tenant_id": t.id, "actor": "test", "activity": key, "details": {"n": key}}),
}


def _generated(column: Column[Any]) -> bool:
    """A column a callable default fills (ids, timestamps): a fresh value per row."""
    return column.default is not None and getattr(column.default, "is_callable", False)


def _stored(db: Session, table: Table, where: Any) -> dict[str, Any]:
    """A row as stored; JSON columns as their text, so SQL NULL and JSON null differ."""
    columns = [cast(c, Text).label(c.name) if isinstance(c.type, JSON) else c for c in table.columns]
    return dict(db.execute(select(*columns).where(where)).one()._mapping)


def _compare(table: Table, copied: dict[str, Any], inserted: dict[str, Any], given: set[str]) -> None:
    for column in table.columns:
        if column.name in given:
            continue
        if _generated(column):
            assert copied[column.name] is not None and inserted[column.name] is not None, column.name
        else:
            assert copied[column.name] == inserted[column.name], column.name


@pytest.mark.parametrize("name", sorted(IMPORT_TABLES))
def test_insert_rows_stores_what_an_insert_stores(database: Database, contoso: Tenant, name: str) -> None:
    """Every column a row leaves out gets the value INSERT gives it (a new column with a default included)."""
    table, row = IMPORT_TABLES[name]
    with database.transaction() as db:
        tenant = db.merge(contoso)
        copied_row, inserted_row = row(tenant, db, "copied"), row(tenant, db, "inserted")
        insert_rows(db, table, [copied_row])
        db.execute(insert(table), [inserted_row])
        pick = next(c for c in ("user_principal_name", "issuer_assigned_id", "address", "activity")
                    if c in table.c)
        copied = _stored(db, table, table.c[pick] == copied_row[pick])
        inserted = _stored(db, table, table.c[pick] == inserted_row[pick])
    given = set(copied_row) - {"profile_attributes", "details"}  # the JSON values are compared as stored
    _compare(table, copied, inserted, given)
    assert copied["id"] != inserted["id"]
    # The row was completed in place with what was stored (an import answers from it).
    assert set(copied_row) == {c.name for c in table.columns}
    assert {k: v for k, v in copied_row.items() if not isinstance(table.c[k].type, JSON)} == {
        k: v for k, v in copied.items() if not isinstance(table.c[k].type, JSON)}


def test_import_tables_are_copied_on_postgresql() -> None:
    """No column of the import tables needs INSERT: on PostgreSQL they are loaded by COPY (the fast path)."""
    dialect = psycopg.dialect()
    assert copies(dialect)
    for table, _ in IMPORT_TABLES.values():
        statement, columns = copy_plan(dialect, table, frozenset({"tenant_id"}))
        assert statement.startswith(f"COPY {table.name} (")
        assert {name for name, _, _ in columns} == {c.name for c in table.columns if c.server_default is None}


@pytest.fixture
def odd_table(database: Database) -> Iterator[Table]:
    """A table with every kind of default a new column could bring."""
    table = Table(
        "bulk_insert_probe", MetaData(),
        Column("id", String(36), primary_key=True, default=new_id),
        Column("name", String(32), nullable=False, unique=True),
        Column("scalar", Integer, nullable=False, default=7),
        Column("flag", Boolean, nullable=False, default=False),
        Column("called", UTCDateTime(), nullable=False, default=utcnow),
        Column("server", String(8), server_default="srv"),
        Column("expression", Integer, default=func.length("four")),  # only an INSERT evaluates it
        Column("document", JSON),
        Column("plain", String(8)),
    )
    table.create(database.engine)
    try:
        yield table
    finally:
        table.drop(database.engine)


def test_every_kind_of_default_is_applied(database: Database, odd_table: Table) -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    inserts: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        inserts.append(statement) if statement.startswith("INSERT") else None

    event.listen(database.engine, "before_cursor_execute", seen)
    try:
        with database.transaction() as db:
            insert_rows(db, odd_table, [{"name": "a", "document": {"k": [1]}, "expression": 0},
                                        {"name": "b", "document": None, "expression": 0}])
            copied = not inserts
            insert_rows(db, odd_table, [{"name": "e", "called": when, "scalar": 1, "expression": 2, "plain": "p"}])
            insert_rows(db, odd_table, [{"name": "f"}])  # the expression default: through INSERT
            db.execute(insert(odd_table), [{"name": "c", "document": {"k": [1]}, "expression": 0},
                                           {"name": "d", "document": None, "expression": 0}])
            stored = {n: _stored(db, odd_table, odd_table.c.name == n) for n in "abcdef"}
    finally:
        event.remove(database.engine, "before_cursor_execute", seen)
    assert copied == copies(database.engine.dialect)
    for copied_name, inserted_name in (("a", "c"), ("b", "d")):
        _compare(odd_table, stored[copied_name], stored[inserted_name], {"name"})
    assert (stored["a"]["scalar"], stored["a"]["flag"], stored["a"]["server"]) == (7, False, "srv")
    assert stored["b"]["document"] == "null" and stored["a"]["plain"] is None  # JSON null, as INSERT stores None
    assert stored["e"]["called"] == when and (stored["e"]["scalar"], stored["e"]["plain"]) == (1, "p")
    assert stored["f"]["expression"] == 4 and stored["f"]["scalar"] == 7


def test_a_taken_unique_value_is_an_integrity_error(database: Database, contoso: Tenant) -> None:
    """As an INSERT reports it (the import then retries one by one), and the savepoint can be rolled back."""
    row = {"tenant_id": contoso.id, "user_principal_name": "dup@contoso.com",
           "user_principal_name_normalized": "dup@contoso.com"}
    with database.transaction() as db:
        insert_rows(db, User.__table__, [{**row, "id": new_id()}])
        with pytest.raises(IntegrityError), db.begin_nested():
            insert_rows(db, User.__table__, [{**row, "id": new_id()}])
        assert db.scalar(select(func.count()).select_from(User).where(User.tenant_id == contoso.id)) == 1


def test_an_autoincrement_key_is_left_to_the_database(database: Database) -> None:
    table = Table("bulk_insert_serial", MetaData(), Column("n", Integer, primary_key=True),
                  Column("name", String(8), nullable=False))
    table.create(database.engine)
    try:
        with database.transaction() as db:
            insert_rows(db, table, [{"name": "a"}, {"name": "b"}])
            db.execute(insert(table), [{"name": "c"}])
            stored = db.execute(select(table.c.name, table.c.n).order_by(table.c.n)).all()
    finally:
        table.drop(database.engine)
    assert [tuple(row) for row in stored] == [("a", 1), ("b", 2), ("c", 3)]


def test_sqlite_connections_cache_64_mib_of_pages(tmp_path: Any) -> None:
    """Imports insert into many indexes at random places: SQLite's 2 MiB default cache misses on most."""
    engine = make_engine(f"sqlite:///{tmp_path / 'cache.db'}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == -SQLITE_CACHE_KIB == -65536
    finally:
        engine.dispose()
