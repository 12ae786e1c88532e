"""Helpers for the admin center tests: administrators signed in through the real sign-in page."""

from __future__ import annotations

import re
import time

from flask import Flask
from flask.testing import FlaskClient

from idp.db import Database
from idp.directory import roles, users
from idp.models import Tenant
from idp.oidc import store
from idp.oidc.sso import COOKIE_NAME

PASSWORD = "admin password for tests 1"


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def email_of(tenant: Tenant, local: str) -> str:
    return f"{local}@{tenant.slug}.com"  # the conftest tenants verify {slug}.com


def make_member(database: Database, tenant: Tenant, local: str, *role_names: str, password: bool = True) -> str:
    with database.transaction() as s:
        user = users.create_member(s, tenant, email_of(tenant, local), password=PASSWORD if password else None,
                                   display_name=local.title())
        for role in role_names:
            roles.assign_role(s, tenant, user, role)
        return user.id


def sign_in(client: FlaskClient, tenant: Tenant, email: str, next_path: str = "") -> None:
    page = client.get(f"/{tenant.slug}/login", query_string={"next": next_path} if next_path else None)
    response = client.post(f"/{tenant.slug}/login", data={
        "csrf_token": csrf_token(page.text), "email": email, "password": PASSWORD, "next": next_path})
    assert response.status_code == 302, response.text


def admin_client(app: Flask, database: Database, tenant: Tenant, local: str, *role_names: str) -> FlaskClient:
    """A new browser-like client with the SSO session of a new member of ``tenant`` holding ``role_names``
    (the session is started directly: the sign-in page itself is tested in test_admin_access)."""
    user_id = make_member(database, tenant, local, *role_names, password=False)
    with database.transaction() as s:
        cookie, _ = store.start_session(s, tenant, user_id, amr=["pwd"], auth_time=int(time.time()))
    client = app.test_client()
    client.set_cookie(COOKIE_NAME, cookie, path=f"/{tenant.slug}/")
    return client


def post_form(client: FlaskClient, page_url: str, data: dict, url: str | None = None, **kwargs):  # type: ignore[no-untyped-def]
    """GET ``page_url`` for its CSRF token, then POST ``data`` (to ``url``, default the same page)."""
    page = client.get(page_url)
    assert page.status_code == 200, page.text
    return client.post(url or page_url, data={"csrf_token": csrf_token(page.text), **data}, **kwargs)
