"""Conditional access for members and guests (b2b-collaboration.md §8, §5.5; spec README decisions 8 and 9)."""

from __future__ import annotations

from typing import Any

import pytest

from idp.errors import ValidationError
from idp.policy.conditional_access import (
    ApplicationsCondition,
    ConditionalAccessPolicy,
    GrantControls,
    SignInContext,
    UsersCondition,
    classify_user,
    evaluate,
    evaluate_policy,
)
from idp.policy.cross_tenant_access import SYSTEM_DEFAULT, PartnerConfiguration, resolve

APP, OTHER_APP = "contoso-crm", "contoso-wiki"
FABRIKAM, WOODGROVE = "fabrikam", "woodgrove"

TRUSTED = resolve(SYSTEM_DEFAULT, PartnerConfiguration.from_graph(
    {"tenantId": FABRIKAM, "inboundTrust": {"isMfaAccepted": True}}, default=SYSTEM_DEFAULT))
UNTRUSTED = resolve(SYSTEM_DEFAULT, PartnerConfiguration(FABRIKAM))
PROVIDER = resolve(SYSTEM_DEFAULT, PartnerConfiguration(FABRIKAM, is_service_provider=True))


def policy(pid: str = "p1", *, users: dict[str, Any] | None = None, apps: list[str] | None = None,
           controls: list[str] | None = None, operator: str = "OR", state: str = "enabled",
           exclude_apps: list[str] | None = None) -> ConditionalAccessPolicy:
    return ConditionalAccessPolicy.from_graph({
        "displayName": f"Policy {pid}",
        "state": state,
        "conditions": {
            "users": users or {"includeUsers": ["All"]},
            "applications": {"includeApplications": apps or ["All"], "excludeApplications": exclude_apps or []},
        },
        "grantControls": {"operator": operator, "builtInControls": controls or ["mfa"]},
    }, id=pid)


def guests(types: str, tenants: list[str] | None = None) -> dict[str, Any]:
    external: dict[str, Any] = {"membershipKind": "all"}
    if tenants is not None:
        external = {"@odata.type": "#microsoft.graph.conditionalAccessEnumeratedExternalTenants",
                    "membershipKind": "enumerated", "members": tenants}
    return {"guestOrExternalUserTypes": types, "externalTenants": external}


GUEST_MFA_ON_APP = policy(users={"includeGuestsOrExternalUsers": guests("b2bCollaborationGuest")}, apps=[APP])


def guest(**kwargs: Any) -> SignInContext:
    values: dict[str, Any] = {"user_id": "ann", "application_id": APP, "user_type": "Guest", "is_external": True,
                              "home_tenant_id": FABRIKAM, "cross_tenant": UNTRUSTED}
    values.update(kwargs)
    return SignInContext(**values)


MEMBER = SignInContext(user_id="carol", application_id=APP, group_ids=frozenset({"finance"}),
                       role_names=frozenset({"Global Administrator"}))


@pytest.mark.parametrize(
    ("user_type", "external", "provider", "direct", "expected"),
    [
        pytest.param("Member", False, False, False, None, id="§8.1-internal-member-is-not-external"),
        pytest.param("Guest", False, False, False, "internalGuest", id="§8.1-internalGuest"),
        pytest.param("Guest", True, False, False, "b2bCollaborationGuest", id="§8.1-b2bCollaborationGuest"),
        pytest.param("Member", True, False, False, "b2bCollaborationMember", id="§8.1-b2bCollaborationMember"),
        pytest.param("Guest", True, True, False, "serviceProvider", id="§8.1-serviceProvider"),
        pytest.param("Guest", True, False, True, "b2bDirectConnectUser", id="§8.1-b2bDirectConnectUser"),
    ],
)
def test_classify_user(user_type: str, external: bool, provider: bool, direct: bool, expected: str | None) -> None:
    assert classify_user(user_type, external, is_service_provider=provider,  # type: ignore[arg-type]
                         is_direct_connect=direct) == expected


