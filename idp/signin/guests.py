"""Guest sign-in rules (no Flask): who the address is, where they authenticate, what policy says, redemption.

* :func:`home_realm` gathers the stored settings (cross-tenant redemption order, ``emailOtpForGuests``, upstream
  IdPs, the guest's bound identities, the home tenant) and lets the pure :func:`choose_home_realm` decide.
* :func:`policy_verdict` runs :func:`idp.policy.sign_in_decision` with the stored cross-tenant settings and
  conditional access policies.
* :func:`pending_invitation` finds the invitation a just-in-time redemption completes.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from idp import policy_store
from idp.db import scoped
from idp.directory import users
from idp.federation.discovery import bound_identities_of, home_tenant_for, upstreams_for
from idp.models import GroupMember, Invitation, Tenant, User
from idp.policy import sign_in_decision
from idp.policy.combine import SignInDecision
from idp.policy.conditional_access import SignInContext
from idp.policy.cross_tenant_access import Subject
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


def policy_verdict(db: Session, tenant: Tenant, user: User, *, application_id: str,
                   home_tenant_id: str | None = None, upstream_amr: frozenset[str] = frozenset(),
                   subject: Subject | None = None) -> SignInDecision:
    """§5.4 for this sign-in: cross-tenant access (the partner's settings when the guest's organization is known,
    the default ones for email-OTP and social guests), then conditional access."""
    external = user.user_type == "Guest" or user.creation_type == "Invitation"
    context = SignInContext(
        user_id=user.id, application_id=application_id,
        user_type="Guest" if user.user_type == "Guest" else "Member",
        is_external=external, home_tenant_id=home_tenant_id,
        group_ids=frozenset(db.scalars(scoped(GroupMember, tenant.id).where(GroupMember.user_id == user.id)
                                       .with_only_columns(GroupMember.group_id))),
        upstream_amr=upstream_amr,
        cross_tenant=policy_store.effective_cross_tenant(db, tenant, home_tenant_id) if external else None,
    )
    home_tenant = db.get(Tenant, home_tenant_id) if home_tenant_id else None
    home = policy_store.effective_cross_tenant(db, home_tenant, tenant.id) if home_tenant is not None else None
    return sign_in_decision(context, policy_store.conditional_access_policies(db, tenant),
                            subject=subject or Subject.unknown(), home=home)


def pending_invitation(db: Session, tenant: Tenant, user: User) -> Invitation | None:
    """The newest unused invitation of a pending guest (just-in-time redemption completes it)."""
    return db.scalar(
        scoped(Invitation, tenant.id)
        .where(Invitation.invited_user_id == user.id, Invitation.ticket_consumed_at.is_(None))
        .order_by(Invitation.created_at.desc())
        .limit(1)
    )
