"""The invitation mail (§1.7) and the "Block future invitations" page."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from idp.db import Database
from idp.directory import users
from idp.invitations import service
from idp.invitations.links import block_url
from idp.invitations.mail import compose_invitation
from idp.invitations.model import InvitationRequest, Inviter, MessageInfo, Recipient
from idp.models import Tenant, User

ISSUER = "http://127.0.0.1:5000/contoso"


@pytest.fixture
def inviter(database: Database, contoso: Tenant) -> User:
    with database.transaction() as s:
        return users.create_member(s, contoso, "grace@contoso.com", display_name="Grace Hopper")


def make_invitation(database: Database, tenant: Tenant, who: Inviter, **kwargs):
    request = InvitationRequest("john@fabrikam.com", "https://wiki.example/start", send_invitation_message=True,
                                **kwargs)
    with database.transaction() as s:
        return service.invite(s, tenant, request, who, issuer=ISSUER, secret_key="k" * 32)


def test_english_mail_order_and_fields(app: Flask, database: Database, contoso: Tenant, inviter: User) -> None:
    result = make_invitation(database, contoso, Inviter(user=inviter), message_info=MessageInfo(
        customized_message_body="<b>Welcome</b> to the wiki", cc_recipients=(Recipient("boss@fabrikam.com"),)))
    with app.app_context():
        mail = compose_invitation(contoso, result.invitation, inviter=inviter, redeem_url=result.redeem_url,
                                  block_url="http://127.0.0.1:5000/contoso/invitations/block?token=t")
    assert mail.subject == "Grace Hopper invited you to access applications within their organization"
    assert mail.to == "john@fabrikam.com" and mail.reply_to == "grace@contoso.com"
    assert mail.cc == ("boss@fabrikam.com",) and mail.language == "en"
    order = ["Only accept this invitation", "Organization: Contoso (contoso.com)", "Invited by: Grace Hopper",
             "<b>Welcome</b> to the wiki", "https://wiki.example/start", "Accept invitation", result.redeem_url,
             "Block future invitations from Contoso", "has not provided a privacy statement"]
    positions = [mail.text.index(fragment) for fragment in order]
    assert positions == sorted(positions)
    assert "&lt;b&gt;Welcome&lt;/b&gt;" in mail.html and "<b>Welcome</b>" not in mail.html  # plain text, never HTML
    assert f'href="{result.redeem_url.replace("&", "&amp;")}"' in mail.html


def test_language_precedence_and_german(app: Flask, database: Database, contoso: Tenant, inviter: User) -> None:
    result = make_invitation(database, contoso, Inviter(user=inviter),
                             message_info=MessageInfo(message_language="de-DE"))
    with app.app_context():
        mail = compose_invitation(contoso, result.invitation, inviter=inviter, redeem_url=result.redeem_url,
                                  block_url="b")
        assert mail.language == "de"
        assert mail.subject == "Grace Hopper hat Sie eingeladen, auf Anwendungen der Organisation zuzugreifen"
        assert "Einladung annehmen" in mail.text and "Einladung annehmen" in mail.html
        fallback = compose_invitation(contoso, result.invitation, inviter=inviter, redeem_url="r", block_url="b",
                                      tenant_language="fr")
        assert fallback.language == "de"
    plain = make_invitation(database, contoso, Inviter(user=inviter), message_info=MessageInfo(
        message_language="xx-YY"))
    with app.app_context():
        assert compose_invitation(contoso, plain.invitation, inviter=inviter, redeem_url="r", block_url="b",
                                  tenant_language="de").language == "de"


def test_app_only_invitation_drops_the_custom_message(app: Flask, database: Database, contoso: Tenant) -> None:
    result = make_invitation(database, contoso, Inviter(client_id="automation"),
                             message_info=MessageInfo(customized_message_body="secret note"))
    with app.app_context():
        mail = compose_invitation(contoso, result.invitation, inviter=None, redeem_url="r", block_url="b")
    assert "secret note" not in mail.text and mail.reply_to is None
    assert mail.subject.startswith("Contoso invited you")


def test_block_link_records_the_choice(client: FlaskClient, app: Flask, database: Database,
                                       contoso: Tenant) -> None:
    url = block_url(ISSUER, app.config["SECRET_KEY"], contoso.id, "John@Fabrikam.com")
    path = url.removeprefix("http://127.0.0.1:5000")
    page = client.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Block future invitations from Contoso" in html and "john@fabrikam.com" in html
    assert re.search(r"<button[^>]*>Block future invitations</button>", html)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    token = path.split("token=")[1]
    assert client.post(path, data={"token": token}).status_code == 400  # no CSRF token
    done = client.post(path, data={"token": token, "csrf_token": csrf})
    assert done.status_code == 200 and "Invitations blocked" in done.get_data(as_text=True)
    with database.sessionmaker() as s:
        assert service.is_blocked_by_invitee(s, contoso, "john@fabrikam.com")


def test_block_link_refuses_forgeries(client: FlaskClient, app: Flask, contoso: Tenant, fabrikam: Tenant) -> None:
    other = block_url(ISSUER, app.config["SECRET_KEY"], fabrikam.id, "john@fabrikam.com").split("token=")[1]
    assert client.get(f"/contoso/invitations/block?token={other}").status_code == 400
    forged = block_url(ISSUER, "another-secret-key-123456", contoso.id, "x@y.com").split("token=")[1]
    response = client.get(f"/contoso/invitations/block?token={forged}")
    assert response.status_code == 400 and "not valid" in response.get_data(as_text=True)
