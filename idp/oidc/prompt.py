"""Pure decision: must the user (re-)authenticate for this authorization request? (OIDC Core §3.1.2.1)"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AuthenticationDecision:
    login_required: bool
    reason: str


def parse_max_age(raw: str | None) -> int | None:
    """``max_age`` in seconds; raises ValueError when it is not a non-negative integer."""
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise ValueError("max_age must be a non-negative integer")
    return int(raw)


def decide_authentication(
    *, prompts: set[str], max_age: int | None, auth_time: int | None, requested_at: int | None, now: int,
    hinted_subject: str | None = None, session_subject: str | None = None,
) -> AuthenticationDecision:
    """``requested_at`` is when this request first sent the user to sign in; a session authenticated at or
    after it satisfies ``prompt=login`` / ``select_account`` without looping. ``hinted_subject`` is the
    ``sub`` of a valid ``id_token_hint``: a session of someone else does not satisfy the request."""
    if auth_time is None:
        return AuthenticationDecision(True, "no signed-in session")
    if hinted_subject is not None and hinted_subject != session_subject:
        return AuthenticationDecision(True, "id_token_hint names another user than the signed-in one")
    fresh = requested_at is not None and auth_time >= requested_at
    if prompts & {"login", "select_account"} and not fresh:
        return AuthenticationDecision(True, "prompt asks for a new sign-in")
    if max_age is not None and now - auth_time > max_age and not fresh:
        return AuthenticationDecision(True, f"signed in more than max_age={max_age} seconds ago")
    return AuthenticationDecision(False, "the signed-in session satisfies the request")
