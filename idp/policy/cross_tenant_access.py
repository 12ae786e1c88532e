"""Cross-tenant access settings (b2b-collaboration.md §5, §2.2): model, resolution, consistency and evaluation.

A tenant has one *default* configuration and any number of *partner* configurations keyed by ``tenantId`` (in
Portico: another tenant of this deployment, a partner deployment's issuer, or an external organization's
upstream issuer — the key is an opaque string here). A partner's ``null`` top-level property inherits the
default's (§5.3 rule 1). Target configurations have complement semantics: ``accessType`` applies to the listed
targets and everything not listed gets the opposite decision (§5.1).

Evaluation (§5.4): B2B collaboration needs the *resource* tenant's inbound settings (for the home tenant) AND the
*home* tenant's outbound settings (for the resource tenant) to allow the user and the application; it runs at
invitation time and at every sign-in and token refresh (spec README decision 8). B2B direct connect and tenant
restrictions are stored shapes only (out of scope in Portico).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import urlsplit

from idp.errors import ValidationError
from idp.policy import _fields as f
from idp.policy.decision import Decision, Reason

DEFAULT_POLICY = "crossTenantAccessPolicy/default"

ALL_USERS = "AllUsers"
ALL_APPLICATIONS = "AllApplications"
#: Microsoft-only application keywords of §5.1 that have no meaning in Portico.
UNSUPPORTED_APPLICATION_KEYWORDS = frozenset({"AllMicrosoftApps", "Office365"})

AccessType = Literal["allowed", "blocked"]
ACCESS_TYPES: tuple[AccessType, ...] = ("allowed", "blocked")
TargetType = Literal["user", "group", "application"]

INBOUND = "b2bCollaborationInbound"
OUTBOUND = "b2bCollaborationOutbound"
DIRECT_INBOUND = "b2bDirectConnectInbound"
DIRECT_OUTBOUND = "b2bDirectConnectOutbound"
B2B_SETTINGS = (INBOUND, OUTBOUND, DIRECT_INBOUND, DIRECT_OUTBOUND)
_ATTRIBUTE = {
    INBOUND: "b2b_collaboration_inbound",
    OUTBOUND: "b2b_collaboration_outbound",
    DIRECT_INBOUND: "b2b_direct_connect_inbound",
    DIRECT_OUTBOUND: "b2b_direct_connect_outbound",
}

IdentityProviderType = Literal["azureActiveDirectory", "externalFederation", "socialIdentityProviders"]
PRIMARY_IDENTITY_PROVIDERS: tuple[IdentityProviderType, ...] = (
    "azureActiveDirectory", "externalFederation", "socialIdentityProviders"
)
FallbackIdentityProvider = Literal["defaultConfiguredIdp", "emailOneTimePasscode", "microsoftAccount"]
FALLBACK_IDENTITY_PROVIDERS: tuple[FallbackIdentityProvider, ...] = (
    "defaultConfiguredIdp", "emailOneTimePasscode", "microsoftAccount"
)

#: The consistency rules of §5.3 (rule 3 and rule 4), by the name errors and the admin page use.
RULE_BLOCK_ALL_TOGETHER = "blockedAllUsersRequiresBlockedAllApplications"
RULE_OUTBOUND_NEEDS_APPLICATION = "allowedOutboundUsersRequireAnAllowedApplication"
RULE_DEFAULT_INBOUND_ALL_USERS_ONLY = "defaultInboundTargetsAllUsersOnly"
RULES: Mapping[str, str] = {
    RULE_BLOCK_ALL_TOGETHER: "users and groups blocked for AllUsers if and only if applications are blocked for "
    "AllApplications (§5.3 rule 4)",
    RULE_OUTBOUND_NEEDS_APPLICATION: "if any users are allowed outbound, at least one application must be allowed "
    "(§5.3 rule 4)",
    RULE_DEFAULT_INBOUND_ALL_USERS_ONLY: "default inbound settings cannot target specific external users or groups, "
    "only AllUsers (§5.3 rule 3)",
}


def partner_policy(tenant_id: str) -> str:
    return f"crossTenantAccessPolicy/partners/{tenant_id}"


# -- model ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """``crossTenantAccessPolicyTarget``: an object id (or keyword) and its type."""

    target: str
    target_type: TargetType

    def to_graph(self) -> dict[str, str]:
        return {"target": self.target, "targetType": self.target_type}


@dataclass(frozen=True)
class TargetConfiguration:
    """``crossTenantAccessPolicyTargetConfiguration``: ``accessType`` for the listed targets, the opposite for
    everything else."""

    access_type: AccessType
    targets: tuple[Target, ...]

    @classmethod
    def all_users(cls, access_type: AccessType) -> TargetConfiguration:
        return cls(access_type, (Target(ALL_USERS, "user"),))

    @classmethod
    def all_applications(cls, access_type: AccessType) -> TargetConfiguration:
        return cls(access_type, (Target(ALL_APPLICATIONS, "application"),))

    @property
    def lists_everything(self) -> bool:
        return any(t.target in (ALL_USERS, ALL_APPLICATIONS) for t in self.targets)

    @property
    def blocks_everything(self) -> bool:
        return self.access_type == "blocked" and self.lists_everything

    @property
    def allows_something(self) -> bool:
        """Does any user (or application) at all get through? (Targets are never empty.)"""
        return self.access_type == "allowed" or not self.lists_everything

    def to_graph(self) -> dict[str, Any]:
        return {"accessType": self.access_type, "targets": [t.to_graph() for t in self.targets]}


@dataclass(frozen=True)
class B2BSetting:
    """``crossTenantAccessPolicyB2BSetting``: who (users and groups) may reach what (applications)."""

    users_and_groups: TargetConfiguration
    applications: TargetConfiguration

    def to_graph(self) -> dict[str, Any]:
        return {"usersAndGroups": self.users_and_groups.to_graph(), "applications": self.applications.to_graph()}


ALLOW_ALL = B2BSetting(TargetConfiguration.all_users("allowed"), TargetConfiguration.all_applications("allowed"))
BLOCK_ALL = B2BSetting(TargetConfiguration.all_users("blocked"), TargetConfiguration.all_applications("blocked"))


@dataclass(frozen=True)
class InboundTrust:
    """``crossTenantAccessPolicyInboundTrust`` (§5.5). Device flags are stored; they matter only when the upstream
    sends device claims."""

    is_mfa_accepted: bool = False
    is_compliant_device_accepted: bool = False
    is_hybrid_azure_ad_joined_device_accepted: bool = False

    def to_graph(self) -> dict[str, bool]:
        return {
            "isMfaAccepted": self.is_mfa_accepted,
            "isCompliantDeviceAccepted": self.is_compliant_device_accepted,
            "isHybridAzureADJoinedDeviceAccepted": self.is_hybrid_azure_ad_joined_device_accepted,
        }


@dataclass(frozen=True)
class AutomaticUserConsentSettings:
    """``inboundOutboundPolicyConfiguration`` (§5.6)."""

    inbound_allowed: bool = False
    outbound_allowed: bool = False

    def to_graph(self) -> dict[str, bool]:
        return {"inboundAllowed": self.inbound_allowed, "outboundAllowed": self.outbound_allowed}


@dataclass(frozen=True)
class RedemptionConfiguration:
    """``invitationRedemptionIdentityProviderConfiguration`` (§2.2), default configuration only."""

    primary_identity_provider_precedence_order: tuple[IdentityProviderType, ...] = PRIMARY_IDENTITY_PROVIDERS
    fallback_identity_provider: FallbackIdentityProvider = "defaultConfiguredIdp"

    def to_graph(self) -> dict[str, Any]:
        return {
            "primaryIdentityProviderPrecedenceOrder": list(self.primary_identity_provider_precedence_order),
            "fallbackIdentityProvider": self.fallback_identity_provider,
        }


@dataclass(frozen=True)
class DefaultConfiguration:
    """``crossTenantAccessPolicyConfigurationDefault`` with the §5.2 system defaults.

    ``automaticUserConsentSettings`` is always false/false and read-only on the default configuration.
    """

    b2b_collaboration_inbound: B2BSetting = ALLOW_ALL
    b2b_collaboration_outbound: B2BSetting = ALLOW_ALL
    b2b_direct_connect_inbound: B2BSetting = BLOCK_ALL
    b2b_direct_connect_outbound: B2BSetting = BLOCK_ALL
    inbound_trust: InboundTrust = field(default_factory=InboundTrust)
    invitation_redemption_identity_provider_configuration: RedemptionConfiguration = field(
        default_factory=RedemptionConfiguration
    )
    is_service_default: bool = True

    @property
    def automatic_user_consent_settings(self) -> AutomaticUserConsentSettings:
        return AutomaticUserConsentSettings()

    def setting(self, name: str) -> B2BSetting:
        value: B2BSetting = getattr(self, _ATTRIBUTE[name])
        return value

    def to_graph(self) -> dict[str, Any]:
        document: dict[str, Any] = {"isServiceDefault": self.is_service_default}
        for name in B2B_SETTINGS:
            document[name] = self.setting(name).to_graph()
        document["inboundTrust"] = self.inbound_trust.to_graph()
        document["automaticUserConsentSettings"] = self.automatic_user_consent_settings.to_graph()
        document["invitationRedemptionIdentityProviderConfiguration"] = (
            self.invitation_redemption_identity_provider_configuration.to_graph()
        )
        return document

    @classmethod
    def from_graph(cls, document: Any, *, base: DefaultConfiguration | None = None) -> DefaultConfiguration:
        """Apply a PATCH document to ``base`` (the system default when omitted).

        Validates shapes and the §5.3 consistency rules; a bad field or an inconsistent result raises
        :class:`ValidationError` naming the field (and the rule). Any write makes ``isServiceDefault`` false.
        """
        doc = f.obj(document, "")
        f.only_keys(doc, _DEFAULT_KEYS, "")
        current = base or cls()
        changes: dict[str, Any] = {}
        for name in B2B_SETTINGS:
            if name in doc:
                changes[_ATTRIBUTE[name]] = read_b2b_setting(doc[name], name, base=current.setting(name))
        if "inboundTrust" in doc:
            changes["inbound_trust"] = read_inbound_trust(doc["inboundTrust"], "inboundTrust", current.inbound_trust)
        if "automaticUserConsentSettings" in doc:
            consent = read_consent(doc["automaticUserConsentSettings"], "automaticUserConsentSettings",
                                   AutomaticUserConsentSettings())
            if consent.inbound_allowed or consent.outbound_allowed:
                raise ValidationError(
                    "automaticUserConsentSettings is read-only (always false) on the default configuration; "
                    "set it on a partner configuration",
                    field="automaticUserConsentSettings",
                )
        if "invitationRedemptionIdentityProviderConfiguration" in doc:
            changes["invitation_redemption_identity_provider_configuration"] = read_redemption(
                doc["invitationRedemptionIdentityProviderConfiguration"],
                "invitationRedemptionIdentityProviderConfiguration",
                current.invitation_redemption_identity_provider_configuration,
            )
        result = replace(current, is_service_default=False, **changes) if doc else current
        raise_first(default_problems(result))
        return result


_DEFAULT_KEYS = frozenset(
    {*B2B_SETTINGS, "inboundTrust", "automaticUserConsentSettings",
     "invitationRedemptionIdentityProviderConfiguration", "isServiceDefault", "id"}
)

#: §5.2: what ``POST .../default/resetToSystemDefault`` restores.
SYSTEM_DEFAULT = DefaultConfiguration()


def reset_to_system_default() -> DefaultConfiguration:
    """``resetToSystemDefault`` (§5.1): the §5.2 values with ``isServiceDefault`` true again."""
    return SYSTEM_DEFAULT


@dataclass(frozen=True)
class PartnerConfiguration:
    """``crossTenantAccessPolicyConfigurationPartner``: ``None`` means "inherited from default"."""

    tenant_id: str
    b2b_collaboration_inbound: B2BSetting | None = None
    b2b_collaboration_outbound: B2BSetting | None = None
    b2b_direct_connect_inbound: B2BSetting | None = None
    b2b_direct_connect_outbound: B2BSetting | None = None
    inbound_trust: InboundTrust | None = None
    automatic_user_consent_settings: AutomaticUserConsentSettings | None = None
    is_service_provider: bool = False
    is_in_multi_tenant_organization: bool = False

    def setting(self, name: str) -> B2BSetting | None:
        value: B2BSetting | None = getattr(self, _ATTRIBUTE[name])
        return value

    def inherit_all(self) -> PartnerConfiguration:
        """The portal's "Default settings" option: drop every custom setting, inherit everything."""
        return PartnerConfiguration(
            self.tenant_id,
            is_service_provider=self.is_service_provider,
            is_in_multi_tenant_organization=self.is_in_multi_tenant_organization,
        )

    def to_graph(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "tenantId": self.tenant_id,
            "isServiceProvider": self.is_service_provider,
            "isInMultiTenantOrganization": self.is_in_multi_tenant_organization,
        }
        for name in B2B_SETTINGS:
            setting = self.setting(name)
            document[name] = setting.to_graph() if setting else None
        document["inboundTrust"] = self.inbound_trust.to_graph() if self.inbound_trust else None
        document["automaticUserConsentSettings"] = (
            self.automatic_user_consent_settings.to_graph() if self.automatic_user_consent_settings else None
        )
        return document

    @classmethod
    def from_graph(
        cls, document: Any, *, default: DefaultConfiguration, base: PartnerConfiguration | None = None
    ) -> PartnerConfiguration:
        """Create (``base`` omitted: ``tenantId`` required) or PATCH (``base`` given) a partner configuration.

        An explicit ``null`` resets a property to "inherited from default"; a partial object is merged onto the
        partner's current value, or onto the default's when the property was inherited. The effective result
        (with ``default``) must pass the §5.3 consistency rules.
        """
        doc = f.obj(document, "")
        f.only_keys(doc, _PARTNER_KEYS, "")
        if base is None:
            if "tenantId" not in doc:
                raise ValidationError("tenantId is required", field="tenantId")
            current = cls(tenant_id=f.string(doc["tenantId"], "tenantId"))
        else:
            current = base
            if "tenantId" in doc and doc["tenantId"] != base.tenant_id:
                raise ValidationError("tenantId is read-only", field="tenantId")
        changes: dict[str, Any] = {}
        for name in B2B_SETTINGS:
            if name in doc:
                value = doc[name]
                inherited_from = current.setting(name) or default.setting(name)
                changes[_ATTRIBUTE[name]] = None if value is None else read_b2b_setting(
                    value, name, base=inherited_from
                )
        if "inboundTrust" in doc:
            value = doc["inboundTrust"]
            changes["inbound_trust"] = None if value is None else read_inbound_trust(
                value, "inboundTrust", current.inbound_trust or default.inbound_trust
            )
        if "automaticUserConsentSettings" in doc:
            value = doc["automaticUserConsentSettings"]
            changes["automatic_user_consent_settings"] = None if value is None else read_consent(
                value, "automaticUserConsentSettings",
                current.automatic_user_consent_settings or AutomaticUserConsentSettings(),
            )
        if "isServiceProvider" in doc:
            changes["is_service_provider"] = f.boolean(doc["isServiceProvider"], "isServiceProvider")
        if "isInMultiTenantOrganization" in doc:
            value = f.boolean(doc["isInMultiTenantOrganization"], "isInMultiTenantOrganization")
            if value != current.is_in_multi_tenant_organization:
                raise ValidationError("isInMultiTenantOrganization is read-only",
                                      field="isInMultiTenantOrganization")
        result = replace(current, **changes)
        raise_first(partner_problems(result, default))
        return result


