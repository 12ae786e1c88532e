"""Running Alembic migrations programmatically (``portico db upgrade``, ``portico init``, tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# Trigram (pg_trgm GIN) indexes that make SCIM's ``co``/``sw``/``ew`` filters (LIKE '%x%') indexed on PostgreSQL.
# Created by migration 0011 on PostgreSQL only (SQLite has no such index), so they are not in the models:
# :func:`include_object` leaves them out of autogenerate's comparison.
POSTGRESQL_TRIGRAM_INDEXES = {
    "ix_users_user_principal_name_trgm": ("users", "user_principal_name_normalized"),
    "ix_users_display_name_trgm": ("users", "display_name_normalized"),
    "ix_users_mail_trgm": ("users", "mail_normalized"),
    "ix_user_other_mails_address_trgm": ("user_other_mails", "address_normalized"),
    "ix_groups_display_name_trgm": ("groups", "display_name_normalized"),
}


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Autogenerate's filter: everything but the PostgreSQL-only trigram indexes."""
    return not (type_ == "index" and name in POSTGRESQL_TRIGRAM_INDEXES)


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
