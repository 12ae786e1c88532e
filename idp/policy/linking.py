"""Which user an upstream sign-in belongs to (spec decision 6, b2b-collaboration.md §3.3).

An upstream identity ``{issuer, sub}`` already bound to a user always means that user. Otherwise it may be
linked to an existing user found by email **only** when the upstream marked that email verified, the match is
unambiguous, and the user is not already bound to another identity provider (redemption is sticky, §2.3).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class LinkOutcome(StrEnum):
    BOUND = "bound"  # the identity is already bound to this user
    LINK = "link"  # bind the identity to this existing user now
    NO_MATCH = "noMatch"  # nobody with this address: not invited (or self-service sign-up)
    REFUSE_UNVERIFIED = "refuseUnverifiedEmail"
    REFUSE_AMBIGUOUS = "refuseAmbiguous"
    REFUSE_BOUND_ELSEWHERE = "refuseBoundElsewhere"


@dataclass(frozen=True)
class LinkCandidate:
    """A user of the tenant known by the upstream's email, with the issuers of its federated identities."""

    user_id: str
    bound_issuers: tuple[str, ...] = ()


@dataclass(frozen=True)
class LinkDecision:
    outcome: LinkOutcome
    reason: str
    user_id: str | None = None

    @property
    def allowed(self) -> bool:
        return self.outcome in (LinkOutcome.BOUND, LinkOutcome.LINK)


def email_is_verified(value: object) -> bool:
    """Only an explicit true counts (a boolean, or the string "true" some providers send); absent is false."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def decide_link(
    *,
    issuer: str,
    bound_user_id: str | None,
    email: str | None,
    email_verified: object,
    candidates: tuple[LinkCandidate, ...],
) -> LinkDecision:
    if bound_user_id is not None:
        return LinkDecision(LinkOutcome.BOUND, f"The identity from {issuer} is already bound to this user.",
                            bound_user_id)
    if not email or not candidates:
        return LinkDecision(LinkOutcome.NO_MATCH, "No user of this organization has this email address.")
    if not email_is_verified(email_verified):
        return LinkDecision(
            LinkOutcome.REFUSE_UNVERIFIED,
            f"{issuer} did not mark {email} as verified, so it cannot be linked to an existing account.",
        )
    if len(candidates) > 1:
        return LinkDecision(LinkOutcome.REFUSE_AMBIGUOUS,
                            f"More than one user of this organization has the address {email}.")
    candidate = candidates[0]
    if candidate.bound_issuers:  # bound to another identity (another provider, or another account there)
        return LinkDecision(
            LinkOutcome.REFUSE_BOUND_ELSEWHERE,
            f"{email} already signs in with {candidate.bound_issuers[0]}; an administrator must reset "
            "redemption to change it.",
            candidate.user_id,
        )
    return LinkDecision(LinkOutcome.LINK, f"{issuer} verified {email}, which matches this user.", candidate.user_id)
