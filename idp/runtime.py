"""The objects a running Portico holds (settings, database, key store), hung off the Flask app."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from idp.config import Settings
from idp.db import Database
from idp.keys import KeyStore

EXTENSION_KEY = "portico"


@dataclass
class Runtime:
    settings: Settings
    database: Database
    keys: KeyStore


def runtime(app: Flask | None = None) -> Runtime:
    return (app or current_app).extensions[EXTENSION_KEY]


def request_db() -> Session:
    """The request's database session, opened on first use and closed at teardown (rolled back if unused)."""
    if "db" not in g:
        g.db = runtime().database.sessionmaker()
    return g.db


def close_request_db(_exc: BaseException | None = None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()
