"""Home-realm discovery: where a guest authenticates (b2b-collaboration.md §2, spec README concept map).

1. Stickiness (§2.3): a guest with a bound identity always goes back to that identity's provider; if that
   provider is gone (deleted, or email OTP turned off) the guest is blocked until redemption is reset.
2. Otherwise the tenant's redemption order (§2.2) is walked: ``azureActiveDirectory`` = the address belongs to a
   member of another tenant of this deployment (or of a trusted partner deployment) -> sign in there;
   ``externalFederation`` = an enterprise IdP whose domain list holds the email's domain;
   ``socialIdentityProviders`` = Google, for gmail.com / googlemail.com, when configured.
3. Then the fallback: ``emailOneTimePasscode`` (or ``defaultConfiguredIdp``, which in Portico means the same,
   there being no Microsoft-account creation) when ``emailOtpForGuests`` is on; ``none`` = a clear error that
   names what the administrator must configure.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

AZURE_AD = "azureActiveDirectory"
EXTERNAL_FEDERATION = "externalFederation"
SOCIAL = "socialIdentityProviders"
PRIMARY_PROVIDERS = (AZURE_AD, EXTERNAL_FEDERATION, SOCIAL)
DEFAULT_PRIMARY_ORDER = PRIMARY_PROVIDERS
FALLBACKS = ("defaultConfiguredIdp", "emailOneTimePasscode", "none")
GOOGLE_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
MAIL_ISSUER = "mail"


class RouteKind(StrEnum):
    UPSTREAM = "upstream"  # federate to one of this tenant's identity providers (provider_id)
    HOME_TENANT = "homeTenant"  # OIDC federation to another Portico tenant or partner deployment (home_issuer)
    EMAIL_OTP = "emailOneTimePasscode"
    BLOCKED = "blocked"


class Reason(StrEnum):
    BOUND_IDENTITY = "boundIdentity"
    BOUND_PROVIDER_REMOVED = "boundProviderRemoved"
    BOUND_OTP_DISABLED = "boundEmailOtpDisabled"
    HOME_TENANT_MEMBER = "homeTenantMember"
    ENTERPRISE_DOMAIN = "enterpriseDomain"
    GOOGLE_DOMAIN = "googleDomain"
    FALLBACK_EMAIL_OTP = "fallbackEmailOneTimePasscode"
    FALLBACK_OTP_DISABLED = "fallbackEmailOtpDisabled"
    FALLBACK_NONE = "fallbackNone"


@dataclass(frozen=True)
class Upstream:
    """One configured identity provider, as the decision needs it."""

    id: str
    name: str
    type: str  # oidc | oauth2 | google | microsoft | facebook
    identity_issuer: str  # the issuer of identities bound through it ("google.com", the OIDC issuer, ...)
    domains: tuple[str, ...] = ()  # enterprise routing domains (exact, lower-case)

    @property
    def is_enterprise(self) -> bool:
        return self.type in ("oidc", "oauth2")


@dataclass(frozen=True)
class HomeTenant:
    issuer: str
    name: str


@dataclass(frozen=True)
class BoundIdentity:
    """A ``federated`` identity of the matching guest: ``{issuer, issuerAssignedId}``."""

    issuer: str
    issuer_assigned_id: str | None = None


@dataclass(frozen=True)
class HomeRealmInput:
    email: str
    upstreams: tuple[Upstream, ...] = ()
    primary_order: tuple[str, ...] = DEFAULT_PRIMARY_ORDER
    fallback: str = "defaultConfiguredIdp"
    email_otp_for_guests: bool = True
    bound_identities: tuple[BoundIdentity, ...] = ()
    home_tenant: HomeTenant | None = None  # the address is a member's in this other tenant / partner
    trusted_home_issuers: tuple[str, ...] = ()  # other tenants' and partner deployments' issuers (stickiness)


@dataclass(frozen=True)
class HomeRealmRoute:
    kind: RouteKind
    reason: Reason
    reasons: tuple[str, ...]  # every step considered, in order, ending with the one that decided
    provider_id: str | None = None
    home_issuer: str | None = None
    sticky: bool = False

    @property
    def message(self) -> str:
        """The sentence that decided, for a page or a log line."""
        return self.reasons[-1]


def _domain(email: str) -> str:
    local, at, domain = email.strip().rpartition("@")
    if not at or not local or not domain:
        raise ValueError(f"{email!r} is not an email address")
    return domain.lower().rstrip(".")


def _validate(data: HomeRealmInput) -> None:
    unknown = [p for p in data.primary_order if p not in PRIMARY_PROVIDERS]
    if unknown:
        raise ValueError(f"unknown redemption provider(s): {', '.join(unknown)}")
    if data.fallback not in FALLBACKS:
        raise ValueError(f"unknown fallback identity provider {data.fallback!r}")


def _sticky(data: HomeRealmInput, trace: list[str]) -> HomeRealmRoute | None:
    blocked: HomeRealmRoute | None = None
    by_issuer = {u.identity_issuer: u for u in data.upstreams}
    home_issuers = set(data.trusted_home_issuers) | ({data.home_tenant.issuer} if data.home_tenant else set())
    for bound in data.bound_identities:
        if bound.issuer == MAIL_ISSUER:
            if data.email_otp_for_guests:
                trace.append("This guest redeemed with email one-time passcode; redemption is sticky.")
                return HomeRealmRoute(RouteKind.EMAIL_OTP, Reason.BOUND_IDENTITY, tuple(trace), sticky=True)
            blocked = blocked or HomeRealmRoute(
                RouteKind.BLOCKED, Reason.BOUND_OTP_DISABLED,
                (*trace, "This guest signs in with email one-time passcode, which this organization has turned "
                 "off. An administrator must turn email one-time passcode for guests back on, or reset this "
                 "guest's redemption."),
            )
            continue
        upstream = by_issuer.get(bound.issuer)
        if upstream is not None:
            trace.append(f"This guest redeemed with {upstream.name}; redemption is sticky.")
            return HomeRealmRoute(RouteKind.UPSTREAM, Reason.BOUND_IDENTITY, tuple(trace),
                                  provider_id=upstream.id, sticky=True)
        if bound.issuer in home_issuers:
            trace.append(f"This guest redeemed with their home organization ({bound.issuer}); redemption is sticky.")
            return HomeRealmRoute(RouteKind.HOME_TENANT, Reason.BOUND_IDENTITY, tuple(trace),
                                  home_issuer=bound.issuer, sticky=True)
        blocked = blocked or HomeRealmRoute(
            RouteKind.BLOCKED, Reason.BOUND_PROVIDER_REMOVED,
            (*trace, f"This guest signs in with the identity provider {bound.issuer}, which is no longer "
             "configured for this organization. An administrator must configure it again, or reset this "
             "guest's redemption."),
        )
    return blocked


def choose_home_realm(data: HomeRealmInput) -> HomeRealmRoute:
    """Decide where ``data.email`` authenticates. Raises ``ValueError`` only for malformed input."""
    _validate(data)
    domain = _domain(data.email)
    trace: list[str] = []
    sticky = _sticky(data, trace)
    if sticky is not None:
        return sticky
    for step in dict.fromkeys(data.primary_order):
        if step == AZURE_AD:
            if data.home_tenant is not None:
                trace.append(f"{data.email} belongs to a member of {data.home_tenant.name}; sign in there.")
                return HomeRealmRoute(RouteKind.HOME_TENANT, Reason.HOME_TENANT_MEMBER, tuple(trace),
                                      home_issuer=data.home_tenant.issuer)
            trace.append("No other organization has a member with this address.")
        elif step == EXTERNAL_FEDERATION:
            match = next((u for u in data.upstreams if u.is_enterprise and domain in u.domains), None)
            if match is not None:
                trace.append(f"{domain} is federated to {match.name}.")
                return HomeRealmRoute(RouteKind.UPSTREAM, Reason.ENTERPRISE_DOMAIN, tuple(trace),
                                      provider_id=match.id)
            trace.append(f"No enterprise identity provider lists {domain}.")
        elif step == SOCIAL:
            google = next((u for u in data.upstreams if u.type == "google"), None)
            if google is not None and domain in GOOGLE_DOMAINS:
                trace.append(f"{domain} is a Google address and Google is configured.")
                return HomeRealmRoute(RouteKind.UPSTREAM, Reason.GOOGLE_DOMAIN, tuple(trace), provider_id=google.id)
            trace.append("Google does not apply." if domain in GOOGLE_DOMAINS
                         else f"{domain} is not a Google address.")
    return _fallback(data, domain, trace)


def _fallback(data: HomeRealmInput, domain: str, trace: list[str]) -> HomeRealmRoute:
    if data.fallback == "none":
        return HomeRealmRoute(
            RouteKind.BLOCKED, Reason.FALLBACK_NONE,
            (*trace, f"No identity provider is set up for {domain}, and this organization has no fallback. "
             f"An administrator must configure an identity provider for {domain}, or set the fallback "
             "identity provider to email one-time passcode."),
        )
    if not data.email_otp_for_guests:
        return HomeRealmRoute(
            RouteKind.BLOCKED, Reason.FALLBACK_OTP_DISABLED,
            (*trace, f"No identity provider is set up for {domain}, and email one-time passcode for guests is "
             f"turned off. An administrator must turn it on, or configure an identity provider for {domain}."),
        )
    trace.append(f"A one-time passcode will be sent to {data.email}.")
    return HomeRealmRoute(RouteKind.EMAIL_OTP, Reason.FALLBACK_EMAIL_OTP, tuple(trace))
