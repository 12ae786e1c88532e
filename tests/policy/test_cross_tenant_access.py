"""Cross-tenant access settings (b2b-collaboration.md §5, §2.2): shapes, resolution, consistency, evaluation."""

from __future__ import annotations

from typing import Any

import pytest

from idp.errors import ValidationError
from idp.policy.cross_tenant_access import (
    DEFAULT_POLICY,
    RULE_BLOCK_ALL_TOGETHER,
    RULE_DEFAULT_INBOUND_ALL_USERS_ONLY,
    RULE_OUTBOUND_NEEDS_APPLICATION,
    SYSTEM_DEFAULT,
    DefaultConfiguration,
    InboundTrust,
    PartnerConfiguration,
    RedemptionConfiguration,
    Subject,
    automatic_redemption,
    evaluate_b2b_collaboration,
    evaluate_inbound,
    evaluate_outbound,
    may_delete_partner,
    reset_to_system_default,
    resolve,
)

RMS = "00000012-0000-0000-c000-000000000000"
APP = "contoso-crm"
FABRIKAM = "fabrikam-tenant-id"
CONTOSO = "contoso-tenant-id"
ANN = Subject("ann-id", frozenset({"sales-group"}))
BOB = Subject("bob-id", frozenset())


def users(access: str, *targets: tuple[str, str]) -> dict[str, Any]:
    return {"accessType": access, "targets": [{"target": t, "targetType": k} for t, k in targets]}


def apps(access: str, *ids: str) -> dict[str, Any]:
    return {"accessType": access, "targets": [{"target": i, "targetType": "application"} for i in ids]}


ALL_USERS = ("AllUsers", "user")
ALLOW_ALL = {"usersAndGroups": users("allowed", ALL_USERS), "applications": apps("allowed", "AllApplications")}
BLOCK_ALL = {"usersAndGroups": users("blocked", ALL_USERS), "applications": apps("blocked", "AllApplications")}


def partner(document: dict[str, Any], default: DefaultConfiguration = SYSTEM_DEFAULT) -> PartnerConfiguration:
    return PartnerConfiguration.from_graph({"tenantId": FABRIKAM, **document}, default=default)


# -- §5.2 system defaults and reset ----------------------------------------------------------------------------


def test_system_defaults_graph_shape() -> None:
    assert SYSTEM_DEFAULT.to_graph() == {
        "isServiceDefault": True,
        "b2bCollaborationInbound": ALLOW_ALL,
        "b2bCollaborationOutbound": ALLOW_ALL,
        "b2bDirectConnectInbound": BLOCK_ALL,
        "b2bDirectConnectOutbound": BLOCK_ALL,
        "inboundTrust": {"isMfaAccepted": False, "isCompliantDeviceAccepted": False,
                         "isHybridAzureADJoinedDeviceAccepted": False},
        "automaticUserConsentSettings": {"inboundAllowed": False, "outboundAllowed": False},
        "invitationRedemptionIdentityProviderConfiguration": {
            "primaryIdentityProviderPrecedenceOrder": ["azureActiveDirectory", "externalFederation",
                                                       "socialIdentityProviders"],
            "fallbackIdentityProvider": "defaultConfiguredIdp",
        },
    }


def test_patch_clears_is_service_default_and_reset_restores_it() -> None:
    patched = DefaultConfiguration.from_graph({"inboundTrust": {"isMfaAccepted": True}})
    assert patched.is_service_default is False
    assert patched.inbound_trust == InboundTrust(is_mfa_accepted=True)
    assert DefaultConfiguration.from_graph(patched.to_graph()) == patched
    reset = reset_to_system_default()
    assert reset.is_service_default is True
    assert reset.to_graph() == SYSTEM_DEFAULT.to_graph()


# -- §5.3 resolution ---------------------------------------------------------------------------------------------


def test_partner_null_properties_inherit_the_default() -> None:
    default = DefaultConfiguration.from_graph({"inboundTrust": {"isMfaAccepted": True}})
    fabrikam = partner({"b2bCollaborationInbound": BLOCK_ALL}, default)
    effective = resolve(default, fabrikam)
    assert effective.inbound_trust.is_mfa_accepted is True
    assert effective.source_of("inboundTrust") == DEFAULT_POLICY
    assert effective.source_of("b2bCollaborationInbound") == f"crossTenantAccessPolicy/partners/{FABRIKAM}"
    assert effective.b2b_collaboration_outbound == default.b2b_collaboration_outbound
    assert fabrikam.to_graph()["inboundTrust"] is None
    assert fabrikam.to_graph()["b2bCollaborationInbound"] == BLOCK_ALL
    assert PartnerConfiguration.from_graph(fabrikam.to_graph(), default=default, base=fabrikam) == fabrikam


