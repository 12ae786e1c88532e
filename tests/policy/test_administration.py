"""Who may change which policy object (§5.10, §6.4, spec README roles, issue 5)."""

from __future__ import annotations

import pytest

from idp.policy.administration import CHANGE_ROLES, may_change

GA, UA, GI, SA = "Global Administrator", "User Administrator", "Guest Inviter", "Security Administrator"


@pytest.mark.parametrize(
    ("policy", "roles", "expected"),
    [
        pytest.param("authorizationPolicy", {GI}, False, id="issue-5-guest-inviter-cannot-change-settings"),
        pytest.param("b2bManagementPolicy", {GI, UA}, False, id="§6.5-domain-lists-global-admin-only"),
        pytest.param("b2bManagementPolicy", {GA}, True, id="§6.5-global-admin"),
        pytest.param("authenticationFlowsPolicy", {UA}, True, id="§6.4-user-admin-self-service-sign-up"),
        pytest.param("crossTenantAccessPolicy", {SA}, True, id="§5.10-security-admin-cross-tenant"),
        pytest.param("crossTenantAccessPolicy", {UA}, False, id="§5.10-user-admin-not-cross-tenant"),
        pytest.param("conditionalAccessPolicies", {SA}, True, id="README-security-admin-conditional-access"),
        pytest.param("authorizationPolicy", {SA}, False, id="§6.1-security-admin-not-authorization-policy"),
        pytest.param("conditionalAccessPolicies", set(), False, id="member-without-roles"),
    ],
)
def test_may_change(policy: str, roles: set[str], expected: bool) -> None:
    decision = may_change(policy, roles)  # type: ignore[arg-type]
    assert decision.allowed is expected
    assert decision.reasons[0].policy == policy
    if not expected:
        assert GA in decision.message


@pytest.mark.parametrize("policy", sorted(CHANGE_ROLES))
def test_global_administrator_may_change_everything(policy: str) -> None:
    assert may_change(policy, [GA]).allowed  # type: ignore[arg-type]
    assert not may_change(policy, [GI]).allowed  # type: ignore[arg-type]
