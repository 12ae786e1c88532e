"""The member sign-in page in Chromium, found by label and role."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from oidc_support import PASSWORD, LiveServer, make_rp, query_of

from idp.db import Database
from idp.models import Tenant

pytestmark = pytest.mark.browser


@pytest.fixture
def page(chromium) -> object:  # type: ignore[no-untyped-def]
    return chromium.new_page()


def test_member_signs_in_on_the_accessible_page_and_returns_to_the_app(
    live: LiveServer, page, database: Database, contoso: Tenant, member: str  # type: ignore[no-untyped-def]
) -> None:
    from playwright.sync_api import expect

    rp = make_rp(database, contoso)
    query = urlencode({"response_type": "code", "client_id": rp.client_id, "redirect_uri": rp.redirect_uri,
                       "scope": "openid email", "state": "browser-state", "login_hint": "ada@contoso.com"})
    callbacks: list[str] = []
    page.route(f"{rp.redirect_uri}**", lambda route: (callbacks.append(route.request.url),
                                                      route.fulfill(status=200, body="back at the app")))
    page.goto(f"{live.issuer('contoso')}/authorize?{query}")

    expect(page.get_by_role("heading", name="Sign in to Contoso")).to_be_visible()
    email = page.get_by_label("Email address")
    expect(email).to_have_value("ada@contoso.com")  # login_hint pre-fills the address
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("incorrect")

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("back at the app")).to_be_visible()
    assert query_of(callbacks[-1])["state"] == "browser-state" and "code" in query_of(callbacks[-1])