_PARTNER_KEYS = frozenset(
    {*B2B_SETTINGS, "tenantId", "inboundTrust", "automaticUserConsentSettings", "isServiceProvider",
     "isInMultiTenantOrganization"}
)


# -- Graph readers ----------------------------------------------------------------------------------------------


def read_b2b_setting(value: Any, prefix: str, *, base: B2BSetting) -> B2BSetting:
    doc = f.obj(value, prefix)
    f.only_keys(doc, ("usersAndGroups", "applications"), prefix)
    users = base.users_and_groups
    apps = base.applications
    if "usersAndGroups" in doc:
        users = read_target_configuration(doc["usersAndGroups"], f.join(prefix, "usersAndGroups"), ("user", "group"))
    if "applications" in doc:
        apps = read_target_configuration(doc["applications"], f.join(prefix, "applications"), ("application",))
    return B2BSetting(users, apps)


def read_target_configuration(value: Any, prefix: str, types: tuple[TargetType, ...]) -> TargetConfiguration:
    doc = f.obj(value, prefix)
    f.only_keys(doc, ("accessType", "targets"), prefix)
    if "accessType" not in doc:
        raise ValidationError(f"{f.join(prefix, 'accessType')} is required", field=f.join(prefix, "accessType"))
    access = f.enum(doc["accessType"], f.join(prefix, "accessType"), ACCESS_TYPES)
    raw = doc.get("targets")
    field_name = f.join(prefix, "targets")
    if not isinstance(raw, list) or not raw:
        keyword = ALL_USERS if "user" in types else ALL_APPLICATIONS
        raise ValidationError(f"{field_name} must list at least one target (use {keyword} for everything)",
                              field=field_name)
    targets: list[Target] = []
    for i, item in enumerate(raw):
        targets.append(_read_target(item, f"{field_name}[{i}]", types))
    if len(set(targets)) != len(targets):
        raise ValidationError(f"{field_name} lists a target twice", field=field_name)
    keywords = [t for t in targets if t.target in (ALL_USERS, ALL_APPLICATIONS)]
    if keywords and len(targets) > 1:
        raise ValidationError(f"{field_name}: {keywords[0].target} cannot be combined with other targets",
                              field=field_name)
    access_type: AccessType = "allowed" if access == "allowed" else "blocked"
    return TargetConfiguration(access_type, tuple(targets))


