"""Engine, sessions, the declarative ``Base`` and the one tenant-scoping helper.

Every query of tenant-owned rows goes through :func:`scoped` so that a lookup can never cross tenants by
accident; cross-tenant reads that the B2B rules call for use :func:`across_tenants` explicitly.
"""

from __future__ import annotations

import time
import unicodedata
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import BindParameter, DateTime, Engine, MetaData, Select, create_engine, event, select, text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

from idp.row_cache import RowCache

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


FIRST_VERSION = 1  # a versioned row's version when inserted (SQLAlchemy's version_id_col counts up from it)


def weak_etag(version: int) -> str:
    """The HTTP entity tag of a row version (``meta.version`` in SCIM, ``ETag``/``If-Match``)."""
    return f'W/"{version}"'


def fold_case(value: str | None) -> str | None:
    """The case-insensitive comparison form of a text column (NFC, lower-cased), stored beside it for indexes."""
    if value is None:
        return None
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", value).lower())


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        zone = value.tzinfo
        if zone is UTC:  # PostgreSQL sessions in UTC (make_engine): nothing to convert, the common case
            return value
        if zone is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


ModelT = TypeVar("ModelT")


def scoped(model: type[ModelT], tenant_id: str | BindParameter[str]) -> Select[tuple[ModelT]]:
    """``SELECT model WHERE model.tenant_id = tenant_id``: the only way to start a tenant-owned query.
    ``tenant_id`` may be a bound parameter, for a statement built once and run for each request's tenant."""
    column = getattr(model, "tenant_id", None)
    if column is None:
        raise TypeError(f"{model.__name__} is not tenant-owned")
    return select(model).where(column == tenant_id)


def across_tenants(model: type[ModelT]) -> Select[tuple[ModelT]]:
    """An explicitly cross-tenant query, for the few B2B rules that need one (home-tenant lookups)."""
    return select(model)


SQLITE_SYNCHRONOUS = ("NORMAL", "FULL")
SQLITE_CACHE_KIB = 65536


