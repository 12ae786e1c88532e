"""prompt=select_account: the account chooser when a session exists, a normal sign-in when none does."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from joserfc import jwt
from oidc_support import PASSWORD, LiveServer, authorize_params, csrf_token, exchange_code, make_rp, query_of, sign_in
from sqlalchemy import update

from idp.db import Database
from idp.directory import users
from idp.models import SsoSession, Tenant


def _id_token_claims(app, tokens) -> dict:  # type: ignore[no-untyped-def]
    keys = app.extensions["portico"].keys.verification_keys()
    return jwt.decode(tokens["id_token"], keys).claims


def _signed_in_auth_time(client, rp, database: Database) -> int:  # type: ignore[no-untyped-def]
    """Sign in, then age the session so a silent re-authentication would show in ``auth_time``."""
    sign_in(client, client.get("/contoso/authorize", query_string=authorize_params(rp)).headers["Location"])
    with database.transaction() as s:
        s.execute(update(SsoSession).values(auth_time=SsoSession.auth_time - 600))
        return s.scalar(SsoSession.__table__.select().with_only_columns(SsoSession.auth_time))  # type: ignore[no-any-return]


def _chooser(client, rp, **extra):  # type: ignore[no-untyped-def]
    response = client.get("/contoso/authorize", query_string=authorize_params(rp, prompt="select_account", **extra))
    assert response.status_code == 302 and "/contoso/select-account?request=" in response.headers["Location"]
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    return response.headers["Location"], page


def test_continue_as_the_signed_in_account_keeps_the_session(client, app, rp, member, database) -> None:  # type: ignore[no-untyped-def]
    auth_time = _signed_in_auth_time(client, rp, database)
    location, page = _chooser(client, rp)
    assert ">Continue as Ada Lovelace</button>" in page.text and ">Use another account</button>" in page.text
    assert "ada@contoso.com" in page.text
    request_id = query_of(location)["request"]
    back = client.post(location, data={"csrf_token": csrf_token(page.text), "request_id": request_id,
                                       "current": "Continue"})
    assert back.status_code == 302 and "/contoso/authorize?resume=" in back.headers["Location"]
    done = client.get(back.headers["Location"])
    callback = query_of(done.headers["Location"])
    assert callback["state"] == "st-123" and "code" in callback
    tokens = exchange_code(client, rp, callback["code"]).json
    assert _id_token_claims(app, tokens)["auth_time"] == auth_time  # no new sign-in happened


def test_use_another_account_goes_to_an_empty_sign_in_page(client, app, rp, member, database, contoso) -> None:  # type: ignore[no-untyped-def]
    with database.transaction() as s:
        bob = users.create_member(s, contoso, "bob@contoso.com", password=PASSWORD, display_name="Bob").id
    _signed_in_auth_time(client, rp, database)
    location, page = _chooser(client, rp, login_hint="ada@contoso.com")
    request_id = query_of(location)["request"]
    login = client.post(location, data={"csrf_token": csrf_token(page.text), "request_id": request_id,
                                        "another": "Use another account"})
    assert login.status_code == 302 and "/contoso/login?request=" in login.headers["Location"]
    form = client.get(login.headers["Location"])
    email_input = re.search(r"<input[^>]*name=\"email\"[^>]*>", form.text)
    assert email_input and 'value=""' in email_input.group(0)  # not pre-filled, even with a login_hint
    signed_in = sign_in(client, login.headers["Location"], email="bob@contoso.com")
    done = client.get(signed_in.headers["Location"])
    callback = query_of(done.headers["Location"])
    assert callback["state"] == "st-123"
    assert _id_token_claims(app, exchange_code(client, rp, callback["code"]).json)["sub"] == bob


def test_select_account_without_a_session_is_a_normal_sign_in(client, rp, member) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/contoso/authorize", query_string=authorize_params(rp, prompt="select_account"))
    assert response.status_code == 302 and "/contoso/login?request=" in response.headers["Location"]
    signed_in = sign_in(client, response.headers["Location"])
    done = client.get(signed_in.headers["Location"])  # no chooser after the sign-in this request caused
    assert "code" in query_of(done.headers["Location"])


@pytest.mark.parametrize("signed_in", [False, True])
def test_prompt_none_with_select_account_is_invalid_request(client, rp, member, database, signed_in) -> None:  # type: ignore[no-untyped-def]
    if signed_in:
        _signed_in_auth_time(client, rp, database)
    response = client.get("/contoso/authorize", query_string=authorize_params(rp, prompt="none select_account"))
    callback = query_of(response.headers["Location"])
    assert callback["error"] == "invalid_request" and callback["state"] == "st-123"
    assert callback["iss"] == "http://127.0.0.1:5000/contoso"


def test_the_chooser_refuses_an_unknown_request(client, rp, member, database) -> None:  # type: ignore[no-untyped-def]
    _signed_in_auth_time(client, rp, database)
    assert client.get("/contoso/select-account?request=nope").status_code == 400


@pytest.mark.browser
def test_account_chooser_in_chromium(live: LiveServer, chromium, database: Database, contoso: Tenant,  # type: ignore[no-untyped-def]
                                     member: str) -> None:
    from playwright.sync_api import expect

    rp = make_rp(database, contoso)
    page = chromium.new_page()
    callbacks: list[str] = []
    page.route(f"{rp.redirect_uri}**", lambda route: (callbacks.append(route.request.url),
                                                      route.fulfill(status=200, body="back at the app")))
    base = {"response_type": "code", "client_id": rp.client_id, "redirect_uri": rp.redirect_uri,
            "scope": "openid email", "state": "chooser"}
    page.goto(f"{live.issuer('contoso')}/authorize?{urlencode(base)}")
    page.get_by_label("Email address").fill("ada@contoso.com")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("back at the app")).to_be_visible()

    page.goto(f"{live.issuer('contoso')}/authorize?{urlencode({**base, 'prompt': 'select_account'})}")
    expect(page.get_by_role("heading", name="Choose an account")).to_be_visible()
    page.get_by_role("button", name="Continue as Ada Lovelace").click()
    expect(page.get_by_text("back at the app")).to_be_visible()
    assert "code" in query_of(callbacks[-1]) and query_of(callbacks[-1])["state"] == "chooser"

    page.goto(f"{live.issuer('contoso')}/authorize?{urlencode({**base, 'prompt': 'select_account'})}")
    page.get_by_role("button", name="Use another account").click()
    expect(page.get_by_label("Email address")).to_have_value("")
    expect(page.get_by_role("heading", name="Sign in to Contoso")).to_be_visible()


