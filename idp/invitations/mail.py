"""Composing the invitation mail (b2b-collaboration.md §1.7); needs no Flask app.

Body order: phishing caution, inviting organization and its primary domain, inviter, the custom message as plain
text (escaped in HTML, never interpreted), where the invitee will land and the ``Accept invitation`` link, then the
footer with "Block future invitations" and the privacy statement (or a note that there is none).
"""

from __future__ import annotations

from dataclasses import dataclass

from idp.languages import N_, pick_language, translate
from idp.mail import compose
from idp.models import Invitation, Tenant, User

SUBJECT = N_("%(inviter)s invited you to access applications within their organization")


@dataclass(frozen=True)
class ComposedMail:
    to: str
    subject: str
    text: str
    html: str
    language: str
    reply_to: str | None = None
    cc: tuple[str, ...] = ()


def invitation_language(invitation: Invitation, tenant_language: str | None = None) -> str:
    """§1.7 precedence: the API's messageLanguage (ignored when a custom body is set, §1.3), the resource
    tenant's notification language, then English. (Guests have no preferredLanguage in Portico yet.)"""
    info = invitation.message_info or {}
    requested = None if info.get("customizedMessageBody") else info.get("messageLanguage")
    return pick_language(requested, tenant_language)


def compose_invitation(
    tenant: Tenant,
    invitation: Invitation,
    *,
    inviter: User | None,
    redeem_url: str,
    block_url: str,
    tenant_language: str | None = None,
) -> ComposedMail:
    info = invitation.message_info or {}
    language = invitation_language(invitation, tenant_language)
    inviter_name = (inviter.display_name or inviter.user_principal_name) if inviter else tenant.display_name
    inviter_mail = inviter.mail if inviter is not None else None
    # §1.3: the custom message is dropped when the inviter has no email address or is an application.
    custom = info.get("customizedMessageBody") if inviter_mail else None
    primary_domain = next((d.name for d in tenant.domains if d.is_verified and not d.is_initial),
                          tenant.initial_domain)
    subject = translate(language, SUBJECT, inviter=inviter_name)
    composed = compose(
        "invitation", subject=subject, language=language, tenant=tenant, primary_domain=primary_domain,
        inviter_name=inviter_name, inviter_mail=inviter_mail, custom_message=custom,
        redirect_url=invitation.invite_redirect_url, redeem_url=redeem_url, block_url=block_url,
    )
    cc = tuple(r["emailAddress"]["address"] for r in info.get("ccRecipients") or []
               if (r.get("emailAddress") or {}).get("address"))
    return ComposedMail(to=invitation.invited_user_email_address, subject=subject, text=composed.text,
                        html=composed.html, language=language, reply_to=inviter_mail, cc=cc[:1])
