"""Policy decision timings: ``python -m bench.policy`` prints a table (no targets are asserted in tests)."""

from __future__ import annotations

import timeit

from idp.policy import (
    SYSTEM_DEFAULT,
    ConditionalAccessPolicy,
    DomainList,
    ExternalCollaborationSettings,
    Inviter,
    PartnerConfiguration,
    SignInContext,
    Subject,
    invitation_decision,
    resolve,
    sign_in_decision,
)


def _policies(count: int) -> list[ConditionalAccessPolicy]:
    tenants = [f"t{j}" for j in range(20)]
    return [
        ConditionalAccessPolicy.from_graph({
            "displayName": f"p{i}",
            "state": "enabled" if i % 3 else "enabledForReportingButNotEnforced",
            "conditions": {
                "users": {"includeGuestsOrExternalUsers": {
                    "guestOrExternalUserTypes": "b2bCollaborationGuest",
                    "externalTenants": {"membershipKind": "enumerated", "members": tenants}}},
                "applications": {"includeApplications": [f"app{i}"]},
            },
            "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
        }, id=f"p{i}")
        for i in range(count)
    ]


def main(calls: int = 2000) -> None:
    groups = [{"target": f"g{i}", "targetType": "group"} for i in range(200)]
    partner = PartnerConfiguration.from_graph(
        {"tenantId": "t1", "b2bCollaborationInbound": {"usersAndGroups": {"accessType": "allowed", "targets": groups}}},
        default=SYSTEM_DEFAULT,
    )
    effective = resolve(SYSTEM_DEFAULT, partner)
    context = SignInContext(user_id="u", application_id="app5", user_type="Guest", is_external=True,
                            home_tenant_id="t1", cross_tenant=effective, group_ids=frozenset({"g150"}))
    policies = _policies(100)
    settings = ExternalCollaborationSettings(domain_list=DomainList.deny(*[f"d{i}.example.com" for i in range(1000)]))
    rows = [
        ("sign_in_decision: 100 CA policies, 200-target CTA", lambda: sign_in_decision(
            context, policies, subject=Subject("u-home", frozenset({"g150"})))),
        ("invitation_decision: 1000-domain deny list", lambda: invitation_decision(
            settings, Inviter.member(), "a@d999.example.com", resource=effective)),
    ]
    print(f"{'case':<55} {'µs/call':>10}")
    for name, call in rows:
        seconds = timeit.timeit(call, number=calls)
        print(f"{name:<55} {seconds / calls * 1e6:>10.0f}")


if __name__ == "__main__":
    main()
