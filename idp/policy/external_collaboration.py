"""External collaboration settings (b2b-collaboration.md §6) and the decisions they drive.

One record per tenant gathers what Entra spreads over several Graph resources:

* ``authorizationPolicy`` (§6.1–§6.3): ``allowInvitesFrom``, ``guestUserRole`` (``member`` / ``limited`` /
  ``restricted``; the three role-template GUIDs of ``guestUserRoleId`` are accepted as aliases),
  ``allowEmailVerifiedUsersToJoinOrganization``;
* ``b2bManagementPolicy`` (§6.5): the domain allow list *or* deny list, in the Graph definition's own casing
  ``{"InvitationsAllowedAndBlockedDomainsPolicy": {"AllowedDomains": [...]}}``;
* ``emailOtpForGuests`` (§4; Graph ``allowExternalIdToUseEmailOtp``), ``selfServiceSignUp.isEnabled`` (§6.4) and
  ``allowExternalUsersToLeave`` (§6.6).

Domain lists match exactly and case-insensitively, without wildcards (spec README decision 5).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import idna

from idp.errors import ValidationError
from idp.policy import _fields as f
from idp.policy.decision import Decision, Reason

AUTHORIZATION_POLICY = "authorizationPolicy"
B2B_MANAGEMENT_POLICY = "b2bManagementPolicy"
AUTHENTICATION_FLOWS_POLICY = "authenticationFlowsPolicy"
EMAIL_METHOD = "authenticationMethodsPolicy/email"

AllowInvitesFrom = Literal["none", "adminsAndGuestInviters", "adminsGuestInvitersAndAllMembers", "everyone"]
ALLOW_INVITES_FROM: tuple[AllowInvitesFrom, ...] = (
    "none", "adminsAndGuestInviters", "adminsGuestInvitersAndAllMembers", "everyone"
)

GuestUserRole = Literal["member", "limited", "restricted"]
GUEST_USER_ROLES: tuple[GuestUserRole, ...] = ("member", "limited", "restricted")
#: §6.3 role template ids, accepted as aliases of ``guestUserRole``.
GUEST_USER_ROLE_IDS: Mapping[str, GuestUserRole] = {
    "a0b1b346-4d3e-4e8b-98f8-753987be4970": "member",
    "10dae51f-b6af-4016-8d66-8c2a99b929b3": "limited",
    "2af84b1e-32c8-42b7-82bc-daa82404023b": "restricted",
}
ROLE_ID_OF: Mapping[str, str] = {role: rid for rid, role in GUEST_USER_ROLE_IDS.items()}

EMAIL_OTP_STATES = ("default", "enabled", "disabled")
EmailOtpState = Literal["default", "enabled", "disabled"]

#: §6.2: the roles that count as "admins" for ``allowInvitesFrom``.
INVITER_ADMIN_ROLES = frozenset({"Global Administrator", "User Administrator", "Guest Inviter"})

#: §6.5: the whole B2B management policy definition is limited to 25,000 characters.
MAX_DEFINITION_CHARS = 25_000

DomainListMode = Literal["any", "allow", "deny"]


@dataclass(frozen=True)
class DomainList:
    """§6.5 collaboration restrictions: ``any`` domain (default), ``allow`` only the listed ones, or ``deny`` them.

    Domains are stored normalized (lower-case, IDNA ASCII). Exactly one list may be active.
    """

    mode: DomainListMode = "any"
    domains: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.mode == "any" and self.domains:
            raise ValueError("the 'any' mode has no domain list")

    @classmethod
    def allow(cls, *domains: str) -> DomainList:
        return cls("allow", normalize_domains(domains, "AllowedDomains"))

    @classmethod
    def deny(cls, *domains: str) -> DomainList:
        return cls("deny", normalize_domains(domains, "BlockedDomains"))

    def contains(self, domain: str) -> bool:
        return _comparable(domain) in self.domains


@dataclass(frozen=True)
class ExternalCollaborationSettings:
    """A tenant's external collaboration settings, with the defaults of §4 and §6."""

    allow_invites_from: AllowInvitesFrom = "everyone"
    guest_user_role: GuestUserRole = "limited"
    domain_list: DomainList = field(default_factory=DomainList)
    allow_external_id_to_use_email_otp: EmailOtpState = "default"
    self_service_sign_up_enabled: bool = False
    allow_external_users_to_leave: bool = True
    allow_email_verified_users_to_join_organization: bool = True

    @property
    def email_otp_for_guests(self) -> bool:
        """§4: ``default`` means on (auto-enabled for every tenant that did not turn it off)."""
        return self.allow_external_id_to_use_email_otp != "disabled"

    # -- Graph shapes -------------------------------------------------------------------------------------------

    def authorization_policy(self) -> dict[str, Any]:
        """The ``policies/authorizationPolicy`` resource (the parts Portico implements)."""
        return {
            "id": "authorizationPolicy",
            "displayName": "Authorization Policy",
            "description": "Used to manage authorization related settings across the company.",
            "allowInvitesFrom": self.allow_invites_from,
            "guestUserRole": self.guest_user_role,
            "guestUserRoleId": ROLE_ID_OF[self.guest_user_role],
            "allowEmailVerifiedUsersToJoinOrganization": self.allow_email_verified_users_to_join_organization,
        }

    def b2b_management_policy(self) -> dict[str, Any]:
        """The ``policies/b2bManagementPolicy`` definition, in the casing of §6.5."""
        lists: dict[str, list[str]] = {}
        if self.domain_list.mode == "allow":
            lists["AllowedDomains"] = list(self.domain_list.domains)
        elif self.domain_list.mode == "deny":
            lists["BlockedDomains"] = list(self.domain_list.domains)
        return {"InvitationsAllowedAndBlockedDomainsPolicy": lists}

    def to_graph(self) -> dict[str, Any]:
        """The whole record as one JSON document (what the admin page and the settings API read and write)."""
        document = self.authorization_policy()
        for key in ("id", "displayName", "description"):
            del document[key]
        document.update(
            {
                "b2bManagementPolicy": self.b2b_management_policy(),
                "allowExternalIdToUseEmailOtp": self.allow_external_id_to_use_email_otp,
                "emailOtpForGuests": self.email_otp_for_guests,
                "selfServiceSignUp": {"isEnabled": self.self_service_sign_up_enabled},
                "allowExternalUsersToLeave": self.allow_external_users_to_leave,
            }
        )
        return document

    @classmethod
    def from_graph(
        cls, document: Any, *, base: ExternalCollaborationSettings | None = None
    ) -> ExternalCollaborationSettings:
        """Read a (partial, PATCH-style) document onto ``base`` (defaults when omitted).

        Absent properties keep their value; every present one is validated and a bad one raises
        :class:`ValidationError` naming it. Read-only ``id``/``displayName``/``description`` are ignored.
        """
        doc = f.obj(document, "")
        f.only_keys(doc, _KNOWN_KEYS, "")
        current = base or cls()
        changes: dict[str, Any] = {}
        if "allowInvitesFrom" in doc:
            changes["allow_invites_from"] = f.enum(doc["allowInvitesFrom"], "allowInvitesFrom", ALLOW_INVITES_FROM)
        role = _guest_user_role(doc)
        if role is not None:
            changes["guest_user_role"] = role
        if "allowEmailVerifiedUsersToJoinOrganization" in doc:
            changes["allow_email_verified_users_to_join_organization"] = f.boolean(
                doc["allowEmailVerifiedUsersToJoinOrganization"], "allowEmailVerifiedUsersToJoinOrganization"
            )
        if "b2bManagementPolicy" in doc:
            changes["domain_list"] = read_b2b_management_policy(doc["b2bManagementPolicy"], "b2bManagementPolicy")
        otp = _email_otp(doc)
        if otp is not None:
            changes["allow_external_id_to_use_email_otp"] = otp
        if "selfServiceSignUp" in doc:
            sign_up = f.obj(doc["selfServiceSignUp"], "selfServiceSignUp")
            f.only_keys(sign_up, ("isEnabled",), "selfServiceSignUp")
            if "isEnabled" in sign_up:
                changes["self_service_sign_up_enabled"] = f.boolean(sign_up["isEnabled"], "selfServiceSignUp.isEnabled")
        if "allowExternalUsersToLeave" in doc:
            changes["allow_external_users_to_leave"] = f.boolean(
                doc["allowExternalUsersToLeave"], "allowExternalUsersToLeave"
            )
        return replace(current, **changes)