def test_partner_default_settings_option_and_removal_revert_to_defaults() -> None:
    fabrikam = partner({"b2bCollaborationInbound": BLOCK_ALL, "inboundTrust": {"isMfaAccepted": True}})
    assert evaluate_inbound(resolve(SYSTEM_DEFAULT, fabrikam), ANN, APP).denied
    for reverted in (fabrikam.inherit_all(), None):
        effective = resolve(SYSTEM_DEFAULT, reverted)
        assert evaluate_inbound(effective, ANN, APP).allowed, "§5.3 rule 1 (portal default option) / rule 2"
        assert effective.inbound_trust.is_mfa_accepted is False


def test_partner_patch_merges_partial_settings_and_null_resets_to_inherited() -> None:
    fabrikam = partner({"b2bCollaborationInbound": {"usersAndGroups": users("allowed", ("g1", "group"))}})
    inbound = resolve(SYSTEM_DEFAULT, fabrikam).b2b_collaboration_inbound
    assert inbound.applications == SYSTEM_DEFAULT.b2b_collaboration_inbound.applications
    assert [t.target for t in inbound.users_and_groups.targets] == ["g1"]
    cleared = PartnerConfiguration.from_graph({"b2bCollaborationInbound": None}, default=SYSTEM_DEFAULT,
                                              base=fabrikam)
    assert cleared.b2b_collaboration_inbound is None
    assert "b2bCollaborationInbound" in resolve(SYSTEM_DEFAULT, cleared).inherited


def test_service_provider_partner_cannot_be_deleted() -> None:
    assert may_delete_partner(partner({"isServiceProvider": True})).refused_by == (
        f"crossTenantAccessPolicy/partners/{FABRIKAM}.isServiceProvider"
    )
    assert may_delete_partner(partner({})).allowed


