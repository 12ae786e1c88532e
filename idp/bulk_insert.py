"""Inserting many rows of one table at once (imports): ``COPY`` on PostgreSQL, ``executemany`` elsewhere.

``insert_rows(db, table, rows)`` stores exactly what ``db.execute(insert(table), rows)`` would: the same column
defaults for the columns a row leaves out, the same values through the same type conversions (SQLAlchemy's
bind processors: aware UTC datetimes, JSON). On PostgreSQL with psycopg it sends them with ``COPY ... FROM
STDIN``, which the server loads without parsing, planning and executing one ``INSERT`` per row: for an import
of 1,000 users (users, emails, identities, audit events) a fraction of the server's and the client's CPU
(numbers in ``bench/scim.py``). A column default COPY cannot reproduce (a SQL expression, a sequence) makes
the table go through ``INSERT`` instead, so a new column with a default is never silently left out
(``tests/test_bulk_insert.py`` compares both ways for every table the imports use).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from sqlalchemy import Column, Table, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

Missing = Callable[[], Any]  # the value of a column a row leaves out


class _NotCopyable(Exception):
    """A column default only an INSERT statement can apply."""


def _missing_value(column: Column[Any]) -> Missing | None:
    """How INSERT fills ``column`` when a row leaves it out: its Python-side default, else NULL (None); or
    None when the database fills it (a server default, an autoincrement key), so COPY leaves it out too."""
    default = column.default
    if default is None:
        if (column.server_default is not None or column.identity is not None or column.computed is not None
                or column is column.table.autoincrement_column):  # the database fills it (SERIAL, IDENTITY, ...)
            return None
        return lambda: None
    if getattr(default, "is_scalar", False):
        value = default.arg  # type: ignore[attr-defined]
        return lambda: value
    if getattr(default, "is_callable", False):
        function = default.arg  # type: ignore[attr-defined]  # SQLAlchemy wraps it to take the context
        return lambda: function(None)
    raise _NotCopyable(f"{column} has a default only INSERT applies")


@lru_cache(maxsize=64)
def copy_plan(
    dialect: Dialect, table: Table, given: frozenset[str]
) -> tuple[str, tuple[tuple[str, Missing | None, Callable[[Any], Any] | None], ...]]:
    """The ``COPY`` statement for rows with the columns ``given`` and, per copied column, its name, how a row
    without it is filled (None: every row has it) and its bind processor. Raises ``_NotCopyable``."""
    columns = []
    for column in table.columns:
        if column.name in given:
            missing: Missing | None = None
        else:
            missing = _missing_value(column)
            if missing is None:  # the server's default
                continue
        processor = column.type.dialect_impl(dialect).bind_processor(dialect)
        columns.append((column.name, missing, processor))
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name, _, _ in columns)
    return f"COPY {dialect.identifier_preparer.format_table(table)} ({names}) FROM STDIN", tuple(columns)


def copies(dialect: Dialect) -> bool:
    """Whether :func:`insert_rows` uses COPY on this dialect."""
    return dialect.name == "postgresql" and dialect.driver == "psycopg"


def insert_rows(db: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (column name -> value, the same columns in every row) into ``table`` in the session's
    transaction, as ``db.execute(insert(table), rows)`` would. A constraint violation raises SQLAlchemy's
    ``IntegrityError``.

    The rows are completed in place with the defaults of the columns they leave out, so afterwards they hold
    what was stored (but for server defaults, which they leave out): an import can answer from them without
    reading its rows back."""
    if not rows:
        return
    connection = db.connection()
    dialect = connection.dialect
    keys = rows[0].keys()
    try:
        if not all(row.keys() == keys for row in rows):
            raise _NotCopyable("rows with different columns")
        statement, columns = copy_plan(dialect, table, frozenset(keys))
    except _NotCopyable:
        connection.execute(insert(table), rows)
        return
    filled = [(name, missing) for name, missing, _ in columns if missing is not None]
    for row in rows:
        for name, missing in filled:
            row[name] = missing()
    if copies(dialect):
        _copy(connection, dialect, statement, columns, rows)
    else:
        connection.execute(insert(table), rows)


def _copy(connection: Any, dialect: Dialect, statement: str, columns: tuple[Any, ...],
          rows: list[dict[str, Any]]) -> None:
    processors = [(name, processor) for name, _, processor in columns]
    cursor = connection.connection.driver_connection.cursor()
    try:
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([processor(row[name]) if processor is not None else row[name]
                                for name, processor in processors])
    except dialect.loaded_dbapi.Error as exc:  # as SQLAlchemy reports it for an INSERT (IntegrityError, ...)
        raise DBAPIError.instance(statement, None, exc, dialect.loaded_dbapi.Error) from exc
    finally:
        cursor.close()
