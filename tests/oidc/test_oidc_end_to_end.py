"""A certified-style relying party (Authlib's OAuth 2 / OIDC client) against Portico on a real HTTP server."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from authlib.oidc.core import CodeIDToken
from authlib.oidc.discovery import OpenIDProviderMetadata
from joserfc import jwt
from joserfc.jwk import KeySet
from oidc_support import PASSWORD, LiveServer, Recorder, browser_sign_in, make_rp, query_of

from idp.db import Database
from idp.models import Tenant
from idp.oidc.logout import deliver_due as deliver_logouts


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    rec = Recorder()
    yield rec
    rec.close()


def test_relying_party_library_signs_in_refreshes_introspects_revokes_and_logs_out(
    live: LiveServer, recorder: Recorder, database: Database, contoso: Tenant, member: str
) -> None:
    rp = make_rp(database, contoso, backchannel_logout_uri=recorder.url)
    iss = live.issuer("contoso")

    # discovery (OIDC Discovery 1.0 and RFC 8414 path-insertion form) validated by Authlib's metadata models
    config = requests.get(f"{iss}/.well-known/openid-configuration", timeout=5).json()
    OpenIDProviderMetadata(config).validate()
    assert config["issuer"] == iss
    rfc8414 = requests.get(f"{live.base_url}/.well-known/oauth-authorization-server/contoso", timeout=5).json()
    AuthorizationServerMetadata(rfc8414).validate()
    assert rfc8414["issuer"] == iss
    jwks = KeySet.import_key_set(requests.get(config["jwks_uri"], timeout=5).json())

    # login with authorization code + PKCE
    client = OAuth2Session(rp.client_id, rp.client_secret, scope="openid profile email offline_access",
                           redirect_uri=rp.redirect_uri, code_challenge_method="S256")
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    url, state = client.create_authorization_url(config["authorization_endpoint"], code_verifier=verifier,
                                                 nonce=nonce)
    browser = requests.Session()
    callback = browser_sign_in(browser, url, "ada@contoso.com", PASSWORD)
    assert query_of(callback)["iss"] == iss and query_of(callback)["state"] == state
    token = client.fetch_token(config["token_endpoint"], authorization_response=callback, code_verifier=verifier)

    # ID token: signature from the JWKS, then claims validation
    decoded = jwt.decode(token["id_token"], jwks)
    assert decoded.header["alg"] == "RS256"
    id_token = CodeIDToken(decoded.claims, decoded.header,
                           options={"iss": {"essential": True, "value": iss},
                                    "aud": {"essential": True, "value": rp.client_id}},
                           params={"nonce": nonce, "client_id": rp.client_id, "access_token": token["access_token"]})
    id_token.validate()
    for claim in ("sub", "auth_time", "nonce", "acr", "amr", "azp", "at_hash", "sid", "tid", "email", "name"):
        assert claim in id_token, claim
    assert id_token["sub"] == member and id_token["tid"] == contoso.id and id_token["email"] == "ada@contoso.com"

    # UserInfo, GET and POST
    info = client.get(config["userinfo_endpoint"], timeout=5)
    assert info.status_code == 200 and info.json()["sub"] == member and info.json()["email"] == "ada@contoso.com"
    assert client.post(config["userinfo_endpoint"], timeout=5).json()["sub"] == member

    # refresh with rotation
    first_refresh = token["refresh_token"]
    refreshed = client.refresh_token(config["token_endpoint"], refresh_token=first_refresh)
    assert refreshed["refresh_token"] != first_refresh
    assert refreshed["access_token"] != token["access_token"]

    # introspection of the new tokens (the client's own)
    introspect = client.introspect_token(config["introspection_endpoint"], token=refreshed["access_token"])
    body = introspect.json()
    assert body["active"] is True and body["sub"] == member and body["client_id"] == rp.client_id
    assert client.introspect_token(config["introspection_endpoint"], token=refreshed["refresh_token"],
                                   token_type_hint="refresh_token").json()["active"] is True

    # revocation of the access token and of the refresh token
    assert client.revoke_token(config["revocation_endpoint"], token=refreshed["access_token"]).status_code == 200
    assert client.introspect_token(config["introspection_endpoint"],
                                   token=refreshed["access_token"]).json() == {"active": False}
    assert requests.get(config["userinfo_endpoint"], timeout=5,
                        headers={"Authorization": f"Bearer {refreshed['access_token']}"}).status_code == 401
    assert client.revoke_token(config["revocation_endpoint"], token=refreshed["refresh_token"],
                               token_type_hint="refresh_token").status_code == 200
    assert client.introspect_token(config["introspection_endpoint"], token=refreshed["refresh_token"]).json() == {
        "active": False}

    # RP-initiated logout with id_token_hint, then back-channel logout token and no more session
    response = browser.get(config["end_session_endpoint"], allow_redirects=False, params={
        "id_token_hint": token["id_token"], "post_logout_redirect_uri": "http://127.0.0.1:8765/", "state": "bye"})
    assert response.status_code == 302
    assert response.headers["Location"] == "http://127.0.0.1:8765/?state=bye"
    assert recorder.posts == []  # queued in the logout's transaction; the worker delivers it
    assert len(deliver_logouts(database, live.app.extensions["portico"].keys).sent) == 1
    assert len(recorder.posts) == 1
    logout = jwt.decode(recorder.posts[0]["logout_token"], jwks)
    assert logout.header["typ"] == "logout+jwt"
    assert logout.claims["sid"] == id_token["sid"] and logout.claims["aud"] == rp.client_id
    assert "http://schemas.openid.net/event/backchannel-logout" in logout.claims["events"]
    again, _ = client.create_authorization_url(config["authorization_endpoint"], code_verifier=verifier,
                                               nonce=secrets.token_urlsafe(8), prompt="none")
    assert query_of(browser.get(again, allow_redirects=False).headers["Location"])["error"] == "login_required"
