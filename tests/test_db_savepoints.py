"""Savepoints are real on SQLite too: releasing one does not commit the enclosing transaction."""

from __future__ import annotations

from sqlalchemy import func, select

from idp.db import Database
from idp.directory import groups
from idp.models import Group, Tenant


def test_released_savepoint_is_undone_by_the_outer_rollback(database: Database, contoso: Tenant) -> None:
    with database.sessionmaker() as session:
        tenant = session.merge(contoso)
        with session.begin_nested():
            groups.create_group(session, tenant, "Inside a savepoint")
        session.rollback()
    with database.sessionmaker() as session:
        assert session.scalar(select(func.count()).select_from(Group)) == 0
