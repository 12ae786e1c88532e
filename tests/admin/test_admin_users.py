"""Users: list with filters, detail, and the audited, role-checked actions resend / reset redemption / disable /
delete."""

from __future__ import annotations

import re

from admin_support import csrf_token, email_of, make_member, post_form
from flask.testing import FlaskClient

from idp.db import Database
from idp.directory import users
from idp.invitations import service
from idp.invitations.model import InvitationRequest, Inviter
from idp.models import AuditEvent, Invitation, OutboxMessage, SsoSession, Tenant, User

ISSUER = "http://127.0.0.1:5000/contoso"


def _invite(database: Database, tenant: Tenant, email: str) -> str:
    with database.transaction() as s:
        result = service.invite(s, tenant, InvitationRequest(email, "https://apps.contoso.example/",
                                                             invited_user_display_name="Invited " + email),
                                Inviter(operator=True), issuer=ISSUER)
        return result.user.id


def _accept(database: Database, tenant: Tenant, user_id: str) -> None:
    with database.transaction() as s:
        invitation = service.latest_invitation(s, tenant, user_id)
        service.complete_redemption(s, tenant, invitation, sign_in_type="emailAddress", issuer="mail",
                                    issuer_assigned_id=invitation.invited_user_email_address)


def _names(html: str) -> list[str]:
    return re.findall(r'<a href="/contoso/admin/users/[^"]+">([^<]+)</a>', html)


def test_users_page_lists_members_and_guests_with_state_and_filters(user_admin: FlaskClient, database: Database,
                                                                   contoso: Tenant) -> None:
    _invite(database, contoso, "pending@partner.example")
    _accept(database, contoso, _invite(database, contoso, "accepted@partner.example"))
    page = user_admin.get("/contoso/admin/users")
    assert page.status_code == 200
    assert sorted(_names(page.text)) == ["Invited accepted@partner.example", "Invited pending@partner.example",
                                         "Uma"]
    for label, name in (("User type", "type"), ("Invitation state", "state"), ("Search", "q")):
        assert f'<label for="{name}">{label}</label>' in page.text
    assert "<td>PendingAcceptance</td>" in page.text and "<td>Accepted</td>" in page.text
    assert _names(user_admin.get("/contoso/admin/users?type=Member").text) == ["Uma"]
    assert _names(user_admin.get("/contoso/admin/users?type=Guest&state=PendingAcceptance").text) == [
        "Invited pending@partner.example"]
    assert _names(user_admin.get("/contoso/admin/users?state=None").text) == ["Uma"]
    assert _names(user_admin.get("/contoso/admin/users?q=ACCEPTED%40").text) == ["Invited accepted@partner.example"]
    assert _names(user_admin.get("/contoso/admin/users?q=100%25").text) == []  # LIKE wildcards are literal
    bad = user_admin.get("/contoso/admin/users?type=Robot")
    assert bad.status_code == 400 and re.search(r'id="type-error">', bad.text)


def test_user_detail_shows_invitations_and_actions(user_admin: FlaskClient, database: Database,
                                                   contoso: Tenant) -> None:
    guest_id = _invite(database, contoso, "pat@partner.example")
    page = user_admin.get(f"/contoso/admin/users/{guest_id}")
    assert page.status_code == 200
    assert "PendingAcceptance" in page.text and "https://apps.contoso.example/" in page.text
    for button in ("Resend invitation", "Disable account", "Delete user"):
        assert f'<button type="submit">{button}</button>' in page.text
    assert user_admin.get("/contoso/admin/users/no-such-user").status_code == 404


def test_resend_reinvites_the_pending_guest_with_mail_and_audit(user_admin: FlaskClient, database: Database,
                                                                contoso: Tenant) -> None:
    guest_id = _invite(database, contoso, "pat@partner.example")
    detail = f"/contoso/admin/users/{guest_id}"
    response = post_form(user_admin, detail, {}, url=f"{detail}/resend", follow_redirects=True)
    assert response.status_code == 200
    assert re.search(r'role="status">The invitation was sent again to pat@partner.example\. Redeem URL: http',
                     response.text)
    with database.sessionmaker() as s:
        assert s.query(User).filter_by(user_type="Guest").count() == 1
        assert s.query(Invitation).filter_by(invited_user_id=guest_id).count() == 2
        [mail] = s.query(OutboxMessage).all()
        assert mail.to_address == "pat@partner.example"
        assert s.query(AuditEvent).filter_by(activity="Invite external user", actor="uma@contoso.com",
                                             target_id=guest_id).count() == 1


def test_resend_is_refused_once_the_guest_accepted(user_admin: FlaskClient, database: Database,
                                                   contoso: Tenant) -> None:
    guest_id = _invite(database, contoso, "pat@partner.example")
    _accept(database, contoso, guest_id)
    detail = f"/contoso/admin/users/{guest_id}"
    assert "Resend invitation</button>" not in user_admin.get(detail).text
    response = post_form(user_admin, detail, {}, url=f"{detail}/resend")
    assert response.status_code == 409 and "externalUserState" in response.text
    with database.sessionmaker() as s:
        assert s.query(OutboxMessage).count() == 0


