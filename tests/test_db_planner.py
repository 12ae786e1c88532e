"""How Portico uses PostgreSQL's planner and sessions: ``without_bitmap_scans`` keeps equality lookups of
many values on their b-tree, never on a pg_trgm index (which also answers ``=`` and whose statistics lag a bulk
load; see idp.db); sessions run in UTC."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, text

from idp.db import Database, without_bitmap_scans
from idp.directory import users
from idp.models import Tenant


def _setting(session: Any) -> str:
    return str(session.execute(text("SHOW enable_bitmapscan")).scalar())


def test_bitmap_scans_are_off_inside_the_block_only(database: Database) -> None:
    if database.engine.dialect.name != "postgresql":
        with database.transaction() as session, without_bitmap_scans(session):
            pass  # a no-op: SQLite has no such setting
        return
    with database.transaction() as session:
        assert _setting(session) == "on"
        with without_bitmap_scans(session):
            assert _setting(session) == "off"
        assert _setting(session) == "on"
        with pytest.raises(RuntimeError), session.begin_nested(), without_bitmap_scans(session):
            assert _setting(session) == "off"
            raise RuntimeError("the block fails")
        assert _setting(session) == "on"  # undone with its savepoint


def test_an_import_looks_up_its_user_names_without_bitmap_scans(database: Database, contoso: Tenant) -> None:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    requests = [users.MemberRequest(f"import{n}@contoso.com", {"display_name": f"Import {n}"}, [])
                for n in range(3)]
    event.listen(database.engine, "before_cursor_execute", record)
    try:
        with database.transaction() as session:
            created = users.provision_members(session, contoso, requests)
    finally:
        event.remove(database.engine, "before_cursor_execute", record)
    assert all(isinstance(c, users.NewMember) for c in created), created
    lookup = next(i for i, s in enumerate(seen) if s.startswith("SELECT users.user_principal_name_normalized"))
    if database.engine.dialect.name == "postgresql":
        assert seen[lookup - 1] == "SET LOCAL enable_bitmapscan = off"
        assert seen[lookup + 1] == "SET LOCAL enable_bitmapscan TO DEFAULT"


def test_timestamps_come_back_in_utc_whatever_the_session_zone(database: Database, contoso: Tenant) -> None:
    """PostgreSQL sessions are set to UTC at connect (idp.db._session_in_utc), so timestamps arrive in
    ``datetime.UTC`` and are passed through; a value in another zone is still converted to the same instant."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from idp.db import UTCDateTime

    with database.transaction() as session:
        created = session.get(Tenant, contoso.id).created_at
        assert created.tzinfo is UTC
        if database.engine.dialect.name == "postgresql":
            assert session.execute(text("SHOW TimeZone")).scalar() == "UTC"
    paris = datetime(2026, 7, 1, 14, 0, tzinfo=ZoneInfo("Europe/Paris"))
    converted = UTCDateTime().process_result_value(paris, database.engine.dialect)
    assert converted == paris and converted.tzinfo is UTC and converted.hour == 12
    naive = UTCDateTime().process_result_value(datetime(2026, 7, 1, 12, 0), database.engine.dialect)
    assert naive == datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
