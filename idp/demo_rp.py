"""The demo relying party at ``/demo/``: signs in through Portico (tenant contoso) with Authlib's Flask client
and shows the ID token claims. Its client credentials come from ``{instance}/demo-credentials.json``
(written by ``portico demo``); it talks to Portico over HTTP at ``PORTICO_BASE_URL`` like any other RP."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from authlib.integrations.flask_client import OAuth
from flask import Blueprint, Flask, current_app, redirect, render_template, session, url_for
from werkzeug.wrappers import Response

from idp.demo import CREDENTIALS_FILE, DEMO_APP_TENANT, demo_redirect_uri
from idp.runtime import runtime

blueprint = Blueprint("demo_rp", __name__, url_prefix="/demo")
EXTENSION_KEY = "portico.demo_oauth"
SESSION_KEY = "demo_rp"


def init_demo(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = OAuth(app)
    app.register_blueprint(blueprint)


def _credentials() -> dict[str, Any] | None:
    path = runtime().settings.instance_dir / CREDENTIALS_FILE
    try:
        return json.loads(path.read_text()).get("application")
    except (OSError, ValueError):
        return None


def _client() -> Any:
    oauth: OAuth = current_app.extensions[EXTENSION_KEY]
    creds = _credentials()
    if creds is None:
        return None
    name = f"portico-{creds['client_id']}"  # re-seeding the demo makes a new client, registered afresh
    client = oauth.create_client(name)
    if client is None:
        issuer = runtime().settings.issuer_for(DEMO_APP_TENANT)
        client = oauth.register(
            name, client_id=creds["client_id"], client_secret=creds["client_secret"],
            server_metadata_url=f"{issuer}/.well-known/openid-configuration",
            client_kwargs={"scope": "openid profile email offline_access", "code_challenge_method": "S256"},
        )
    return client


@blueprint.get("/")
def home() -> str:
    state = session.get(SESSION_KEY)
    return render_template("demo/home.html", signed_in=state is not None,
                           claims=(state or {}).get("claims", {}), configured=_credentials() is not None)


@blueprint.get("/login")
def login() -> Response | tuple[str, int]:
    client = _client()
    if client is None:
        return render_template("error.html", title="Demo not set up",
                               message="Run `portico demo` first to create the demo application."), 503
    return client.authorize_redirect(demo_redirect_uri(runtime().settings))


@blueprint.get("/callback")
def callback() -> Response | tuple[str, int]:
    client = _client()
    if client is None:
        return render_template("error.html", title="Demo not set up", message="Run `portico demo` first."), 503
    token = client.authorize_access_token()
    session[SESSION_KEY] = {"claims": dict(token["userinfo"]), "id_token": token["id_token"]}
    return redirect(url_for("demo_rp.home"))


@blueprint.get("/logout")
def logout() -> Response:
    state = session.pop(SESSION_KEY, None)
    settings = runtime().settings
    if not state:
        return redirect(url_for("demo_rp.home"))
    end_session = f"{settings.issuer_for(DEMO_APP_TENANT)}/logout"
    query = urlencode({"id_token_hint": state["id_token"], "post_logout_redirect_uri": f"{settings.base_url}/demo/"})
    return redirect(f"{end_session}?{query}")
