"""Automatic redemption (b2b-collaboration.md §5.6, ``automaticUserConsentSettings``).

When this (resource) tenant has ``inboundAllowed`` for the guest's home tenant AND the home tenant has
``outboundAllowed`` for this tenant, the redemption consent page ("Review permissions") is skipped and the guest
gets a notification mail ("no action needed") instead. Every other combination — including a home organization
that is not a tenant of this deployment, whose outbound settings are unknown — keeps the consent page.

The redemption flow calls :func:`redeem_automatically` once the guest has authenticated at home: a user back
means the invitation is redeemed and the flow continues without the consent page; ``None`` means show it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from idp import mail
from idp.db import utcnow
from idp.invitations.service import automatic_redemption_for, complete_redemption
from idp.languages import DEFAULT_LANGUAGE, N_, translate
from idp.models import Invitation, Tenant, User

__all__ = ["automatic_redemption_for", "redeem_automatically"]

NOTIFICATION_KIND = "redemption_notice"
SUBJECT = N_("You now have access to %(organization)s")


def redeem_automatically(
    db: Session,
    tenant: Tenant,
    invitation: Invitation,
    *,
    sign_in_type: str,
    issuer: str,
    issuer_assigned_id: str | None,
    application_url: str,
    now: datetime | None = None,
    language: str = DEFAULT_LANGUAGE,
) -> User | None:
    """Redeem without the consent page when both sides allow it, and put the notification mail in the outbox
    (same transaction; in ``language``, the sign-in page's). Returns ``None`` — nothing written — when the
    consent page must be shown."""
    address = invitation.invited_user_email_address
    if not automatic_redemption_for(db, tenant, address).suppress_consent:
        return None
    now = now or utcnow()
    user = complete_redemption(db, tenant, invitation, sign_in_type=sign_in_type, issuer=issuer,
                               issuer_assigned_id=issuer_assigned_id, now=now)
    composed = mail.compose(NOTIFICATION_KIND, subject=translate(language, SUBJECT, organization=tenant.display_name),
                            language=language, organization=tenant.display_name, address=address,
                            application_url=application_url)
    mail.enqueue(db, to=address, subject=composed.subject, text=composed.text, html=composed.html,
                 tenant_id=tenant.id, kind=NOTIFICATION_KIND, now=now)
    return user
