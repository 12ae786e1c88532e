"""The pure decision whether an authorization request needs a (new) sign-in, as a table."""

from __future__ import annotations

import pytest

from idp.oidc.prompt import decide_authentication, parse_max_age

NOW = 1_000_000


@pytest.mark.parametrize(
    ("prompts", "max_age", "auth_time", "requested_at", "hint", "expected"),
    [
        (set(), None, None, None, None, True),  # no session
        (set(), None, NOW - 5000, None, None, False),  # any session will do
        ({"none"}, None, NOW - 5000, None, None, False),
        ({"login"}, None, NOW - 10, None, None, True),  # prompt=login: always a new sign-in ...
        ({"login"}, None, NOW - 10, NOW - 20, None, False),  # ... once: signed in after the request began
        ({"select_account"}, None, None, None, None, True),  # select_account without a session: a sign-in
        ({"select_account"}, None, NOW - 10, None, None, False),  # with one: the chooser (below), no new sign-in
        ({"select_account", "login"}, None, NOW - 10, None, None, True),  # login wins
        ({"select_account"}, 60, NOW - 61, None, None, True),  # so does an exceeded max_age
        (set(), 60, NOW - 61, None, None, True),  # max_age exceeded
        (set(), 60, NOW - 60, None, None, False),  # exactly max_age is fine
        (set(), 0, NOW - 1, NOW - 5, None, False),  # max_age=0 satisfied by the sign-in this request caused
        (set(), None, NOW - 10, None, "someone-else", True),  # id_token_hint of another user
        (set(), None, NOW - 10, None, "me", False),
    ],
)
def test_decide_authentication(prompts, max_age, auth_time, requested_at, hint, expected) -> None:  # type: ignore[no-untyped-def]
    decision = decide_authentication(prompts=prompts, max_age=max_age, auth_time=auth_time,
                                     requested_at=requested_at, now=NOW, hinted_subject=hint, session_subject="me")
    assert decision.login_required is expected
    assert decision.reason


@pytest.mark.parametrize(
    ("prompts", "auth_time", "requested_at", "chosen", "expected"),
    [
        ({"select_account"}, NOW - 10, None, False, True),  # a session: ask which account
        ({"select_account"}, NOW - 10, None, True, False),  # the user chose for this request
        ({"select_account"}, NOW - 10, NOW - 20, False, False),  # signed in for this request ("another account")
        ({"select_account"}, None, None, False, False),  # no session: the sign-in page, not the chooser
        ({"login"}, NOW - 10, None, False, False),
        (set(), NOW - 10, None, False, False),
    ],
)
def test_select_account_shows_the_chooser_only_with_a_session(prompts, auth_time, requested_at, chosen,  # type: ignore[no-untyped-def]
                                                             expected) -> None:
    decision = decide_authentication(prompts=prompts, max_age=None, auth_time=auth_time, requested_at=requested_at,
                                     now=NOW, account_chosen=chosen)
    assert decision.choose_account is expected


@pytest.mark.parametrize(("raw", "value"), [(None, None), ("", None), ("0", 0), ("3600", 3600)])
def test_parse_max_age(raw, value) -> None:  # type: ignore[no-untyped-def]
    assert parse_max_age(raw) == value


@pytest.mark.parametrize("raw", ["-1", "1.5", "abc", "1e3"])
def test_parse_max_age_refuses_non_integers(raw) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        parse_max_age(raw)