def _read_target(value: Any, prefix: str, types: tuple[TargetType, ...]) -> Target:
    doc = f.obj(value, prefix)
    f.only_keys(doc, ("target", "targetType"), prefix)
    kind = f.enum(doc.get("targetType"), f.join(prefix, "targetType"), types)
    target = f.string(doc.get("target"), f.join(prefix, "target"))
    where = f.join(prefix, "target")
    if target in UNSUPPORTED_APPLICATION_KEYWORDS:
        raise ValidationError(f"{where}: {target} has no meaning in Portico; use AllApplications or an app id",
                              field=where)
    expected = {ALL_USERS: "user", ALL_APPLICATIONS: "application"}.get(target)
    if expected is not None and kind != expected:
        raise ValidationError(f"{where}: {target} needs targetType {expected!r}", field=where)
    typed: TargetType = "user" if kind == "user" else "group" if kind == "group" else "application"
    return Target(target, typed)


def read_inbound_trust(value: Any, prefix: str, base: InboundTrust) -> InboundTrust:
    doc = f.obj(value, prefix)
    keys = {"isMfaAccepted": "is_mfa_accepted", "isCompliantDeviceAccepted": "is_compliant_device_accepted",
            "isHybridAzureADJoinedDeviceAccepted": "is_hybrid_azure_ad_joined_device_accepted"}
    f.only_keys(doc, keys, prefix)
    return replace(base, **{keys[k]: f.boolean(v, f.join(prefix, k)) for k, v in doc.items() if k in keys})


