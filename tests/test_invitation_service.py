"""The invitation manager's rules (spec §1): create, validate, re-invite, reset, redeem."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from idp.db import Database, utcnow
from idp.directory import groups, roles, users
from idp.errors import Conflict, Forbidden, ValidationError
from idp.invitations import service
from idp.invitations.graph import invitation_to_graph
from idp.invitations.model import InvitationRequest, Inviter, MessageInfo, Recipient
from idp.models import Invitation, OutboxMessage, Tenant, User

ISSUER = "http://127.0.0.1:5000/contoso"


@pytest.fixture
def admin(database: Database, contoso: Tenant) -> User:
    with database.transaction() as s:
        user = users.create_member(s, contoso, "admin@contoso.com", password="long-enough-pw")
        roles.assign_role(s, contoso, user, "Global Administrator")
        return user


def inviter_for(user: User, *role_names: str) -> Inviter:
    return Inviter(user=user, roles=frozenset(role_names))


def ticket_of(url: str) -> tuple[str, str]:
    query = parse_qs(urlsplit(url).query)
    return query["user"][0], query["ticket"][0]


def test_invite_creates_a_pending_guest_at_once(database: Database, contoso: Tenant, admin: User) -> None:
    request = InvitationRequest("john@fabrikam.com", "https://app.example/welcome", invited_user_display_name="John")
    with database.transaction() as s:
        result = service.invite(s, contoso, request, inviter_for(admin), issuer=ISSUER)
        body = invitation_to_graph(result.invitation, result.user, result.redeem_url)
    guest = result.user
    assert guest.user_principal_name == "john_fabrikam.com#EXT#@contoso.portico.example"
    assert (guest.user_type, guest.creation_type, guest.external_user_state) == (
        "Guest", "Invitation", "PendingAcceptance")
    assert guest.mail == "john@fabrikam.com" and guest.other_mail_addresses == ["john@fabrikam.com"]
    assert [sp.sponsor_user_id for sp in guest.sponsors] == [admin.id]
    assert body["status"] == "PendingAcceptance" and body["invitedUser"]["id"] == guest.id
    assert body["id"] != guest.id
    assert body["sendInvitationMessage"] is False and body["invitedUserType"] == "Guest"
    assert body["invitedUserMessageInfo"]["ccRecipients"] == [{"emailAddress": {"name": None, "address": None}}]
    parts = urlsplit(result.redeem_url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{ISSUER}/redeem"
    query = parse_qs(parts.query)
    assert query["tenant"] == [contoso.id] and query["user"] == [result.invitation.id] and query["ver"] == ["2.0"]
    assert query["ticket"][0] not in result.invitation.ticket_hash  # only the digest is stored


def test_reinvite_of_pending_guest_is_idempotent(database: Database, contoso: Tenant, admin: User) -> None:
    request = InvitationRequest("jane@fabrikam.com", "https://app.example/")
    with database.transaction() as s:
        first = service.invite(s, contoso, request, inviter_for(admin), issuer=ISSUER)
    with database.transaction() as s:
        second = service.invite(s, contoso, request, inviter_for(admin), issuer=ISSUER)
    assert second.user.id == first.user.id and second.reused_existing_user
    assert second.redeem_url != first.redeem_url
    with database.sessionmaker() as s:
        assert s.query(User).filter_by(tenant_id=contoso.id, user_type="Guest").count() == 1


def test_existing_member_or_accepted_guest_is_not_invited(database: Database, contoso: Tenant, admin: User) -> None:
    with pytest.raises(Conflict, match="already exists"), database.transaction() as s:
        service.invite(s, contoso, InvitationRequest("admin@contoso.com", "https://app.example/"),
                       inviter_for(admin), issuer=ISSUER)


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (InvitationRequest("bad+tag@x.com", "https://a.example/"), "invitedUserEmailAddress"),
        (InvitationRequest("a!b@x.com", "https://a.example/"), "invitedUserEmailAddress"),
        (InvitationRequest(".ab@x.com", "https://a.example/"), "invitedUserEmailAddress"),
        (InvitationRequest("ab-@x.com", "https://a.example/"), "invitedUserEmailAddress"),
        (InvitationRequest("a@x.com", ""), "inviteRedirectUrl"),
        (InvitationRequest("a@x.com", "not a url"), "inviteRedirectUrl"),
        (InvitationRequest("a@x.com", "https://a.example/", invited_user_type="Admin"), "invitedUserType"),
        (InvitationRequest("a@x.com", "https://a.example/", message_info=MessageInfo(
            cc_recipients=(Recipient("c1@x.com"), Recipient("c2@x.com")))), "invitedUserMessageInfo.ccRecipients"),
        (InvitationRequest("a@x.com", "https://a.example/", message_info=MessageInfo(
            cc_recipients=(Recipient("nope"),))), "invitedUserMessageInfo.ccRecipients"),
        (InvitationRequest("a@x.com", "https://a.example/", message_info=MessageInfo(message_language="english!")),
         "invitedUserMessageInfo.messageLanguage"),
        (InvitationRequest("a@x.com", "https://a.example/", reset_redemption=True), "invitedUser.id"),
    ],
)
def test_validation_names_the_field_and_writes_nothing(
    database: Database, contoso: Tenant, admin: User, request_: InvitationRequest, field: str
) -> None:
    with pytest.raises(ValidationError) as caught, database.transaction() as s:
        service.invite(s, contoso, request_, inviter_for(admin, "Global Administrator"), issuer=ISSUER)
    assert caught.value.field == field
    with database.sessionmaker() as s:
        assert s.query(Invitation).count() == 0
        assert s.query(User).filter_by(user_type="Guest").count() == 0


def test_member_type_only_for_global_administrators(database: Database, contoso: Tenant, admin: User) -> None:
    with database.transaction() as s:
        inviter = users.create_member(s, contoso, "inviter@contoso.com")
        roles.assign_role(s, contoso, inviter, "Guest Inviter")
    request = InvitationRequest("m@fabrikam.com", "https://a.example/", invited_user_type="Member")
    with pytest.raises(Forbidden), database.transaction() as s:
        service.invite(s, contoso, request, inviter_for(inviter, "Guest Inviter"), issuer=ISSUER)
    with database.transaction() as s:
        result = service.invite(s, contoso, request, inviter_for(admin, "Global Administrator"), issuer=ISSUER)
    assert result.user.user_type == "Member" and result.user.creation_type == "Invitation"


def test_explicit_sponsors(database: Database, contoso: Tenant, admin: User) -> None:
    with database.transaction() as s:
        team = groups.create_group(s, contoso, "Sponsors")
    request = InvitationRequest("s@fabrikam.com", "https://a.example/", sponsor_ids=(team.id, admin.id))
    with database.transaction() as s:
        result = service.invite(s, contoso, request, Inviter(client_id="automation"), issuer=ISSUER)
        assert {(sp.sponsor_group_id, sp.sponsor_user_id) for sp in result.user.sponsors} == {
            (team.id, None), (None, admin.id)}
    with pytest.raises(ValidationError, match="sponsor"), database.transaction() as s:
        service.invite(s, contoso, InvitationRequest("t@fabrikam.com", "https://a.example/", sponsor_ids=("nope",)),
                       Inviter(client_id="automation"), issuer=ISSUER)


def test_redemption_binds_identity_and_consumes_every_ticket(database: Database, contoso: Tenant, admin: User) -> None:
    request = InvitationRequest("r@fabrikam.com", "https://a.example/")
    with database.transaction() as s:
        first = service.invite(s, contoso, request, inviter_for(admin), issuer=ISSUER)
        second = service.invite(s, contoso, request, inviter_for(admin), issuer=ISSUER)
    invitation_id, ticket = ticket_of(second.redeem_url)
    with database.transaction() as s:
        invitation = service.find_redeemable(s, contoso, invitation_id, ticket)
        service.find_redeemable(s, contoso, invitation_id, ticket)  # opening the link twice consumes nothing
        user = service.complete_redemption(s, contoso, invitation, sign_in_type="federated", issuer="mail",
                                           issuer_assigned_id="r@fabrikam.com")
    assert user.external_user_state == "Accepted"
    assert {"signInType": "federated", "issuer": "mail", "issuerAssignedId": "r@fabrikam.com"} in [
        i.as_dict() for i in user.identities]
    for url in (first.redeem_url, second.redeem_url):
        with pytest.raises(service.InvalidTicket, match="already been used"), database.sessionmaker() as s:
            service.find_redeemable(s, contoso, *ticket_of(url))
    with database.sessionmaker() as s:
        assert service.get_invitation(s, contoso, invitation_id).status == "Completed"


def test_wrong_ticket_and_expired_ticket(database: Database, contoso: Tenant, fabrikam: Tenant, admin: User) -> None:
    with database.transaction() as s:
        result = service.invite(s, contoso, InvitationRequest("w@partner.com", "https://a.example/"),
                                inviter_for(admin), issuer=ISSUER, ticket_lifetime=3600)
    invitation_id, ticket = ticket_of(result.redeem_url)
    with database.sessionmaker() as s:
        with pytest.raises(service.InvalidTicket, match="not valid"):
            service.find_redeemable(s, contoso, invitation_id, ticket + "x")
        with pytest.raises(service.InvalidTicket, match="not valid"):
            service.find_redeemable(s, fabrikam, invitation_id, ticket)  # another tenant never sees it
        with pytest.raises(service.InvalidTicket, match="expired"):
            service.find_redeemable(s, contoso, invitation_id, ticket, now=utcnow() + timedelta(hours=2))
        assert service.find_redeemable(s, contoso, invitation_id, ticket).id == invitation_id


def test_reset_redemption_keeps_object_and_upn(database: Database, contoso: Tenant, admin: User) -> None:
    with database.transaction() as s:
        result = service.invite(s, contoso, InvitationRequest("old@fabrikam.com", "https://a.example/"),
                                inviter_for(admin), issuer=ISSUER)
        group = groups.create_group(s, contoso, "Project")
        groups.add_member(s, contoso, group, result.user)
    with database.transaction() as s:
        invitation = service.find_redeemable(s, contoso, *ticket_of(result.redeem_url))
        service.complete_redemption(s, contoso, invitation, sign_in_type="federated", issuer="google.com",
                                    issuer_assigned_id="g-123")
    guest_id, upn = result.user.id, result.user.user_principal_name

    reset = InvitationRequest("new@fabrikam.org", "https://a.example/", reset_redemption=True, invited_user_id=guest_id)
    with pytest.raises(ValidationError, match="otherMails"), database.transaction() as s:
        service.invite(s, contoso, reset, inviter_for(admin), issuer=ISSUER)
    with database.transaction() as s:
        guest = users.get_user(s, contoso, guest_id)
        users.add_other_mail(guest, "new@fabrikam.org")
    with database.transaction() as s:
        done = service.invite(s, contoso, reset, inviter_for(admin), issuer=ISSUER)
        body = invitation_to_graph(done.invitation, done.user, done.redeem_url)
    assert body["resetRedemption"] is True and body["status"] == "PendingAcceptance"
    with database.sessionmaker() as s:
        guest = users.get_user(s, contoso, guest_id)
        assert guest.user_principal_name == upn and guest.external_user_state == "PendingAcceptance"
        assert guest.mail == "new@fabrikam.org"
        assert [i.issuer for i in guest.identities] == ["contoso.portico.example"]  # binding discarded
        assert groups.member_ids(s, contoso, group) == [guest_id]


def test_app_only_reset_refused_for_role_holders(database: Database, contoso: Tenant, admin: User) -> None:
    reset = InvitationRequest("admin@contoso.com", "https://a.example/", reset_redemption=True,
                              invited_user_id=admin.id)
    with pytest.raises(Forbidden, match="directory role"), database.transaction() as s:
        service.invite(s, contoso, reset, Inviter(client_id="automation"), issuer=ISSUER)


def test_blocked_invitee_gets_user_but_a_warning(database: Database, contoso: Tenant, admin: User) -> None:
    with database.transaction() as s:
        service.block_future_invitations(s, contoso, "Quiet@Fabrikam.com")
        service.block_future_invitations(s, contoso, "quiet@fabrikam.com")  # idempotent
    with database.transaction() as s:
        result = service.invite(s, contoso, InvitationRequest("quiet@fabrikam.com", "https://a.example/",
                                                              send_invitation_message=True),
                                inviter_for(admin), issuer=ISSUER, secret_key="k" * 32)
    assert result.user.external_user_state == "PendingAcceptance"
    assert result.warnings and "blocked invitations" in result.warnings[0]
    with database.sessionmaker() as s:
        assert s.query(OutboxMessage).count() == 0
