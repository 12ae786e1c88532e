"""The demo relying party at /demo/ signs in through Portico and shows the ID token claims."""

from __future__ import annotations

import json
from urllib.parse import urljoin

import requests
from oidc_support import LiveServer, csrf_token, query_of

from idp.db import Database
from idp.demo import CREDENTIALS_FILE, seed_demo


def test_demo_relying_party_signs_in_through_portico_and_shows_claims(live: LiveServer, database: Database) -> None:
    settings = live.app.extensions["portico"].settings
    with database.transaction() as s:
        seed_demo(s, settings)
    creds = json.loads((settings.instance_dir / CREDENTIALS_FILE).read_text())
    browser = requests.Session()
    assert "Sign in with Portico" in browser.get(f"{live.base_url}/demo/").text

    response = browser.get(f"{live.base_url}/demo/login", allow_redirects=True)
    assert "Email address" in response.text  # the sign-in page, after the authorize redirect
    login_url = response.url
    response = browser.post(login_url, data={
        "csrf_token": csrf_token(response.text), "request_id": query_of(login_url)["request"],
        "email": creds["contoso"]["admin_email"], "password": creds["contoso"]["admin_password"]})
    if "/contoso/consent" in response.url:  # the demo app is not flagged first-party: consent once
        response = browser.post(response.url, data={"csrf_token": csrf_token(response.text), "allow": "Allow",
                                                    "request_id": query_of(response.url)["request"]})
    assert response.url == urljoin(live.base_url, "/demo/"), response.text
    assert "ID token claims" in response.text
    assert creds["contoso"]["admin_email"] in response.text and live.issuer("contoso") in response.text

    signed_out = browser.get(f"{live.base_url}/demo/logout")
    assert signed_out.url == f"{live.base_url}/demo/" and "Sign in with Portico" in signed_out.text