def read_consent(value: Any, prefix: str, base: AutomaticUserConsentSettings) -> AutomaticUserConsentSettings:
    doc = f.obj(value, prefix)
    keys = {"inboundAllowed": "inbound_allowed", "outboundAllowed": "outbound_allowed"}
    f.only_keys(doc, keys, prefix)
    # Graph sends null for "inherit" inside this object too; for a partner that means false (§5.1).
    return replace(base, **{keys[k]: (False if v is None else f.boolean(v, f.join(prefix, k)))
                            for k, v in doc.items() if k in keys})


def read_redemption(value: Any, prefix: str, base: RedemptionConfiguration) -> RedemptionConfiguration:
    """§2.2: any subset of the primaries (no repeats, may be empty); a fallback is always required."""
    doc = f.obj(value, prefix)
    f.only_keys(doc, ("primaryIdentityProviderPrecedenceOrder", "fallbackIdentityProvider"), prefix)
    primary = base.primary_identity_provider_precedence_order
    fallback = base.fallback_identity_provider
    if "primaryIdentityProviderPrecedenceOrder" in doc:
        name = f.join(prefix, "primaryIdentityProviderPrecedenceOrder")
        raw = doc["primaryIdentityProviderPrecedenceOrder"]
        if not isinstance(raw, list):
            raise ValidationError(f"{name} must be a list", field=name)
        order = [f.enum(v, f"{name}[{i}]", PRIMARY_IDENTITY_PROVIDERS) for i, v in enumerate(raw)]
        if len(set(order)) != len(order):
            raise ValidationError(f"{name} lists an identity provider twice", field=name)
        primary = tuple(p for p in order for known in PRIMARY_IDENTITY_PROVIDERS if p == known)
    if "fallbackIdentityProvider" in doc:
        name = f.join(prefix, "fallbackIdentityProvider")
        if doc["fallbackIdentityProvider"] is None:
            raise ValidationError(f"{name} is required: at least one fallback must remain enabled", field=name)
        chosen = f.enum(doc["fallbackIdentityProvider"], name, FALLBACK_IDENTITY_PROVIDERS)
        fallback = next(fb for fb in FALLBACK_IDENTITY_PROVIDERS if fb == chosen)
    return RedemptionConfiguration(primary, fallback)


