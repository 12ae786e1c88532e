"""Migrations build the schema on an empty database and agree with the models."""

from __future__ import annotations

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

import idp.models  # noqa: F401
from idp import migrate
from idp.db import Base, make_engine


@pytest.fixture
def empty_database_url(tmp_path) -> str:
    """A brand-new empty database of the kind under test (SQLite file, or a fresh PostgreSQL database)."""
    pg = os.environ.get("PORTICO_TEST_DATABASE_URL")
    if not pg:
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"portico_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(pg).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(pg).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_on_empty_database_then_models_agree(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        assert inspect(engine).get_table_names() == []
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True,
                                                             "include_object": migrate.include_object})
            diff = compare_metadata(context, Base.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
        migrate.upgrade(engine)  # applying again is a no-op
    finally:
        engine.dispose()


def test_single_head() -> None:
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(migrate.alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, heads


def test_trigram_indexes_exist_on_postgresql_only(empty_database_url: str) -> None:
    """``co``/``sw``/``ew`` filters are indexed on PostgreSQL (pg_trgm); SQLite has no trigram index."""
    engine = make_engine(empty_database_url)
    try:
        migrate.upgrade(engine)
        found = {ix["name"] for table in ("users", "user_other_mails", "groups")
                 for ix in inspect(engine).get_indexes(table)}
        expected = set(migrate.POSTGRESQL_TRIGRAM_INDEXES) if engine.dialect.name == "postgresql" else set()
        assert found & set(migrate.POSTGRESQL_TRIGRAM_INDEXES) == expected
    finally:
        engine.dispose()


def test_0015_hides_the_guests_invited_before_it(empty_database_url: str) -> None:
    # b2b-collaboration.md §3.1: invited guests are hidden from address lists; members stay unassigned (shown).
    engine = make_engine(empty_database_url)
    try:
        migrate.upgrade(engine, "0011")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO tenants (id, slug, display_name, initial_domain, created_at) "
                              "VALUES ('t', 't', 'T', 't.example', CURRENT_TIMESTAMP)"))
            for user_id, creation_type in (("guest", "Invitation"), ("member", None), ("local", "LocalAccount")):
                conn.execute(text(
                    "INSERT INTO users (id, tenant_id, user_principal_name, user_type, account_enabled, version, "
                    "created_at, modified_at, creation_type) VALUES (:id, 't', :id, 'Guest', :on, 1, "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, :creation_type)"
                ), {"id": user_id, "on": True, "creation_type": creation_type})
        migrate.upgrade(engine)
        with engine.connect() as conn:
            shown = dict(conn.execute(text("SELECT id, show_in_address_list FROM users")).all())
        assert shown == {"guest": False, "member": None, "local": None}
    finally:
        engine.dispose()


IMPORT_TABLES = ("users", "user_other_mails", "user_identities", "audit_events", "groups", "group_members")


def test_no_index_of_the_import_tables_repeats_another() -> None:
    """Every index costs each inserted row: on the tables a bulk import fills, none may be the leading columns
    of another index or key (that one serves the same lookups)."""
    from sqlalchemy import PrimaryKeyConstraint, UniqueConstraint

    for name in IMPORT_TABLES:
        table = Base.metadata.tables[name]
        keys = [(ix.name, tuple(c.name for c in ix.columns), ix.unique) for ix in table.indexes]
        keys += [(c.name, tuple(col.name for col in c.columns), True) for c in table.constraints
                 if isinstance(c, UniqueConstraint | PrimaryKeyConstraint)]
        for index in table.indexes:
            columns = tuple(c.name for c in index.columns)
            covering = [other for other, cols, unique in keys if other != index.name
                        and cols[:len(columns)] == columns and (len(cols) > len(columns) or unique)]
            assert not covering, f"{index.name} repeats {covering}"


def test_0018_drops_the_repeated_indexes(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        dropped = {"users": {"ix_users_tenant_id", "ix_users_tenant_display_name"},
                   "groups": {"ix_groups_tenant_id"}, "user_other_mails": {"ix_user_other_mails_user_id"}}
        migrate.upgrade(engine, "0016")
        for table, names in dropped.items():
            assert names <= {ix["name"] for ix in inspect(engine).get_indexes(table)}
        migrate.upgrade(engine)
        for table, names in dropped.items():
            assert not names & {ix["name"] for ix in inspect(engine).get_indexes(table)}
    finally:
        engine.dispose()
