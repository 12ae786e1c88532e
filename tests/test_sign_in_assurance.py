"""Decision 9: amr per RFC 8176, and when an upstream's MFA counts."""

from __future__ import annotations

import pytest

from idp.policy.authentication import SignInFacts, assess_sign_in

CASES = [
    ("email OTP", SignInFacts("emailOtp"), ("otp",), False, False),
    ("member password", SignInFacts("password"), ("pwd",), False, False),
    ("email OTP, MFA required, none done yet", SignInFacts("emailOtp", mfa_required=True), ("otp",), False, True),
    ("email OTP then TOTP", SignInFacts("emailOtp", second_factor_amr="otp", mfa_required=True),
     ("otp", "mfa"), True, False),
    ("password then TOTP", SignInFacts("password", second_factor_amr="otp", mfa_required=True),
     ("pwd", "otp", "mfa"), True, False),
    ("federated: upstream amr recorded", SignInFacts("federated", upstream_amr=("pwd",)), ("pwd",), False, False),
    ("upstream mfa trusted satisfies CA",
     SignInFacts("federated", upstream_amr=("pwd", "mfa"), mfa_accepted_from_upstream=True, mfa_required=True),
     ("pwd", "mfa"), True, False),
    ("upstream mfa not trusted: Portico asks",
     SignInFacts("federated", upstream_amr=("pwd", "mfa"), mfa_required=True), ("pwd", "mfa"), False, True),
    ("untrusted upstream mfa, then Portico's TOTP",
     SignInFacts("federated", upstream_amr=("pwd", "mfa"), second_factor_amr="otp", mfa_required=True),
     ("pwd", "otp", "mfa"), True, False),
    ("trust alone without upstream mfa is not MFA",
     SignInFacts("federated", upstream_amr=("pwd",), mfa_accepted_from_upstream=True, mfa_required=True),
     ("pwd",), False, True),
]


@pytest.mark.parametrize(("case", "facts", "amr", "satisfied", "needs"), CASES, ids=[c[0] for c in CASES])
def test_assurance_table(case: str, facts: SignInFacts, amr: tuple[str, ...], satisfied: bool, needs: bool) -> None:
    result = assess_sign_in(facts)
    assert (result.amr, result.mfa_satisfied, result.needs_second_factor) == (amr, satisfied, needs)


def test_untrusted_upstream_mfa_says_why() -> None:
    result = assess_sign_in(SignInFacts("federated", upstream_amr=("mfa",), mfa_required=True))
    assert any("inbound trust does not accept" in r for r in result.reasons)


def test_unknown_method() -> None:
    with pytest.raises(ValueError):
        assess_sign_in(SignInFacts("magic"))