# -- resolution (§5.3) ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EffectiveConfiguration:
    """What applies to one partner organization after inheritance (§5.3 rules 1 and 2).

    ``tenant_id`` is the partner's key (``None`` when no partner entry exists and the default applies);
    ``inherited`` names the top-level properties that come from the default configuration.
    """

    tenant_id: str | None
    b2b_collaboration_inbound: B2BSetting
    b2b_collaboration_outbound: B2BSetting
    b2b_direct_connect_inbound: B2BSetting
    b2b_direct_connect_outbound: B2BSetting
    inbound_trust: InboundTrust
    automatic_user_consent_settings: AutomaticUserConsentSettings
    is_service_provider: bool = False
    inherited: frozenset[str] = frozenset()

    def setting(self, name: str) -> B2BSetting:
        value: B2BSetting = getattr(self, _ATTRIBUTE[name])
        return value

    def source_of(self, name: str) -> str:
        """The policy object a top-level property comes from (for reasons and the admin page)."""
        if self.tenant_id is None or name in self.inherited:
            return DEFAULT_POLICY
        return partner_policy(self.tenant_id)


def resolve(default: DefaultConfiguration, partner: PartnerConfiguration | None) -> EffectiveConfiguration:
    """Effective settings for one organization: the partner entry where set, the default elsewhere."""
    if partner is None:
        return EffectiveConfiguration(
            tenant_id=None,
            b2b_collaboration_inbound=default.b2b_collaboration_inbound,
            b2b_collaboration_outbound=default.b2b_collaboration_outbound,
            b2b_direct_connect_inbound=default.b2b_direct_connect_inbound,
            b2b_direct_connect_outbound=default.b2b_direct_connect_outbound,
            inbound_trust=default.inbound_trust,
            automatic_user_consent_settings=default.automatic_user_consent_settings,
        )
    inherited = {n for n in B2B_SETTINGS if partner.setting(n) is None}
    if partner.inbound_trust is None:
        inherited.add("inboundTrust")
    if partner.automatic_user_consent_settings is None:
        inherited.add("automaticUserConsentSettings")
    return EffectiveConfiguration(
        tenant_id=partner.tenant_id,
        b2b_collaboration_inbound=partner.b2b_collaboration_inbound or default.b2b_collaboration_inbound,
        b2b_collaboration_outbound=partner.b2b_collaboration_outbound or default.b2b_collaboration_outbound,
        b2b_direct_connect_inbound=partner.b2b_direct_connect_inbound or default.b2b_direct_connect_inbound,
        b2b_direct_connect_outbound=partner.b2b_direct_connect_outbound or default.b2b_direct_connect_outbound,
        inbound_trust=partner.inbound_trust or default.inbound_trust,
        automatic_user_consent_settings=(
            partner.automatic_user_consent_settings or default.automatic_user_consent_settings
        ),
        is_service_provider=partner.is_service_provider,
        inherited=frozenset(inherited),
    )


