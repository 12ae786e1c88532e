"""Authentication context class (``acr``, OIDC Core §2) from what a sign-in achieved, and whether an
authorization request's ``acr_values`` (§3.1.2.1) asks for more.

Two levels, like Keycloak's level-of-authentication: ``"1"`` a single factor, ``"2"`` several: a second factor
completed here, or an upstream's MFA that inbound trust accepts (``mfa_status``, spec decision 9). An upstream's
``mfa`` in ``amr`` alone is not enough: ``amr`` records what the upstream said, ``acr`` what Portico vouches for.
``acr_values`` is a voluntary request: values in order of preference, unknown values ignored; the first known
value is the level the relying party prefers. Pure: no Flask, no database.
"""

from __future__ import annotations

SINGLE_FACTOR = "1"
MULTI_FACTOR = "2"
SUPPORTED_ACR_VALUES = (SINGLE_FACTOR, MULTI_FACTOR)


def acr_for(mfa_satisfied: bool) -> str:
    """The level a sign-in reached."""
    return MULTI_FACTOR if mfa_satisfied else SINGLE_FACTOR


def preferred_acr(acr_values: str | None) -> str | None:
    """The first known value of a space-separated ``acr_values`` (``None`` when it names none we know)."""
    return next((value for value in (acr_values or "").split() if value in SUPPORTED_ACR_VALUES), None)


def asks_for_mfa(acr_values: str | None) -> bool:
    """Does the request prefer the multi-factor level?"""
    return preferred_acr(acr_values) == MULTI_FACTOR


def needs_step_up(acr_values: str | None, acr: str) -> bool:
    """Does the request prefer multi-factor while this sign-in (its ``acr``) reached only one factor?"""
    return asks_for_mfa(acr_values) and acr != MULTI_FACTOR
