"""One test per error rule of the authorization and token endpoints."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from oidc_support import (
    RelyingParty,
    authorize_params,
    exchange_code,
    login_and_get_code,
    pkce_pair,
    query_of,
    refresh,
    sign_in,
)
from sqlalchemy import update

from idp.db import Database
from idp.models import SsoSession

ISSUER = "http://127.0.0.1:5000/contoso"


def _introspect(client: FlaskClient, rp: RelyingParty, token: str) -> dict:  # type: ignore[type-arg]
    return client.post("/contoso/introspect", data={"token": token}, auth=(rp.client_id, rp.client_secret)).json


def test_unregistered_redirect_uri_shows_an_error_page_and_never_redirects(client, rp, member) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/contoso/authorize", query_string=authorize_params(
        rp, redirect_uri="https://attacker.example/cb"))
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "attacker.example/cb" in response.text and 'role="alert"' in response.text


def test_unknown_client_id_shows_an_error_page_and_never_redirects(client, rp, member) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/contoso/authorize", query_string=authorize_params(rp, client_id="nobody"))
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_other_errors_redirect_with_error_description_state_and_iss(client, rp, member) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/contoso/authorize", query_string=authorize_params(rp, response_type="token"))
    assert response.status_code == 302
    query = query_of(response.headers["Location"])
    assert query["error"] == "unsupported_response_type"
    assert query["state"] == "st-123" and query["iss"] == ISSUER and query["error_description"]


def test_replayed_code_is_invalid_grant_and_revokes_the_tokens_it_produced(client, rp, member) -> None:  # type: ignore[no-untyped-def]
    verifier, challenge = pkce_pair()
    code = login_and_get_code(client, rp, challenge)["code"]
    first = exchange_code(client, rp, code, verifier)
    assert first.status_code == 200
    assert _introspect(client, rp, first.json["access_token"])["active"] is True

    replay = exchange_code(client, rp, code, verifier)
    assert replay.status_code == 400 and replay.json["error"] == "invalid_grant"
    assert _introspect(client, rp, first.json["access_token"]) == {"active": False}
    assert refresh(client, rp, first.json["refresh_token"]).json["error"] == "invalid_grant"
    userinfo = client.get("/contoso/userinfo", headers={"Authorization": f"Bearer {first.json['access_token']}"})
    assert userinfo.status_code == 401


def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(client, rp, member) -> None:  # type: ignore[no-untyped-def]
    verifier, challenge = pkce_pair()
    tokens = exchange_code(client, rp, login_and_get_code(client, rp, challenge)["code"], verifier).json
    rotated = refresh(client, rp, tokens["refresh_token"])
    assert rotated.status_code == 200 and rotated.json["refresh_token"] != tokens["refresh_token"]

    reuse = refresh(client, rp, tokens["refresh_token"])
    assert reuse.status_code == 400 and reuse.json["error"] == "invalid_grant"
    assert refresh(client, rp, rotated.json["refresh_token"]).json["error"] == "invalid_grant"
    assert _introspect(client, rp, rotated.json["access_token"]) == {"active": False}


def test_prompt_none_without_a_session_redirects_login_required(client, rp, member) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/contoso/authorize", query_string=authorize_params(rp, prompt="none"))
    assert response.status_code == 302
    query = query_of(response.headers["Location"])
    assert response.headers["Location"].startswith(rp.redirect_uri)
    assert query["error"] == "login_required" and query["state"] == "st-123" and query["iss"] == ISSUER
    assert "prompt=none" in query["error_description"]


def test_max_age_forces_reauthentication(client, rp, member, database: Database) -> None:  # type: ignore[no-untyped-def]
    login_and_get_code(client, rp)
    with database.transaction() as s:  # the sign-in happened ten minutes ago
        s.execute(update(SsoSession).values(auth_time=SsoSession.auth_time - 600))
    silent = client.get("/contoso/authorize", query_string=authorize_params(rp, prompt="none", max_age="60"))
    assert query_of(silent.headers["Location"])["error"] == "login_required"

    response = client.get("/contoso/authorize", query_string=authorize_params(rp, max_age="60"))
    assert "/contoso/login" in response.headers["Location"]
    response = sign_in(client, response.headers["Location"])
    response = client.get(response.headers["Location"])
    assert "code" in query_of(response.headers["Location"])
    # without max_age the old session would have been enough
    assert "code" in query_of(client.get("/contoso/authorize", query_string=authorize_params(rp)).headers["Location"])


def test_prompt_login_forces_reauthentication_once(client, rp, member) -> None:  # type: ignore[no-untyped-def]
    login_and_get_code(client, rp)
    response = client.get("/contoso/authorize", query_string=authorize_params(rp, prompt="login"))
    assert "/contoso/login" in response.headers["Location"]
    response = client.get(sign_in(client, response.headers["Location"]).headers["Location"])
    assert "code" in query_of(response.headers["Location"])


def test_wrong_client_secret_is_401_invalid_client_with_www_authenticate(client, rp) -> None:  # type: ignore[no-untyped-def]
    basic = client.post("/contoso/token", data={"grant_type": "client_credentials"}, auth=(rp.client_id, "wrong"))
    assert basic.status_code == 401 and basic.json["error"] == "invalid_client"
    assert basic.headers["WWW-Authenticate"].startswith("Basic")
    assert basic.headers["Cache-Control"] == "no-store"
    post = client.post("/contoso/token", data={"grant_type": "client_credentials", "client_id": rp.client_id,
                                               "client_secret": "wrong"})
    assert post.status_code == 401 and post.json["error"] == "invalid_client"


def test_plain_pkce_is_refused(client, rp, member) -> None:  # type: ignore[no-untyped-def]
    login_and_get_code(client, rp)
    params = authorize_params(rp, code_challenge="a" * 43, code_challenge_method="plain")
    query = query_of(client.get("/contoso/authorize", query_string=params).headers["Location"])
    assert query["error"] == "invalid_request" and "S256" in query["error_description"]
    params = authorize_params(rp, code_challenge="a" * 43)  # no method means plain (RFC 7636 §4.3)
    assert query_of(client.get("/contoso/authorize", query_string=params).headers["Location"])["error"] == (
        "invalid_request")


def test_codes_live_at_most_60_seconds(client, rp, member, database: Database) -> None:  # type: ignore[no-untyped-def]
    from idp.models import AuthorizationCode

    code = login_and_get_code(client, rp)["code"]
    with database.transaction() as s:
        row = s.query(AuthorizationCode).one()
        assert row.expires_at - row.created_at <= timedelta(seconds=60)
        row.expires_at = row.created_at - timedelta(seconds=1)
    assert exchange_code(client, rp, code).json["error"] == "invalid_grant"


def test_id_token_hint_of_another_user_is_login_required_for_prompt_none(client, app, rp, member,
                                                                         database: Database) -> None:  # type: ignore[no-untyped-def]
    from oidc_support import PASSWORD, signed_in_tokens

    from idp.directory import users

    ada_tokens = signed_in_tokens(client, rp)
    own = client.get("/contoso/authorize", query_string=authorize_params(
        rp, prompt="none", id_token_hint=ada_tokens["id_token"]))
    assert "code" in query_of(own.headers["Location"])

    with database.transaction() as s:
        users.create_member(s, s.merge(rp.tenant), "bob@contoso.com", password=PASSWORD)
    other_browser = app.test_client()
    first = other_browser.get("/contoso/authorize", query_string=authorize_params(rp))
    sign_in(other_browser, first.headers["Location"], email="bob@contoso.com")
    silent = other_browser.get("/contoso/authorize", query_string=authorize_params(
        rp, prompt="none", id_token_hint=ada_tokens["id_token"]))
    assert query_of(silent.headers["Location"])["error"] == "login_required"
    garbage = client.get("/contoso/authorize", query_string=authorize_params(rp, id_token_hint="not.a.token"))
    assert query_of(garbage.headers["Location"])["error"] == "invalid_request"


def test_request_objects_are_refused_as_discovery_announces(client, rp, member) -> None:  # type: ignore[no-untyped-def]
    config = client.get("/contoso/.well-known/openid-configuration").json
    assert config["request_parameter_supported"] is False and config["request_uri_parameter_supported"] is False
    login_and_get_code(client, rp)
    for name, error in (("request", "request_not_supported"), ("request_uri", "request_uri_not_supported")):
        params = authorize_params(rp, **{name: "eyJhbGciOiJub25lIn0.e30."})
        query = query_of(client.get("/contoso/authorize", query_string=params).headers["Location"])
        assert query["error"] == error and "code" not in query
        assert query["state"] == "st-123" and query["iss"] == ISSUER
