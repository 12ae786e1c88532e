"""``acr_values`` and the ``acr`` claim: "1" after one factor, "2" after MFA; a request for "2" sends a
single-factor sign-in (new or an existing SSO session) through the journey's ``mfa`` step; ``prompt=none`` cannot."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from oidc_support import (
    RelyingParty,
    authorize_params,
    csrf_token,
    exchange_code,
    login_and_get_code,
    query_of,
    sign_in,
)

from idp.db import Database
from idp.models import SsoSession
from idp.policy.acr import acr_for, needs_step_up, preferred_acr

ISSUER = "http://127.0.0.1:5000/contoso"
DONE = "/contoso/signin/mfa/done"


def id_token_claims(app: Flask, client: FlaskClient, rp: RelyingParty, code: str) -> dict[str, Any]:
    response = exchange_code(client, rp, code)
    assert response.status_code == 200, response.text
    return jwt.decode(response.json["id_token"], app.extensions["portico"].keys.verification_keys()).claims


def enrol_totp(client: FlaskClient, location: str) -> pyotp.TOTP:
    """The ``mfa`` step's pages: enrol an authenticator from the manual key; returns it."""
    assert location == "/contoso/mfa", location
    assert client.get(location).headers["Location"] == "/contoso/mfa/enrol"
    page = client.get("/contoso/mfa/enrol")
    match = re.search(r'id="manual-key"[^>]*>([A-Z2-7 ]+)</code>', page.text)
    assert match, page.text
    totp = pyotp.TOTP(match.group(1).replace(" ", ""))
    codes = client.post("/contoso/mfa/enrol", data={"csrf_token": csrf_token(page.text), "code": totp.now()})
    assert codes.status_code == 200 and f'href="{DONE}"' in codes.text
    return totp


def finish_mfa_and_get_code(client: FlaskClient, rp: RelyingParty) -> str:
    """After the second factor: the journey resumes the authorization request, which answers with a code."""
    resumed = client.get(DONE)
    assert resumed.status_code == 302 and "/contoso/authorize?resume=" in resumed.headers["Location"]
    callback = client.get(resumed.headers["Location"])
    assert callback.headers["Location"].startswith(rp.redirect_uri), callback.headers["Location"]
    return query_of(callback.headers["Location"])["code"]


def test_password_only_sign_in_has_acr_1(app, client, rp, member) -> None:  # type: ignore[no-untyped-def]
    claims = id_token_claims(app, client, rp, login_and_get_code(client, rp)["code"])
    assert claims["acr"] == "1" and claims["amr"] == ["pwd"]


@pytest.mark.parametrize("acr_values", ["1", "urn:unknown:level gold", "1 2"])
def test_acr_values_1_or_unknown_values_change_nothing(app, client, rp, member, acr_values) -> None:  # type: ignore[no-untyped-def]
    first = login_and_get_code(client, rp, acr_values=acr_values)  # a plain sign-in: no MFA step
    assert id_token_claims(app, client, rp, first["code"])["acr"] == "1"
    again = client.get("/contoso/authorize", query_string=authorize_params(rp, acr_values=acr_values))
    assert "code" in query_of(again.headers["Location"])  # the single-factor session is reused as it is


def test_acr_values_2_forces_the_mfa_step_and_the_id_token_says_acr_2(app, client, rp, member,  # type: ignore[no-untyped-def]
                                                                      database: Database) -> None:
    start = client.get("/contoso/authorize", query_string=authorize_params(rp, acr_values="2"))
    assert "/contoso/login" in start.headers["Location"]
    signed_in = sign_in(client, start.headers["Location"])
    assert signed_in.status_code == 302
    enrol_totp(client, signed_in.headers["Location"])  # the password alone does not finish the sign-in
    claims = id_token_claims(app, client, rp, finish_mfa_and_get_code(client, rp))
    assert claims["acr"] == "2" and "mfa" in claims["amr"]
    with database.sessionmaker() as s:
        assert "mfa" in s.query(SsoSession).filter_by(user_id=member).one().amr

    # the multi-factor session satisfies later requests for 2 (and for nothing in particular) silently
    for extra in ({"acr_values": "2", "prompt": "none"}, {}):
        silent = client.get("/contoso/authorize", query_string=authorize_params(rp, **extra))
        assert id_token_claims(app, client, rp, query_of(silent.headers["Location"])["code"])["acr"] == "2"


