"""Gathering the plain data :func:`idp.policy.home_realm.choose_home_realm` decides on, from the database."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import or_
from sqlalchemy.orm import Session

from idp.db import across_tenants
from idp.directory.emails import normalize_email
from idp.federation.service import identity_issuer, list_providers
from idp.models import Tenant, User
from idp.policy.home_realm import BoundIdentity, HomeTenant, Upstream


def upstreams_for(db: Session, tenant: Tenant) -> tuple[Upstream, ...]:
    return tuple(
        Upstream(id=p.id, name=p.name, type=p.type, identity_issuer=identity_issuer(p), domains=tuple(p.domain_names))
        for p in list_providers(db, tenant)
    )


def bound_identities_of(user: User | None) -> tuple[BoundIdentity, ...]:
    """The guest's ``federated`` identities, oldest first (the UPN identity is not a sign-in route)."""
    if user is None:
        return ()
    return tuple(BoundIdentity(i.issuer, i.issuer_assigned_id) for i in user.identities
                 if i.sign_in_type == "federated")


def home_tenant_for(
    db: Session, tenant: Tenant, email: str, *, issuer_for: Callable[[str], str]
) -> HomeTenant | None:
    """The other tenant of this deployment where ``email`` is a *member* (user-based discovery, §2.1 step 1).

    This is the one explicit cross-tenant read of home-realm discovery; guests elsewhere do not count."""
    address = normalize_email(email)
    member = db.scalar(
        across_tenants(User)
        .where(User.tenant_id != tenant.id, User.user_type == "Member", User.account_enabled.is_(True),
               or_(User.user_principal_name == address, User.mail_normalized == address))
        .order_by(User.created_at)
        .limit(1)
    )
    if member is None:
        return None
    home = db.get(Tenant, member.tenant_id)
    assert home is not None
    return HomeTenant(issuer=issuer_for(home.slug), name=home.display_name)
