"""The MFA step in Chromium (found by label and role): a guest enrols an authenticator app from the QR code page's
manual key, sees the recovery codes, and on a later sign-in is asked for the code."""

from __future__ import annotations

import time

import pyotp
import pytest
from mfa_journey_stub import install
from oidc_support import LiveServer

from idp.db import Database
from idp.directory import users
from idp.models import Tenant

pytestmark = pytest.mark.browser

def test_guest_enrols_totp_then_is_prompted_for_the_code(live: LiveServer, chromium, database: Database,
                                                         contoso: Tenant) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    install(live.app)
    with database.transaction() as s:
        guest_id = users.create_guest(s, contoso, "fiona@fabrikam.com").id
    start = f"{live.base_url}/contoso/journey-stub/{guest_id}"

    page = chromium.new_page()
    page.goto(start)
    expect(page.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()
    expect(page.get_by_role("img", name="QR code to add Contoso to your authenticator app")).to_be_visible()
    totp = pyotp.TOTP(page.get_by_label("Manual key").inner_text().replace(" ", ""))
    page.get_by_label("Code").fill("12")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_contain_text("6-digit code")
    page.get_by_label("Code").fill(totp.now())
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.get_by_role("list", name="Recovery codes").get_by_role("listitem")).to_have_count(10)
    page.get_by_role("link", name="Continue").click()
    expect(page.get_by_text('"completed":true')).to_be_visible()

    later = chromium.new_page()  # the same browser profile is fine: the journey starts the step again
    later.goto(start)
    expect(later.get_by_role("heading", name="Enter your code")).to_be_visible()
    later.get_by_label("Code").fill(totp.at(time.time() + 30))
    later.get_by_role("button", name="Verify").click()
    expect(later.get_by_text('"completed":true')).to_be_visible()
