"""Helpers for the guest journey tests: invitations delivered to a real SMTP server, reading the mails, and
submitting the journey's pages like a browser (with their CSRF tokens)."""

from __future__ import annotations

import re
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

from flask.testing import FlaskClient
from smtp_capture import MAIL_FROM

from idp.config import SmtpSettings
from idp.db import Database
from idp.invitations import service
from idp.invitations.model import InvitationRequest, Inviter
from idp.mail import SmtpTransport, deliver_due
from idp.models import Tenant
from idp.runtime import runtime
from idp.tokens import issue_access_token

SECRET = "test-secret-key-0123456789abcdef"
REDIRECT = "https://wiki.example/welcome"
MFA_FOR_GUESTS = {  # a conditional access policy requiring MFA for B2B guests
    "displayName": "MFA for guests", "state": "enabled",
    "conditions": {"users": {"includeGuestsOrExternalUsers": {"guestOrExternalUserTypes": "b2bCollaborationGuest",
                                                              "externalTenants": {"membershipKind": "all"}}},
                   "applications": {"includeApplications": ["All"]}},
    "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
}


def invite(database: Database, tenant: Tenant, email: str, *, issuer: str, send: bool = True,
           redirect_url: str = REDIRECT) -> str:
    """Invite ``email`` as the operator; returns the redeem URL."""
    with database.transaction() as s:
        result = service.invite(s, tenant, InvitationRequest(email, redirect_url, send_invitation_message=send),
                                Inviter(operator=True), issuer=issuer, secret_key=SECRET)
        return result.redeem_url


def deliver(database: Database, smtp: SmtpSettings) -> None:
    deliver_due(database, SmtpTransport(smtp), mail_from=MAIL_FROM)


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def redeem_link(message: EmailMessage) -> str:
    match = re.search(r"https?://\S+/redeem\?\S+", text_of(message))
    assert match, "no redeem link in the mail"
    return match.group(0)


def code_in(message: EmailMessage) -> str:
    match = re.search(r"\b(\d{8})\b", text_of(message))
    assert match, "no 8-digit code in the mail"
    return match.group(1)


def csrf(html: str, prefix: str = "") -> str:
    match = re.search(rf'name="{prefix}csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, f"no {prefix}csrf_token on the page"
    return match.group(1)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def send_code(client: FlaskClient, otp_path: str) -> Any:
    page = client.get(otp_path)
    assert page.status_code == 200, page.text
    assert "Send code" in page.text
    return client.post(otp_path, data={"send-csrf_token": csrf(page.text, "send-"), "send-send": "Send code"})


def enter_code(client: FlaskClient, otp_path: str, code: str) -> Any:
    page = client.get(otp_path)
    token = csrf(page.text, "verify-" if "verify-csrf_token" in page.text else "send-")  # same session token
    return client.post(otp_path, data={"verify-csrf_token": token, "verify-code": code,
                                       "verify-verify": "Verify"})


def review(client: FlaskClient, path: str, button: str = "Accept") -> Any:
    page = client.get(path)
    assert page.status_code == 200, page.text
    assert "Review permissions" in page.text
    return client.post(path, data={"csrf_token": csrf(page.text), button.lower(): button})


def sign_ins(client: FlaskClient, tenant: Tenant, issuer: str) -> list[dict[str, Any]]:
    """The tenant's sign-in log, newest first, read through ``GET {issuer}/api/v1/auditLogs/signIns``."""
    token, _ = issue_access_token(runtime(client.application).keys, issuer=issuer, tenant_id=tenant.id,
                                  subject="auditor", client_id="auditor", audience=issuer,
                                  scopes=("AuditLog.Read.All",))
    response = client.get(f"/{tenant.slug}/api/v1/auditLogs/signIns", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return list(response.json["value"])
