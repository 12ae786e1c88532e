"""``portico serve`` also delivers the queues (mail, back-channel logout tokens) from a process of its own, and
idle keep-alive connections never hold up new requests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from smtp_capture import free_port, smtp_server

from idp import delivery_worker
from idp.config import Settings
from idp.db import Database
from idp.mail import enqueue
from idp.models import OutboxMessage


def _wait_for(condition, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def _serving(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _idle_keep_alive_connections_do_not_starve_new_requests(port: int) -> None:
    """More idle keep-alive connections than the server has Python threads (1 here): a new one is still served
    (a Granian ``backpressure`` of one request per thread once left every new connection waiting)."""
    idle = []
    for _ in range(3):
        connection = socket.create_connection(("127.0.0.1", port), timeout=10)
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert connection.recv(65536).startswith(b"HTTP/1.1 200")
        idle.append(connection)
    try:
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
    finally:
        for connection in idle:
            connection.close()


def test_portico_serve_delivers_queued_mail(database: Database, settings: Settings, tmp_path: Path) -> None:
    with database.transaction() as session:
        enqueue(session, to="ada@fabrikam.com", subject="Queued before the server started", text="Hello")
    port = free_port()
    with smtp_server() as (mailbox, smtp):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PORTICO_")} | {
            "PORTICO_DATABASE_URL": settings.database_url, "PORTICO_KEYS_DIR": str(settings.keys_dir),
            "PORTICO_INSTANCE_DIR": str(tmp_path / "instance"), "PORTICO_SECRET_KEY": settings.secret_key,
            "PORTICO_SMTP_HOST": "127.0.0.1", "PORTICO_SMTP_PORT": str(smtp.port),
            "PORTICO_MAIL_FROM": smtp.mail_from,
        }
        server = subprocess.Popen(
            [sys.executable, "-c", "from idp.cli import main; main()", "serve", "--port", str(port),
             "--workers", "1", "--threads", "1", "--no-access-log"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            assert _wait_for(lambda: _serving(port), 60), "portico serve did not come up"
            assert _wait_for(lambda: len(mailbox.messages) == 1, 60), "the served instance delivered no mail"
            assert mailbox.messages[0]["Subject"] == "Queued before the server started"
            _idle_keep_alive_connections_do_not_starve_new_requests(port)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                raise
    with database.sessionmaker() as session:
        assert session.query(OutboxMessage).one().status == "sent"


def test_a_crashing_queue_loop_is_restarted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delivery_worker, "RESTART_DELAY", 0.01)
    stop, rounds = threading.Event(), []

    def loop() -> None:
        rounds.append(1)
        if len(rounds) < 3:
            raise ConnectionError("database unreachable")
        stop.set()

    delivery_worker._keep_running("test", loop, stop)
    assert len(rounds) == 3
