"""Liveness (``/healthz``) and readiness (``/readyz``) probes."""

from __future__ import annotations

from flask import Blueprint, jsonify
from werkzeug.wrappers import Response

from idp.runtime import runtime

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


@blueprint.get("/readyz")
def readyz() -> tuple[Response, int]:
    rt = runtime()
    checks = {"database": rt.database.ping(), "keys": rt.keys.is_ready()}
    ready = all(checks.values())
    return jsonify(status="ready" if ready else "unavailable", checks=checks), 200 if ready else 503