# -- consistency (§5.3 rules 3 and 4) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsistencyProblem:
    rule: str
    setting: str
    message: str


def setting_problems(name: str, setting: B2BSetting) -> list[ConsistencyProblem]:
    problems: list[ConsistencyProblem] = []
    users, apps = setting.users_and_groups, setting.applications
    if users.blocks_everything != apps.blocks_everything:
        if users.blocks_everything:
            where, text = f"{name}.applications", "usersAndGroups is blocked for AllUsers, so applications must be " \
                "blocked for AllApplications"
        else:
            where, text = f"{name}.usersAndGroups", "applications is blocked for AllApplications, so usersAndGroups " \
                "must be blocked for AllUsers"
        problems.append(ConsistencyProblem(RULE_BLOCK_ALL_TOGETHER, where, _rule_message(where, text,
                                                                                         RULE_BLOCK_ALL_TOGETHER)))
    if name in (OUTBOUND, DIRECT_OUTBOUND) and users.allows_something and not apps.allows_something:
        where = f"{name}.applications"
        problems.append(ConsistencyProblem(
            RULE_OUTBOUND_NEEDS_APPLICATION, where,
            _rule_message(where, "users are allowed outbound but no application is", RULE_OUTBOUND_NEEDS_APPLICATION),
        ))
    return problems


def _rule_message(where: str, text: str, rule: str) -> str:
    return f"{where}: inconsistent settings: {text} (rule {rule}: {RULES[rule]})"


def default_problems(default: DefaultConfiguration) -> list[ConsistencyProblem]:
    problems: list[ConsistencyProblem] = []
    for name in B2B_SETTINGS:
        setting = default.setting(name)
        problems.extend(setting_problems(name, setting))
        if name in (INBOUND, DIRECT_INBOUND) and any(
            t.target != ALL_USERS for t in setting.users_and_groups.targets
        ):
            where = f"{name}.usersAndGroups"
            problems.append(ConsistencyProblem(
                RULE_DEFAULT_INBOUND_ALL_USERS_ONLY, where,
                _rule_message(where, "the default configuration lists specific external users or groups",
                              RULE_DEFAULT_INBOUND_ALL_USERS_ONLY),
            ))
    return problems


def partner_problems(partner: PartnerConfiguration, default: DefaultConfiguration) -> list[ConsistencyProblem]:
    effective = resolve(default, partner)
    problems: list[ConsistencyProblem] = []
    for name in B2B_SETTINGS:
        if partner.setting(name) is not None:
            problems.extend(setting_problems(name, effective.setting(name)))
    return problems


def raise_first(problems: list[ConsistencyProblem]) -> None:
    """Refuse an inconsistent write: ValidationError naming the setting, with the rule in the message."""
    if problems:
        raise ValidationError(problems[0].message, field=problems[0].setting)


def may_delete_partner(partner: PartnerConfiguration) -> Decision:
    """§5.1: a service-provider partner entry cannot be deleted; removing any other reverts it to defaults."""
    return Decision.of(Reason(
        partner_policy(partner.tenant_id), "isServiceProvider", not partner.is_service_provider,
        "service provider partner configurations cannot be deleted" if partner.is_service_provider
        else "removing the partner configuration reverts the organization to the default settings",
    ))


# -- partner deployments (§5.8 "Microsoft cloud settings" in Portico's mapping) ---------------------------------


