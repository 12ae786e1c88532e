"""Who is using the admin center: the member signed in with the tenant's SSO session cookie, and their roles.

Not signed in: a redirect to ``/{tenant}/login`` that returns here afterwards. Signed in without one of the
roles a page needs: 403.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask import abort, g, request
from sqlalchemy.orm import Session

from idp.db import scoped
from idp.directory.roles import roles_of
from idp.invitations.model import Inviter
from idp.models import Tenant, User
from idp.oidc.sso import current_session
from idp.policy.administration import CHANGE_ROLES, GLOBAL_ADMINISTRATOR, PolicyObject
from idp.runtime import request_db
from idp.tenancy import current_tenant

USER_ADMINISTRATORS = frozenset({"User Administrator", GLOBAL_ADMINISTRATOR})
INVITERS = USER_ADMINISTRATORS | {"Guest Inviter"}


def policy_editors(policy: PolicyObject) -> frozenset[str]:
    """The roles that may change a policy object (``idp.policy.administration`` is the one table)."""
    return CHANGE_ROLES[policy] | {GLOBAL_ADMINISTRATOR}


#: Any page of the admin center needs at least one of these.
ANY_ADMIN = INVITERS | policy_editors("crossTenantAccessPolicy") | policy_editors("conditionalAccessPolicies")


class SignInRequired(Exception):
    """No signed-in member: the admin blueprint turns this into a redirect to the sign-in page."""


@dataclass(frozen=True)
class Admin:
    user: User
    roles: frozenset[str]

    @property
    def inviter(self) -> Inviter:
        return Inviter(user=self.user, roles=self.roles)

    @property
    def actor(self) -> str:
        return self.user.user_principal_name

    def holds(self, roles: Iterable[str]) -> bool:
        return bool(self.roles & set(roles))


def signed_in_user(db: Session, tenant: Tenant) -> User | None:
    """The enabled user of the tenant's live SSO session in this request's cookie, else ``None``."""
    session = current_session(tenant)
    if session is None:
        return None
    user = db.scalar(scoped(User, tenant.id).where(User.id == session.user_id))
    return user if user is not None and user.account_enabled else None


def signed_in_admin(db: Session, tenant: Tenant) -> Admin | None:
    user = signed_in_user(db, tenant)
    return None if user is None else Admin(user, frozenset(roles_of(db, tenant, user)))


def current_admin(required_roles: Iterable[str]) -> Admin:
    """The signed-in administrator holding one of ``required_roles``; raises :class:`SignInRequired` or 403."""
    required = frozenset(required_roles)
    admin = signed_in_admin(request_db(), current_tenant())
    if admin is None:
        raise SignInRequired()
    if not admin.holds(required):
        abort(403, description=f"This page needs the role {' or '.join(sorted(required))}.")
    g.admin = admin  # the navigation shows what this administrator may open
    return admin


def return_path() -> str:
    """This request's path and query, for the sign-in page to come back to."""
    query = request.query_string.decode("latin-1")
    return request.path + (f"?{query}" if query else "")