# -- §5.3 consistency rules --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "document", "rule", "field"),
    [
        pytest.param("default", {"b2bCollaborationInbound": {"usersAndGroups": users("blocked", ALL_USERS)}},
                     RULE_BLOCK_ALL_TOGETHER, "b2bCollaborationInbound.applications",
                     id="§5.3.4-users-blocked-all-needs-apps-blocked-all"),
        pytest.param("default", {"b2bCollaborationOutbound": {"applications": apps("blocked", "AllApplications")}},
                     RULE_BLOCK_ALL_TOGETHER, "b2bCollaborationOutbound.usersAndGroups",
                     id="§5.3.4-apps-blocked-all-needs-users-blocked-all"),
        pytest.param("partner", {"b2bCollaborationInbound": {"usersAndGroups": users("blocked", ALL_USERS)}},
                     RULE_BLOCK_ALL_TOGETHER, "b2bCollaborationInbound.applications",
                     id="§5.3.4-partner-checked-with-inherited-parts"),
        pytest.param("partner", {"b2bCollaborationOutbound": {
                         "usersAndGroups": users("blocked", ("u1", "user")),
                         "applications": apps("blocked", "AllApplications")}},
                     RULE_BLOCK_ALL_TOGETHER, "b2bCollaborationOutbound.usersAndGroups",
                     id="§5.3.4-some-users-allowed-out-all-apps-blocked"),
        pytest.param("default", {"b2bCollaborationInbound": {"usersAndGroups": users("allowed", ("u1", "user"))}},
                     RULE_DEFAULT_INBOUND_ALL_USERS_ONLY, "b2bCollaborationInbound.usersAndGroups",
                     id="§5.3.3-default-inbound-all-users-only"),
        pytest.param("default", {"b2bDirectConnectInbound": {"usersAndGroups": users("blocked", ("g1", "group")),
                                                              "applications": apps("allowed", APP)}},
                     RULE_DEFAULT_INBOUND_ALL_USERS_ONLY, "b2bDirectConnectInbound.usersAndGroups",
                     id="§5.3.3-default-direct-connect-inbound-all-users-only"),
    ],
)
def test_inconsistent_writes_are_refused_with_the_rule_named(target: str, document: dict[str, Any], rule: str,
                                                             field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        if target == "default":
            DefaultConfiguration.from_graph(document)
        else:
            partner(document)
    assert raised.value.field == field
    assert rule in raised.value.message
    assert "§5.3" in raised.value.message


def test_outbound_rule_reported_when_users_go_out_and_no_application_does() -> None:
    from idp.policy.cross_tenant_access import B2BSetting, TargetConfiguration, setting_problems

    setting = B2BSetting(TargetConfiguration.all_users("allowed"), TargetConfiguration.all_applications("blocked"))
    rules = {p.rule for p in setting_problems("b2bCollaborationOutbound", setting)}
    assert rules == {RULE_BLOCK_ALL_TOGETHER, RULE_OUTBOUND_NEEDS_APPLICATION}
    assert {p.rule for p in setting_problems("b2bCollaborationInbound", setting)} == {RULE_BLOCK_ALL_TOGETHER}


@pytest.mark.parametrize(
    ("document", "field"),
    [
        pytest.param({"b2bCollaborationInbound": {"usersAndGroups": {"accessType": "unknownFutureValue",
                                                                      "targets": [{"target": "AllUsers",
                                                                                   "targetType": "user"}]}}},
                     "b2bCollaborationInbound.usersAndGroups.accessType", id="§5.1-accessType-enum"),
        pytest.param({"b2bCollaborationInbound": {"usersAndGroups": {"targets": []}}},
                     "b2bCollaborationInbound.usersAndGroups.accessType", id="§5.1-accessType-required"),
        pytest.param({"b2bCollaborationInbound": {"usersAndGroups": users("allowed")}},
                     "b2bCollaborationInbound.usersAndGroups.targets", id="§5.1-targets-not-empty"),
        pytest.param({"b2bCollaborationInbound": {"usersAndGroups": users("allowed", ("u1", "application"))}},
                     "b2bCollaborationInbound.usersAndGroups.targets[0].targetType", id="§5.1-user-target-types"),
        pytest.param({"b2bCollaborationInbound": {"applications": apps("allowed", "AllUsers")}},
                     "b2bCollaborationInbound.applications.targets[0].target", id="§5.1-keyword-needs-its-type"),
        pytest.param({"b2bCollaborationInbound": {"usersAndGroups": users("allowed", ("AllUsers", "group"))}},
                     "b2bCollaborationInbound.usersAndGroups.targets[0].target", id="§5.1-AllUsers-is-a-user"),
        pytest.param({"b2bCollaborationOutbound": {"applications": apps("allowed", "Office365")}},
                     "b2bCollaborationOutbound.applications.targets[0].target", id="§5.1-Office365-unsupported"),
        pytest.param({"b2bCollaborationOutbound": {"applications": apps("allowed", "AllApplications", RMS)}},
                     "b2bCollaborationOutbound.applications.targets", id="§5.1-keyword-alone"),
        pytest.param({"b2bCollaborationOutbound": {"applications": apps("allowed", RMS, RMS)}},
                     "b2bCollaborationOutbound.applications.targets", id="§5.1-duplicate-target"),
        pytest.param({"b2bCollaborationOutbound": {"usersAndGroups": users("allowed", ALL_USERS), "x": 1}},
                     "b2bCollaborationOutbound.x", id="§5.1-unknown-key"),
        pytest.param({"inboundTrust": {"isMfaAccepted": "yes"}}, "inboundTrust.isMfaAccepted",
                     id="§5.5-flag-boolean"),
        pytest.param({"automaticUserConsentSettings": {"inboundAllowed": True}}, "automaticUserConsentSettings",
                     id="§5.1-default-automatic-consent-read-only"),
        pytest.param({"invitationRedemptionIdentityProviderConfiguration": {"fallbackIdentityProvider": None}},
                     "invitationRedemptionIdentityProviderConfiguration.fallbackIdentityProvider",
                     id="§2.2-fallback-always-required"),
        pytest.param({"invitationRedemptionIdentityProviderConfiguration": {
                         "fallbackIdentityProvider": "unknownFutureValue"}},
                     "invitationRedemptionIdentityProviderConfiguration.fallbackIdentityProvider",
                     id="§2.2-fallback-enum"),
        pytest.param({"invitationRedemptionIdentityProviderConfiguration": {
                         "primaryIdentityProviderPrecedenceOrder": ["externalFederation", "externalFederation"]}},
                     "invitationRedemptionIdentityProviderConfiguration.primaryIdentityProviderPrecedenceOrder",
                     id="§2.2-primary-no-repeats"),
        pytest.param({"invitationRedemptionIdentityProviderConfiguration": {
                         "primaryIdentityProviderPrecedenceOrder": ["microsoftAccount"]}},
                     "invitationRedemptionIdentityProviderConfiguration.primaryIdentityProviderPrecedenceOrder[0]",
                     id="§2.2-primary-enum"),
        pytest.param({"tenantRestrictions": {}}, "tenantRestrictions", id="§5.7-tenant-restrictions-out-of-scope"),
    ],
)
def test_default_from_graph_names_the_bad_field(document: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        DefaultConfiguration.from_graph(document)
    assert raised.value.field == field
    assert field in raised.value.message


@pytest.mark.parametrize(
    ("document", "base", "field"),
    [
        pytest.param({}, None, "tenantId", id="§5.1-partner-key-required"),
        pytest.param({"tenantId": "other"}, PartnerConfiguration(FABRIKAM), "tenantId", id="§5.1-tenantId-read-only"),
        pytest.param({"isInMultiTenantOrganization": True}, PartnerConfiguration(FABRIKAM),
                     "isInMultiTenantOrganization", id="§5.1-isInMultiTenantOrganization-read-only"),
        pytest.param({"automaticUserConsentSettings": {"outboundAllowed": 1}}, PartnerConfiguration(FABRIKAM),
                     "automaticUserConsentSettings.outboundAllowed", id="§5.6-flag-boolean"),
        pytest.param({"invitationRedemptionIdentityProviderConfiguration": {}}, PartnerConfiguration(FABRIKAM),
                     "invitationRedemptionIdentityProviderConfiguration", id="§2.2-default-only"),
    ],
)
def test_partner_from_graph_names_the_bad_field(document: dict[str, Any], base: PartnerConfiguration | None,
                                                field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        PartnerConfiguration.from_graph(document, default=SYSTEM_DEFAULT, base=base)
    assert raised.value.field == field


def test_redemption_order_round_trip_and_empty_primaries() -> None:
    document = {"invitationRedemptionIdentityProviderConfiguration": {
        "primaryIdentityProviderPrecedenceOrder": [], "fallbackIdentityProvider": "emailOneTimePasscode"}}
    default = DefaultConfiguration.from_graph(document)
    assert default.invitation_redemption_identity_provider_configuration == RedemptionConfiguration(
        (), "emailOneTimePasscode")
    assert default.to_graph()["invitationRedemptionIdentityProviderConfiguration"] == (
        document["invitationRedemptionIdentityProviderConfiguration"])


# -- §5.4 evaluation ---------------------------------------------------------------------------------------------

# (resource partner document for fabrikam, home partner document for contoso, subject, app) -> (allowed, refusing)
EVALUATION_TABLE = [
    pytest.param({}, {}, ANN, APP, True, None, id="§5.2-defaults-allow-everyone-both-ways"),
    pytest.param({"b2bCollaborationInbound": BLOCK_ALL}, {}, ANN, APP, False,
                 f"crossTenantAccessPolicy/partners/{FABRIKAM}.b2bCollaborationInbound.usersAndGroups",
                 id="§5.4-resource-inbound-blocks-partner"),
    pytest.param({}, {"b2bCollaborationOutbound": BLOCK_ALL}, ANN, APP, False,
                 f"crossTenantAccessPolicy/partners/{CONTOSO}.b2bCollaborationOutbound.usersAndGroups",
                 id="§5.4-home-outbound-blocks-resource"),
    pytest.param({"b2bCollaborationInbound": {"usersAndGroups": users("allowed", ("sales-group", "group"))}}, {},
                 ANN, APP, True, None, id="§5.1-inbound-allowed-group-member-admitted"),
    pytest.param({"b2bCollaborationInbound": {"usersAndGroups": users("allowed", ("sales-group", "group"))}}, {},
                 BOB, APP, False,
                 f"crossTenantAccessPolicy/partners/{FABRIKAM}.b2bCollaborationInbound.usersAndGroups",
                 id="§5.1-inbound-allow-list-complement-blocks-others"),
    pytest.param({"b2bCollaborationInbound": {"usersAndGroups": users("blocked", ("bob-id", "user"))}}, {},
                 BOB, APP, False,
                 f"crossTenantAccessPolicy/partners/{FABRIKAM}.b2bCollaborationInbound.usersAndGroups",
                 id="§5.1-inbound-listed-user-blocked"),
    pytest.param({"b2bCollaborationInbound": {"usersAndGroups": users("blocked", ("bob-id", "user"))}}, {},
                 ANN, APP, True, None, id="§5.1-inbound-block-list-complement-allows-others"),
    pytest.param({"b2bCollaborationInbound": {"applications": apps("allowed", "other-app")}}, {},
                 ANN, APP, False,
                 f"crossTenantAccessPolicy/partners/{FABRIKAM}.b2bCollaborationInbound.applications",
                 id="§5.1-inbound-only-listed-apps"),
    pytest.param({"b2bCollaborationInbound": {"applications": apps("blocked", APP)}}, {},
                 ANN, APP, False,
                 f"crossTenantAccessPolicy/partners/{FABRIKAM}.b2bCollaborationInbound.applications",
                 id="§5.1-inbound-listed-app-blocked"),
    pytest.param({}, {"b2bCollaborationOutbound": {"applications": apps("allowed", RMS)}}, ANN, APP, False,
                 f"crossTenantAccessPolicy/partners/{CONTOSO}.b2bCollaborationOutbound.applications",
                 id="§5.1-outbound-allowing-only-RMS-blocks-other-apps"),
    pytest.param({}, {"b2bCollaborationOutbound": {"applications": apps("allowed", RMS)}}, ANN, RMS, True, None,
                 id="§5.1-outbound-allowing-only-RMS-allows-RMS"),
    pytest.param({}, {"b2bCollaborationOutbound": {"usersAndGroups": users("allowed", ("sales-group", "group"))}},
                 BOB, APP, False,
                 f"crossTenantAccessPolicy/partners/{CONTOSO}.b2bCollaborationOutbound.usersAndGroups",
                 id="§5.1-outbound-only-listed-own-users-go-out"),
]

ALLOW_SALES = {"b2bCollaborationInbound": {"usersAndGroups": users("allowed", ("sales-group", "group"))}}
BLOCK_BOB = {"b2bCollaborationInbound": {"usersAndGroups": users("blocked", ("bob-id", "user"))}}


@pytest.mark.parametrize(
    ("resource_doc", "before_sign_in", "allowed"),
    [
        pytest.param(ALLOW_SALES, True, True, id="§5.4-invitation-unknown-invitee-specific-targets-wait-for-sign-in"),
        pytest.param({"b2bCollaborationInbound": BLOCK_ALL}, True, False, id="§5.4-invitation-AllUsers-block-decides"),
        pytest.param(ALLOW_SALES, False, False, id="README-8-sign-in-unknown-person-not-on-allow-list"),
        pytest.param(BLOCK_BOB, False, True, id="README-8-sign-in-unknown-person-not-on-block-list"),
    ],
)
def test_unknown_subject(resource_doc: dict[str, Any], before_sign_in: bool, allowed: bool) -> None:
    decision = evaluate_b2b_collaboration(resolve(SYSTEM_DEFAULT, partner(resource_doc)), None, Subject.unknown(),
                                          None, before_sign_in=before_sign_in)
    assert decision.allowed is allowed
    assert ("decided at sign-in" in decision.message) is (before_sign_in and allowed)


@pytest.mark.parametrize(("resource_doc", "home_doc", "subject", "app", "allowed", "refused_by"), EVALUATION_TABLE)
def test_b2b_collaboration_evaluation(resource_doc: dict[str, Any], home_doc: dict[str, Any], subject: Subject,
                                      app: str | None, allowed: bool, refused_by: str | None) -> None:
    resource = resolve(SYSTEM_DEFAULT, partner(resource_doc) if resource_doc else None)
    home_partner = PartnerConfiguration.from_graph({"tenantId": CONTOSO, **home_doc}, default=SYSTEM_DEFAULT)
    home = resolve(SYSTEM_DEFAULT, home_partner if home_doc else None)
    decision = evaluate_b2b_collaboration(resource, home, subject, app)
    assert decision.allowed is allowed
    assert decision.refused_by == refused_by
    sides = {r.message.split(":")[0] for r in decision.reasons}
    assert sides == {"resource tenant inbound", "home tenant outbound"}


def test_default_level_block_names_the_default_policy() -> None:
    default = DefaultConfiguration.from_graph({"b2bCollaborationInbound": BLOCK_ALL})
    decision = evaluate_inbound(resolve(default, None), ANN, APP)
    assert decision.refused_by == f"{DEFAULT_POLICY}.b2bCollaborationInbound.usersAndGroups"
    assert "blocks AllUsers" in decision.message


def test_unknown_home_settings_leave_the_decision_to_the_resource_side() -> None:
    resource = resolve(SYSTEM_DEFAULT, None)
    decision = evaluate_b2b_collaboration(resource, None, ANN, APP)
    assert decision.allowed
    assert all(r.message.startswith("resource tenant inbound") for r in decision.reasons)
    assert evaluate_outbound(resolve(SYSTEM_DEFAULT, partner({"b2bCollaborationOutbound": BLOCK_ALL})),
                             ANN, APP).denied


def test_a_block_added_later_refuses_the_next_sign_in_or_refresh() -> None:
    """README decision 8 / §5.9: evaluated at every sign-in and refresh, so a later block applies at once."""
    before = resolve(SYSTEM_DEFAULT, partner({}))
    after = resolve(SYSTEM_DEFAULT, partner({"b2bCollaborationInbound": BLOCK_ALL}))
    assert evaluate_b2b_collaboration(before, None, ANN, APP).allowed
    assert evaluate_b2b_collaboration(after, None, ANN, APP).denied


# -- §5.6 automatic redemption -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inbound", "outbound", "suppressed"),
    [
        pytest.param(True, True, True, id="§5.6-both-allow-suppressed"),
        pytest.param(True, False, False, id="§5.6-home-outbound-off"),
        pytest.param(False, True, False, id="§5.6-resource-inbound-off"),
        pytest.param(False, False, False, id="§5.6-neither"),
        pytest.param(None, True, False, id="§5.6-null-inherits-false"),
    ],
)
def test_automatic_redemption(inbound: bool | None, outbound: bool, suppressed: bool) -> None:
    resource = resolve(SYSTEM_DEFAULT, partner({"automaticUserConsentSettings": {"inboundAllowed": inbound}}))
    home = resolve(SYSTEM_DEFAULT, PartnerConfiguration.from_graph(
        {"tenantId": CONTOSO, "automaticUserConsentSettings": {"outboundAllowed": outbound}}, default=SYSTEM_DEFAULT))
    result = automatic_redemption(resource, home)
    assert result.suppress_consent is suppressed
    assert result.suppress_invitation_email is suppressed
    assert result.send_notification_email is suppressed
    assert {r.setting for r in result.decision.reasons} == {
        "automaticUserConsentSettings.inboundAllowed", "automaticUserConsentSettings.outboundAllowed"}


def test_automatic_redemption_needs_known_home_settings() -> None:
    resource = resolve(SYSTEM_DEFAULT, partner({"automaticUserConsentSettings": {"inboundAllowed": True}}))
    result = automatic_redemption(resource, None)
    assert not result.suppress_consent
    assert "not known" in result.decision.message


def test_default_configuration_never_auto_redeems() -> None:
    assert not automatic_redemption(resolve(SYSTEM_DEFAULT, None), resolve(SYSTEM_DEFAULT, None)).suppress_consent


# -- §5.8 partner deployments --------------------------------------------------------------------------------------

PEER = "https://peer.example/acme"


@pytest.mark.parametrize(
    ("endpoints", "has_partner", "allowed", "refused_by"),
    [
        pytest.param([], True, False, "crossTenantAccessPolicy.allowedCloudEndpoints", id="§5.8-not-enabled"),
        pytest.param([PEER + "/"], False, False, f"crossTenantAccessPolicy/partners/{PEER}.tenantId",
                     id="§5.8-enabling-alone-blocks-until-partner-entry"),
        pytest.param([PEER], True, True, None, id="§5.8-enabled-with-partner-entry"),
    ],
)
def test_partner_deployment_access(endpoints: list[str], has_partner: bool, allowed: bool,
                                   refused_by: str | None) -> None:
    from idp.policy.cross_tenant_access import CrossTenantAccessPolicy, partner_deployment_access

    policy = CrossTenantAccessPolicy.from_graph({"allowedCloudEndpoints": endpoints})
    assert CrossTenantAccessPolicy.from_graph(policy.to_graph()) == policy
    decision = partner_deployment_access(policy, PEER, PartnerConfiguration(PEER) if has_partner else None)
    assert decision.allowed is allowed
    assert decision.refused_by == refused_by


@pytest.mark.parametrize("bad", ["peer.example", "ftp://peer.example", "https://peer.example/?x=1", ""])
def test_allowed_cloud_endpoints_are_issuer_urls(bad: str) -> None:
    from idp.policy.cross_tenant_access import CrossTenantAccessPolicy

    with pytest.raises(ValidationError) as raised:
        CrossTenantAccessPolicy.from_graph({"allowedCloudEndpoints": ["https://ok.example", bad]})
    assert raised.value.field == "allowedCloudEndpoints[1]"