@dataclass(frozen=True)
class CrossTenantAccessPolicy:
    """The ``crossTenantAccessPolicy`` singleton. In Portico ``allowedCloudEndpoints`` is the allow-list of other
    Portico deployments (their issuer URLs) that B2B collaboration may reach (spec README, concept map)."""

    display_name: str = "CrossTenantAccessPolicy"
    allowed_cloud_endpoints: tuple[str, ...] = ()

    def to_graph(self) -> dict[str, Any]:
        return {"displayName": self.display_name, "allowedCloudEndpoints": list(self.allowed_cloud_endpoints)}

    @classmethod
    def from_graph(cls, document: Any, *, base: CrossTenantAccessPolicy | None = None) -> CrossTenantAccessPolicy:
        doc = f.obj(document, "")
        f.only_keys(doc, ("displayName", "allowedCloudEndpoints", "id"), "")
        current = base or cls()
        if "displayName" in doc:
            current = replace(current, display_name=f.string(doc["displayName"], "displayName"))
        if "allowedCloudEndpoints" in doc:
            name = "allowedCloudEndpoints"
            issuers = f.strings(doc[name], name)
            current = replace(current, allowed_cloud_endpoints=f.unique(
                tuple(_issuer(v, f"{name}[{i}]") for i, v in enumerate(issuers))))
        return current


def _issuer(value: str, field_name: str) -> str:
    """An OIDC issuer URL (compared exactly, as OpenID Connect does); only a trailing slash is dropped."""
    parsed = urlsplit(value)
    if parsed.scheme not in ("https", "http") or not parsed.netloc or parsed.query or parsed.fragment:
        raise ValidationError(f"{field_name}: {value!r} is not an issuer URL (http(s)://host/path, no query)",
                              field=field_name)
    return value.rstrip("/")


def partner_deployment_access(
    policy: CrossTenantAccessPolicy, issuer: str, partner: PartnerConfiguration | None
) -> Decision:
    """§5.8: B2B collaboration with another deployment needs its issuer in ``allowedCloudEndpoints`` AND a
    partner entry for it (enabling a deployment alone blocks everything with it until the partner entry exists;
    then that partner's settings, inheriting the defaults, apply)."""
    normalized = issuer.rstrip("/")
    listed = normalized in policy.allowed_cloud_endpoints
    reasons = [Reason(
        "crossTenantAccessPolicy", "allowedCloudEndpoints", listed,
        f"partner deployment {normalized} is {'in' if listed else 'not in'} allowedCloudEndpoints",
    )]
    if listed:
        reasons.append(Reason(
            partner_policy(normalized), "tenantId", partner is not None,
            "a partner configuration exists for the deployment" if partner is not None
            else f"no partner configuration for {normalized} yet: B2B collaboration with it stays blocked",
        ))
    return Decision.of(*reasons)


