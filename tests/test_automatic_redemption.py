"""Automatic redemption (§5.6) with two tenants of one deployment: only contoso inbound AND fabrikam outbound
together skip the consent page and the invitation mail; the guest gets a notification mail instead."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from idp import policy_store
from idp.db import Database
from idp.directory import users
from idp.invitations import automatic, service
from idp.invitations.model import InvitationRequest, Inviter
from idp.models import OutboxMessage, Tenant, User

ISSUER = "http://127.0.0.1:5000/contoso"
HOME_ISSUER = "http://127.0.0.1:5000/fabrikam"


def allow(database: Database, tenant: Tenant, partner: Tenant, *, inbound: bool, outbound: bool) -> None:
    with database.transaction() as s:
        policy_store.create_cross_tenant_partner(s, tenant, {
            "tenantId": partner.id,
            "automaticUserConsentSettings": {"inboundAllowed": inbound, "outboundAllowed": outbound},
        }, roles=None, actor="test")


@pytest.fixture
def fiona(database: Database, fabrikam: Tenant) -> str:
    with database.transaction() as s:
        return users.create_member(s, fabrikam, "fiona@fabrikam.com").id


def invite(database: Database, contoso: Tenant, *, send: bool = False) -> service.InvitationResult:
    with database.transaction() as s:
        return service.invite(s, contoso, InvitationRequest("fiona@fabrikam.com", "https://app.example/",
                                                            send_invitation_message=send),
                              Inviter(operator=True), issuer=ISSUER, secret_key="k" * 32)


def redeem(database: Database, contoso: Tenant, invitation_id: str, home_id: str) -> User | None:
    with database.transaction() as s:
        invitation = service.get_invitation(s, contoso, invitation_id)
        return automatic.redeem_automatically(s, contoso, invitation, sign_in_type="federated", issuer=HOME_ISSUER,
                                              issuer_assigned_id=home_id, application_url="https://app.example/")


def mails(database: Database) -> list[OutboxMessage]:
    with database.sessionmaker() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at)))


@pytest.mark.parametrize(("contoso_inbound", "fabrikam_outbound", "automatic_expected"), [
    (True, True, True),
    (True, False, False),
    (False, True, False),
    (False, False, False),
])
def test_both_sides_must_allow(database: Database, contoso: Tenant, fabrikam: Tenant, fiona: str,
                               contoso_inbound: bool, fabrikam_outbound: bool, automatic_expected: bool) -> None:
    allow(database, contoso, fabrikam, inbound=contoso_inbound, outbound=False)
    allow(database, fabrikam, contoso, inbound=False, outbound=fabrikam_outbound)
    result = invite(database, contoso, send=True)
    sent = mails(database)
    if automatic_expected:
        assert sent == [] and any("automatic redemption" in w for w in result.warnings)
    else:
        assert [m.kind for m in sent] == ["invitation"]

    user = redeem(database, contoso, result.invitation.id, fiona)
    if not automatic_expected:
        assert user is None  # the consent page is shown; nothing was written
        with database.sessionmaker() as s:
            assert users.get_user(s, contoso, result.user.id).external_user_state == "PendingAcceptance"
        return
    assert user is not None and user.external_user_state == "Accepted"
    with database.sessionmaker() as s:
        stored = users.get_user(s, contoso, result.user.id)
        assert stored.external_user_state == "Accepted"
        assert {(i.issuer, i.issuer_assigned_id) for i in stored.identities if i.sign_in_type == "federated"} == {
            (HOME_ISSUER, fiona)}
        assert service.get_invitation(s, contoso, result.invitation.id).status == "Completed"
    [notice] = mails(database)
    assert notice.kind == "redemption_notice" and notice.to_address == "fiona@fabrikam.com"
    assert notice.subject == "You now have access to Contoso"
    assert "No action is needed" in notice.text_body and "https://app.example/" in notice.text_body
    assert 'href="https://app.example/"' in notice.html_body


def test_unknown_home_organization_keeps_the_consent_page(database: Database, contoso: Tenant) -> None:
    """Outbound settings of an organization outside this deployment are unknown: never automatic."""
    with database.transaction() as s:
        decision = service.automatic_redemption_for(s, contoso, "someone@elsewhere.example")
    assert not decision.suppress_consent
    assert "home.automaticUserConsentSettings.outboundAllowed" in {r.name for r in decision.decision.refusals}


def test_the_notification_mail_is_in_the_sign_in_pages_language(database: Database, contoso: Tenant,
                                                                 fabrikam: Tenant, fiona: str) -> None:
    allow(database, contoso, fabrikam, inbound=True, outbound=False)
    allow(database, fabrikam, contoso, inbound=False, outbound=True)
    result = invite(database, contoso)
    with database.transaction() as s:
        invitation = service.get_invitation(s, contoso, result.invitation.id)
        automatic.redeem_automatically(s, contoso, invitation, sign_in_type="federated", issuer=HOME_ISSUER,
                                       issuer_assigned_id=fiona, application_url="https://app.example/",
                                       language="de")
    [notice] = mails(database)
    assert notice.subject == "Sie haben jetzt Zugriff auf Contoso"
    assert "Anwendung öffnen:" in notice.text_body and '<html lang="de">' in notice.html_body
