"""What a finished sign-in proves: the ``amr`` to record and whether an MFA requirement is met (decision 9).

RFC 8176 values: ``otp`` for an email code or a TOTP, ``pwd`` for a member's password, ``mfa`` when a second
factor was satisfied. A federated sign-in records the upstream's ``amr``; an upstream ``mfa`` satisfies a
conditional-access MFA requirement only when the partner's inbound trust has ``isMfaAccepted``; otherwise
Portico asks for its own second factor.
"""

from __future__ import annotations

from dataclasses import dataclass

METHODS = ("emailOtp", "password", "federated")
FIRST_FACTOR_AMR = {"emailOtp": "otp", "password": "pwd"}


@dataclass(frozen=True)
class SignInFacts:
    method: str  # emailOtp | password | federated
    upstream_amr: tuple[str, ...] = ()
    mfa_accepted_from_upstream: bool = False  # the partner's inbound trust isMfaAccepted
    second_factor_amr: str | None = None  # Portico's own second factor, once done ("otp" for TOTP)
    mfa_required: bool = False  # conditional access asks for MFA


@dataclass(frozen=True)
class SignInAssurance:
    amr: tuple[str, ...]
    mfa_satisfied: bool
    needs_second_factor: bool
    reasons: tuple[str, ...]


def assess_sign_in(facts: SignInFacts) -> SignInAssurance:
    if facts.method not in METHODS:
        raise ValueError(f"unknown sign-in method {facts.method!r}")
    reasons: list[str] = []
    if facts.method == "federated":
        amr = list(dict.fromkeys(facts.upstream_amr))
        reasons.append("The upstream's amr is recorded as it sent it.")
    else:
        amr = [FIRST_FACTOR_AMR[facts.method]]
    upstream_mfa = facts.method == "federated" and "mfa" in facts.upstream_amr
    trusted_upstream_mfa = upstream_mfa and facts.mfa_accepted_from_upstream
    if upstream_mfa and not facts.mfa_accepted_from_upstream:
        reasons.append("The upstream reported MFA, but inbound trust does not accept MFA from this organization.")
    elif trusted_upstream_mfa:
        reasons.append("The upstream's MFA is accepted by inbound trust.")
    if facts.second_factor_amr:
        amr = [a for a in amr if a != "mfa"] + [facts.second_factor_amr, "mfa"]
        amr = list(dict.fromkeys(amr))
        reasons.append("Portico's own second factor was completed.")
    mfa_satisfied = bool(facts.second_factor_amr) or trusted_upstream_mfa
    needs = facts.mfa_required and not mfa_satisfied
    if needs:
        reasons.append("Conditional access requires MFA: Portico asks for its own second factor.")
    return SignInAssurance(amr=tuple(amr), mfa_satisfied=mfa_satisfied, needs_second_factor=needs,
                           reasons=tuple(reasons))
