"""``Invite external user`` and bulk invitation by CSV upload."""

from __future__ import annotations

import base64
import csv
import io
import re

from admin_support import csrf_token, post_form
from flask.testing import FlaskClient

from idp import policy_store
from idp.db import Database
from idp.models import AuditEvent, Invitation, OutboxMessage, Tenant, User

INVITE = "/contoso/admin/invite"
BULK = "/contoso/admin/invite/bulk"
REDIRECT = "https://apps.contoso.example/"


def _invite(client: FlaskClient, **fields: str):  # type: ignore[no-untyped-def]
    data = {"email": "pat@partner.example", "display_name": "Pat Partner", "redirect_url": REDIRECT,
            "send_message": "y", "custom_message": "Welcome <b>aboard</b>", "language": "de"} | fields
    return post_form(client, INVITE, {k: v for k, v in data.items() if v is not None})


def test_invite_page_is_labelled_and_invites_with_mail(guest_inviter: FlaskClient, database: Database,
                                                       contoso: Tenant) -> None:
    page = guest_inviter.get(INVITE).text
    for label, field in (("Email address", "email"), ("Display name", "display_name"),
                         ("Redirect URL", "redirect_url"), ("Send invitation message", "send_message"),
                         ("Custom message", "custom_message"), ("Message language", "language")):
        assert re.search(rf'<label for="{field}">{label}</label>|<label><input [^>]*id="{field}"[^>]*> {label}',
                         page), label
    assert '<button type="submit">Invite</button>' in page
    response = _invite(guest_inviter)
    assert response.status_code == 200, response.text
    assert "Invitation created" in response.text
    redeem_url = re.search(r'<code id="redeem-url">([^<]+)</code>', response.text).group(1)
    assert redeem_url.startswith("http://127.0.0.1:5000/contoso/")
    with database.sessionmaker() as s:
        guest = s.query(User).filter_by(mail="pat@partner.example").one()
        assert guest.external_user_state == "PendingAcceptance" and guest.user_type == "Guest"
        assert guest.display_name == "Pat Partner"
        invitation = s.query(Invitation).filter_by(invited_user_id=guest.id).one()
        inviter = s.query(User).filter_by(user_principal_name="gina@contoso.com").one()
        assert invitation.invited_by_user_id == inviter.id
        assert invitation.message_info["messageLanguage"] == "de"
        [mail] = s.query(OutboxMessage).filter_by(kind="invitation").all()
        assert mail.to_address == "pat@partner.example" and "Welcome <b>aboard</b>" in mail.text_body
        assert s.query(AuditEvent).filter_by(activity="Invite external user", actor="gina@contoso.com").count() == 1


def test_invite_without_message_sends_no_mail(guest_inviter: FlaskClient, database: Database) -> None:
    response = _invite(guest_inviter, send_message=None)
    assert response.status_code == 200 and "Not sent" in response.text
    with database.sessionmaker() as s:
        assert s.query(OutboxMessage).count() == 0


def test_form_validation_errors_name_the_field(guest_inviter: FlaskClient, database: Database) -> None:
    response = _invite(guest_inviter, email="not-an-address", redirect_url="")
    assert response.status_code == 400
    assert re.search(r'<input aria-describedby="email-error" aria-invalid="true"[^>]*id="email"', response.text)
    assert re.search(r'id="email-error">[^<]*Invalid email address', response.text)
    assert re.search(r'id="redirect_url-error">[^<]*required', response.text)
    with database.sessionmaker() as s:
        assert s.query(User).filter_by(user_type="Guest").count() == 0


def test_service_refusal_names_the_field(guest_inviter: FlaskClient, database: Database) -> None:
    response = _invite(guest_inviter, redirect_url="javascript:alert(1)")
    assert response.status_code == 400
    assert re.search(r'id="redirect_url-error">[^<]*', response.text)
    response = _invite(guest_inviter, email="gina@contoso.com", redirect_url=REDIRECT)
    assert response.status_code == 409
    assert re.search(r'id="email-error">invitedUserEmailAddress: a user with the address gina@contoso.com already',
                     response.text)


def test_a_blocked_domain_refusal_names_the_setting_and_writes_nothing(guest_inviter: FlaskClient,
                                                                      database: Database, contoso: Tenant) -> None:
    with database.transaction() as s:
        policy_store.update_external_collaboration(
            s, contoso, {"b2bManagementPolicy": {"InvitationsAllowedAndBlockedDomainsPolicy": {
                "BlockedDomains": ["partner.example"]}}}, policy="b2bManagementPolicy", roles=None, actor="test")
    response = _invite(guest_inviter)
    assert response.status_code == 403
    alert = re.search(r'class="error" role="alert">([^<]+)<', response.text).group(1)
    assert alert.startswith("b2bManagementPolicy.BlockedDomains:") and "partner.example is blocked" in alert
    with database.sessionmaker() as s:
        assert s.query(User).filter_by(user_type="Guest").count() == 0
        assert s.query(Invitation).count() == 0 and s.query(OutboxMessage).count() == 0