def test_service_provider_partner_makes_the_guest_a_service_provider() -> None:
    assert guest(cross_tenant=PROVIDER).guest_or_external_user_type == "serviceProvider"
    assert guest().guest_or_external_user_type == "b2bCollaborationGuest"


# (policies, context) -> outcome, mfa location, enforced result of the first policy
EVALUATION_TABLE = [
    pytest.param([GUEST_MFA_ON_APP], guest(), "requireMfa", "resource", "failure",
                 id="§8.3-guest-without-trust-does-mfa-in-resource-tenant"),
    pytest.param([GUEST_MFA_ON_APP], guest(upstream_amr=frozenset({"pwd", "mfa"})), "requireMfa", "resource",
                 "failure", id="README-9-upstream-mfa-ignored-without-isMfaAccepted"),
    pytest.param([GUEST_MFA_ON_APP], guest(upstream_amr=frozenset({"pwd", "mfa"}), cross_tenant=TRUSTED), "allow",
                 None, "success", id="README-9-upstream-mfa-accepted-with-isMfaAccepted"),
    pytest.param([GUEST_MFA_ON_APP], guest(upstream_amr=frozenset({"pwd"}), cross_tenant=TRUSTED), "requireMfa",
                 "home", "failure", id="§5.5-trusted-but-no-mfa-claim-challenge-at-home"),
    pytest.param([GUEST_MFA_ON_APP], guest(upstream_amr=frozenset({"mfa"}), home_tenant_id=None,
                                           cross_tenant=TRUSTED), "requireMfa",
                 "resource", "failure", id="§8.3-otp-or-social-guest-always-resource-tenant"),
    pytest.param([GUEST_MFA_ON_APP], guest(mfa_completed=True), "allow", None, "success",
                 id="§8.3-mfa-done-in-resource-tenant-satisfies"),
    pytest.param([GUEST_MFA_ON_APP], guest(application_id=OTHER_APP), "allow", None, "notApplied",
                 id="§8.1-other-application-not-in-scope"),
    pytest.param([GUEST_MFA_ON_APP], MEMBER, "allow", None, "notApplied", id="§8.1-member-not-a-guest"),
    pytest.param([GUEST_MFA_ON_APP], guest(user_type="Member"), "allow", None, "notApplied",
                 id="§8.1-b2bCollaborationMember-not-selected"),
    pytest.param([policy(users={"includeGuestsOrExternalUsers": guests("b2bCollaborationGuest", [FABRIKAM])},
                         controls=["block"])], guest(), "block", None, "failure",
                 id="§8.1-enumerated-external-tenant-blocked"),
    pytest.param([policy(users={"includeGuestsOrExternalUsers": guests("b2bCollaborationGuest", [FABRIKAM])},
                         controls=["block"])], guest(home_tenant_id=WOODGROVE), "allow", None, "notApplied",
                 id="§8.1-other-external-tenant-not-selected"),
    pytest.param([policy(users={"includeGuestsOrExternalUsers": guests("internalGuest", [FABRIKAM])},
                         controls=["block"])], guest(is_external=False, home_tenant_id=None), "block", None,
                 "failure", id="§8.1-internalGuest-ignores-external-tenant-filter"),
    pytest.param([policy(users={"includeUsers": ["GuestsOrExternalUsers"]})], guest(), "requireMfa", "resource",
                 "failure", id="§8.1-includeUsers-GuestsOrExternalUsers-keyword"),
    pytest.param([policy(users={"includeUsers": ["GuestsOrExternalUsers"]})], MEMBER, "allow", None, "notApplied",
                 id="§8.1-GuestsOrExternalUsers-keyword-skips-members"),
    pytest.param([policy(users={"includeUsers": ["All"], "excludeGuestsOrExternalUsers":
                                guests("b2bCollaborationGuest,b2bCollaborationMember")})], guest(), "allow", None,
                 "notApplied", id="§8.1-excludeGuestsOrExternalUsers"),
    pytest.param([policy(users={"includeUsers": ["All"], "excludeUsers": ["ann"]})], guest(), "allow", None,
                 "notApplied", id="§8.1-excludeUsers-wins"),
    pytest.param([policy(users={"includeUsers": ["All"], "excludeGroups": ["finance"]})], MEMBER, "allow", None,
                 "notApplied", id="§8.1-excludeGroups-wins"),
    pytest.param([policy(users={"includeGroups": ["finance"]})], MEMBER, "requireMfa", "resource", "failure",
                 id="§8.1-includeGroups"),
    pytest.param([policy(users={"includeRoles": ["Global Administrator"]})], MEMBER, "requireMfa", "resource",
                 "failure", id="§8.1-includeRoles"),
    pytest.param([policy(users={"includeUsers": ["carol"], "excludeRoles": ["Global Administrator"]})], MEMBER,
                 "allow", None, "notApplied", id="§8.1-excludeRoles-wins"),
    pytest.param([policy(users={"includeUsers": ["None"]})], MEMBER, "allow", None, "notApplied",
                 id="§8.1-includeUsers-None"),
    pytest.param([policy(apps=["None"])], MEMBER, "allow", None, "notApplied", id="§8.1-includeApplications-None"),
    pytest.param([policy(apps=["All"], exclude_apps=[APP])], MEMBER, "allow", None, "notApplied",
                 id="§8.1-excludeApplications-wins"),
    pytest.param([policy(state="disabled", controls=["block"])], MEMBER, "allow", None, "notEnabled",
                 id="§8-disabled-policy-not-evaluated"),
    pytest.param([policy("p1"), policy("p2", controls=["block"])], MEMBER, "block", None, "failure",
                 id="§8-block-is-most-restrictive"),
    pytest.param([policy(operator="AND")], MEMBER, "requireMfa", "resource", "failure", id="§8.2-AND-mfa"),
]


