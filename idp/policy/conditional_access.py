"""Conditional access policies for members and guests (b2b-collaboration.md §8) and their evaluation.

A policy has conditions on users (``All``, specific users, groups and roles, exclusions, guest/external user
types of §8.1 with their external tenants) and applications, grant controls (``block`` and ``mfa``, joined by
``AND``/``OR``) and a state (``enabled``, ``disabled``, ``enabledForReportingButNotEnforced``). Report-only
policies are evaluated like the others, their would-be result is returned separately, and nothing is enforced.

MFA: a second factor completed in this tenant satisfies ``mfa``; an upstream ``amr`` containing ``mfa`` does only
when the guest's home organization has ``inboundTrust.isMfaAccepted`` in the cross-tenant access settings (spec
README decision 9, §5.5, §8.3). Evaluation runs at every sign-in and token refresh (decision 8).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from idp.errors import ValidationError
from idp.policy import _fields as f
from idp.policy.cross_tenant_access import EffectiveConfiguration, InboundTrust
from idp.policy.decision import Reason

PolicyState = Literal["enabled", "disabled", "enabledForReportingButNotEnforced"]
POLICY_STATES: tuple[PolicyState, ...] = ("enabled", "disabled", "enabledForReportingButNotEnforced")

GuestOrExternalUserType = Literal[
    "internalGuest", "b2bCollaborationGuest", "b2bCollaborationMember", "b2bDirectConnectUser",
    "otherExternalUser", "serviceProvider",
]
GUEST_OR_EXTERNAL_USER_TYPES: tuple[GuestOrExternalUserType, ...] = (
    "internalGuest", "b2bCollaborationGuest", "b2bCollaborationMember", "b2bDirectConnectUser",
    "otherExternalUser", "serviceProvider",
)

Control = Literal["block", "mfa"]
CONTROLS: tuple[Control, ...] = ("block", "mfa")
#: §8.2 controls Portico does not offer (yet); refused with a clear message rather than silently ignored.
UNSUPPORTED_CONTROLS = frozenset(
    {"compliantDevice", "domainJoinedDevice", "approvedApplication", "compliantApplication", "passwordChange"}
)
Operator = Literal["AND", "OR"]
OPERATORS: tuple[Operator, ...] = ("AND", "OR")

ALL = "All"
NONE = "None"
GUESTS_OR_EXTERNAL_USERS = "GuestsOrExternalUsers"

Outcome = Literal["allow", "requireMfa", "block"]
_SEVERITY: Mapping[Outcome, int] = {"allow": 0, "requireMfa": 1, "block": 2}


def policy_name(policy_id: str) -> str:
    return f"conditionalAccessPolicies/{policy_id}"


# -- model ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExternalTenants:
    """``conditionalAccessExternalTenants``: ``all`` or the ``enumerated`` tenant ids in ``members``."""

    membership_kind: Literal["all", "enumerated"] = "all"
    members: tuple[str, ...] = ()

    def matches(self, home_tenant_id: str | None) -> bool:
        return self.membership_kind == "all" or (home_tenant_id is not None and home_tenant_id in self.members)

    def to_graph(self) -> dict[str, Any]:
        if self.membership_kind == "all":
            return {"@odata.type": "#microsoft.graph.conditionalAccessAllExternalTenants", "membershipKind": "all"}
        return {"@odata.type": "#microsoft.graph.conditionalAccessEnumeratedExternalTenants",
                "membershipKind": "enumerated", "members": list(self.members)}


@dataclass(frozen=True)
class GuestsOrExternalUsers:
    """``conditionalAccessGuestsOrExternalUsers``: the §8.1 user types and, optionally, their home tenants."""

    guest_or_external_user_types: frozenset[GuestOrExternalUserType]
    external_tenants: ExternalTenants = field(default_factory=ExternalTenants)

    def matches(self, user_type: GuestOrExternalUserType | None, home_tenant_id: str | None) -> bool:
        if user_type is None or user_type not in self.guest_or_external_user_types:
            return False
        # An internal guest's credentials live in this tenant: the external-tenant filter does not apply.
        return user_type == "internalGuest" or self.external_tenants.matches(home_tenant_id)

    def to_graph(self) -> dict[str, Any]:
        ordered = [t for t in GUEST_OR_EXTERNAL_USER_TYPES if t in self.guest_or_external_user_types]
        return {"guestOrExternalUserTypes": ",".join(ordered), "externalTenants": self.external_tenants.to_graph()}


@dataclass(frozen=True)
class UsersCondition:
    """``conditionalAccessUsers`` (role names are Portico's directory role names)."""

    include_users: tuple[str, ...] = ()
    exclude_users: tuple[str, ...] = ()
    include_groups: tuple[str, ...] = ()
    exclude_groups: tuple[str, ...] = ()
    include_roles: tuple[str, ...] = ()
    exclude_roles: tuple[str, ...] = ()
    include_guests_or_external_users: GuestsOrExternalUsers | None = None
    exclude_guests_or_external_users: GuestsOrExternalUsers | None = None

    def to_graph(self) -> dict[str, Any]:
        return {
            "includeUsers": list(self.include_users),
            "excludeUsers": list(self.exclude_users),
            "includeGroups": list(self.include_groups),
            "excludeGroups": list(self.exclude_groups),
            "includeRoles": list(self.include_roles),
            "excludeRoles": list(self.exclude_roles),
            "includeGuestsOrExternalUsers": (
                self.include_guests_or_external_users.to_graph() if self.include_guests_or_external_users else None
            ),
            "excludeGuestsOrExternalUsers": (
                self.exclude_guests_or_external_users.to_graph() if self.exclude_guests_or_external_users else None
            ),
        }


@dataclass(frozen=True)
class ApplicationsCondition:
    """``conditionalAccessApplications``: application (client) ids, ``All`` or ``None``."""

    include_applications: tuple[str, ...] = ()
    exclude_applications: tuple[str, ...] = ()

    def to_graph(self) -> dict[str, Any]:
        return {"includeApplications": list(self.include_applications),
                "excludeApplications": list(self.exclude_applications), "includeUserActions": []}


@dataclass(frozen=True)
class GrantControls:
    operator: Operator
    built_in_controls: tuple[Control, ...]

    def to_graph(self) -> dict[str, Any]:
        return {"operator": self.operator, "builtInControls": list(self.built_in_controls),
                "customAuthenticationFactors": [], "termsOfUse": []}


@dataclass(frozen=True)
class ConditionalAccessPolicy:
    """``conditionalAccessPolicy`` (the parts Portico implements)."""

    id: str
    display_name: str
    state: PolicyState
    users: UsersCondition
    applications: ApplicationsCondition
    grant_controls: GrantControls

    @property
    def name(self) -> str:
        return policy_name(self.id)

    def to_graph(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "displayName": self.display_name,
            "state": self.state,
            "conditions": {
                "users": self.users.to_graph(),
                "applications": self.applications.to_graph(),
                "clientAppTypes": ["all"],
            },
            "grantControls": self.grant_controls.to_graph(),
            "sessionControls": None,
        }

    @classmethod
    def from_graph(cls, document: Any, *, id: str | None = None,
                   base: ConditionalAccessPolicy | None = None) -> ConditionalAccessPolicy:
        """Create (``base`` omitted: ``id`` is the new policy's id and ``displayName``, ``state``,
        ``conditions.users``, ``conditions.applications`` and ``grantControls`` are required) or PATCH
        (``base`` given). Bad input raises :class:`ValidationError` naming the field."""
        doc = f.obj(document, "")
        f.only_keys(doc, ("id", "displayName", "state", "conditions", "grantControls", "sessionControls",
                          "createdDateTime", "modifiedDateTime"), "")
        if base is None:
            if not id:
                raise ValueError("a new policy needs an id")
            for required in ("displayName", "state", "conditions", "grantControls"):
                if required not in doc:
                    raise ValidationError(f"{required} is required", field=required)
        elif "id" in doc and doc["id"] != base.id:
            raise ValidationError("id is read-only", field="id")
        if doc.get("sessionControls") is not None:
            raise ValidationError("sessionControls are not supported", field="sessionControls")
        display_name = f.string(doc["displayName"], "displayName") if "displayName" in doc else None
        state = f.enum(doc["state"], "state", POLICY_STATES) if "state" in doc else None
        users = base.users if base else None
        applications = base.applications if base else None
        if "conditions" in doc:
            conditions = f.obj(doc["conditions"], "conditions")
            f.only_keys(conditions, ("users", "applications", "clientAppTypes"), "conditions")
            if "clientAppTypes" in conditions and conditions["clientAppTypes"] not in (["all"], None):
                raise ValidationError("conditions.clientAppTypes: only [\"all\"] is supported",
                                      field="conditions.clientAppTypes")
            if "users" in conditions:
                users = read_users(conditions["users"], "conditions.users")
            if "applications" in conditions:
                applications = read_applications(conditions["applications"], "conditions.applications")
        if users is None:
            raise ValidationError("conditions.users is required", field="conditions.users")
        if applications is None:
            raise ValidationError("conditions.applications is required", field="conditions.applications")
        grant = read_grant_controls(doc["grantControls"], "grantControls") if "grantControls" in doc else None
        if base is not None:
            return replace(base, display_name=display_name or base.display_name,
                           state=_state(state) if state else base.state, users=users, applications=applications,
                           grant_controls=grant or base.grant_controls)
        if display_name is None or state is None or grant is None or id is None:  # pragma: no cover - checked above
            raise ValueError("incomplete policy")
        return cls(id, display_name, _state(state), users, applications, grant)


def _state(value: str) -> PolicyState:
    return next(s for s in POLICY_STATES if s == value)


# -- Graph readers ----------------------------------------------------------------------------------------------


def _ids(doc: Mapping[str, Any], key: str, prefix: str, keywords: Iterable[str] = ()) -> tuple[str, ...]:
    if key not in doc or doc[key] is None:
        return ()
    name = f.join(prefix, key)
    values = f.unique(f.strings(doc[key], name))
    special = [v for v in values if v in keywords]
    if special and len(values) > 1 and special[0] in (ALL, NONE):
        raise ValidationError(f"{name}: {special[0]} cannot be combined with other values", field=name)
    return values


def read_users(value: Any, prefix: str) -> UsersCondition:
    doc = f.obj(value, prefix)
    f.only_keys(doc, ("includeUsers", "excludeUsers", "includeGroups", "excludeGroups", "includeRoles",
                      "excludeRoles", "includeGuestsOrExternalUsers", "excludeGuestsOrExternalUsers"), prefix)
    condition = UsersCondition(
        include_users=_ids(doc, "includeUsers", prefix, (ALL, NONE, GUESTS_OR_EXTERNAL_USERS)),
        exclude_users=_ids(doc, "excludeUsers", prefix, (GUESTS_OR_EXTERNAL_USERS,)),
        include_groups=_ids(doc, "includeGroups", prefix),
        exclude_groups=_ids(doc, "excludeGroups", prefix),
        include_roles=_ids(doc, "includeRoles", prefix),
        exclude_roles=_ids(doc, "excludeRoles", prefix),
        include_guests_or_external_users=_guests(doc, "includeGuestsOrExternalUsers", prefix),
        exclude_guests_or_external_users=_guests(doc, "excludeGuestsOrExternalUsers", prefix),
    )
    if any(v in (ALL, NONE) for v in condition.exclude_users):
        name = f.join(prefix, "excludeUsers")
        raise ValidationError(f"{name}: All and None are include-only values", field=name)
    if not (condition.include_users or condition.include_groups or condition.include_roles
            or condition.include_guests_or_external_users):
        name = f.join(prefix, "includeUsers")
        raise ValidationError(
            f"{name}: include at least one user, group, role or guest type (or All / None)", field=name
        )
    return condition


def _guests(doc: Mapping[str, Any], key: str, prefix: str) -> GuestsOrExternalUsers | None:
    if doc.get(key) is None:
        return None
    prefix = f.join(prefix, key)
    body = f.obj(doc[key], prefix)
    f.only_keys(body, ("guestOrExternalUserTypes", "externalTenants"), prefix)
    types_field = f.join(prefix, "guestOrExternalUserTypes")
    raw = body.get("guestOrExternalUserTypes")
    if not isinstance(raw, str):
        raise ValidationError(f"{types_field} must be a comma-separated string of user types", field=types_field)
    names = [part.strip() for part in raw.split(",") if part.strip() and part.strip() != "none"]
    types = frozenset(
        next(t for t in GUEST_OR_EXTERNAL_USER_TYPES if t == f.enum(name, types_field, GUEST_OR_EXTERNAL_USER_TYPES))
        for name in names
    )
    tenants_field = f.join(prefix, "externalTenants")
    tenants = ExternalTenants()
    if body.get("externalTenants") is not None:
        if not types:
            raise ValidationError(f"{tenants_field} can be set only when guestOrExternalUserTypes is not empty",
                                  field=tenants_field)
        tenants_doc = f.obj(body["externalTenants"], tenants_field)
        f.only_keys(tenants_doc, ("membershipKind", "members"), tenants_field)
        kind = f.enum(tenants_doc.get("membershipKind"), f.join(tenants_field, "membershipKind"),
                      ("all", "enumerated"))
        if kind == "enumerated":
            members = f.unique(f.strings(tenants_doc.get("members"), f.join(tenants_field, "members")))
            if not members:
                raise ValidationError(f"{tenants_field}.members must list at least one tenant",
                                      field=f.join(tenants_field, "members"))
            tenants = ExternalTenants("enumerated", members)
        elif tenants_doc.get("members"):
            raise ValidationError(f"{tenants_field}.members is only for membershipKind enumerated",
                                  field=f.join(tenants_field, "members"))
    if not types:
        raise ValidationError(f"{types_field} must name at least one user type", field=types_field)
    return GuestsOrExternalUsers(types, tenants)


def read_applications(value: Any, prefix: str) -> ApplicationsCondition:
    doc = f.obj(value, prefix)
    f.only_keys(doc, ("includeApplications", "excludeApplications", "includeUserActions",
                      "includeAuthenticationContextClassReferences", "applicationFilter"), prefix)
    for unsupported in ("includeUserActions", "includeAuthenticationContextClassReferences"):
        if doc.get(unsupported):
            name = f.join(prefix, unsupported)
            raise ValidationError(f"{name} is not supported", field=name)
    if doc.get("applicationFilter") is not None:
        raise ValidationError(f"{prefix}.applicationFilter is not supported", field=f.join(prefix, "applicationFilter"))
    include = _ids(doc, "includeApplications", prefix, (ALL, NONE))
    exclude = _ids(doc, "excludeApplications", prefix)
    for key, values in (("includeApplications", include), ("excludeApplications", exclude)):
        name = f.join(prefix, key)
        for bad in ("Office365", "MicrosoftAdminPortals"):
            if bad in values:
                raise ValidationError(f"{name}: {bad} has no meaning in Portico; use All or application ids",
                                      field=name)
        if key == "excludeApplications" and (ALL in values or NONE in values):
            raise ValidationError(f"{name}: All and None are include-only values", field=name)
    if not include:
        name = f.join(prefix, "includeApplications")
        raise ValidationError(f"{name} must list All, None or application ids", field=name)
    return ApplicationsCondition(include, exclude)


def read_grant_controls(value: Any, prefix: str) -> GrantControls:
    doc = f.obj(value, prefix)
    f.only_keys(doc, ("operator", "builtInControls", "customAuthenticationFactors", "termsOfUse",
                      "authenticationStrength"), prefix)
    for unsupported in ("customAuthenticationFactors", "termsOfUse", "authenticationStrength"):
        if doc.get(unsupported):
            name = f.join(prefix, unsupported)
            raise ValidationError(f"{name} is not supported", field=name)
    operator = f.enum(doc.get("operator"), f.join(prefix, "operator"), OPERATORS)
    name = f.join(prefix, "builtInControls")
    raw = f.unique(f.strings(doc.get("builtInControls"), name))
    for control in raw:
        if control in UNSUPPORTED_CONTROLS:
            raise ValidationError(f"{name}: {control} is not supported in Portico (block and mfa are)", field=name)
    controls = tuple(next(c for c in CONTROLS if c == f.enum(v, name, CONTROLS)) for v in raw)
    if not controls:
        raise ValidationError(f"{name} must list block or mfa", field=name)
    if "block" in controls and len(controls) > 1:
        raise ValidationError(f"{name}: block cannot be combined with other controls", field=name)
    return GrantControls(next(o for o in OPERATORS if o == operator), controls)


# -- sign-in context --------------------------------------------------------------------------------------------


def classify_user(
    user_type: Literal["Member", "Guest"],
    is_external: bool,
    *,
    is_service_provider: bool = False,
    is_direct_connect: bool = False,
) -> GuestOrExternalUserType | None:
    """§8.1 user-type classification; ``None`` for an internal member (not a guest or external user).

    Portico has no B2B direct connect (no local object), so ``b2bDirectConnectUser`` comes only from the flag,
    and every external identity has a ``userType``, so ``otherExternalUser`` is never produced (it stays a valid
    policy value)."""
    if is_direct_connect:
        return "b2bDirectConnectUser"
    if is_external and is_service_provider:
        return "serviceProvider"
    if not is_external:
        return "internalGuest" if user_type == "Guest" else None
    return "b2bCollaborationGuest" if user_type == "Guest" else "b2bCollaborationMember"


@dataclass(frozen=True)
class SignInContext:
    """What a sign-in (or token refresh) presents to conditional access.

    ``is_external``: the credentials live outside this tenant (federated, social or email-OTP guest).
    ``home_tenant_id``: the home organization's key (partner ``tenantId``: another tenant, a partner deployment,
    an enterprise IdP), for ``externalTenants`` and inbound trust; ``None`` for social and email-OTP guests, who
    have no organization and whose MFA always happens here (§8.3).
    ``cross_tenant``: this tenant's effective cross-tenant access settings for the guest's organization
    (``resolve(default, partner_or_None)``); ``None`` for internal users.
    ``upstream_amr``: the upstream's ``amr`` values; ``mfa_completed``: a second factor was done in this tenant
    during this session.
    """

    user_id: str
    application_id: str
    user_type: Literal["Member", "Guest"] = "Member"
    is_external: bool = False
    home_tenant_id: str | None = None
    group_ids: frozenset[str] = frozenset()
    role_names: frozenset[str] = frozenset()
    upstream_amr: frozenset[str] = frozenset()
    mfa_completed: bool = False
    cross_tenant: EffectiveConfiguration | None = None

    @property
    def guest_or_external_user_type(self) -> GuestOrExternalUserType | None:
        return classify_user(
            self.user_type, self.is_external,
            is_service_provider=bool(self.cross_tenant and self.cross_tenant.is_service_provider),
        )


# -- evaluation -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyResult:
    """One policy's verdict for one sign-in. ``result`` uses the sign-in log's statuses: ``success``,
    ``failure``, ``notApplied``, ``notEnabled``, ``reportOnlySuccess``, ``reportOnlyFailure``,
    ``reportOnlyInterrupted`` (would have asked for MFA), ``reportOnlyNotApplied``."""

    policy_id: str
    display_name: str
    state: PolicyState
    applies: bool
    outcome: Outcome
    result: str
    required_controls: tuple[Control, ...]
    reasons: tuple[Reason, ...]
    grant_controls: tuple[Control, ...] = ()

    @property
    def enforced(self) -> bool:
        return self.state == "enabled"

    def as_log(self) -> dict[str, Any]:
        return {"id": self.policy_id, "displayName": self.display_name, "result": self.result,
                "enforcedGrantControls": list(self.required_controls),
                "reasons": [r.as_dict() for r in self.reasons]}


@dataclass(frozen=True)
class AccessEvaluation:
    """The enforced outcome (``allow`` / ``requireMfa`` / ``block``) with its reasons; ``policies`` holds the
    result of every policy that is not report-only (disabled ones as ``notEnabled``), ``report_only`` the
    report-only results and ``report_only_outcome`` their combined would-be outcome (never enforced).

    ``mfa_location`` says where a required second factor is performed (§5.5, §8.3): ``home`` when the partner's
    inbound trust accepts MFA (the home tenant can be asked to step up), else ``resource``.
    """

    outcome: Outcome
    reasons: tuple[Reason, ...]
    policies: tuple[PolicyResult, ...]
    report_only: tuple[PolicyResult, ...]
    report_only_outcome: Outcome
    mfa_satisfied: bool
    mfa_location: Literal["home", "resource"] | None

    @property
    def allowed(self) -> bool:
        return self.outcome == "allow"

    @property
    def requires_mfa(self) -> bool:
        return self.outcome == "requireMfa"

    @property
    def blocked(self) -> bool:
        return self.outcome == "block"

    @property
    def message(self) -> str:
        decisive = [r for r in self.reasons if not r.allowed] or list(self.reasons)
        return "; ".join(r.message for r in decisive)

    def as_log(self) -> dict[str, Any]:
        """The ``appliedConditionalAccessPolicies`` part of a sign-in log entry."""
        return {
            "conditionalAccessStatus": {"allow": "success", "requireMfa": "failure", "block": "failure"}[
                self.outcome] if any(p.applies for p in self.policies) else "notApplied",
            "outcome": self.outcome,
            "reportOnlyOutcome": self.report_only_outcome,
            "appliedConditionalAccessPolicies": [p.as_log() for p in self.policies + self.report_only],
        }


def _inbound_trust(context: SignInContext) -> InboundTrust | None:
    """Inbound trust applies to users from an organization only (§5.5, §8.3)."""
    if context.cross_tenant is None or context.home_tenant_id is None or not context.is_external:
        return None
    return context.cross_tenant.inbound_trust


def mfa_status(context: SignInContext) -> tuple[bool, Reason]:
    """Is the ``mfa`` control satisfied, and why (spec README decision 9)?"""
    trust = _inbound_trust(context)
    source = context.cross_tenant.source_of("inboundTrust") if context.cross_tenant else "crossTenantAccessPolicy"
    if context.mfa_completed:
        return True, Reason("signIn", "mfa", True, "a second factor was completed in this tenant")
    if "mfa" in context.upstream_amr:
        if trust is not None and trust.is_mfa_accepted:
            return True, Reason(source, "inboundTrust.isMfaAccepted", True,
                                "the home organization's MFA (amr mfa) is accepted by inboundTrust.isMfaAccepted")
        if trust is None:
            return False, Reason("signIn", "upstreamAmr", False,
                                 "the upstream's amr mfa is not trusted for this kind of guest: MFA happens here")
        return False, Reason(source, "inboundTrust.isMfaAccepted", False,
                             "the home organization reported MFA but inboundTrust.isMfaAccepted is false: "
                             "MFA is performed in this tenant")
    return False, Reason("signIn", "mfa", False, "no second factor has been completed yet")


def _user_scope(users: UsersCondition, context: SignInContext, policy: str) -> tuple[bool, Reason]:
    kind = context.guest_or_external_user_type
    path = "conditions.users"

    def why(include: bool) -> str | None:
        ids, groups, roles = (users.include_users, users.include_groups, users.include_roles) if include else (
            users.exclude_users, users.exclude_groups, users.exclude_roles)
        guests = users.include_guests_or_external_users if include else users.exclude_guests_or_external_users
        prefix = "include" if include else "exclude"
        if include and ALL in ids:
            return "includeUsers All"
        if context.user_id in ids:
            return f"{prefix}Users lists the user"
        if GUESTS_OR_EXTERNAL_USERS in ids and kind is not None:
            return f"{prefix}Users GuestsOrExternalUsers ({kind})"
        hit = sorted(context.group_ids & set(groups))
        if hit:
            return f"{prefix}Groups lists group {hit[0]}"
        role = sorted(context.role_names & set(roles))
        if role:
            return f"{prefix}Roles lists role {role[0]}"
        if guests is not None and guests.matches(kind, context.home_tenant_id):
            return f"{prefix}GuestsOrExternalUsers matches {kind}"
        return None

    included = why(True)
    if included is None:
        return False, Reason(policy, path, True, "the user is not included")
    excluded = why(False)
    if excluded is not None:
        return False, Reason(policy, path, True, f"the user is excluded ({excluded})")
    return True, Reason(policy, path, True, f"the user is included ({included})")


def _application_scope(apps: ApplicationsCondition, application_id: str, policy: str) -> tuple[bool, Reason]:
    path = "conditions.applications"
    if application_id in apps.exclude_applications:
        return False, Reason(policy, path, True, f"application {application_id} is excluded")
    if ALL in apps.include_applications:
        return True, Reason(policy, path, True, "includeApplications All")
    if application_id in apps.include_applications:
        return True, Reason(policy, path, True, f"includeApplications lists {application_id}")
    return False, Reason(policy, path, True, f"application {application_id} is not included")


def evaluate_policy(policy: ConditionalAccessPolicy, context: SignInContext, mfa_satisfied: bool) -> PolicyResult:
    """One policy for one sign-in (``mfa_satisfied`` from :func:`mfa_status`)."""
    report_only = policy.state == "enabledForReportingButNotEnforced"
    prefix = "reportOnly" if report_only else ""

    def status(plain: str) -> str:
        return prefix + plain[0].upper() + plain[1:] if report_only else plain

    if policy.state == "disabled":
        reason = Reason(policy.name, "state", True, f"policy '{policy.display_name}' is disabled")
        return PolicyResult(policy.id, policy.display_name, policy.state, False, "allow", "notEnabled", (), (reason,))
    user_in, user_reason = _user_scope(policy.users, context, policy.name)
    app_in, app_reason = _application_scope(policy.applications, context.application_id, policy.name)
    if not (user_in and app_in):
        scope = (user_reason,) if not user_in else (app_reason,)
        return PolicyResult(policy.id, policy.display_name, policy.state, False, "allow", status("notApplied"), (),
                            scope)
    controls = policy.grant_controls.built_in_controls
    satisfied = {c: (c == "mfa" and mfa_satisfied) for c in controls}
    satisfiable = [c for c in controls if c != "block"]
    if policy.grant_controls.operator == "AND":
        outcome: Outcome = "block" if "block" in controls else "allow" if all(satisfied.values()) else "requireMfa"
    else:
        outcome = "allow" if any(satisfied.values()) else "requireMfa" if satisfiable else "block"
    label = f"policy '{policy.display_name}'" + (" (report-only)" if report_only else "")
    if outcome == "block":
        grant = Reason(policy.name, "grantControls.builtInControls", False, f"{label} blocks access")
        result = status("failure")
    elif outcome == "requireMfa":
        grant = Reason(policy.name, "grantControls.builtInControls", False, f"{label} requires multifactor "
                       "authentication")
        result = "reportOnlyInterrupted" if report_only else "failure"
    else:
        grant = Reason(policy.name, "grantControls.builtInControls", True,
                       f"{label}: grant controls satisfied ({policy.grant_controls.operator} "
                       f"{', '.join(controls)})")
        result = status("success")
    required: tuple[Control, ...] = tuple(c for c in controls if not satisfied[c] and c != "block") if (
        outcome == "requireMfa") else (("block",) if outcome == "block" else ())
    return PolicyResult(policy.id, policy.display_name, policy.state, True, outcome, result, required,
                        (user_reason, app_reason, grant), controls)


def _combine(results: Iterable[PolicyResult]) -> Outcome:
    outcome: Outcome = "allow"
    for result in results:
        if result.applies and _SEVERITY[result.outcome] > _SEVERITY[outcome]:
            outcome = result.outcome
    return outcome


def evaluate(policies: Iterable[ConditionalAccessPolicy], context: SignInContext) -> AccessEvaluation:
    """Every policy for one sign-in or token refresh: ``block`` if any enforced policy blocks, else
    ``requireMfa`` if one still needs a second factor, else ``allow``. Report-only policies are evaluated the
    same way into ``report_only`` / ``report_only_outcome`` and never change ``outcome``."""
    mfa_satisfied, mfa_reason = mfa_status(context)
    results = [evaluate_policy(p, context, mfa_satisfied) for p in policies]
    enforced = tuple(r for r in results if r.state != "enabledForReportingButNotEnforced")
    report_only = tuple(r for r in results if r.state == "enabledForReportingButNotEnforced")
    outcome = _combine(enforced)
    reasons: list[Reason] = [reason for r in enforced if r.applies for reason in r.reasons]
    if any(r.applies and "mfa" in r.grant_controls for r in enforced):
        reasons.append(mfa_reason)
    if not reasons:
        reasons.append(Reason("conditionalAccessPolicies", "", True, "no enabled conditional access policy applies"))
    trust = _inbound_trust(context)
    location: Literal["home", "resource"] | None = None
    if outcome == "requireMfa":
        location = "home" if trust is not None and trust.is_mfa_accepted else "resource"
    return AccessEvaluation(outcome, tuple(reasons), enforced, report_only, _combine(report_only), mfa_satisfied,
                            location)