def test_allow_invites_from_none_refuses_even_a_guest_inviter(guest_inviter: FlaskClient, database: Database,
                                                              contoso: Tenant) -> None:
    with database.transaction() as s:
        policy_store.update_external_collaboration(s, contoso, {"allowInvitesFrom": "none"},
                                                   policy="authorizationPolicy", roles=None, actor="test")
    response = _invite(guest_inviter)
    assert response.status_code == 403 and "allowInvitesFrom" in response.text


def test_reinviting_a_pending_guest_reuses_the_user(guest_inviter: FlaskClient, database: Database) -> None:
    assert _invite(guest_inviter).status_code == 200
    again = _invite(guest_inviter)
    assert again.status_code == 200 and "already invited" in again.text
    with database.sessionmaker() as s:
        assert s.query(User).filter_by(user_type="Guest").count() == 1
        assert s.query(Invitation).count() == 2


# -- bulk -------------------------------------------------------------------------------------------------------
CSV = (
    "email,display name,redirect URL,send message,custom message\n"
    "ann@partner.example,Ann,https://apps.contoso.example/,true,Hello Ann\n"
    "not-an-address,Bad,https://apps.contoso.example/,false,\n"
    "bob@partner.example,Bob,,no,\n"
    "ANN@partner.example,Ann again,https://apps.contoso.example/,false,\n"
    "cy@partner.example,Cy,https://apps.contoso.example/,maybe,\n"
)


def _upload(client: FlaskClient, content: bytes, **fields: str):  # type: ignore[no-untyped-def]
    page = client.get(BULK)
    return client.post(BULK, data={"csrf_token": csrf_token(page.text),
                                   "file": (io.BytesIO(content), "guests.csv"), **fields},
                       content_type="multipart/form-data")


def test_bulk_upload_invites_good_rows_reports_bad_and_duplicate_ones(guest_inviter: FlaskClient,
                                                                      database: Database) -> None:
    page = guest_inviter.get(BULK).text
    assert '<label for="file">CSV file</label>' in page and '<button type="submit">Upload and invite</button>' in page
    response = _upload(guest_inviter, CSV.encode(), default_redirect_url="https://default.contoso.example/")
    assert response.status_code == 200, response.text
    assert "2 invited, 0 invited again, 2 failed, 1 duplicate." in response.text
    link = re.search(r'<a href="data:text/csv;charset=utf-8;base64,([^"]+)" download="bulk-invite-results.csv">'
                     r'Download result CSV</a>', response.text)
    rows = list(csv.DictReader(io.StringIO(base64.b64decode(link.group(1)).decode())))
    assert [(r["row"], r["email"], r["status"]) for r in rows] == [
        ("2", "ann@partner.example", "invited"), ("3", "not-an-address", "failed"),
        ("4", "bob@partner.example", "invited"), ("5", "ANN@partner.example", "duplicate"),
        ("6", "cy@partner.example", "failed")]
    assert rows[0]["inviteRedeemUrl"].startswith("http://127.0.0.1:5000/contoso/") and rows[1]["error"]
    assert "send message" in rows[4]["error"]
    with database.sessionmaker() as s:
        assert sorted(u.mail for u in s.query(User).filter_by(user_type="Guest")) == [
            "ann@partner.example", "bob@partner.example"]
        bob = s.query(User).filter_by(mail="bob@partner.example").one()
        assert s.query(Invitation).filter_by(invited_user_id=bob.id).one().invite_redirect_url == \
            "https://default.contoso.example/"
        assert [m.to_address for m in s.query(OutboxMessage)] == ["ann@partner.example"]


def test_bulk_upload_refuses_a_file_without_email_column(guest_inviter: FlaskClient, database: Database) -> None:
    response = _upload(guest_inviter, b"name,redirect url\nAnn,https://x.example/\n")
    assert response.status_code == 400
    assert re.search(r'id="file-error">[^<]*email', response.text)
    missing = guest_inviter.post(BULK, data={"csrf_token": csrf_token(guest_inviter.get(BULK).text)},
                                 content_type="multipart/form-data")
    assert missing.status_code == 400 and "Choose a CSV file" in missing.text
    with database.sessionmaker() as s:
        assert s.query(User).filter_by(user_type="Guest").count() == 0
