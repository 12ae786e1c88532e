"""Pooled PostgreSQL connections are pinged when they sat idle, not at every checkout (a round trip each)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import DisconnectionError

from idp import db


class FakeConnection:
    def __init__(self, *, alive: bool = True) -> None:
        self.alive, self.executed = alive, []

    def cursor(self) -> FakeConnection:
        return self

    def execute(self, statement: str) -> None:
        if not self.alive:
            raise OSError("server closed the connection unexpectedly")
        self.executed.append(statement)

    def close(self) -> None:
        pass


class Record:
    def __init__(self) -> None:
        self.info: dict[str, Any] = {}


def test_a_connection_checked_in_a_moment_ago_is_not_pinged(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr(db.time, "monotonic", lambda: now[0])
    connection, record = FakeConnection(), Record()
    db._note_idle(connection, record)
    now[0] += db.PING_AFTER_IDLE_SECONDS / 2
    db._ping_when_idle(connection, record, None)
    assert connection.executed == []
    db._note_idle(connection, record)
    now[0] += db.PING_AFTER_IDLE_SECONDS + 1
    db._ping_when_idle(connection, record, None)
    assert connection.executed == ["SELECT 1"]
    db._ping_when_idle(connection, record, None)  # checked out without a check-in: pinged
    assert len(connection.executed) == 2


def test_a_dead_idle_connection_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DisconnectionError):  # the pool then discards it and checks out another
        db._ping_when_idle(FakeConnection(alive=False), Record(), None)


def test_engines_ping_connections_idle_for_a_while(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    pinged: list[bool] = []
    original = db._ping_when_idle

    def counting(connection: Any, record: Any, proxy: Any) -> None:
        before = record.info.get(db._IDLE_SINCE)
        original(connection, record, proxy)
        pinged.append(before is None or before <= db.time.monotonic() - db.PING_AFTER_IDLE_SECONDS)

    monkeypatch.setattr(db, "_ping_when_idle", counting)
    engine = db.make_engine(database_url)
    try:
        for _ in range(3):  # a new connection, then one checked in a moment ago
            with engine.connect() as conn:
                assert conn.exec_driver_sql("SELECT 2").scalar() == 2
        if engine.dialect.name == "sqlite":  # a file: nothing to ping
            assert pinged == []
            return
        assert pinged == [False, False, False]
        with engine.connect() as conn:
            record = conn.connection._connection_record
        record.info[db._IDLE_SINCE] -= db.PING_AFTER_IDLE_SECONDS + 1  # as if checked in a while ago
        with engine.connect() as conn:  # idle for a while: pinged (a real SELECT 1), then used
            assert conn.exec_driver_sql("SELECT 2").scalar() == 2
        assert pinged == [False, False, False, False, True]
    finally:
        engine.dispose()
