"""The MFA step of the real journey in Chromium (found by label and role): conditional access requires MFA for
guests; an invited guest signs in to the demo app by email one-time passcode, enrols an authenticator app from
the manual key, sees the recovery codes, accepts the invitation and lands back at the app."""

from __future__ import annotations

import sys
from pathlib import Path

import pyotp
import pytest
from oidc_support import LiveServer
from smtp_capture import smtp_server

from idp import policy_store
from idp.db import Database
from idp.demo import seed_demo
from idp.directory import tenants, users
from idp.models import SsoSession

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "signin"))
from journey_support import MFA_FOR_GUESTS, code_in, deliver, invite  # noqa: E402

pytestmark = pytest.mark.browser
GUEST = "john@fabrikam.com"


def test_guest_signs_in_by_email_otp_enrols_totp_and_lands_at_the_app(live: LiveServer, chromium,  # type: ignore[no-untyped-def]
                                                                       database: Database) -> None:
    from playwright.sync_api import expect

    with database.transaction() as s:
        seed_demo(s, live.app.extensions["portico"].settings)
        contoso = tenants.get_tenant(s, "contoso")
        policy_store.create_conditional_access(s, contoso, MFA_FOR_GUESTS, roles=None, actor="admin",
                                               now_iso="2026-01-01T00:00:00Z")
    invite(database, contoso, GUEST, issuer=live.issuer("contoso"), send=False)

    with smtp_server() as (mailbox, smtp):
        page = chromium.new_page()
        page.goto(f"{live.base_url}/demo/")
        page.get_by_role("link", name="Sign in with Portico").click()
        page.get_by_label("Email address").fill(GUEST)
        page.get_by_role("button", name="Next").click()
        page.get_by_role("button", name="Send code").click()
        expect(page.get_by_label("Code")).to_be_visible()
        deliver(database, smtp)
        page.get_by_label("Code").fill(code_in(mailbox.to(GUEST)[-1]))
        page.get_by_role("button", name="Verify").click()

    expect(page.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()
    expect(page.get_by_role("img", name="QR code to add Contoso to your authenticator app")).to_be_visible()
    totp = pyotp.TOTP(page.get_by_label("Manual key").inner_text().replace(" ", ""))
    page.get_by_label("Code").fill(totp.now())
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.get_by_role("list", name="Recovery codes").get_by_role("listitem")).to_have_count(10)
    page.get_by_role("link", name="Continue").click()

    page.get_by_role("button", name="Accept").click()  # "Review permissions": the pending guest redeems
    allow, claims = page.get_by_role("button", name="Allow"), page.get_by_text("ID token claims")
    expect(allow.or_(claims)).to_be_visible()
    if allow.count():  # the demo app is not first-party: it asks for consent once
        allow.click()
    expect(page.get_by_text("ID token claims")).to_be_visible()
    expect(page.get_by_text(GUEST).first).to_be_visible()
    with database.sessionmaker() as s:
        [guest] = users.find_users_by_email(s, contoso, GUEST)
        assert guest.external_user_state == "Accepted"
        assert s.query(SsoSession).filter_by(user_id=guest.id).one().amr == ["otp", "mfa"]
