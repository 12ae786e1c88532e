"""The admin center in Chromium: the demo admin signs in, invites a guest with the invitation mail, bulk invites
from a CSV and downloads the per-row result CSV, then finds the pending guest on the Users page and resends.
Elements are found by label and role."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from oidc_support import LiveServer

from idp.db import Database
from idp.demo import seed_demo
from idp.models import OutboxMessage, User

pytestmark = pytest.mark.browser
CSV = (
    "email,display name,redirect URL,send message,custom message\n"
    "ann@partner.example,Ann,https://apps.contoso.example/,true,Hello Ann\n"
    "not-an-address,Bad,https://apps.contoso.example/,false,\n"
    "bob@partner.example,Bob,https://apps.contoso.example/,no,\n"
    "ann@partner.example,Ann again,https://apps.contoso.example/,false,\n"
)



@pytest.fixture
def page(chromium) -> object:  # type: ignore[no-untyped-def]
    return chromium.new_page(accept_downloads=True)


def test_demo_admin_invites_a_guest_and_bulk_invites_from_csv(live: LiveServer, page, database: Database,  # type: ignore[no-untyped-def]
                                                              tmp_path: Path) -> None:
    from playwright.sync_api import expect

    with database.transaction() as s:
        demo = seed_demo(s, live.app.extensions["portico"].settings)
    admin = next(t for t in demo["tenants"] if t["slug"] == "contoso")

    page.goto(f"{live.issuer('contoso')}/admin/invite")
    expect(page.get_by_role("heading", name="Sign in to Contoso")).to_be_visible()
    page.get_by_label("Email address").fill(admin["admin_email"])
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Password").fill(admin["admin_password"])
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name="Invite external user")).to_be_visible()
    page.get_by_label("Email address").fill("pat@partner.example")
    page.get_by_label("Display name").fill("Pat Partner")
    page.get_by_label("Redirect URL").fill("https://apps.contoso.example/")
    page.get_by_label("Send invitation message").check()
    page.get_by_label("Custom message").fill("Welcome to the project.")
    page.get_by_role("button", name="Invite", exact=True).click()

    expect(page.get_by_role("heading", name="Invitation created")).to_be_visible()
    redeem_url = page.locator("#redeem-url").inner_text()
    assert redeem_url.startswith(f"{live.issuer('contoso')}/")
    with database.sessionmaker() as s:
        [mail] = s.query(OutboxMessage).filter_by(kind="invitation").all()
        assert mail.to_address == "pat@partner.example" and "Welcome to the project." in mail.text_body
        assert s.query(User).filter_by(mail="pat@partner.example").one().external_user_state == "PendingAcceptance"

    page.get_by_role("link", name="Bulk invite").click()
    csv_file = tmp_path / "guests.csv"
    csv_file.write_text(CSV)
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Upload and invite").click()
    expect(page.get_by_role("status")).to_contain_text("2 invited, 0 invited again, 1 failed, 1 duplicate.")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download result CSV").click()
    download = download_info.value
    assert download.suggested_filename == "bulk-invite-results.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text())))
    assert [(r["email"], r["status"]) for r in rows] == [
        ("ann@partner.example", "invited"), ("not-an-address", "failed"), ("bob@partner.example", "invited"),
        ("ann@partner.example", "duplicate")]
    with database.sessionmaker() as s:
        assert sorted(m.to_address for m in s.query(OutboxMessage)) == ["ann@partner.example", "pat@partner.example"]

    page.get_by_role("link", name="Users").click()
    page.get_by_label("Invitation state").select_option("PendingAcceptance")
    page.get_by_label("Search").fill("pat@")
    page.get_by_role("button", name="Apply filters").click()
    page.get_by_role("link", name="Pat Partner").click()
    page.get_by_role("button", name="Resend invitation").click()
    expect(page.get_by_role("status")).to_contain_text("The invitation was sent again to pat@partner.example")
    with database.sessionmaker() as s:
        assert s.query(OutboxMessage).filter_by(to_address="pat@partner.example").count() == 2
