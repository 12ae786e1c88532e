"""Admin center: the sign-in log page and resetting a user's MFA."""

from __future__ import annotations

from admin_support import admin_client, make_member, post_form
from flask import Flask
from flask.testing import FlaskClient

from idp import signin_log
from idp.db import Database
from idp.directory import users
from idp.mfa import service as mfa
from idp.models import AuditEvent, Tenant


def test_sign_in_log_lists_and_filters(security_admin: FlaskClient, database: Database, contoso: Tenant) -> None:
    with database.transaction() as s:
        ann = users.create_guest(s, contoso, "ann@partner.example")
        signin_log.record_sign_in(s, contoso, outcome="success", reason="email one-time passcode", user=ann,
                                  client_id="wiki", upstream_idp="mail", amr=["otp"])
        signin_log.record_sign_in(s, contoso, outcome="failure", reason="incorrect password",
                                  user_principal_name="nobody@contoso.com")
    page = security_admin.get("/contoso/admin/sign-ins")
    assert page.status_code == 200
    assert "ann_partner.example#EXT#@contoso.portico.example" in page.text and "nobody@contoso.com" in page.text
    assert '<label for="outcome">Outcome</label>' in page.text and ">Filter</button>" in page.text
    failures = security_admin.get("/contoso/admin/sign-ins", query_string={"outcome": "failure"})
    assert "nobody@contoso.com" in failures.text and "ann_partner" not in failures.text
    by_user = security_admin.get("/contoso/admin/sign-ins", query_string={"user": "nobody@contoso.com"})
    assert "incorrect password" in by_user.text and "ann_partner" not in by_user.text
    bad = security_admin.get("/contoso/admin/sign-ins", query_string={"outcome": "maybe"})
    assert bad.status_code == 400


def test_sign_in_log_needs_a_reader_role(guest_inviter: FlaskClient) -> None:
    assert guest_inviter.get("/contoso/admin/sign-ins").status_code == 403


def test_reset_mfa_removes_the_authenticator(app: Flask, user_admin: FlaskClient, database: Database,
                                             contoso: Tenant) -> None:
    make_member(database, contoso, "tim")
    with database.transaction() as s:
        tim = users.find_user_by_upn(s, contoso, "tim@contoso.com")
        mfa.begin_enrolment(s, contoso, tim, secret_key=app.config["SECRET_KEY"])
    detail = f"/contoso/admin/users/{tim.id}"
    response = post_form(user_admin, detail, {}, url=f"{detail}/reset-mfa", follow_redirects=True)
    assert "authenticator app and recovery codes were removed" in response.text
    with database.sessionmaker() as s:
        tim = users.find_user_by_upn(s, contoso, "tim@contoso.com")
        assert mfa.is_enrolled(s, contoso, tim) is False
        assert s.query(AuditEvent).filter(AuditEvent.target_id == tim.id,
                                          AuditEvent.activity.ilike("%mfa%")).count() >= 1
    inviter = admin_client(app, database, contoso, "gia", "Guest Inviter")
    assert inviter.post(f"{detail}/reset-mfa").status_code in (400, 403)
