"""Which directory user an upstream sign-in is, and binding the identity (spec decision 6, §3.3)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from idp.db import scoped
from idp.directory import users
from idp.federation.client import UpstreamIdentity
from idp.models import Tenant, User, UserIdentity
from idp.policy.linking import LinkCandidate, LinkDecision, decide_link


def match_upstream_identity(db: Session, tenant: Tenant, identity: UpstreamIdentity) -> LinkDecision:
    """Gather the facts (who holds ``{issuer, sub}``, who has the email) and let the pure rule decide."""
    bound = db.scalar(
        scoped(UserIdentity, tenant.id)
        .where(UserIdentity.sign_in_type == "federated", UserIdentity.issuer == identity.issuer,
               UserIdentity.issuer_assigned_id == identity.subject)
        .with_only_columns(UserIdentity.user_id)
    )
    candidates: tuple[LinkCandidate, ...] = ()
    if bound is None and identity.email:
        candidates = tuple(
            LinkCandidate(u.id, tuple(i.issuer for i in u.identities if i.sign_in_type == "federated"))
            for u in users.find_users_by_email(db, tenant, identity.email)
        )
    return decide_link(issuer=identity.issuer, bound_user_id=bound, email=identity.email,
                       email_verified=identity.email_verified, candidates=candidates)


def bind_upstream_identity(db: Session, user: User, identity: UpstreamIdentity) -> UserIdentity:
    """Record ``{federated, issuer, sub}`` on the user: from now on this user signs in there (sticky)."""
    return users.add_identity(db, user, sign_in_type="federated", issuer=identity.issuer,
                              issuer_assigned_id=identity.subject)