@pytest.mark.parametrize(("policies", "context", "outcome", "location", "first_result"), EVALUATION_TABLE)
def test_evaluation(policies: list[ConditionalAccessPolicy], context: SignInContext, outcome: str,
                    location: str | None, first_result: str) -> None:
    evaluation = evaluate(policies, context)
    assert evaluation.outcome == outcome
    assert evaluation.mfa_location == location
    assert evaluation.policies[0].result == first_result
    assert evaluation.report_only == ()
    if outcome == "requireMfa":
        assert evaluation.requires_mfa and not evaluation.allowed
        assert "requires multifactor authentication" in evaluation.message
        assert any(r.setting in ("mfa", "upstreamAmr", "inboundTrust.isMfaAccepted") for r in evaluation.reasons)
    if outcome == "block":
        assert evaluation.blocked
        assert "blocks access" in evaluation.message


def test_reasons_name_the_trust_setting() -> None:
    evaluation = evaluate([GUEST_MFA_ON_APP], guest(upstream_amr=frozenset({"mfa"})))
    trust = [r for r in evaluation.reasons if r.setting == "inboundTrust.isMfaAccepted"]
    assert trust and trust[0].allowed is False
    assert trust[0].policy == "crossTenantAccessPolicy/default"
    trusted = evaluate([GUEST_MFA_ON_APP], guest(upstream_amr=frozenset({"mfa"}), cross_tenant=TRUSTED))
    accepted = [r for r in trusted.reasons if r.setting == "inboundTrust.isMfaAccepted"]
    assert accepted[0].allowed and accepted[0].policy == f"crossTenantAccessPolicy/partners/{FABRIKAM}"


