"""Development only: the outbox as a page, so the demo works without an SMTP server.

Registered by ``create_app`` only when ``PORTICO_ENV=development``; it shows message bodies (one-time codes
included), which must never be reachable in production.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from idp.mail.outbox import recent_messages
from idp.runtime import request_db

blueprint = Blueprint("dev_mail", __name__, url_prefix="/_dev")


@blueprint.get("/mail")
def outbox() -> str:
    return render_template("dev/mail.html", messages=recent_messages(request_db()))