_KNOWN_KEYS = frozenset(
    {
        "id", "displayName", "description", "allowInvitesFrom", "guestUserRole", "guestUserRoleId",
        "allowEmailVerifiedUsersToJoinOrganization", "b2bManagementPolicy", "allowExternalIdToUseEmailOtp",
        "emailOtpForGuests", "selfServiceSignUp", "allowExternalUsersToLeave",
    }
)


def parse_guest_user_role(value: Any, field_name: str = "guestUserRole") -> GuestUserRole:
    """``member`` / ``limited`` / ``restricted``, or one of the §6.3 role template GUIDs (any case)."""
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in GUEST_USER_ROLE_IDS:
            return GUEST_USER_ROLE_IDS[lowered]
        for role in GUEST_USER_ROLES:
            if lowered == role:
                return role
    raise ValidationError(
        f"{field_name} must be one of {', '.join(GUEST_USER_ROLES)} or one of the role template ids "
        f"{', '.join(GUEST_USER_ROLE_IDS)} (got {value!r})",
        field=field_name,
    )


def _guest_user_role(doc: Mapping[str, Any]) -> GuestUserRole | None:
    by_name = parse_guest_user_role(doc["guestUserRole"]) if "guestUserRole" in doc else None
    by_id = parse_guest_user_role(doc["guestUserRoleId"], "guestUserRoleId") if "guestUserRoleId" in doc else None
    if by_name and by_id and by_name != by_id:
        raise ValidationError(
            f"guestUserRole {by_name!r} and guestUserRoleId (= {by_id!r}) disagree; send one of them",
            field="guestUserRoleId",
        )
    return by_name or by_id


