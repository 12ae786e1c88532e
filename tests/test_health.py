"""Liveness and readiness probes."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient

from idp import create_app
from idp.config import Settings


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_readyz_checks_database_and_keys(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ready", "checks": {"database": True, "keys": True}}


def test_readyz_fails_without_keys(settings: Settings, tmp_path: Path) -> None:
    app = create_app(settings.with_overrides(keys_dir=tmp_path / "nokeys"), ensure_keys=False)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"] == {"database": True, "keys": False}


def test_readyz_fails_without_database(settings: Settings, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}"
    app = create_app(settings.with_overrides(database_url=url))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["database"] is False


def test_unknown_path_is_a_page_or_json(client: FlaskClient) -> None:
    assert client.get("/healthz/nope").status_code == 404
    api = client.get("/api/nothing")
    assert api.status_code == 404 and api.json["error"] == "not_found"
