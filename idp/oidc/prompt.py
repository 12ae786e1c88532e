"""Pure decision: must the user (re-)authenticate for this authorization request? (OIDC Core §3.1.2.1)"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AuthenticationDecision:
    login_required: bool
    reason: str
    choose_account: bool = False  # prompt=select_account with a session: show the account chooser first


def parse_max_age(raw: str | None) -> int | None:
    """``max_age`` in seconds; raises ValueError when it is not a non-negative integer."""
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise ValueError("max_age must be a non-negative integer")
    return int(raw)


def decide_authentication(
    *, prompts: set[str], max_age: int | None, auth_time: int | None, requested_at: int | None, now: int,
    hinted_subject: str | None = None, session_subject: str | None = None, account_chosen: bool = False,
) -> AuthenticationDecision:
    """``requested_at`` is when this request first sent the user to sign in; a session authenticated at or
    after it satisfies ``prompt=login`` / ``select_account`` without looping. ``hinted_subject`` is the
    ``sub`` of a valid ``id_token_hint``: a session of someone else does not satisfy the request.

    ``prompt=select_account`` with a session asks the user to choose (the account chooser) unless they already
    chose for this request (``account_chosen``) or signed in for it; without a session it is a normal sign-in.
    ``prompt=login`` and an exceeded ``max_age`` win over the chooser (the user must sign in anyway)."""
    if auth_time is None:
        return AuthenticationDecision(True, "no signed-in session")
    if hinted_subject is not None and hinted_subject != session_subject:
        return AuthenticationDecision(True, "id_token_hint names another user than the signed-in one")
    fresh = requested_at is not None and auth_time >= requested_at
    if "login" in prompts and not fresh:
        return AuthenticationDecision(True, "prompt asks for a new sign-in")
    if max_age is not None and now - auth_time > max_age and not fresh:
        return AuthenticationDecision(True, f"signed in more than max_age={max_age} seconds ago")
    if "select_account" in prompts and not fresh and not account_chosen:
        return AuthenticationDecision(False, "prompt asks the user to choose an account", choose_account=True)
    return AuthenticationDecision(False, "the signed-in session satisfies the request")