def _email_otp(doc: Mapping[str, Any]) -> EmailOtpState | None:
    state: EmailOtpState | None = None
    if "allowExternalIdToUseEmailOtp" in doc:
        value = f.enum(doc["allowExternalIdToUseEmailOtp"], "allowExternalIdToUseEmailOtp", EMAIL_OTP_STATES)
        state = "enabled" if value == "enabled" else "disabled" if value == "disabled" else "default"
    if "emailOtpForGuests" in doc:
        flag: EmailOtpState = "enabled" if f.boolean(doc["emailOtpForGuests"], "emailOtpForGuests") else "disabled"
        if state is not None and (state != "disabled") != (flag == "enabled"):
            raise ValidationError(
                "emailOtpForGuests and allowExternalIdToUseEmailOtp disagree; send one of them",
                field="emailOtpForGuests",
            )
        state = state or flag
    return state


def read_b2b_management_policy(value: Any, prefix: str = "b2bManagementPolicy") -> DomainList:
    """Read a §6.5 definition. Accepts the bare ``{"InvitationsAllowedAndBlockedDomainsPolicy": ...}`` object or
    the full ``{"B2BManagementPolicy": {...}}`` definition. An empty ``BlockedDomains`` (or no list) means any
    domain; an empty ``AllowedDomains`` alone allows no domain at all. Both lists non-empty is refused."""
    doc = f.obj(value, prefix)
    if "B2BManagementPolicy" in doc:
        f.only_keys(doc, ("B2BManagementPolicy",), prefix)
        prefix = f.join(prefix, "B2BManagementPolicy")
        doc = f.obj(doc["B2BManagementPolicy"], prefix)
    f.only_keys(doc, ("InvitationsAllowedAndBlockedDomainsPolicy",), prefix)
    if "InvitationsAllowedAndBlockedDomainsPolicy" not in doc:
        return DomainList()
    prefix = f.join(prefix, "InvitationsAllowedAndBlockedDomainsPolicy")
    lists = f.obj(doc["InvitationsAllowedAndBlockedDomainsPolicy"], prefix)
    f.only_keys(lists, ("AllowedDomains", "BlockedDomains"), prefix)
    if len(json.dumps({"B2BManagementPolicy": {"InvitationsAllowedAndBlockedDomainsPolicy": lists}})) > (
        MAX_DEFINITION_CHARS
    ):
        raise ValidationError(
            f"{prefix}: the B2B management policy definition is larger than {MAX_DEFINITION_CHARS} characters",
            field=prefix,
        )
    allowed = f.strings(lists["AllowedDomains"], f.join(prefix, "AllowedDomains")) if "AllowedDomains" in lists \
        else None
    blocked = f.strings(lists["BlockedDomains"], f.join(prefix, "BlockedDomains")) if "BlockedDomains" in lists \
        else None
    if allowed and blocked:
        raise ValidationError(
            f"{prefix}.BlockedDomains: only one list may be active: send AllowedDomains or BlockedDomains, not both",
            field=f.join(prefix, "BlockedDomains"),
        )
    if blocked:
        return DomainList("deny", normalize_domains(blocked, f.join(prefix, "BlockedDomains")))
    if allowed or (allowed is not None and blocked is None):
        return DomainList("allow", normalize_domains(allowed or (), f.join(prefix, "AllowedDomains")))
    return DomainList()


