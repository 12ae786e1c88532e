"""Who reaches the admin center: sign-in redirect with a return URL, 403 without the role, CSRF on every write."""

from __future__ import annotations

from admin_support import admin_client, csrf_token, email_of, make_member, sign_in
from flask import Flask
from flask.testing import FlaskClient

from idp.db import Database
from idp.models import Tenant


def test_anonymous_visitor_is_sent_to_sign_in_and_comes_back(app: Flask, database: Database,
                                                              contoso: Tenant) -> None:
    make_member(database, contoso, "grace", "Global Administrator")
    client = app.test_client()
    response = client.get("/contoso/admin/users?type=Guest")
    assert response.status_code == 302
    assert response.headers["Location"] == "/contoso/login?next=/contoso/admin/users?type%3DGuest"
    login_page = client.get(response.headers["Location"])
    assert 'name="return_to" type="hidden" value="/contoso/admin/users?type=Guest"' in login_page.text
    signed_in = client.post("/contoso/login?next=/contoso/admin/users?type%3DGuest", data={
        "csrf_token": csrf_token(login_page.text), "email": email_of(contoso, "grace"),
        "password": "admin password for tests 1", "return_to": "/contoso/admin/users?type=Guest"})
    assert signed_in.headers["Location"] == "/contoso/admin/users?type=Guest"
    assert client.get("/contoso/admin/users?type=Guest").status_code == 200


def test_the_return_url_must_be_a_page_of_the_same_tenant(app: Flask, database: Database, contoso: Tenant,
                                                           fabrikam: Tenant) -> None:
    make_member(database, contoso, "grace", "Global Administrator")
    for evil in ("https://evil.example/", "//evil.example/contoso/", "/fabrikam/admin/", "/contoso\\..\\x"):
        client = app.test_client()
        page = client.get("/contoso/login", query_string={"next": evil})
        assert 'name="return_to" type="hidden" value=""' in page.text
        response = client.post("/contoso/login", data={"csrf_token": csrf_token(page.text), "return_to": evil,
                                                        "email": email_of(contoso, "grace"),
                                                        "password": "admin password for tests 1"})
        assert response.headers["Location"] == "/contoso/", evil


def test_member_without_an_admin_role_gets_403(app: Flask, database: Database, contoso: Tenant) -> None:
    client = admin_client(app, database, contoso, "max")
    for path in ("/contoso/admin/", "/contoso/admin/users", "/contoso/admin/invite", "/contoso/admin/invite/bulk",
                 "/contoso/admin/external-collaboration", "/contoso/admin/cross-tenant-access",
                 "/contoso/admin/conditional-access"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "needs the role" in response.text


def test_a_session_of_another_tenant_does_not_open_this_admin_center(app: Flask, database: Database,
                                                                     contoso: Tenant, fabrikam: Tenant) -> None:
    client = admin_client(app, database, fabrikam, "fred", "Global Administrator")
    assert client.get("/fabrikam/admin/users").status_code == 200
    assert client.get("/contoso/admin/users").status_code == 302


def test_a_disabled_admin_is_signed_out_of_the_admin_center(app: Flask, database: Database, contoso: Tenant,
                                                            global_admin: FlaskClient) -> None:
    from idp.directory import users

    with database.transaction() as s:
        users.find_user_by_upn(s, contoso, email_of(contoso, "grace")).account_enabled = False
    assert global_admin.get("/contoso/admin/users").status_code == 302


def test_guest_inviter_may_invite_but_not_manage_users_or_change_settings(guest_inviter: FlaskClient) -> None:
    assert guest_inviter.get("/contoso/admin/invite").status_code == 200
    assert guest_inviter.get("/contoso/admin/invite/bulk").status_code == 200
    assert guest_inviter.get("/contoso/admin/").headers["Location"] == "/contoso/admin/invite"
    assert guest_inviter.get("/contoso/admin/users").status_code == 403
    assert guest_inviter.get("/contoso/admin/cross-tenant-access").status_code == 403
    assert guest_inviter.get("/contoso/admin/conditional-access").status_code == 403
    nav = guest_inviter.get("/contoso/admin/invite").text
    assert ">Invite external user</a>" in nav and ">Users</a>" not in nav


def test_every_write_without_the_csrf_token_is_refused(global_admin: FlaskClient, database: Database,
                                                       contoso: Tenant) -> None:
    from idp.models import OutboxMessage, User

    guest = {"email": "pat@partner.example", "redirect_url": "https://apps.contoso.example/",
             "send_message": "y"}
    response = global_admin.post("/contoso/admin/invite", data=guest)
    assert response.status_code == 400 and "CSRF" in response.text
    user_id = make_member(database, contoso, "victim")
    for action in ("disable", "delete", "resend"):
        refused = global_admin.post(f"/contoso/admin/users/{user_id}/{action}", data={"csrf_token": "forged"})
        assert refused.status_code == 400 and "CSRF" in refused.text, action
    assert global_admin.post("/contoso/admin/external-collaboration",
                             data={"allow_invites_from": "none", "guest_user_role": "limited",
                                   "domain_mode": "any"}).status_code == 400
    assert global_admin.post("/contoso/admin/cross-tenant-access/reset").status_code == 400
    with database.sessionmaker() as s:
        assert s.query(User).filter_by(mail="pat@partner.example").count() == 0
        assert s.query(User).filter_by(id=user_id, account_enabled=True).count() == 1
        assert s.query(OutboxMessage).count() == 0


def test_sign_in_helper_reaches_the_admin_home(app: Flask, database: Database, contoso: Tenant) -> None:
    make_member(database, contoso, "sam", "Security Administrator")
    client = app.test_client()
    sign_in(client, contoso, email_of(contoso, "sam"), next_path="/contoso/admin/")
    assert client.get("/contoso/admin/").headers["Location"] == "/contoso/admin/cross-tenant-access"