def test_an_existing_single_factor_session_steps_up_with_the_second_factor_only(app, client, rp, member,  # type: ignore[no-untyped-def]
                                                                                database: Database) -> None:
    sid = id_token_claims(app, client, rp, login_and_get_code(client, rp)["code"])["sid"]  # password: acr 1
    step_up = client.get("/contoso/authorize", query_string=authorize_params(rp, acr_values="2"))
    assert step_up.status_code == 302
    assert urlsplit(step_up.headers["Location"]).path == "/contoso/mfa"  # no new password: straight to MFA
    enrol_totp(client, step_up.headers["Location"])
    claims = id_token_claims(app, client, rp, finish_mfa_and_get_code(client, rp))
    assert claims["acr"] == "2" and claims["amr"] == ["pwd", "otp", "mfa"]
    assert claims["auth_time"] >= int(time.time()) - 5
    with database.sessionmaker() as s:  # the same session, raised: its sid (and its applications) stay
        [session] = s.query(SsoSession).filter_by(user_id=member).all()
        assert session.amr == ["pwd", "otp", "mfa"] and session.id == sid == claims["sid"]


def test_the_step_up_cannot_be_skipped(app, client, rp, member) -> None:  # type: ignore[no-untyped-def]
    login_and_get_code(client, rp)
    step_up = client.get("/contoso/authorize", query_string=authorize_params(rp, acr_values="2"))
    assert urlsplit(step_up.headers["Location"]).path == "/contoso/mfa"
    assert client.get(DONE).status_code == 400  # no second factor yet
    again = client.get("/contoso/authorize", query_string=authorize_params(rp, acr_values="2"))
    assert urlsplit(again.headers["Location"]).path == "/contoso/mfa"  # still no code for acr 2


def test_prompt_none_with_acr_values_2_and_a_single_factor_session_is_interaction_required(  # type: ignore[no-untyped-def]
        client, rp, member) -> None:
    login_and_get_code(client, rp)
    response = client.get("/contoso/authorize", query_string=authorize_params(rp, prompt="none", acr_values="2"))
    assert response.status_code == 302 and response.headers["Location"].startswith(rp.redirect_uri)
    query = query_of(response.headers["Location"])
    assert query["error"] == "interaction_required" and query["state"] == "st-123" and query["iss"] == ISSUER
    assert "acr_values=2" in query["error_description"]


def test_discovery_lists_acr_values_1_and_2(client, contoso) -> None:  # type: ignore[no-untyped-def]
    metadata = client.get("/contoso/.well-known/openid-configuration").json
    assert metadata["acr_values_supported"] == ["1", "2"]


def test_acr_is_2_only_when_mfa_is_satisfied() -> None:
    assert (acr_for(True), acr_for(False)) == ("2", "1")


@pytest.mark.parametrize(("acr_values", "acr", "expected"), [
    (None, "1", False), ("", "1", False), ("1", "1", False), ("gold", "1", False),
    ("2", "1", True), ("2 1", "1", True), ("gold 2", "1", True),  # unknown values are skipped
    ("1 2", "1", False),  # "1" is preferred: one factor satisfies it
    ("2", "2", False),
])
def test_needs_step_up(acr_values: str | None, acr: str, expected: bool) -> None:
    assert needs_step_up(acr_values, acr) is expected


def test_preferred_acr_is_the_first_known_value() -> None:
    assert preferred_acr("silver 2 1") == "2" and preferred_acr("a b") is None and preferred_acr(None) is None


def test_a_guest_single_factor_session_signs_in_again_for_acr_values_2(client, rp, database: Database,  # type: ignore[no-untyped-def]
                                                                       contoso) -> None:
    """A guest's session (here email one-time passcode) is not raised in place: the guest goes through the sign-in
    again, whose journey then asks for the second factor."""
    from idp.directory import users
    from idp.oidc import store
    from idp.oidc.sso import COOKIE_NAME
    from idp.otp import MAIL_IDENTITY_ISSUER

    with database.transaction() as s:
        guest = users.create_guest(s, s.merge(contoso), "fiona@fabrikam.com")
        cookie, _ = store.start_session(s, s.merge(contoso), guest.id, amr=["otp"], auth_time=int(time.time()),
                                        idp=MAIL_IDENTITY_ISSUER)
    client.set_cookie(COOKIE_NAME, cookie, path="/contoso/")
    plain = client.get("/contoso/authorize", query_string=authorize_params(rp))
    assert "code" in query_of(plain.headers["Location"])  # the session is fine for a request without acr_values
    response = client.get("/contoso/authorize", query_string=authorize_params(rp, acr_values="2"))
    assert urlsplit(response.headers["Location"]).path == "/contoso/login"