@pytest.mark.parametrize(
    ("controls", "context", "would_be", "result"),
    [
        pytest.param(["mfa"], guest(), "requireMfa", "reportOnlyInterrupted", id="§8-report-only-would-ask-mfa"),
        pytest.param(["block"], guest(), "block", "reportOnlyFailure", id="§8-report-only-would-block"),
        pytest.param(["mfa"], guest(mfa_completed=True), "allow", "reportOnlySuccess", id="§8-report-only-success"),
        pytest.param(["block"], guest(application_id=OTHER_APP), "allow", "reportOnlyNotApplied",
                     id="§8-report-only-not-applied"),
    ],
)
def test_report_only_is_never_enforced(controls: list[str], context: SignInContext, would_be: str,
                                       result: str) -> None:
    report_only = policy("r1", users={"includeGuestsOrExternalUsers": guests("b2bCollaborationGuest")}, apps=[APP],
                         controls=controls, state="enabledForReportingButNotEnforced")
    evaluation = evaluate([report_only], context)
    assert evaluation.outcome == "allow"
    assert evaluation.policies == ()
    assert evaluation.report_only_outcome == would_be
    assert evaluation.report_only[0].result == result
    log = evaluation.as_log()
    assert log["reportOnlyOutcome"] == would_be
    assert log["appliedConditionalAccessPolicies"][0]["result"] == result
    assert log["conditionalAccessStatus"] == "notApplied"


def test_enforced_and_report_only_side_by_side() -> None:
    enforced = policy("e1", controls=["mfa"])
    report_only = policy("r1", controls=["block"], state="enabledForReportingButNotEnforced")
    evaluation = evaluate([enforced, report_only], MEMBER)
    assert (evaluation.outcome, evaluation.report_only_outcome) == ("requireMfa", "block")
    assert [p["id"] for p in evaluation.as_log()["appliedConditionalAccessPolicies"]] == ["e1", "r1"]
    assert evaluation.as_log()["conditionalAccessStatus"] == "failure"


@pytest.mark.parametrize(
    ("operator", "controls", "mfa", "outcome"),
    [
        pytest.param("OR", ("block", "mfa"), True, "allow", id="§8.2-OR-any-satisfied-control-grants"),
        pytest.param("OR", ("block", "mfa"), False, "requireMfa", id="§8.2-OR-asks-for-the-satisfiable-control"),
        pytest.param("AND", ("block", "mfa"), True, "block", id="§8.2-AND-every-control-needed"),
        pytest.param("AND", ("mfa",), True, "allow", id="§8.2-AND-satisfied"),
        pytest.param("OR", ("block",), True, "block", id="§8.2-block-never-satisfied"),
    ],
)
def test_grant_operator_semantics(operator: str, controls: tuple[str, ...], mfa: bool, outcome: str) -> None:
    raw = ConditionalAccessPolicy("p", "P", "enabled", UsersCondition(include_users=("All",)),
                                  ApplicationsCondition(("All",)),
                                  GrantControls(operator, controls))  # type: ignore[arg-type]
    assert evaluate_policy(raw, MEMBER, mfa).outcome == outcome


