"""The MFA pages (``/{tenant}/mfa``) as the real journey's step (a member whose conditional access asks for
MFA): enrolment with QR code, manual key and a ``Code`` field, recovery codes, later verification, replay
refused, and the handoff contract."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient

from idp import policy_store
from idp.db import Database
from idp.directory import users
from idp.mfa import step
from idp.models import SsoSession, Tenant

PASSWORD = "correct horse battery staple"
ADA = "ada@contoso.com"
MFA_FOR_EVERYONE = {
    "displayName": "MFA for everyone", "state": "enabled",
    "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]}},
    "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
}
DONE = "/contoso/signin/mfa/done"


@pytest.fixture
def guest_id(database: Database, contoso: Tenant) -> str:
    with database.transaction() as s:
        return users.create_guest(s, contoso, "fiona@fabrikam.com").id


@pytest.fixture
def member_id(database: Database, contoso: Tenant) -> str:
    with database.transaction() as s:
        policy_store.create_conditional_access(s, contoso, MFA_FOR_EVERYONE, roles=None, actor="admin",
                                               now_iso="2026-01-01T00:00:00Z")
        return users.create_member(s, contoso, ADA, password=PASSWORD).id


def sign_in(client: FlaskClient) -> str:
    """The real journey: password, then conditional access hands over to the MFA pages; returns the location."""
    page = client.get("/contoso/login")
    response = client.post("/contoso/login", data={"csrf_token": csrf(page.text), "email": ADA,
                                                   "password": PASSWORD, "submit": "Sign in"})
    assert response.status_code == 302, response.text
    return str(response.headers["Location"])


def signed_in(database: Database, member_id: str) -> int:
    with database.sessionmaker() as s:
        return s.query(SsoSession).filter_by(user_id=member_id).count()


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match
    return match.group(1)


def manual_key(html: str) -> str:
    match = re.search(r'id="manual-key"[^>]*>([A-Z2-7 ]+)</code>', html)
    assert match, html
    return match.group(1).replace(" ", "")


def follow(client: FlaskClient, url: str, expected: str):  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == 302, response.text
    assert response.headers["Location"].endswith(expected), response.headers["Location"]
    return response.headers["Location"]


def test_enrol_then_verify_on_a_later_sign_in(app: Flask, database: Database, contoso: Tenant,
                                             member_id: str) -> None:
    client = app.test_client()
    assert sign_in(client) == "/contoso/mfa"
    follow(client, "/contoso/mfa", "/contoso/mfa/enrol")
    page = client.get("/contoso/mfa/enrol")
    assert page.status_code == 200
    html = page.text
    assert '<label for="code">Code</label>' in html and ">Verify</button>" in html
    assert re.search(r'<img src="data:image/svg\+xml[^"]+" alt="QR code to add Contoso', html)
    secret = manual_key(html)
    totp = pyotp.TOTP(secret)

    wrong = client.post("/contoso/mfa/enrol", data={"csrf_token": csrf(html), "code": "000000"
                                                     if totp.now() != "000000" else "111111"})
    assert wrong.status_code == 400 and "not correct" in wrong.text and 'aria-invalid="true"' in wrong.text
    assert manual_key(wrong.text) == secret  # the same secret after a wrong code

    done = client.post("/contoso/mfa/enrol", data={"csrf_token": csrf(html), "code": totp.now()})
    assert done.status_code == 200
    codes = re.findall(r"<code>([0-9a-f]{5}-[0-9a-f]{5})</code>", done.text)
    assert len(codes) == 10
    assert f'href="{DONE}"' in done.text
    assert signed_in(database, member_id) == 0
    follow(client, DONE, "/contoso/")
    assert signed_in(database, member_id) == 1

    # a later sign-in: a fresh browser, asked for the code (not enrolment)
    later = app.test_client()
    assert later.get(DONE).status_code == 400  # nothing handed over in this browser
    assert sign_in(later) == "/contoso/mfa"
    follow(later, "/contoso/mfa", "/contoso/mfa/verify")
    form = later.get("/contoso/mfa/verify")
    assert '<label for="code">Code</label>' in form.text
    next_step = totp.at(time.time() + 30)  # the enrolment used the current step
    ok = later.post("/contoso/mfa/verify", data={"csrf_token": csrf(form.text), "code": next_step})
    assert ok.status_code == 302 and ok.headers["Location"] == DONE
    follow(later, DONE, "/contoso/")
    assert signed_in(database, member_id) == 2

    again = app.test_client()
    assert sign_in(again) == "/contoso/mfa"
    follow(again, "/contoso/mfa", "/contoso/mfa/verify")
    form = again.get("/contoso/mfa/verify")
    replay = again.post("/contoso/mfa/verify", data={"csrf_token": csrf(form.text), "code": next_step})
    assert replay.status_code == 400 and "already used" in replay.text
    recovered = again.post("/contoso/mfa/verify", data={"csrf_token": csrf(form.text), "code": codes[0]})
    assert recovered.status_code == 302
    follow(again, DONE, "/contoso/")
    assert signed_in(database, member_id) == 3


def test_pages_need_a_handoff_from_the_journey(client: FlaskClient, contoso: Tenant, guest_id: str) -> None:
    for path in ("/contoso/mfa", "/contoso/mfa/enrol", "/contoso/mfa/verify"):
        response = client.get(path)
        assert response.status_code == 400 and "sign in again" in response.text


def test_start_refuses_a_next_url_off_this_host(app: Flask, contoso: Tenant) -> None:
    with app.test_request_context("/"):
        for bad in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)", "/\\evil.example"):
            with pytest.raises(ValueError):
                step.start(contoso, "user", bad)
        assert step.start(contoso, "user", "/contoso/authorize?resume=x") == "/contoso/mfa"


@dataclass
class State:
    tenant_id: str = "t"
    user_id: str | None = "u"
    mfa_required: bool = True
    mfa_completed: bool = False


@pytest.mark.parametrize(("state", "expected"), [
    (State(), True),
    (State(mfa_required=False), False),
    (State(mfa_completed=True), False),
    (State(user_id=None), False),
])
def test_step_applies_only_when_mfa_is_required_and_not_yet_done(state: State, expected: bool) -> None:
    assert step.applies(state) is expected
