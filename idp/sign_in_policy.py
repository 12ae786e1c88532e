"""Gathering the facts of one sign-in or token refresh and asking :func:`idp.policy.sign_in_decision` (§5.4).

The pure decision needs: which organization the user comes from (the partner key of the cross-tenant access
settings), the user's ids *in that home organization* (inbound targets name the partner's users and groups), this
tenant's effective settings for the organization, the home tenant's outbound settings when the home tenant is on
this deployment, and the conditional access policies. This module reads those (the home tenant's outbound
settings and group memberships are the deliberate cross-tenant reads the B2B rules call for) and returns the
decision with the facts, so callers can enforce it and write the sign-in log.

Where a user comes from:

* a ``federated`` identity whose issuer is another tenant of this deployment (``{base_url}/{slug}``): that tenant
  (partner key = its tenant id, subject = the ``sub`` there and the user's groups there, home outbound applies);
* a ``federated`` identity from this tenant's enterprise identity provider or a partner deployment: that issuer
  is the partner key, subject = its ``sub`` (no groups known, no home outbound);
* email one-time passcode (issuer ``mail``) and social providers: no organization; the default settings apply
  and the subject is unknown (only ``AllUsers`` targets can match);
* a ``Guest`` without an external identity whose address is in a verified domain of another tenant here: that
  tenant, subject unknown; any other user is internal (conditional access only).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from idp import policy_store, signin_log
from idp.db import scoped
from idp.directory.roles import roles_of
from idp.directory.tenants import find_tenant
from idp.federation.discovery import upstreams_for
from idp.models import GroupMember, SignInLogEntry, Tenant, User, UserIdentity
from idp.policy import SignInContext, SignInDecision, Subject, sign_in_decision
from idp.policy.home_realm import MAIL_ISSUER


@dataclass(frozen=True)
class Origin:
    """Where an external user's credentials live. ``partner_key`` selects the partner configuration (``None``:
    the default settings); ``home_tenant`` is set when the home organization is a tenant of this deployment."""

    upstream_issuer: str | None
    partner_key: str | None
    home_tenant: Tenant | None
    subject: Subject


@dataclass(frozen=True)
class PolicyCheck:
    decision: SignInDecision
    origin: Origin | None  # None for internal users
    context: SignInContext

    @property
    def home_tenant_id(self) -> str | None:
        return self.origin.partner_key if self.origin else None


def _home_groups(db: Session, home: Tenant, user_id: str) -> frozenset[str]:
    stmt = select(GroupMember.group_id).where(GroupMember.tenant_id == home.id, GroupMember.user_id == user_id)
    return frozenset(db.scalars(stmt))


def _deployment_tenant(db: Session, issuer: str, base_url: str) -> Tenant | None:
    prefix = base_url.rstrip("/") + "/"
    if not issuer.startswith(prefix):
        return None
    slug = issuer[len(prefix):].rstrip("/")
    return find_tenant(db, slug) if slug and "/" not in slug else None


@dataclass(frozen=True)
class Credential:
    """The identity a journey just authenticated (``issuer``, ``subject``), before redemption binds it to the user;
    ``home_tenant`` when the journey already resolved the issuer to a tenant of this deployment."""

    issuer: str
    subject: str | None = None
    home_tenant: Tenant | None = None


def _origin_of_identity(db: Session, tenant: Tenant, issuer: str, sub: str | None, home: Tenant | None) -> Origin:
    if home is not None and home.id != tenant.id:
        groups = _home_groups(db, home, sub) if sub else frozenset()
        return Origin(issuer, home.id, home, Subject(sub, groups))
    if issuer == MAIL_ISSUER:
        return Origin(MAIL_ISSUER, None, None, Subject.unknown())
    upstream = next((u for u in upstreams_for(db, tenant) if u.identity_issuer == issuer), None)
    if upstream is not None and not upstream.is_enterprise:  # social: no organization
        return Origin(issuer, None, None, Subject(sub))
    return Origin(issuer, issuer, None, Subject(sub))


def origin_of(db: Session, tenant: Tenant, user: User, *, base_url: str,
              credential: Credential | None = None) -> Origin | None:
    """The user's home organization, or ``None`` for an internal user (see the module docstring). The identity
    the sign-in used (``credential``) wins over the identities bound to the user (a pending guest has none yet)."""
    if credential is not None and credential.issuer:
        home = credential.home_tenant or _deployment_tenant(db, credential.issuer, base_url)
        return _origin_of_identity(db, tenant, credential.issuer, credential.subject, home)
    federated = [i for i in user.identities if i.sign_in_type == "federated"]
    if federated:
        identity = federated[0]
        home = _deployment_tenant(db, identity.issuer, base_url)
        return _origin_of_identity(db, tenant, identity.issuer, identity.issuer_assigned_id, home)
    if user.is_guest and user.mail:
        home = policy_store.home_tenant_of(db, user.mail)
        if home is not None and home.id != tenant.id:
            return Origin(None, home.id, home, Subject.unknown())
    return None


def check_sign_in(
    db: Session,
    tenant: Tenant,
    user: User,
    application_id: str,
    *,
    base_url: str,
    upstream_amr: Iterable[str] = (),
    mfa_completed: bool = False,
    credential: Credential | None = None,
) -> PolicyCheck:
    """Cross-tenant access (resource inbound and, for a home tenant on this deployment, home outbound), then
    conditional access, for ``user`` signing in to the application with client id ``application_id``.
    ``credential``: the identity this sign-in authenticated with (the journey knows it before it is bound)."""
    origin = origin_of(db, tenant, user, base_url=base_url, credential=credential)
    user_groups = frozenset(db.scalars(
        scoped(GroupMember, tenant.id).where(GroupMember.user_id == user.id).with_only_columns(GroupMember.group_id)
    ))
    context = SignInContext(
        user_id=user.id,
        application_id=application_id,
        user_type="Guest" if user.is_guest else "Member",
        is_external=origin is not None,
        home_tenant_id=origin.partner_key if origin else None,
        group_ids=user_groups,
        role_names=frozenset(roles_of(db, tenant, user)),
        upstream_amr=frozenset(upstream_amr),
        mfa_completed=mfa_completed,
        cross_tenant=(policy_store.effective_cross_tenant(db, tenant, origin.partner_key)
                      if origin is not None else None),
    )
    home_outbound = (policy_store.effective_cross_tenant(db, origin.home_tenant, tenant.id)
                     if origin is not None and origin.home_tenant is not None else None)
    decision = sign_in_decision(context, policy_store.conditional_access_policies(db, tenant),
                                subject=origin.subject if origin else Subject.unknown(), home=home_outbound)
    return PolicyCheck(decision, origin, context)


def record_check(
    db: Session,
    tenant: Tenant,
    user: User,
    check: PolicyCheck,
    *,
    client_id: str,
    app_display_name: str | None = None,
    kind: signin_log.Kind = "interactive",
    client_ip: str | None = None,
    amr: Iterable[str] = (),
    outcome: signin_log.Outcome | None = None,
    reason: str | None = None,
) -> SignInLogEntry:
    """The sign-in log entry for a checked attempt: the outcome follows the decision (``allow`` -> success,
    ``requireMfa`` -> interrupted, ``block`` -> failure) unless the caller knows better (e.g. ``success`` once
    the MFA step completed); the reason defaults to the decision's message."""
    return signin_log.record_sign_in(
        db, tenant, outcome=outcome or signin_log.outcome_of(check.decision),
        reason=reason or check.decision.message, kind=kind, user=user, client_id=client_id,
        app_display_name=app_display_name, upstream_idp=check.origin.upstream_issuer if check.origin else None,
        home_tenant_id=check.home_tenant_id, client_ip=client_ip, decision=check.decision, amr=amr,
    )


FEDERATED = "federated"
# Decision 8 re-evaluates these at every token refresh: ``userType`` Guest or a user with an external
# (federated) identity. A SQL condition on ``users``: the refresh grant asks it in the query that finds the token,
# so members are refreshed without loading their user object.
GUEST_OR_EXTERNAL = or_(
    User.__table__.c.user_type == "Guest",
    exists().where(UserIdentity.__table__.c.user_id == User.__table__.c.id,
                   UserIdentity.__table__.c.sign_in_type == FEDERATED),
)