def normalize_domains(domains: tuple[str, ...] | list[str], field_name: str) -> tuple[str, ...]:
    return f.unique(tuple(normalize_domain(d, f"{field_name}[{i}]") for i, d in enumerate(domains)))


def normalize_domain(domain: str, field_name: str = "domain") -> str:
    """Lower-case ASCII (IDNA) form of a domain; wildcards, addresses and malformed names are refused."""
    text = domain.strip().rstrip(".") if isinstance(domain, str) else ""
    if "*" in text:
        raise ValidationError(
            f"{field_name}: {text!r}: wildcards are not supported; list each domain and subdomain exactly",
            field=field_name,
        )
    if "@" in text:
        raise ValidationError(f"{field_name}: {text!r} is an address; list the domain only", field=field_name)
    try:
        ascii_form = idna.encode(text, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise ValidationError(f"{field_name}: {domain!r} is not a valid domain name", field=field_name) from None
    if "." not in ascii_form:
        raise ValidationError(f"{field_name}: {domain!r} is not a fully qualified domain name", field=field_name)
    return ascii_form.lower()


def _comparable(domain: str) -> str:
    """Like :func:`normalize_domain` but never raises: an unparseable domain just matches nothing."""
    text = domain.strip().rstrip(".").lower()
    try:
        return idna.encode(text, uts46=True).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError):
        return text


def domain_of(email_or_domain: str) -> str:
    return email_or_domain.rsplit("@", 1)[-1]


# -- decisions -------------------------------------------------------------------------------------------------

InviterKind = Literal["member", "guest", "application"]


@dataclass(frozen=True)
class Inviter:
    """Who asks to invite: a member or a guest of the tenant (with their directory role names), or an
    application calling app-only (client credentials with ``User.Invite.All``)."""

    kind: InviterKind
    roles: frozenset[str] = frozenset()

    @classmethod
    def member(cls, *roles: str) -> Inviter:
        return cls("member", frozenset(roles))

    @classmethod
    def guest(cls, *roles: str) -> Inviter:
        return cls("guest", frozenset(roles))

    @classmethod
    def application(cls) -> Inviter:
        return cls("application")

    @property
    def is_admin(self) -> bool:
        """§6.2: Global Administrator, User Administrator and Guest Inviter count as admins."""
        return bool(self.roles & INVITER_ADMIN_ROLES)


def may_invite(settings: ExternalCollaborationSettings, inviter: Inviter) -> Decision:
    """§6.2 / §1.1: may this caller send invitations under ``allowInvitesFrom``?

    Guests count as members when ``guestUserRole`` is ``member`` ("guests with member permissions"). App-only
    callers are refused only when invitations are off tenant-wide (``none``), per §1.1's MUST; the older v1.0
    text that also refused them for admin-only settings is not followed.
    """
    mode = settings.allow_invites_from
    who = _describe(inviter, settings)
    if mode == "none":
        allowed = False
        message = "allowInvitesFrom is 'none': nobody, administrators included, may invite guests"
    elif inviter.kind == "application":
        allowed = True
        message = f"allowInvitesFrom is '{mode}': applications with User.Invite.All may invite"
    elif mode == "everyone":
        allowed = True
        message = f"allowInvitesFrom is 'everyone': {who} may invite"
    elif inviter.is_admin:
        allowed = True
        message = f"allowInvitesFrom is '{mode}': {who} holds an inviting role"
    elif mode == "adminsGuestInvitersAndAllMembers":
        allowed = inviter.kind == "member" or settings.guest_user_role == "member"
        message = (
            f"allowInvitesFrom is '{mode}': {who} may invite" if allowed
            else f"allowInvitesFrom is '{mode}': guests without member permissions may not invite"
        )
    else:
        allowed = False
        message = (
            f"allowInvitesFrom is '{mode}': only Global Administrators, User Administrators and Guest Inviters "
            f"may invite, and {who} holds none of those roles"
        )
    return Decision.of(Reason(AUTHORIZATION_POLICY, "allowInvitesFrom", allowed, message))


def may_invite_as_member(inviter: Inviter) -> Decision:
    """Issue 5: ``invitedUserType`` ``Member`` is for Global Administrators only (``Guest`` is the default);
    app-only callers hold no directory role and are refused too."""
    allowed = inviter.kind != "application" and "Global Administrator" in inviter.roles
    return Decision.of(Reason(
        "invitation", "invitedUserType", allowed,
        "a Global Administrator may invite external members" if allowed
        else "only a Global Administrator may invite with invitedUserType Member",
    ))


