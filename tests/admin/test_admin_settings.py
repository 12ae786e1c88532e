"""External collaboration settings page (§6) through ``policy_store.update_external_collaboration``."""

from __future__ import annotations

import re

from admin_support import csrf_token, post_form
from flask.testing import FlaskClient

from idp import policy_store
from idp.db import Database
from idp.models import AuditEvent, PolicyDocument, Tenant

URL = "/contoso/admin/external-collaboration"
FORM = {"allow_invites_from": "adminsAndGuestInviters", "guest_user_role": "restricted", "domain_mode": "allow",
        "domains": "partner.example\nFabrikam.COM\n", "self_service_sign_up": "y", "allow_leave": ""}


def test_page_shows_every_setting_with_a_label(global_admin: FlaskClient) -> None:
    page = global_admin.get(URL)
    assert page.status_code == 200
    for name, label in (("allow_invites_from", "Guest invite restrictions (allowInvitesFrom)"),
                        ("guest_user_role", "Guest user access (guestUserRole)"),
                        ("domains", "Domains (one per line)")):
        assert f'<label for="{name}">{label}</label>' in page.text
    for label in ("Email one-time passcode for guests (emailOtpForGuests)",
                  "Enable guest self-service sign-up (selfServiceSignUp.isEnabled)",
                  "Allow external users to remove themselves from the organization",
                  "Deny invitations to the specified domains", "Allow invitations only to the specified domains"):
        assert re.search(rf"<label><input [^>]*> {re.escape(label)}</label>", page.text), label
    assert '<option selected value="everyone">everyone</option>' in page.text
    assert re.search(r'<input checked id="email_otp_for_guests"', page.text)


def test_saving_updates_the_stored_settings_and_audits(global_admin: FlaskClient, database: Database,
                                                       contoso: Tenant) -> None:
    response = post_form(global_admin, URL, FORM, follow_redirects=True)
    assert response.status_code == 200 and "External collaboration settings saved." in response.text
    with database.sessionmaker() as s:
        settings = policy_store.external_collaboration(s, contoso)
        assert settings.allow_invites_from == "adminsAndGuestInviters"
        assert settings.guest_user_role == "restricted"
        assert settings.domain_list.mode == "allow"
        assert settings.domain_list.domains == ("partner.example", "fabrikam.com")
        assert settings.self_service_sign_up_enabled is True
        assert settings.allow_external_users_to_leave is False
        assert settings.email_otp_for_guests is False  # the unchecked box turns email OTP off
        assert s.query(AuditEvent).filter_by(activity="Update externalCollaboration",
                                             actor="grace@contoso.com").count() == 1
    assert '<option selected value="adminsAndGuestInviters">' in response.text
    assert "partner.example\nfabrikam.com</textarea>" in response.text


def test_unchanged_email_otp_keeps_its_default_state(global_admin: FlaskClient, database: Database,
                                                     contoso: Tenant) -> None:
    post_form(global_admin, URL, FORM | {"email_otp_for_guests": "y"})
    with database.sessionmaker() as s:
        assert policy_store.external_collaboration(s, contoso).allow_external_id_to_use_email_otp == "default"


def test_a_bad_domain_is_refused_naming_the_field_and_nothing_is_written(global_admin: FlaskClient,
                                                                         database: Database) -> None:
    response = post_form(global_admin, URL, FORM | {"domain_mode": "deny", "domains": "ok.example\nnot a domain"})
    assert response.status_code == 400
    error = re.search(r'id="domains-error">([^<]+)<', response.text).group(1)
    assert "BlockedDomains[1]" in error
    assert "not a domain</textarea>" in response.text  # the admin's input is kept
    bad_choice = post_form(global_admin, URL, FORM | {"allow_invites_from": "anyone"})
    assert bad_choice.status_code == 400 and re.search(r'id="allow_invites_from-error">', bad_choice.text)
    with database.sessionmaker() as s:
        assert s.query(PolicyDocument).count() == 0


def test_guest_inviter_and_user_admin_may_read_but_not_change(guest_inviter: FlaskClient, user_admin: FlaskClient,
                                                              database: Database) -> None:
    for client in (guest_inviter, user_admin):
        page = client.get(URL)
        assert page.status_code == 200 and "changing them needs the Global Administrator role" in page.text
        response = client.post(URL, data={"csrf_token": csrf_token(page.text), **FORM})
        assert response.status_code == 403 and "authorizationPolicy" in response.text
    with database.sessionmaker() as s:
        assert s.query(PolicyDocument).count() == 0
