"""Which user claims each scope releases (OIDC Core §5.4), and how scopes are described on the consent page."""

from __future__ import annotations

from typing import Any

from idp.i18n import N_
from idp.models import User

OIDC_SCOPES = ("openid", "profile", "email", "offline_access")
SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "openid": ("sub",),
    "profile": ("name", "given_name", "family_name", "preferred_username", "updated_at"),
    "email": ("email", "email_verified"),
}
SCOPE_DESCRIPTIONS: dict[str, str] = {
    "openid": N_("Sign you in"),
    "profile": N_("Read your name and user name"),
    "email": N_("Read your email address"),
    "offline_access": N_("Keep access while you are away"),
    "scim.read": N_("Read the directory"),
    "scim.write": N_("Change the directory"),
}
CLAIMS_SUPPORTED = ("sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "at_hash", "sid",
                    "tid", *SCOPE_CLAIMS["profile"], *SCOPE_CLAIMS["email"])


def user_claims(user: User, scopes: set[str] | list[str] | str) -> dict[str, Any]:
    """``sub`` (the user's id: stable per user and tenant) plus the claims the scopes release."""
    wanted = set(scopes.split() if isinstance(scopes, str) else scopes)
    claims: dict[str, Any] = {"sub": user.id}
    if "profile" in wanted:
        optional = {
            "name": user.display_name,
            "given_name": user.given_name,
            "family_name": user.surname,
            "preferred_username": user.user_principal_name,
        }
        claims.update({k: v for k, v in optional.items() if v})
        claims["updated_at"] = int(user.modified_at.timestamp())
    if "email" in wanted and (user.mail or "@" in user.user_principal_name):
        claims["email"] = user.mail or user.user_principal_name
        claims["email_verified"] = not user.is_guest or user.external_user_state == "Accepted"
    return claims


def describe_scopes(scopes: list[str]) -> list[tuple[str, str, tuple[str, ...]]]:
    """(scope, what it allows, claims it shares) for the consent page."""
    return [(s, SCOPE_DESCRIPTIONS.get(s, s), SCOPE_CLAIMS.get(s, ())) for s in scopes]
