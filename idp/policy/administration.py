"""Who may change which policy object (b2b-collaboration.md §5.10, §6; spec README role map; issue 5).

One table for the admin pages and the JSON API, so both refuse the same people with the same reason. Global
Administrators may change everything; a Guest Inviter may invite but change no setting (issue 5).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from idp.policy.decision import Decision, Reason

GLOBAL_ADMINISTRATOR = "Global Administrator"

PolicyObject = Literal[
    "authorizationPolicy",
    "b2bManagementPolicy",
    "authenticationFlowsPolicy",
    "emailAuthenticationMethodConfiguration",
    "externalUserLeaveSettings",
    "crossTenantAccessPolicy",
    "conditionalAccessPolicies",
]

#: Roles (besides Global Administrator) that may change each policy object.
#: §6.4 self-service sign-up: User Administrator; §5.10 and the spec README: Security Administrator for
#: cross-tenant access and conditional access. Roles that Portico does not have (Authentication Policy
#: Administrator, External Identity Provider Administrator, Privileged Role Administrator) fall to Global
#: Administrators.
CHANGE_ROLES: Mapping[PolicyObject, frozenset[str]] = {
    "authorizationPolicy": frozenset(),
    "b2bManagementPolicy": frozenset(),
    "authenticationFlowsPolicy": frozenset({"User Administrator"}),
    "emailAuthenticationMethodConfiguration": frozenset(),
    "externalUserLeaveSettings": frozenset(),
    "crossTenantAccessPolicy": frozenset({"Security Administrator"}),
    "conditionalAccessPolicies": frozenset({"Security Administrator"}),
}


def may_change(policy: PolicyObject, roles: Iterable[str]) -> Decision:
    """May a signed-in user holding ``roles`` change ``policy``? (App-only callers are the API layer's concern:
    they need the matching ``Policy.ReadWrite.*`` scope.)"""
    allowed_roles = CHANGE_ROLES[policy] | {GLOBAL_ADMINISTRATOR}
    held = set(roles)
    allowed = bool(held & allowed_roles)
    names = " or ".join(sorted(allowed_roles))
    return Decision.of(Reason(
        policy, "", allowed,
        f"{policy} may be changed by a {names}" if allowed
        else f"changing {policy} needs the role {names}",
    ))
