"""What each provider type means: protocol, fixed endpoints, default scopes and claim mapping, how it routes.

Presets follow b2b-collaboration.md §9 and the concept map of the spec README: Google is an OIDC upstream routed
for gmail.com/googlemail.com; Microsoft is an OIDC upstream on the ``common`` v2.0 endpoint offered as a social
provider; Facebook is an OAuth 2 upstream with a userinfo call, offered only in self-service sign-up flows.
``oidc`` and ``oauth2`` are enterprise upstreams routed by their email-domain lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType


class Routing(StrEnum):
    DOMAIN = "domain"  # enterprise: chosen by the email's domain (externalFederation)
    SOCIAL = "social"  # socialIdentityProviders
    SIGN_UP_ONLY = "signUpOnly"  # never used for invitation redemption (Facebook)


# Portico's claim names a mapping may fill, from the upstream's ID token or userinfo response.
MAPPABLE_CLAIMS = frozenset(
    {"sub", "email", "email_verified", "name", "given_name", "family_name", "phone_number", "amr", "acr"}
)
OIDC_DEFAULT_MAPPING: Mapping[str, str] = MappingProxyType({
    "sub": "sub", "email": "email", "email_verified": "email_verified", "name": "name",
    "given_name": "given_name", "family_name": "family_name", "amr": "amr", "acr": "acr",
})
GOOGLE_DOMAINS = ("gmail.com", "googlemail.com")


@dataclass(frozen=True)
class Preset:
    type: str
    protocol: str  # "oidc" | "oauth2"
    routing: Routing
    default_name: str | None = None
    issuer: str | None = None  # fixed issuer / discovery base; None = the admin supplies it
    identity_issuer: str | None = None  # issuer written to bound identities; None = the provider's issuer
    scopes: tuple[str, ...] = ("openid", "email", "profile")
    claim_mapping: Mapping[str, str] = field(default_factory=lambda: OIDC_DEFAULT_MAPPING)
    authorization_endpoint: str | None = None
    token_endpoint: str | None = None
    userinfo_endpoint: str | None = None
    fixed_domains: tuple[str, ...] = ()
    singleton: bool = False  # at most one per tenant

    @property
    def accepts_domains(self) -> bool:
        return self.routing is Routing.DOMAIN

    @property
    def used_for_redemption(self) -> bool:
        return self.routing is not Routing.SIGN_UP_ONLY


PRESETS: Mapping[str, Preset] = MappingProxyType({
    "oidc": Preset(type="oidc", protocol="oidc", routing=Routing.DOMAIN),
    "oauth2": Preset(
        type="oauth2", protocol="oauth2", routing=Routing.DOMAIN, scopes=("email", "profile"),
        claim_mapping=MappingProxyType({"sub": "sub", "email": "email", "email_verified": "email_verified",
                                        "name": "name"}),
    ),
    "google": Preset(
        type="google", protocol="oidc", routing=Routing.SOCIAL, default_name="Google", singleton=True,
        issuer="https://accounts.google.com", identity_issuer="google.com", fixed_domains=GOOGLE_DOMAINS,
    ),
    "microsoft": Preset(
        type="microsoft", protocol="oidc", routing=Routing.SOCIAL, default_name="Microsoft", singleton=True,
        # ``common`` serves work and personal accounts; its ID tokens carry the account's own tenant issuer
        # (https://login.microsoftonline.com/{tid}/v2.0), which the upstream client must accept.
        issuer="https://login.microsoftonline.com/common/v2.0", identity_issuer="MicrosoftAccount",
    ),
    "facebook": Preset(
        type="facebook", protocol="oauth2", routing=Routing.SIGN_UP_ONLY, default_name="Facebook", singleton=True,
        identity_issuer="facebook.com", scopes=("email", "public_profile"),
        authorization_endpoint="https://www.facebook.com/v19.0/dialog/oauth",
        token_endpoint="https://graph.facebook.com/v19.0/oauth/access_token",
        userinfo_endpoint="https://graph.facebook.com/v19.0/me?fields=id,name,email,first_name,last_name",
        claim_mapping=MappingProxyType({"sub": "id", "email": "email", "name": "name", "given_name": "first_name",
                                        "family_name": "last_name"}),
    ),
})