def _sqlite_pragmas(synchronous: str, dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling does not BEGIN before a SAVEPOINT, so the first savepoint became the
    # transaction and releasing it committed (with an fsync). SQLAlchemy's documented fix: let SQLAlchemy BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer (several server workers)
    # WAL + NORMAL (Rails' default too): no fsync per commit, so writers are not capped at the disk's fsync
    # rate (2.3 ms here: < 450 commits/s). Never corrupts; an OS crash or power loss (not a Portico crash)
    # can lose the last commits. FULL fsyncs every commit (PORTICO_SQLITE_SYNCHRONOUS=full).
    cursor.execute(f"PRAGMA synchronous={synchronous}")
    # Page cache per connection, filled only as pages are read (SQLite's default is 2 MiB). An import inserts
    # into a dozen indexes at random places (UUID keys); with 50,000 users the default cache missed on most of
    # them: 64 MiB cut the inserts' time per 1,000 users from 155 to 95 ms (bench/scim.py).
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()


_SQLITE_READS = ("SELECT", "PRAGMA", "EXPLAIN")


def _sqlite_begin_at_first_write(
    connection: Any, cursor: Any, statement: str, _parameters: Any, _context: Any, _executemany: bool
) -> None:
    """SQLite transactions start with the first write, as ``BEGIN IMMEDIATE``; reads before it run on their own.

    A deferred ``BEGIN`` that reads and then writes cannot take the write lock once another connection has
    committed since its read (``database is locked`` at once: waiting cannot help, so ``busy_timeout`` does
    not apply), which made concurrent sign-ins fail. ``BEGIN IMMEDIATE`` at the first write waits its turn
    under ``busy_timeout`` instead, and the reads before it see the latest committed data, which is
    PostgreSQL's READ COMMITTED (the production database): the same guarantees on both. Rails and Django
    (``transaction_mode``) recommend ``IMMEDIATE`` for the same reason."""
    if connection.in_transaction() and not cursor.connection.in_transaction:
        if not statement.lstrip()[:7].upper().startswith(_SQLITE_READS):
            cursor.execute("BEGIN IMMEDIATE")


PING_AFTER_IDLE_SECONDS = 1.0
_IDLE_SINCE = "portico.idle_since"


def _note_idle(_dbapi_connection: Any, record: Any) -> None:
    record.info[_IDLE_SINCE] = time.monotonic()


def _ping_when_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """``pool_pre_ping`` for a connection that sat in the pool for more than PING_AFTER_IDLE_SECONDS.

    A ping is a round trip, and was one of the few every request makes (a SCIM ``eq`` lookup is five); a
    connection checked in a moment ago is as alive as a ping would find it a moment later. The connections a
    server restart, an idle timeout or a firewall drop are idle ones, and are pinged; a failed ping makes the
    pool replace the connection, as ``pool_pre_ping`` does. (A restart between two busy requests fails the
    second one's statement instead; SQLAlchemy then discards the pool's older connections.)"""
    idle_since = record.info.pop(_IDLE_SINCE, None)
    if idle_since is not None and time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
        return
    try:
        _execute_in_autocommit(dbapi_connection, "SELECT 1")
    except Exception as exc:
        raise DisconnectionError("the pooled connection did not answer a ping") from exc


def _execute_in_autocommit(dbapi_connection: Any, statement: str) -> None:
    """Run ``statement`` on a raw driver connection in autocommit, as SQLAlchemy's own ping does: a driver that
    begins a transaction at the first statement (psycopg) would otherwise leave the connection in one, whose
    autocommit can no longer be switched on (read_without_transaction)."""
    manual = getattr(dbapi_connection, "autocommit", None) is False
    if manual:
        dbapi_connection.autocommit = True
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(statement)
        finally:
            cursor.close()
    finally:
        if manual:
            dbapi_connection.autocommit = False


def _session_in_utc(dbapi_connection: Any, _record: Any) -> None:
    """A new PostgreSQL session in UTC: psycopg then returns timestamps in ``datetime.UTC``, which
    :class:`UTCDateTime` passes through instead of converting them from the server's zone (a page of 1,000 users
    spent ~8% of its CPU converting). What is stored does not change: a ``timestamptz`` is UTC inside."""
    _execute_in_autocommit(dbapi_connection, "SET TIME ZONE 'UTC'")


def make_engine(url: str, *, sqlite_synchronous: str = "NORMAL") -> Engine:
    kwargs: dict[str, Any] = {"future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs["poolclass"] = StaticPool
    engine = create_engine(url, **kwargs)
    if engine.dialect.name != "sqlite":
        event.listen(engine, "connect", _note_idle)  # a new connection needs no ping
        if engine.dialect.name == "postgresql":
            event.listen(engine, "connect", _session_in_utc)
        event.listen(engine, "checkin", _note_idle)
        event.listen(engine, "checkout", _ping_when_idle)
    if engine.dialect.name == "sqlite":
        if sqlite_synchronous not in SQLITE_SYNCHRONOUS:
            raise ValueError(f"sqlite_synchronous must be one of {SQLITE_SYNCHRONOUS}")
        event.listen(engine, "connect", partial(_sqlite_pragmas, sqlite_synchronous))
        event.listen(engine, "before_cursor_execute", _sqlite_begin_at_first_write)
    return engine


def read_without_transaction(session: Session) -> bool:
    """Run ``session``'s statements each on its own (autocommit) instead of in a transaction: for a request that
    only reads. On PostgreSQL this saves two round trips (BEGIN and ROLLBACK) per request. Each statement sees
    what was committed when it started, which is what a READ COMMITTED transaction (PostgreSQL's default, a new
    snapshot per statement) gives too: two reads of one request (a page and its count) can see different
    commits either way. SQLite is left as it is: its reads already run outside a transaction
    (:func:`_sqlite_begin_at_first_write`). Does nothing (returns False) once the session holds a connection."""
    if session.get_bind().dialect.name == "sqlite":
        return False
    transaction = session.get_transaction()
    if transaction is not None and transaction._connections:  # already connected (SQLAlchemy 2.0's own record)
        return False
    session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    return True


@contextmanager
def without_bitmap_scans(session: Session) -> Iterator[None]:
    """Run the enclosed statements of ``session``'s transaction without bitmap scans (PostgreSQL; elsewhere a
    no-op), the only way PostgreSQL reads a GIN index: for lookups of many values by equality, which belong to
    a b-tree. pg_trgm's ``gin_trgm_ops`` also answers ``=``, and its statistics are refreshed only by VACUUM:
    while a bulk load grows the table, the planner took the trigram index for ``upn IN (500 names)`` and each
    lookup read the posting lists of the names' common trigrams (0.8-1 s instead of 2 ms on the unique b-tree;
    it made 100,000-user imports 3x slower in most runs). ``SET LOCAL`` ends with the transaction (or the
    savepoint) if the block fails; otherwise it is set back here."""
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    session.execute(text("SET LOCAL enable_bitmapscan = off"))
    yield
    session.execute(text("SET LOCAL enable_bitmapscan TO DEFAULT"))


class Database:
    """Owns the engine and hands out sessions; one per app, no module-level singleton."""

    def __init__(self, url: str, *, cache_seconds: float = 0.0, sqlite_synchronous: str = "NORMAL") -> None:
        self.url = url
        self.engine = make_engine(url, sqlite_synchronous=sqlite_synchronous)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self.rows = RowCache(self.sessionmaker, cache_seconds)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed as one transaction, or rolled back whole on any error."""
        with self.sessionmaker() as session, session.begin():
            yield session

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            return True
        except Exception:
            return False

    def dispose(self) -> None:
        self.engine.dispose()
