"""A stand-in for the sign-in journey in tests: it hands a user to the MFA step exactly as the step's docstring
asks (``step.start`` after the first factor, ``step.completed`` when the browser comes back)."""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify, redirect
from werkzeug.wrappers import Response

from idp.directory.tenants import get_tenant
from idp.mfa import step
from idp.runtime import request_db


def install(app: Flask) -> None:
    journey = Blueprint("journey_stub", __name__)

    @journey.get("/<tenant>/journey-stub/<user_id>")
    def begin(tenant: str, user_id: str) -> Response:
        return redirect(step.start(get_tenant(request_db(), tenant), user_id, f"/{tenant}/journey-stub/{user_id}/back"))

    @journey.get("/<tenant>/journey-stub/<user_id>/back")
    def back(tenant: str, user_id: str) -> Response:
        return jsonify(completed=step.completed(get_tenant(request_db(), tenant), user_id))

    app.register_blueprint(journey)
