"""Guest sign-in rules (no Flask): who the address is, where they authenticate, redemption (the policy check is
:func:`idp.sign_in_policy.check_sign_in`).

* :func:`home_realm` gathers the stored settings (cross-tenant redemption order, ``emailOtpForGuests``, upstream
  IdPs, the guest's bound identities, the home tenant) and lets the pure :func:`choose_home_realm` decide.
* :func:`pending_invitation` finds the invitation a just-in-time redemption completes.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from idp import policy_store
from idp.db import scoped
from idp.directory import users
from idp.federation.discovery import bound_identities_of, home_tenant_for, upstreams_for
from idp.models import Invitation, Tenant, User
from idp.policy.home_realm import HomeRealmInput, HomeRealmRoute, choose_home_realm


def is_member_address(db: Session, tenant: Tenant, email: str) -> bool:
    """A member of this tenant signs in with their password; everyone else takes the guest route."""
    found = users.find_users_by_email(db, tenant, email)
    return any(u.user_type == "Member" and u.creation_type != "Invitation" for u in found)


def find_guest(db: Session, tenant: Tenant, email: str) -> User | None:
    """The enabled invited (or self-signed-up) user of this tenant known by ``email``."""
    for user in users.find_users_by_email(db, tenant, email):
        if user.account_enabled and (user.user_type == "Guest" or user.creation_type == "Invitation"):
            return user
    return None


def home_realm(db: Session, tenant: Tenant, email: str, user: User | None, *,
               issuer_for: Callable[[str], str]) -> HomeRealmRoute:
    default = policy_store.cross_tenant_default(db, tenant)
    order = default.invitation_redemption_identity_provider_configuration
    home = home_tenant_for(db, tenant, email, issuer_for=issuer_for)
    data = HomeRealmInput(
        email=email,
        upstreams=upstreams_for(db, tenant),
        primary_order=tuple(order.primary_identity_provider_precedence_order),
        fallback=order.fallback_identity_provider,
        email_otp_for_guests=policy_store.external_collaboration(db, tenant).email_otp_for_guests,
        bound_identities=bound_identities_of(user),
        home_tenant=home,
    )
    return choose_home_realm(data)


def pending_invitation(db: Session, tenant: Tenant, user: User) -> Invitation | None:
    """The newest unused invitation of a pending guest (just-in-time redemption completes it)."""
    return db.scalar(
        scoped(Invitation, tenant.id)
        .where(Invitation.invited_user_id == user.id, Invitation.ticket_consumed_at.is_(None))
        .order_by(Invitation.created_at.desc())
        .limit(1)
    )
