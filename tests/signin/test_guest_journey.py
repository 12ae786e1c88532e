"""The guest sign-in journey through the test client, with real mail (aiosmtpd): redeem link -> email OTP ->
"Review permissions" -> inviteRedirectUrl; just-in-time redemption from an authorization request; the pages that
refuse (not invited, OTP turned off, blocked by cross-tenant access, MFA required), and the step registry."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from journey_support import (
    MFA_FOR_GUESTS,
    REDIRECT,
    code_in,
    csrf,
    deliver,
    enter_code,
    invite,
    path_of,
    redeem_link,
    review,
    send_code,
    sign_ins,
)

from idp import policy_store
from idp.db import Database, utcnow
from idp.directory import applications, users
from idp.models import Invitation, SsoSession, Tenant, User
from idp.runtime import runtime
from idp.signin.context import COOKIE_NAME

ISSUER = "http://127.0.0.1:5000/contoso"
GUEST = "john@fabrikam.com"
OTP = "/contoso/signin/otp"
REVIEW = "/contoso/signin/review"


def guest(database: Database, tenant: Tenant, email: str = GUEST) -> User:
    with database.sessionmaker() as s:
        [user] = users.find_users_by_email(s, tenant, email)
        s.expunge_all()
        return user


def sign_in_by_otp(client: FlaskClient, mailbox, smtp, database: Database, email: str = GUEST):  # type: ignore[no-untyped-def]
    """On the passcode page: Send code, read the mail, Verify. Returns the response to Verify."""
    sent = send_code(client, OTP)
    assert sent.status_code == 200 and f"We sent a code to {email}" in sent.text
    deliver(database, smtp)
    return enter_code(client, OTP, code_in(mailbox.to(email)[-1]))


def test_redeem_link_email_otp_review_permissions_then_redirect(client: FlaskClient, database: Database,
                                                                 contoso: Tenant, smtp) -> None:  # type: ignore[no-untyped-def]
    mailbox, settings = smtp
    invite(database, contoso, GUEST, issuer=ISSUER)
    deliver(database, settings)
    link = redeem_link(mailbox.to(GUEST)[0])

    opened = client.get(path_of(link))
    assert opened.headers["Location"].endswith("/contoso/signin/route")
    journey_cookie = client.get_cookie(COOKIE_NAME, path="/contoso/")
    assert journey_cookie is not None and journey_cookie.http_only and journey_cookie.same_site == "Lax"
    routed = client.get("/contoso/signin/route")
    assert routed.headers["Location"].endswith(OTP)

    verified = sign_in_by_otp(client, mailbox, settings, database)
    assert verified.status_code == 302 and verified.headers["Location"].endswith(REVIEW)
    assert guest(database, contoso).external_user_state == "PendingAcceptance"  # not before Accept
    page = client.get(REVIEW)
    assert "Contoso" in page.text and "email address" in page.text

    accepted = review(client, REVIEW, "Accept")
    assert accepted.status_code == 302 and accepted.headers["Location"] == REDIRECT
    user = guest(database, contoso)
    assert user.external_user_state == "Accepted"
    with database.sessionmaker() as s:
        identities = {(i.sign_in_type, i.issuer, i.issuer_assigned_id) for i in s.get(User, user.id).identities}
        assert ("federated", "mail", GUEST) in identities
        [session] = s.query(SsoSession).filter_by(user_id=user.id).all()
        assert session.amr == ["otp"]
        assert timedelta(hours=23) < session.expires_at - utcnow() <= timedelta(hours=24)  # decision 1
        assert all(i.ticket_consumed_at is not None for i in s.query(Invitation).all())

    again = client.get(path_of(link))
    assert again.status_code == 400 and "already been used" in again.text


def test_cancel_on_review_permissions_leaves_the_guest_pending(client: FlaskClient, database: Database,
                                                               contoso: Tenant, smtp) -> None:  # type: ignore[no-untyped-def]
    mailbox, settings = smtp
    link = invite(database, contoso, GUEST, issuer=ISSUER, send=False)
    client.get(path_of(link))
    client.get("/contoso/signin/route")
    sign_in_by_otp(client, mailbox, settings, database)
    cancelled = review(client, REVIEW, "Cancel")
    assert cancelled.status_code == 200 and "did not accept" in cancelled.text
    assert guest(database, contoso).external_user_state == "PendingAcceptance"
    with database.sessionmaker() as s:
        assert s.query(SsoSession).count() == 0
    assert client.get(path_of(link)).status_code == 302  # the ticket still works


def _authorize(client: FlaskClient, database: Database, tenant: Tenant, **extra: str):  # type: ignore[no-untyped-def]
    with database.transaction() as s:
        app = applications.create_application(s, tenant, name="Wiki", redirect_uris=["http://127.0.0.1:8765/cb"],
                                              grant_types=["authorization_code"], scopes=["openid", "email"],
                                              public=False, first_party=True)
        client_id = app.application.client_id
        client.rp_credentials = (client_id, app.client_secret)  # type: ignore[attr-defined]
    return client.get("/contoso/authorize", query_string={
        "response_type": "code", "client_id": client_id, "redirect_uri": "http://127.0.0.1:8765/cb",
        "scope": "openid email", "state": "s1", **extra})


def test_jit_redemption_from_an_authorization_request_returns_to_the_app(
        app: Flask, client: FlaskClient, database: Database, contoso: Tenant, smtp) -> None:  # type: ignore[no-untyped-def]
    mailbox, settings = smtp
    invite(database, contoso, GUEST, issuer=ISSUER, send=False)
    login = _authorize(client, database, contoso)
    page = client.get(login.headers["Location"])
    assert "Email address" in page.text and ">Next<" in page.text and "Password" not in page.text
    request_id = login.headers["Location"].split("request=")[1]
    nxt = client.post(path_of(login.headers["Location"]), data={
        "csrf_token": csrf(page.text), "request_id": request_id, "email": GUEST, "next": "Next"})
    assert nxt.headers["Location"].endswith("/contoso/signin/route")
    assert client.get("/contoso/signin/route").headers["Location"].endswith(OTP)
    verified = sign_in_by_otp(client, mailbox, settings, database)
    assert verified.headers["Location"].endswith(REVIEW)
    accepted = review(client, REVIEW, "Accept")
    assert f"/contoso/authorize?resume={request_id}" in accepted.headers["Location"]
    back = client.get(accepted.headers["Location"])
    assert back.headers["Location"].startswith("http://127.0.0.1:8765/cb?code=")
    assert guest(database, contoso).external_user_state == "Accepted"
    code = back.headers["Location"].split("code=")[1].split("&")[0]
    tokens = client.post("/contoso/token", auth=client.rp_credentials, data={  # type: ignore[attr-defined]
        "grant_type": "authorization_code", "code": code, "redirect_uri": "http://127.0.0.1:8765/cb"}).json
    claims = jwt.decode(tokens["id_token"], runtime(app).keys.verification_keys()).claims
    assert claims["amr"] == ["otp"] and claims["idp"] == "mail"  # decision 9; the home issuer
    assert claims["sub"] == guest(database, contoso).id and claims["tid"] == contoso.id


def test_login_hint_starts_home_realm_discovery_and_an_accepted_guest_skips_review(
        client: FlaskClient, database: Database, contoso: Tenant, smtp) -> None:  # type: ignore[no-untyped-def]
    mailbox, settings = smtp
    link = invite(database, contoso, GUEST, issuer=ISSUER, send=False)
    client.get(path_of(link))
    client.get("/contoso/signin/route")
    sign_in_by_otp(client, mailbox, settings, database)
    review(client, REVIEW, "Accept")
    client.delete_cookie("portico_sso", path="/contoso/")

    login = _authorize(client, database, contoso, login_hint=GUEST)
    assert client.get(login.headers["Location"]).headers["Location"].endswith("/contoso/signin/route")
    assert client.get("/contoso/signin/route").headers["Location"].endswith(OTP)  # sticky: bound to mail
    verified = sign_in_by_otp(client, mailbox, settings, database)
    assert "/contoso/authorize?resume=" in verified.headers["Location"]


def test_member_sees_password_after_next(client: FlaskClient, database: Database, contoso: Tenant) -> None:
    with database.transaction() as s:
        users.create_member(s, contoso, "ada@contoso.com", password="correct horse battery staple")
    page = client.get("/contoso/login")
    step = client.post("/contoso/login", data={"csrf_token": csrf(page.text), "email": "ada@contoso.com",
                                               "next": "Next"})
    assert step.status_code == 200 and 'for="password">Password<' in step.text and ">Sign in<" in step.text


def test_an_address_that_was_not_invited_gets_a_page_saying_so(client: FlaskClient, contoso: Tenant) -> None:
    page = client.get("/contoso/login")
    response = client.post("/contoso/login", data={"csrf_token": csrf(page.text), "email": "stranger@example.org",
                                                   "next": "Next"})
    routed = client.get(response.headers["Location"])
    assert routed.status_code == 403 and "You have not been invited to Contoso" in routed.text


def test_otp_turned_off_tells_an_otp_guest_why(client: FlaskClient, database: Database, contoso: Tenant,
                                               smtp) -> None:  # type: ignore[no-untyped-def]
    mailbox, settings = smtp
    link = invite(database, contoso, GUEST, issuer=ISSUER, send=False)
    client.get(path_of(link))
    client.get("/contoso/signin/route")
    sign_in_by_otp(client, mailbox, settings, database)
    review(client, REVIEW, "Accept")
    with database.transaction() as s:
        policy_store.update_external_collaboration(s, contoso, {"emailOtpForGuests": False},
                                                   policy="authorizationPolicy", roles=None, actor="admin")
    login = _authorize(client, database, contoso, login_hint=GUEST, prompt="login")
    client.get(login.headers["Location"])
    refused = client.get("/contoso/signin/route")
    assert refused.status_code == 403
    assert "turned off" in refused.text and "reset your redemption" in refused.text


def test_cross_tenant_block_ends_on_a_page_naming_the_setting(client: FlaskClient, database: Database,
                                                              contoso: Tenant, smtp) -> None:  # type: ignore[no-untyped-def]
    mailbox, settings = smtp
    link = invite(database, contoso, GUEST, issuer=ISSUER, send=False)
    with database.transaction() as s:
        policy_store.update_cross_tenant_default(s, contoso, {"b2bCollaborationInbound": {
            "usersAndGroups": {"accessType": "blocked", "targets": [{"target": "AllUsers", "targetType": "user"}]},
            "applications": {"accessType": "blocked",
                             "targets": [{"target": "AllApplications", "targetType": "application"}]}}},
            roles=None, actor="admin")
    client.get(path_of(link))
    client.get("/contoso/signin/route")
    blocked = sign_in_by_otp(client, mailbox, settings, database)
    assert blocked.status_code == 403 and "b2bCollaborationInbound" in blocked.text
    assert guest(database, contoso).external_user_state == "PendingAcceptance"




def _require_mfa(database: Database, tenant: Tenant) -> None:
    with database.transaction() as s:
        policy_store.create_conditional_access(s, tenant, MFA_FOR_GUESTS, roles=None, actor="admin",
                                               now_iso="2026-01-01T00:00:00Z")


def test_require_mfa_sends_the_guest_through_totp_enrolment_before_review(client: FlaskClient, database: Database,
                                                                          contoso: Tenant, smtp) -> None:  # type: ignore[no-untyped-def]
    mailbox, settings = smtp
    link = invite(database, contoso, GUEST, issuer=ISSUER, send=False)
    _require_mfa(database, contoso)
    client.get(path_of(link))
    client.get("/contoso/signin/route")
    verified = sign_in_by_otp(client, mailbox, settings, database)
    assert verified.headers["Location"] == "/contoso/mfa"
    assert client.get("/contoso/mfa").headers["Location"] == "/contoso/mfa/enrol"
    assert client.get("/contoso/signin/mfa/done").status_code == 400  # no second factor yet: no way around it
    page = client.get("/contoso/mfa/enrol")
    key = re.search(r'id="manual-key"[^>]*>([A-Z2-7 ]+)</code>', page.text)
    assert key is not None
    codes = client.post("/contoso/mfa/enrol", data={"csrf_token": csrf(page.text),
                                                    "code": pyotp.TOTP(key.group(1).replace(" ", "")).now()})
    assert codes.status_code == 200 and 'href="/contoso/signin/mfa/done"' in codes.text
    assert client.get("/contoso/signin/mfa/done").headers["Location"].endswith(REVIEW)
    review(client, REVIEW, "Accept")
    with database.sessionmaker() as s:
        assert s.query(SsoSession).one().amr == ["otp", "mfa"]
    done, required = sign_ins(client, contoso, ISSUER)  # newest first
    assert required["outcome"] == "interrupted" and required["status"]["errorCode"] == 50076
    assert required["status"]["failureReason"].startswith("Multi-factor authentication required")
    assert [p["displayName"] for p in required["appliedConditionalAccessPolicies"]] == ["MFA for guests"]
    assert done["outcome"] == "success" and done["authenticationMethodsReferences"] == ["otp", "mfa"]
    assert done["status"]["additionalDetails"].startswith("Multi-factor authentication completed")
    assert {e["upstreamIdentityProvider"] for e in (done, required)} == {"mail"}
    assert {e["ipAddress"] for e in (done, required)} == {"127.0.0.1"}


def test_a_wrong_code_is_a_failed_sign_in_in_the_log(client: FlaskClient, database: Database, contoso: Tenant,
                                                     smtp) -> None:  # type: ignore[no-untyped-def]
    mailbox, settings = smtp
    link = invite(database, contoso, GUEST, issuer=ISSUER, send=False)
    client.get(path_of(link))
    client.get("/contoso/signin/route")
    send_code(client, OTP)
    assert enter_code(client, OTP, "00000000").status_code == 400
    [entry] = sign_ins(client, contoso, ISSUER)
    assert entry["outcome"] == "failure" and entry["userId"] == guest(database, contoso).id
    assert entry["upstreamIdentityProvider"] == "mail" and "not correct" in entry["status"]["failureReason"]


def test_a_restart_between_send_and_verify_loses_nothing(client: FlaskClient, settings, database: Database,  # type: ignore[no-untyped-def]
                                                         contoso: Tenant, smtp) -> None:
    from idp import create_app

    mailbox, smtp_settings = smtp
    link = invite(database, contoso, GUEST, issuer=ISSUER, send=False)
    client.get(path_of(link))
    client.get("/contoso/signin/route")
    send_code(client, OTP)
    deliver(database, smtp_settings)
    cookie = client.get_cookie(COOKIE_NAME, path="/contoso/")
    assert cookie is not None

    restarted = create_app(settings)  # a new process: nothing but the database and the browser's cookie
    try:
        other = restarted.test_client()
        other.set_cookie(COOKIE_NAME, cookie.value, path="/contoso/")
        verified = enter_code(other, OTP, code_in(mailbox.to(GUEST)[-1]))
        assert verified.status_code == 302 and verified.headers["Location"].endswith(REVIEW)
    finally:
        restarted.extensions["portico"].database.dispose()


def test_expired_journeys_are_purged(client: FlaskClient, database: Database, contoso: Tenant) -> None:
    from idp.models import SignInJourney
    from idp.oidc import store

    link = invite(database, contoso, GUEST, issuer=ISSUER, send=False)
    client.get(path_of(link))
    with database.transaction() as s:
        assert store.purge_expired(s, now=utcnow())["signin_journeys"] == 0
        assert store.purge_expired(s, now=utcnow() + timedelta(hours=3))["signin_journeys"] == 1
        assert s.query(SignInJourney).count() == 0


def test_send_limits_hold_on_the_passcode_page(client: FlaskClient, database: Database, contoso: Tenant) -> None:
    link = invite(database, contoso, GUEST, issuer=ISSUER, send=False)
    client.get(path_of(link))
    client.get("/contoso/signin/route")
    for _ in range(5):
        assert send_code(client, OTP).status_code == 200
    limited = send_code(client, OTP)
    assert limited.status_code == 429 and "Too many codes were sent to this address" in limited.text


def test_a_wrong_code_is_counted_and_the_page_says_so(client: FlaskClient, database: Database, contoso: Tenant,
                                                      smtp) -> None:  # type: ignore[no-untyped-def]
    link = invite(database, contoso, GUEST, issuer=ISSUER, send=False)
    client.get(path_of(link))
    client.get("/contoso/signin/route")
    send_code(client, OTP)
    for _ in range(4):
        assert "not correct" in enter_code(client, OTP, "00000000").text
    locked = enter_code(client, OTP, "00000000")
    assert locked.status_code == 400 and "Too many wrong codes" in locked.text


def test_a_code_works_once_and_an_expired_code_is_refused(client: FlaskClient, app: Flask, database: Database,
                                                          contoso: Tenant, smtp) -> None:  # type: ignore[no-untyped-def]
    from idp.models import EmailOtpCode

    mailbox, smtp_settings = smtp
    link = invite(database, contoso, GUEST, issuer=ISSUER, send=False)
    client.get(path_of(link))
    client.get("/contoso/signin/route")
    send_code(client, OTP)
    deliver(database, smtp_settings)
    code = code_in(mailbox.to(GUEST)[-1])
    assert enter_code(client, OTP, code).status_code == 302

    second = app.test_client()  # another browser replays the same code
    second.get(path_of(link))
    second.get("/contoso/signin/route")
    replay = enter_code(second, OTP, code)
    assert replay.status_code == 400 and "no code waiting" in replay.text

    send_code(second, OTP)
    deliver(database, smtp_settings)
    with database.transaction() as s:  # 30 minutes pass
        for row in s.query(EmailOtpCode).filter(EmailOtpCode.consumed_at.is_(None)):
            row.expires_at = utcnow() - timedelta(seconds=1)
    expired = enter_code(second, OTP, code_in(mailbox.to(GUEST)[-1]))
    assert expired.status_code == 400 and "That code has expired" in expired.text


def test_members_walk_the_policy_step_too(client: FlaskClient, database: Database, contoso: Tenant) -> None:
    with database.transaction() as s:
        users.create_member(s, contoso, "ada@contoso.com", password="correct horse battery staple")
        policy_store.create_conditional_access(s, contoso, {
            "displayName": "Block everyone", "state": "enabled",
            "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]}},
            "grantControls": {"operator": "OR", "builtInControls": ["block"]}}, roles=None, actor="admin",
            now_iso="2026-01-01T00:00:00Z")
    page = client.get("/contoso/login")
    blocked = client.post("/contoso/login", data={"csrf_token": csrf(page.text), "email": "ada@contoso.com",
                                                  "password": "correct horse battery staple"})
    assert blocked.status_code == 403 and "Block everyone" in blocked.text
    with database.sessionmaker() as s:
        assert s.query(SsoSession).count() == 0


def test_cancel_during_jit_redemption_returns_access_denied_to_the_app(
        client: FlaskClient, database: Database, contoso: Tenant, smtp) -> None:  # type: ignore[no-untyped-def]
    mailbox, settings = smtp
    invite(database, contoso, GUEST, issuer=ISSUER, send=False)
    login = _authorize(client, database, contoso, login_hint=GUEST)
    client.get(login.headers["Location"])
    client.get("/contoso/signin/route")
    sign_in_by_otp(client, mailbox, settings, database)
    cancelled = review(client, REVIEW, "Cancel")
    back = client.get(cancelled.headers["Location"])
    assert back.headers["Location"].startswith("http://127.0.0.1:8765/cb?error=access_denied&")
    assert "state=s1" in back.headers["Location"]
    assert guest(database, contoso).external_user_state == "PendingAcceptance"
