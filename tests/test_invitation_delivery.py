"""Invitation mail goes through the durable outbox to a real SMTP server (aiosmtpd), and survives an outage."""

from __future__ import annotations

from datetime import timedelta

import pytest
from smtp_capture import MAIL_FROM, free_port, smtp_server

from idp.db import Database, utcnow
from idp.directory import users
from idp.errors import ValidationError
from idp.invitations import service
from idp.invitations.model import InvitationRequest, Inviter, MessageInfo, Recipient
from idp.mail import SmtpTransport, deliver_due
from idp.models import Invitation, OutboxMessage, Tenant, User

ISSUER = "http://127.0.0.1:5000/contoso"
SECRET = "test-secret-key-0123456789abcdef"


@pytest.fixture
def grace(database: Database, contoso: Tenant) -> User:
    with database.transaction() as s:
        return users.create_member(s, contoso, "grace@contoso.com", display_name="Grace Hopper")


def send_invite(database: Database, tenant: Tenant, inviter: User, **kwargs):
    request = InvitationRequest("john@fabrikam.com", "https://wiki.example/", send_invitation_message=True, **kwargs)
    with database.transaction() as s:
        return service.invite(s, tenant, request, Inviter(user=inviter), issuer=ISSUER, secret_key=SECRET)


def test_invitation_mail_arrives_with_cc_and_reply_to(database: Database, contoso: Tenant, grace: User) -> None:
    result = send_invite(database, contoso, grace, message_info=MessageInfo(
        customized_message_body="See you <there>", cc_recipients=(Recipient("boss@fabrikam.com", "Boss"),)))
    with smtp_server() as (mailbox, smtp):
        report = deliver_due(database, SmtpTransport(smtp), mail_from=MAIL_FROM)
    assert len(report.sent) == 1
    [message] = mailbox.messages
    assert message["To"] == "john@fabrikam.com" and message["Cc"] == "boss@fabrikam.com"
    assert message["Reply-To"] == "grace@contoso.com"
    assert message["Subject"] == "Grace Hopper invited you to access applications within their organization"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert result.redeem_url in text and "See you <there>" in text
    assert "See you &lt;there&gt;" in html
    assert f"{ISSUER}/invitations/block?token=" in text


def test_mail_server_outage_loses_no_invitation(database: Database, contoso: Tenant, grace: User) -> None:
    send_invite(database, contoso, grace)
    down = SmtpTransport(smtp_settings_for_closed_port(), timeout=2)
    report = deliver_due(database, down, mail_from=MAIL_FROM)
    assert report.sent == [] and len(report.retrying) == 1
    with smtp_server() as (mailbox, smtp):
        later = utcnow() + timedelta(hours=2)
        deliver_due(database, SmtpTransport(smtp), mail_from=MAIL_FROM, now=later)
    assert [m["To"] for m in mailbox.messages] == ["john@fabrikam.com"]
    with database.sessionmaker() as s:
        assert [m.status for m in s.query(OutboxMessage)] == ["sent"]


def smtp_settings_for_closed_port():
    from idp.config import SmtpSettings

    return SmtpSettings(host="127.0.0.1", port=free_port(), mail_from=MAIL_FROM)


def test_failed_mail_enqueue_rolls_back_the_invitation(database: Database, contoso: Tenant, grace: User) -> None:
    """The mail and the invitation are one transaction: a bad cc address leaves neither behind."""
    with pytest.raises(ValidationError):
        send_invite(database, contoso, grace, message_info=MessageInfo(cc_recipients=(Recipient("not-valid"),)))
    with database.sessionmaker() as s:
        assert s.query(Invitation).count() == 0 and s.query(OutboxMessage).count() == 0
        assert s.query(User).filter_by(user_type="Guest").count() == 0


def test_no_mail_unless_asked(database: Database, contoso: Tenant, grace: User) -> None:
    with database.transaction() as s:
        service.invite(s, contoso, InvitationRequest("quiet@fabrikam.com", "https://wiki.example/"),
                       Inviter(user=grace), issuer=ISSUER, secret_key=SECRET)
    with database.sessionmaker() as s:
        assert s.query(OutboxMessage).count() == 0