def _describe(inviter: Inviter, settings: ExternalCollaborationSettings) -> str:
    if inviter.kind == "application":
        return "an application"
    if inviter.roles:
        return f"a {inviter.kind} with role(s) {', '.join(sorted(inviter.roles))}"
    if inviter.kind == "guest" and settings.guest_user_role == "member":
        return "a guest with member permissions"
    return f"a {inviter.kind}"


def is_domain_allowed(settings: ExternalCollaborationSettings, email_or_domain: str) -> Decision:
    """§6.5: does the B2B management policy let invitations go to this address's domain?

    Exact, case-insensitive match; no wildcards; a subdomain is a different domain (spec README decision 5).
    """
    domain = _comparable(domain_of(email_or_domain))
    domains = settings.domain_list
    listed = domains.contains(domain)
    if domains.mode == "deny":
        reason = Reason(
            B2B_MANAGEMENT_POLICY, "BlockedDomains", not listed,
            f"the invitee domain {domain} is blocked by the invitation policy (BlockedDomains)" if listed
            else f"the invitee domain {domain} is not in BlockedDomains",
        )
    elif domains.mode == "allow":
        reason = Reason(
            B2B_MANAGEMENT_POLICY, "AllowedDomains", listed,
            f"the invitee domain {domain} is in AllowedDomains" if listed
            else f"the invitee domain {domain} is blocked by the invitation policy: it is not in AllowedDomains",
        )
    else:
        reason = Reason(
            B2B_MANAGEMENT_POLICY, "InvitationsAllowedAndBlockedDomainsPolicy", True,
            "invitations may be sent to any domain",
        )
    return Decision.of(reason)


ExternalUserState = Literal["PendingAcceptance", "Accepted"]


def may_redeem(
    settings: ExternalCollaborationSettings, email: str, external_user_state: ExternalUserState | None
) -> Decision:
    """§6.5 / §5.9: domain lists are enforced at redemption of still-pending invitations only; a guest who has
    already redeemed keeps signing in after the lists change."""
    if external_user_state == "Accepted":
        return Decision.of(
            Reason(
                B2B_MANAGEMENT_POLICY, "InvitationsAllowedAndBlockedDomainsPolicy", True,
                "the guest has already redeemed; domain lists apply to pending invitations only",
            )
        )
    return is_domain_allowed(settings, email)


def is_email_otp_enabled(settings: ExternalCollaborationSettings) -> Decision:
    """§4: email one-time passcode for guests (``default`` counts as enabled)."""
    state = settings.allow_external_id_to_use_email_otp
    on = settings.email_otp_for_guests
    return Decision.of(
        Reason(
            EMAIL_METHOD, "allowExternalIdToUseEmailOtp", on,
            f"email one-time passcode for guests is {'on' if on else 'off'} (allowExternalIdToUseEmailOtp "
            f"= {state})",
        )
    )


def is_self_service_sign_up_enabled(settings: ExternalCollaborationSettings) -> Decision:
    """§6.4: guest self-service sign-up through user flows (default off)."""
    on = settings.self_service_sign_up_enabled
    return Decision.of(
        Reason(
            AUTHENTICATION_FLOWS_POLICY, "selfServiceSignUp.isEnabled", on,
            f"guest self-service sign-up via user flows is {'enabled' if on else 'disabled'}",
        )
    )


def may_leave(
    settings: ExternalCollaborationSettings, *, has_privacy_profile: bool, account_enabled: bool = True
) -> Decision:
    """§6.6: may a guest leave this organization by themselves?

    Needs the tenant's privacy information, the leave setting on, and an enabled account; otherwise the page
    tells the guest to contact the administrator or privacy contact.
    """
    reasons = [
        Reason(
            "organization", "privacyProfile", has_privacy_profile,
            "the organization has privacy information" if has_privacy_profile
            else "the organization has no privacy information, so guests cannot leave by themselves",
        ),
        Reason(
            "externalCollaborationSettings", "allowExternalUsersToLeave", settings.allow_external_users_to_leave,
            "external users may leave the organization" if settings.allow_external_users_to_leave
            else "the external user leave setting is off: contact the administrator to leave",
        ),
        Reason(
            "user", "accountEnabled", account_enabled,
            "the account is enabled" if account_enabled else "the account is disabled: contact the administrator",
        ),
    ]
    return Decision.of(*reasons)