def test_reset_redemption_reopens_an_accepted_guest(user_admin: FlaskClient, database: Database,
                                                    contoso: Tenant) -> None:
    guest_id = _invite(database, contoso, "pat@partner.example")
    _accept(database, contoso, guest_id)
    url = f"/contoso/admin/users/{guest_id}/reset-redemption"
    page = user_admin.get(url)
    assert 'value="pat@partner.example"' in page.text and 'value="https://apps.contoso.example/"' in page.text
    refused = post_form(user_admin, url, {"email": "other@partner.example",
                                          "redirect_url": "https://apps.contoso.example/"})
    assert refused.status_code == 400
    assert re.search(r'id="email-error">invitedUserEmailAddress: other@partner.example must first be added',
                     refused.text)
    done = post_form(user_admin, url, {"email": "pat@partner.example", "redirect_url": "https://apps.contoso.example/",
                                       "send_message": "y"}, follow_redirects=True)
    assert done.status_code == 200 and "pending acceptance again" in done.text
    with database.sessionmaker() as s:
        guest = users.get_user(s, contoso, guest_id)
        assert guest.external_user_state == "PendingAcceptance"
        assert [i.sign_in_type for i in guest.identities] == ["userPrincipalName"]
        assert s.query(AuditEvent).filter_by(activity="Reset redemption", actor="uma@contoso.com").count() == 1
        assert s.query(OutboxMessage).count() == 1


def test_disable_ends_sessions_and_enable_restores(user_admin: FlaskClient, app, database: Database,  # type: ignore[no-untyped-def]
                                                   contoso: Tenant) -> None:
    from admin_support import admin_client

    victim = admin_client(app, database, contoso, "vic", "User Administrator")
    assert victim.get("/contoso/admin/users").status_code == 200
    with database.sessionmaker() as s:
        vic_id = s.query(User).filter_by(user_principal_name="vic@contoso.com").one().id
    detail = f"/contoso/admin/users/{vic_id}"
    response = post_form(user_admin, detail, {}, url=f"{detail}/disable", follow_redirects=True)
    assert "vic@contoso.com is disabled." in response.text and "Enable account</button>" in response.text
    assert victim.get("/contoso/admin/users").status_code == 302  # signed out
    with database.sessionmaker() as s:
        assert s.query(User).filter_by(id=vic_id).one().account_enabled is False
        assert s.query(SsoSession).filter_by(user_id=vic_id, ended_at=None).count() == 0
        assert s.query(AuditEvent).filter_by(activity="Disable account", target_id=vic_id).count() == 1
    post_form(user_admin, detail, {}, url=f"{detail}/enable")
    with database.sessionmaker() as s:
        assert s.query(User).filter_by(id=vic_id).one().account_enabled is True
        assert s.query(AuditEvent).filter_by(activity="Enable account", target_id=vic_id).count() == 1


def test_delete_removes_the_user_and_its_invitations(user_admin: FlaskClient, database: Database,
                                                     contoso: Tenant) -> None:
    guest_id = _invite(database, contoso, "pat@partner.example")
    detail = f"/contoso/admin/users/{guest_id}"
    response = post_form(user_admin, detail, {}, url=f"{detail}/delete")
    assert response.headers["Location"] == "/contoso/admin/users"
    with database.sessionmaker() as s:
        assert s.query(User).filter_by(id=guest_id).count() == 0
        assert s.query(Invitation).count() == 0
        assert s.query(AuditEvent).filter_by(activity="Delete user", target_id=guest_id,
                                             actor="uma@contoso.com").count() == 1


def test_an_admin_cannot_disable_delete_or_reset_themselves(user_admin: FlaskClient, database: Database,
                                                      contoso: Tenant) -> None:
    with database.sessionmaker() as s:
        own_id = s.query(User).filter_by(user_principal_name=email_of(contoso, "uma")).one().id
    detail = f"/contoso/admin/users/{own_id}"
    page = user_admin.get(detail).text
    assert "Delete user</button>" not in page and ">Reset redemption</a>" not in page
    assert user_admin.get(f"{detail}/reset-redemption").status_code == 409
    for action in ("disable", "delete"):
        response = post_form(user_admin, detail, {}, url=f"{detail}/{action}")
        assert response.status_code == 409 and "your own account" in response.text
    with database.sessionmaker() as s:
        assert s.query(User).filter_by(id=own_id, account_enabled=True).count() == 1


def test_user_actions_need_a_user_administrator(guest_inviter: FlaskClient, security_admin: FlaskClient,
                                                database: Database, contoso: Tenant) -> None:
    target = make_member(database, contoso, "tom")
    for client in (guest_inviter, security_admin):
        page = client.get("/contoso/admin/invite") if client is guest_inviter else client.get(
            "/contoso/admin/conditional-access")
        token = csrf_token(page.text)
        for action in ("disable", "delete", "resend", "enable"):
            assert client.post(f"/contoso/admin/users/{target}/{action}",
                               data={"csrf_token": token}).status_code == 403
        assert client.get(f"/contoso/admin/users/{target}/reset-redemption").status_code == 403
    with database.sessionmaker() as s:
        assert s.query(User).filter_by(id=target, account_enabled=True).count() == 1