def test_graph_round_trip_and_patch() -> None:
    original = policy(users={"includeUsers": ["All"], "excludeUsers": ["break-glass"],
                             "includeGuestsOrExternalUsers": guests("b2bCollaborationMember,b2bCollaborationGuest",
                                                                    [FABRIKAM])}, apps=[APP])
    document = original.to_graph()
    assert document["conditions"]["users"]["includeGuestsOrExternalUsers"] == {
        "guestOrExternalUserTypes": "b2bCollaborationGuest,b2bCollaborationMember",
        "externalTenants": {"@odata.type": "#microsoft.graph.conditionalAccessEnumeratedExternalTenants",
                            "membershipKind": "enumerated", "members": [FABRIKAM]},
    }
    assert ConditionalAccessPolicy.from_graph(document, id="p1") == original
    patched = ConditionalAccessPolicy.from_graph({"state": "enabledForReportingButNotEnforced"}, base=original)
    assert patched.state == "enabledForReportingButNotEnforced"
    assert patched.users == original.users


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param({"state": "on"}, "state", id="§8-state-enum"),
        pytest.param({"displayName": ""}, "displayName", id="displayName-required"),
        pytest.param({"grantControls": {"operator": "XOR", "builtInControls": ["mfa"]}}, "grantControls.operator",
                     id="§8.2-operator-enum"),
        pytest.param({"grantControls": {"operator": "OR", "builtInControls": ["block", "mfa"]}},
                     "grantControls.builtInControls", id="§8.2-block-is-exclusive"),
        pytest.param({"grantControls": {"operator": "OR", "builtInControls": []}}, "grantControls.builtInControls",
                     id="§8.2-a-control-is-required"),
        pytest.param({"grantControls": {"operator": "OR", "builtInControls": ["compliantDevice"]}},
                     "grantControls.builtInControls", id="§8.2-device-controls-unsupported"),
        pytest.param({"grantControls": {"operator": "OR", "builtInControls": ["mfa"], "termsOfUse": ["t"]}},
                     "grantControls.termsOfUse", id="§8.2-terms-of-use-later"),
        pytest.param({"conditions": {"users": {}, "applications": {"includeApplications": ["All"]}}},
                     "conditions.users.includeUsers", id="§8.1-users-must-include-someone"),
        pytest.param({"conditions": {"users": {"includeUsers": ["All", "ann"]},
                                     "applications": {"includeApplications": ["All"]}}},
                     "conditions.users.includeUsers", id="§8.1-All-alone"),
        pytest.param({"conditions": {"users": {"includeUsers": ["ann"], "excludeUsers": ["All"]}, "applications": {
                      "includeApplications": ["All"]}}}, "conditions.users.excludeUsers", id="§8.1-exclude-All"),
        pytest.param({"conditions": {"users": {"includeGuestsOrExternalUsers": guests("b2bCollaborationGuest,x")},
                                     "applications": {"includeApplications": ["All"]}}},
                     "conditions.users.includeGuestsOrExternalUsers.guestOrExternalUserTypes",
                     id="§8.1-unknown-user-type"),
        pytest.param({"conditions": {"users": {"includeGuestsOrExternalUsers": guests("none")},
                                     "applications": {"includeApplications": ["All"]}}},
                     "conditions.users.includeGuestsOrExternalUsers.externalTenants",
                     id="§8.1-externalTenants-only-with-types"),
        pytest.param({"conditions": {"users": {"includeGuestsOrExternalUsers": guests("internalGuest", [])},
                                     "applications": {"includeApplications": ["All"]}}},
                     "conditions.users.includeGuestsOrExternalUsers.externalTenants.members",
                     id="§8.1-enumerated-needs-members"),
        pytest.param({"conditions": {"users": {"includeUsers": ["All"]}, "applications": {
                      "includeApplications": ["Office365"]}}}, "conditions.applications.includeApplications",
                     id="§8.1-Office365-unsupported"),
        pytest.param({"conditions": {"users": {"includeUsers": ["All"]}, "applications": {
                      "includeApplications": []}}}, "conditions.applications.includeApplications",
                     id="§8.1-applications-required"),
        pytest.param({"conditions": {"users": {"includeUsers": ["All"]}, "applications": {
                      "includeApplications": ["All"], "includeUserActions": ["urn:user:registersecurityinfo"]}}},
                     "conditions.applications.includeUserActions", id="§8.1-user-actions-unsupported"),
        pytest.param({"conditions": {"users": {"includeUsers": ["All"]}, "applications": {
                      "includeApplications": ["All"]}, "clientAppTypes": ["exchangeActiveSync"]}},
                     "conditions.clientAppTypes", id="client-app-types-all-only"),
        pytest.param({"sessionControls": {"signInFrequency": {}}}, "sessionControls", id="§8.2-session-controls"),
    ],
)
def test_from_graph_names_the_bad_field(change: dict[str, Any], field: str) -> None:
    document = policy().to_graph()
    document.update(change)
    with pytest.raises(ValidationError) as raised:
        ConditionalAccessPolicy.from_graph(document, id="p1")
    assert raised.value.field == field


@pytest.mark.parametrize("missing", ["displayName", "state", "conditions", "grantControls"])
def test_create_requires(missing: str) -> None:
    document = policy().to_graph()
    del document[missing]
    with pytest.raises(ValidationError) as raised:
        ConditionalAccessPolicy.from_graph(document, id="p1")
    assert raised.value.field == missing