# -- evaluation (§5.4) ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """The user crossing the boundary, by object ids *in their home tenant* (inbound targets name the partner's
    ids, §5.1) — never the guest object's id in the resource tenant. ``user_id`` is ``None`` when the person is
    not known yet (an invitee whose home account has not signed in): with ``before_sign_in=True`` only
    ``AllUsers`` targets decide and specific targets are left to sign-in time; at sign-in an unknown person is
    simply not listed (an allow list refuses them, a block list lets them through)."""

    user_id: str | None
    group_ids: frozenset[str] = frozenset()

    @classmethod
    def unknown(cls) -> Subject:
        return cls(None)


def _users_reason(policy: str, name: str, config: TargetConfiguration, subject: Subject,
                  before_sign_in: bool) -> Reason:
    setting = f"{name}.usersAndGroups"
    if config.lists_everything:
        allowed = config.access_type == "allowed"
        return Reason(policy, setting, allowed, f"{setting} {'allows' if allowed else 'blocks'} AllUsers")
    listed_users = {t.target for t in config.targets if t.target_type == "user"}
    listed_groups = {t.target for t in config.targets if t.target_type == "group"}
    if before_sign_in and subject.user_id is None and not subject.group_ids:
        return Reason(policy, setting, True,
                      f"{setting} {config.access_type} specific users and groups only; decided at sign-in")
    own = {subject.user_id} if subject.user_id is not None else set()
    hits = sorted((own & listed_users) | (subject.group_ids & listed_groups))
    listed = bool(hits)
    allowed = listed == (config.access_type == "allowed")
    if config.access_type == "allowed":
        message = (f"{setting} allows listed users and groups, including {hits[0]}" if listed
                   else f"{setting} allows only listed users and groups, and this user is not among them")
    else:
        message = (f"{setting} blocks listed users and groups, including {hits[0]}" if listed
                   else f"{setting} blocks listed users and groups only, and this user is not among them")
    return Reason(policy, setting, allowed, message)


def _applications_reason(policy: str, name: str, config: TargetConfiguration, application_id: str) -> Reason:
    setting = f"{name}.applications"
    if config.lists_everything:
        allowed = config.access_type == "allowed"
        return Reason(policy, setting, allowed, f"{setting} {'allows' if allowed else 'blocks'} AllApplications")
    listed = any(t.target == application_id for t in config.targets)
    allowed = listed == (config.access_type == "allowed")
    if config.access_type == "allowed":
        message = (f"{setting} allows application {application_id}" if listed
                   else f"{setting} allows only listed applications, and {application_id} is not among them")
    else:
        message = (f"{setting} blocks application {application_id}" if listed
                   else f"{setting} blocks listed applications only, and {application_id} is not among them")
    return Reason(policy, setting, allowed, message)


def _evaluate(config: EffectiveConfiguration, name: str, subject: Subject, application_id: str | None,
              side: str, before_sign_in: bool) -> list[Reason]:
    setting = config.setting(name)
    policy = config.source_of(name)
    reasons = [_users_reason(policy, name, setting.users_and_groups, subject, before_sign_in)]
    if application_id is not None:
        reasons.append(_applications_reason(policy, name, setting.applications, application_id))
    return [replace(r, message=f"{side}: {r.message}") for r in reasons]


def evaluate_inbound(resource: EffectiveConfiguration, subject: Subject, application_id: str | None, *,
                     before_sign_in: bool = False) -> Decision:
    """The resource tenant's ``b2bCollaborationInbound`` for the guest's home organization.

    ``application_id`` is ``None`` at invitation time (no application yet: only users and groups decide).
    """
    return Decision.of(*_evaluate(resource, INBOUND, subject, application_id, "resource tenant inbound",
                                  before_sign_in))


def evaluate_outbound(home: EffectiveConfiguration, subject: Subject, application_id: str | None, *,
                      before_sign_in: bool = False) -> Decision:
    """The home tenant's ``b2bCollaborationOutbound`` for the resource tenant (targets are the home tenant's own
    users and groups, and the resource tenant's application ids)."""
    return Decision.of(*_evaluate(home, OUTBOUND, subject, application_id, "home tenant outbound",
                                  before_sign_in))


def evaluate_b2b_collaboration(
    resource: EffectiveConfiguration,
    home: EffectiveConfiguration | None,
    subject: Subject,
    application_id: str | None,
    *,
    before_sign_in: bool = False,
) -> Decision:
    """§5.4 step 1, at invitation and at every sign-in and token refresh: resource inbound AND home outbound.

    ``home`` is the home tenant's effective configuration for the resource tenant when the home tenant is on
    this deployment or is a partner Portico sharing its settings; ``None`` when they are not known (another
    IdP): then only the resource side decides, and the reasons say so.
    """
    reasons = list(evaluate_inbound(resource, subject, application_id, before_sign_in=before_sign_in).reasons)
    if home is not None:
        reasons.extend(evaluate_outbound(home, subject, application_id, before_sign_in=before_sign_in).reasons)
    return Decision.of(*reasons)


# -- automatic redemption (§5.6) --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AutomaticRedemption:
    """§5.6: whether the consent prompt and the invitation email are suppressed (a notification mail is sent
    instead for B2B collaboration)."""

    decision: Decision

    @property
    def suppress_consent(self) -> bool:
        return self.decision.allowed

    @property
    def suppress_invitation_email(self) -> bool:
        return self.decision.allowed

    @property
    def send_notification_email(self) -> bool:
        return self.decision.allowed


def automatic_redemption(
    resource: EffectiveConfiguration, home: EffectiveConfiguration | None
) -> AutomaticRedemption:
    """Suppressed only if the resource tenant has ``inboundAllowed`` for the home tenant AND the home tenant has
    ``outboundAllowed`` for the resource tenant; every other combination (including an unknown home) is not."""
    inbound = resource.automatic_user_consent_settings.inbound_allowed
    reasons = [Reason(
        resource.source_of("automaticUserConsentSettings"), "automaticUserConsentSettings.inboundAllowed", inbound,
        f"resource tenant {'allows' if inbound else 'does not allow'} automatic redemption inbound",
    )]
    if home is None:
        reasons.append(Reason("home", "automaticUserConsentSettings.outboundAllowed", False,
                              "the home organization's outbound settings are not known"))
    else:
        outbound = home.automatic_user_consent_settings.outbound_allowed
        reasons.append(Reason(
            home.source_of("automaticUserConsentSettings"), "automaticUserConsentSettings.outboundAllowed", outbound,
            f"home tenant {'allows' if outbound else 'does not allow'} automatic redemption outbound",
        ))
    return AutomaticRedemption(Decision.of(*reasons))
