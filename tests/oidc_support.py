"""Helpers for the OpenID provider tests: relying-party applications and browser-like steps."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

from flask.testing import FlaskClient

from idp.db import Database
from idp.directory import applications
from idp.models import Application, Tenant

PASSWORD = "correct horse battery staple"
REDIRECT_URI = "http://127.0.0.1:8765/callback"


@dataclass
class RelyingParty:
    tenant: Tenant
    client_id: str
    client_secret: str | None
    redirect_uri: str
    application_id: str


def make_rp(database: Database, tenant: Tenant, *, first_party: bool = True, public: bool = False,
            scopes: list[str] | None = None, grant_types: list[str] | None = None,
            **columns: Any) -> RelyingParty:
    with database.transaction() as s:
        created = applications.create_application(
            s, tenant, name="Relying party", redirect_uris=[REDIRECT_URI],
            post_logout_redirect_uris=["http://127.0.0.1:8765/"],
            grant_types=grant_types or ["authorization_code", "refresh_token"],
            scopes=scopes or ["openid", "profile", "email", "offline_access"], public=public,
            first_party=first_party,
        )
        app: Application = created.application
        for name, value in columns.items():
            setattr(app, name, value)
        return RelyingParty(tenant, app.client_id, created.client_secret, REDIRECT_URI, app.id)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def authorize_params(rp: RelyingParty, challenge: str | None = None, **extra: str) -> dict[str, str]:
    params = {"response_type": "code", "client_id": rp.client_id, "redirect_uri": rp.redirect_uri,
              "scope": "openid profile email offline_access", "state": "st-123", "nonce": secrets.token_urlsafe(8)}
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    params.update(extra)
    return params


def sign_in(client: FlaskClient, location: str, email: str = "ada@contoso.com",
            password: str = PASSWORD) -> Any:
    """Follow a redirect to the sign-in page and submit it; returns the response to the form post."""
    page = client.get(location)
    assert page.status_code == 200, page.text
    request_id = parse_qs(urlsplit(location).query).get("request", [""])[0]
    return client.post(urlsplit(location).path + (f"?request={request_id}" if request_id else ""), data={
        "csrf_token": csrf_token(page.text), "request_id": request_id, "email": email, "password": password,
    })


def login_and_get_code(client: FlaskClient, rp: RelyingParty, challenge: str | None = None,
                       **extra: str) -> dict[str, str]:
    """Run the front channel to the redirect back to the RP; returns the callback's query parameters."""
    slug = rp.tenant.slug
    response = client.get(f"/{slug}/authorize", query_string=authorize_params(rp, challenge, **extra))
    if "/login" in response.headers.get("Location", ""):
        response = sign_in(client, response.headers["Location"])
        assert response.status_code == 302, response.text
        response = client.get(response.headers["Location"])
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith(rp.redirect_uri), location
    return query_of(location)


class LiveServer:
    """A Portico app on a real loopback HTTP server in a thread; its base URL is the server's own address."""

    def __init__(self, settings: Any, configure: Any = None) -> None:
        import threading

        from werkzeug.serving import make_server

        from idp import create_app

        self._app: Any = None
        self.server = make_server("127.0.0.1", 0, self._dispatch, threaded=True)
        self.base_url = f"http://127.0.0.1:{self.server.port}"
        self.app = create_app(settings.with_overrides(base_url=self.base_url))
        self._app = self.app
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _dispatch(self, environ: Any, start_response: Any) -> Any:
        return self._app(environ, start_response)

    def issuer(self, slug: str) -> str:
        return f"{self.base_url}/{slug}"

    def close(self) -> None:
        self.server.shutdown()
        self.app.extensions["portico"].database.dispose()


class Recorder:
    """A loopback HTTP endpoint that records form POSTs (a relying party's back-channel logout URI)."""

    def __init__(self) -> None:
        import threading

        from werkzeug.serving import make_server
        from werkzeug.wrappers import Request, Response

        self.posts: list[dict[str, str]] = []

        @Request.application
        def app(request: Request) -> Response:
            self.posts.append(request.form.to_dict())
            return Response("", 200)

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.port}/backchannel"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def browser_sign_in(browser: Any, authorize_url: str, email: str, password: str) -> str:
    """Drive the front channel with a requests.Session; returns the redirect back to the relying party."""
    response = browser.get(authorize_url, allow_redirects=False)
    assert response.status_code == 302, response.text
    login_url = urljoin(authorize_url, response.headers["Location"])
    if "/login" in login_url:
        page = browser.get(login_url)
        request_id = parse_qs(urlsplit(login_url).query)["request"][0]
        response = browser.post(login_url, data={"csrf_token": csrf_token(page.text), "request_id": request_id,
                                                  "email": email, "password": password}, allow_redirects=False)
        assert response.status_code == 302, response.text
        response = browser.get(urljoin(login_url, response.headers["Location"]), allow_redirects=False)
        assert response.status_code == 302, response.text
    return response.headers["Location"]


def exchange_code(client: FlaskClient, rp: RelyingParty, code: str, verifier: str | None = None) -> Any:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri}
    if verifier:
        data["code_verifier"] = verifier
    return client.post(f"/{rp.tenant.slug}/token", data=data, auth=(rp.client_id, rp.client_secret))


def refresh(client: FlaskClient, rp: RelyingParty, refresh_token: str) -> Any:
    return client.post(f"/{rp.tenant.slug}/token", data={"grant_type": "refresh_token",
                                                         "refresh_token": refresh_token},
                       auth=(rp.client_id, rp.client_secret))


def signed_in_tokens(client: FlaskClient, rp: RelyingParty) -> dict[str, Any]:
    """Sign in through the front channel and exchange the code: the RP's token response."""
    response = exchange_code(client, rp, login_and_get_code(client, rp)["code"])
    assert response.status_code == 200, response.text
    return response.json


def assert_signed_out(client: FlaskClient, rp: RelyingParty, tokens: dict[str, Any]) -> None:
    """No SSO session any more (prompt=none fails) and the session's refresh token is dead."""
    silent = client.get(f"/{rp.tenant.slug}/authorize", query_string=authorize_params(rp, prompt="none"))
    assert query_of(silent.headers["Location"])["error"] == "login_required"
    assert refresh(client, rp, tokens["refresh_token"]).json["error"] == "invalid_grant"
