"""The guest journey in Chromium (Playwright on Debian's Chromium), found by label and role: an invitation mailed
to a real SMTP server, the redeem link from the mail, email OTP with the code from the mail, "Review permissions",
the redirect URL; and a guest signing in to the demo relying party through the OIDC flow. Screenshots go to
``$PORTICO_TEST_ARTIFACTS`` (default: the test's temporary directory)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from journey_support import REDIRECT, code_in, deliver, invite, redeem_link
from oidc_support import LiveServer

from idp.db import Database
from idp.demo import seed_demo
from idp.directory import tenants, users
from idp.models import Tenant

pytestmark = pytest.mark.browser
GUEST = "john@fabrikam.com"



@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    directory = Path(os.environ.get("PORTICO_TEST_ARTIFACTS") or tmp_path) / "guest-journey"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture
def page(chromium) -> object:  # type: ignore[no-untyped-def]
    return chromium.new_page()


def _email_otp(page, database: Database, mailbox, smtp, artifacts: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.get_by_role("button", name="Send code").click()
    expect(page.get_by_label("Code")).to_be_visible()
    page.screenshot(path=str(artifacts / f"{name}-otp.png"))
    deliver(database, smtp)
    page.get_by_label("Code").fill("00000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_contain_text("not correct")
    page.get_by_label("Code").fill(code_in(mailbox.to(GUEST)[-1]))
    page.get_by_role("button", name="Verify").click()


def test_invited_guest_redeems_by_email_otp_in_chromium(live: LiveServer, page, database: Database,  # type: ignore[no-untyped-def]
                                                       contoso: Tenant, smtp, artifacts: Path) -> None:
    from playwright.sync_api import expect

    mailbox, settings = smtp
    invite(database, contoso, GUEST, issuer=live.issuer("contoso"))
    deliver(database, settings)
    link = redeem_link(mailbox.to(GUEST)[0])
    landed: list[str] = []
    page.route("https://wiki.example/**", lambda route: (landed.append(route.request.url),
                                                         route.fulfill(status=200, body="Welcome to the wiki")))

    page.goto(link)
    expect(page.get_by_text(GUEST)).to_be_visible()
    _email_otp(page, database, mailbox, settings, artifacts, "redeem")
    expect(page.get_by_role("heading", name="Review permissions")).to_be_visible()
    expect(page.get_by_text("Contoso").first).to_be_visible()
    page.screenshot(path=str(artifacts / "redeem-review-permissions.png"))
    page.get_by_role("button", name="Accept").click()
    expect(page.get_by_text("Welcome to the wiki")).to_be_visible()
    assert landed == [REDIRECT]

    with database.sessionmaker() as s:
        [user] = users.find_users_by_email(s, contoso, GUEST)
        assert user.external_user_state == "Accepted"
    page.goto(link)  # the ticket cannot be used again
    expect(page.get_by_role("heading", name="This invitation link cannot be used")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("already been used")
    page.screenshot(path=str(artifacts / "redeem-link-used.png"))


def test_guest_signs_in_to_the_demo_app_through_oidc_in_chromium(live: LiveServer, page, database: Database,  # type: ignore[no-untyped-def]
                                                                 smtp, artifacts: Path) -> None:
    from playwright.sync_api import expect

    mailbox, settings = smtp
    with database.transaction() as s:
        seed_demo(s, live.app.extensions["portico"].settings)
    with database.sessionmaker() as s:
        contoso = tenants.get_tenant(s, "contoso")
    invite(database, contoso, GUEST, issuer=live.issuer("contoso"), send=False)

    page.goto(f"{live.base_url}/demo/")
    page.get_by_role("link", name="Sign in with Portico").click()
    page.get_by_label("Email address").fill(GUEST)
    page.get_by_role("button", name="Next").click()
    _email_otp(page, database, mailbox, settings, artifacts, "demo")
    page.get_by_role("button", name="Accept").click()  # first sign-in of a pending guest: redemption (JIT)
    allow, claims = page.get_by_role("button", name="Allow"), page.get_by_text("ID token claims")
    expect(allow.or_(claims)).to_be_visible()
    if allow.count():  # the demo app is not first-party: it asks for consent once
        allow.click()
    expect(page.get_by_text("ID token claims")).to_be_visible()
    expect(page.get_by_text(GUEST).first).to_be_visible()
    page.screenshot(path=str(artifacts / "demo-signed-in.png"))
    with database.sessionmaker() as s:
        [user] = users.find_users_by_email(s, contoso, GUEST)
        assert user.external_user_state == "Accepted"


def test_guest_signs_in_to_the_demo_app_through_an_upstream_idp_in_chromium(  # type: ignore[no-untyped-def]
        live: LiveServer, page, database: Database, artifacts: Path) -> None:
    from authlib_op import running_op
    from playwright.sync_api import expect

    from idp.federation import service as federation
    from idp.federation.service import ProviderInput

    with database.transaction() as s:
        seed_demo(s, live.app.extensions["portico"].settings)
    with database.sessionmaker() as s:
        contoso = tenants.get_tenant(s, "contoso")
    with running_op() as op:
        op.add_client("portico", "op-secret", f"{live.issuer('contoso')}/signin/callback")
        with database.transaction() as s:
            federation.add_provider(s, tenants.get_tenant(s, "contoso"), ProviderInput(
                type="oidc", name="Partner SSO", issuer=op.issuer, client_id="portico", client_secret="op-secret",
                domains=("partner.com",)), secret_key=live.app.extensions["portico"].settings.secret_key)
        invite(database, contoso, "bob@partner.com", issuer=live.issuer("contoso"), send=False)

        page.goto(f"{live.base_url}/demo/")
        page.get_by_role("link", name="Sign in with Portico").click()
        page.get_by_label("Email address").fill("bob@partner.com")
        page.get_by_role("button", name="Next").click()  # -> discovery -> Partner SSO (auto-approves) -> back
        expect(page.get_by_role("heading", name="Review permissions")).to_be_visible()
        page.screenshot(path=str(artifacts / "upstream-review-permissions.png"))
        page.get_by_role("button", name="Accept").click()
        allow, claims = page.get_by_role("button", name="Allow"), page.get_by_text("ID token claims")
        expect(allow.or_(claims)).to_be_visible()
        if allow.count():
            allow.click()
        expect(page.get_by_text("ID token claims")).to_be_visible()
        expect(page.get_by_text(op.issuer).first).to_be_visible()  # the idp claim names the upstream
        page.screenshot(path=str(artifacts / "upstream-demo-signed-in.png"))

        op.fault = "wrong_nonce"  # a later sign-in whose ID token fails validation ends on a readable page
        page.goto(f"{live.issuer('contoso')}/login")
        page.get_by_label("Email address").fill("bob@partner.com")
        page.get_by_role("button", name="Next").click()
        expect(page.get_by_role("heading", name="Partner SSO sent an identity that cannot be trusted")).to_be_visible()
        page.screenshot(path=str(artifacts / "upstream-invalid-id-token.png"))
    with database.sessionmaker() as s:
        [user] = users.find_users_by_email(s, contoso, "bob@partner.com")
        assert user.external_user_state == "Accepted"


def test_admin_invites_on_the_admin_page_and_the_guest_redeems_in_chromium(  # type: ignore[no-untyped-def]
    live: LiveServer, page, database: Database, smtp, artifacts: Path
) -> None:
    """Issue 5's journey: the admin page invites with mail, the mail reaches a real SMTP server, the guest opens
    the link, signs in by email OTP, accepts "Review permissions" and lands on the redirect URL; the guest is then
    Accepted and the ticket cannot be used again."""
    from playwright.sync_api import expect

    mailbox, settings = smtp
    with database.transaction() as s:
        demo = seed_demo(s, live.app.extensions["portico"].settings)
    admin = next(t for t in demo["tenants"] if t["slug"] == "contoso")

    page.goto(f"{live.issuer('contoso')}/admin/invite")
    page.get_by_label("Email address").fill(admin["admin_email"])
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Password").fill(admin["admin_password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Invite external user")).to_be_visible()
    page.get_by_label("Email address").fill(GUEST)
    page.get_by_label("Display name").fill("John")
    page.get_by_label("Redirect URL").fill(REDIRECT)
    page.get_by_label("Send invitation message").check()
    page.get_by_role("button", name="Invite", exact=True).click()
    expect(page.get_by_role("heading", name="Invitation created")).to_be_visible()
    page.screenshot(path=str(artifacts / "admin-invited.png"))

    deliver(database, settings)
    [mail] = mailbox.to(GUEST)
    assert mail["Subject"] == "Contoso Admin invited you to access applications within their organization"
    link = redeem_link(mail)

    guest = page.context.browser.new_context().new_page()  # the guest's own browser, without the admin's cookies
    landed: list[str] = []
    guest.route("https://wiki.example/**", lambda route: (landed.append(route.request.url),
                                                          route.fulfill(status=200, body="Welcome to the wiki")))
    guest.goto(link)
    _email_otp(guest, database, mailbox, settings, artifacts, "admin-invite")
    expect(guest.get_by_role("heading", name="Review permissions")).to_be_visible()
    guest.get_by_role("button", name="Accept").click()
    expect(guest.get_by_text("Welcome to the wiki")).to_be_visible()
    assert landed == [REDIRECT]
    with database.sessionmaker() as s:
        contoso = tenants.get_tenant(s, "contoso")
        [user] = users.find_users_by_email(s, contoso, GUEST)
        assert user.external_user_state == "Accepted"
    guest.goto(link)
    expect(guest.get_by_role("alert")).to_contain_text("already been used")
