"""Home-realm discovery (b2b-collaboration.md §2) and the verified-email linking rule, as tables."""

from __future__ import annotations

import pytest

from idp.policy.home_realm import (
    BoundIdentity,
    HomeRealmInput,
    HomeTenant,
    Reason,
    RouteKind,
    Upstream,
    choose_home_realm,
)
from idp.policy.linking import LinkCandidate, LinkOutcome, decide_link, email_is_verified

PARTNER_SSO = Upstream(id="idp-sso", name="Partner SSO", type="oidc", identity_issuer="https://sso.partner.com",
                       domains=("partner.com", "eu.partner.com"))
LEGACY = Upstream(id="idp-legacy", name="Legacy", type="oauth2", identity_issuer="https://legacy.example",
                  domains=("legacy.example",))
GOOGLE = Upstream(id="idp-google", name="Google", type="google", identity_issuer="google.com")
FACEBOOK = Upstream(id="idp-fb", name="Facebook", type="facebook", identity_issuer="facebook.com")
FABRIKAM = HomeTenant(issuer="http://127.0.0.1:5000/fabrikam", name="Fabrikam")
ALL = (PARTNER_SSO, LEGACY, GOOGLE, FACEBOOK)
MAIL = BoundIdentity("mail", "ann@gmail.com")


# (case, input, expected kind, reason, provider_id, home_issuer, sticky)
CASES = [
    ("bound OTP identity wins over Google (sticky)",
     HomeRealmInput("ann@gmail.com", ALL, bound_identities=(MAIL,)),
     RouteKind.EMAIL_OTP, Reason.BOUND_IDENTITY, None, None, True),
    ("bound Google identity wins over a later enterprise federation of the domain",
     HomeRealmInput("bob@partner.com", ALL, bound_identities=(BoundIdentity("google.com", "123"),)),
     RouteKind.UPSTREAM, Reason.BOUND_IDENTITY, "idp-google", None, True),
    ("bound enterprise identity wins although the address is now a member of another tenant",
     HomeRealmInput("bob@partner.com", ALL, home_tenant=FABRIKAM,
                    bound_identities=(BoundIdentity("https://sso.partner.com", "s1"),)),
     RouteKind.UPSTREAM, Reason.BOUND_IDENTITY, "idp-sso", None, True),
    ("bound home-tenant identity goes back to that issuer",
     HomeRealmInput("carl@fabrikam.com", ALL, trusted_home_issuers=(FABRIKAM.issuer,),
                    bound_identities=(BoundIdentity(FABRIKAM.issuer, "u1"),)),
     RouteKind.HOME_TENANT, Reason.BOUND_IDENTITY, None, FABRIKAM.issuer, True),
    ("bound Facebook (sign-up) identity keeps Facebook",
     HomeRealmInput("dan@outlook.com", ALL, bound_identities=(BoundIdentity("facebook.com", "fb1"),)),
     RouteKind.UPSTREAM, Reason.BOUND_IDENTITY, "idp-fb", None, True),
    ("bound provider deleted: blocked until reset",
     HomeRealmInput("ann@gmail.com", (PARTNER_SSO,), bound_identities=(BoundIdentity("google.com", "123"),)),
     RouteKind.BLOCKED, Reason.BOUND_PROVIDER_REMOVED, None, None, False),
    ("OTP guest after OTP was turned off: blocked, told why",
     HomeRealmInput("ann@gmail.com", ALL, email_otp_for_guests=False, bound_identities=(MAIL,)),
     RouteKind.BLOCKED, Reason.BOUND_OTP_DISABLED, None, None, False),
    ("second bound identity still works when the first provider is gone",
     HomeRealmInput("ann@gmail.com", (GOOGLE,), bound_identities=(BoundIdentity("https://gone.example", "x"),
                                                                   BoundIdentity("google.com", "1"))),
     RouteKind.UPSTREAM, Reason.BOUND_IDENTITY, "idp-google", None, True),
    ("member of another tenant of this deployment signs in there",
     HomeRealmInput("carl@fabrikam.com", ALL, home_tenant=FABRIKAM),
     RouteKind.HOME_TENANT, Reason.HOME_TENANT_MEMBER, None, FABRIKAM.issuer, False),
    ("default order: another tenant's member wins over an enterprise IdP for the domain",
     HomeRealmInput("eve@partner.com", ALL, home_tenant=FABRIKAM),
     RouteKind.HOME_TENANT, Reason.HOME_TENANT_MEMBER, None, FABRIKAM.issuer, False),
    ("externalFederation moved above azureActiveDirectory: the enterprise IdP wins",
     HomeRealmInput("eve@partner.com", ALL, home_tenant=FABRIKAM,
                    primary_order=("externalFederation", "azureActiveDirectory", "socialIdentityProviders")),
     RouteKind.UPSTREAM, Reason.ENTERPRISE_DOMAIN, "idp-sso", None, False),
    ("enterprise domain (exact match, case-insensitive)",
     HomeRealmInput("Frank@EU.Partner.com", ALL),
     RouteKind.UPSTREAM, Reason.ENTERPRISE_DOMAIN, "idp-sso", None, False),
    ("oauth2 enterprise domain",
     HomeRealmInput("gail@legacy.example", ALL),
     RouteKind.UPSTREAM, Reason.ENTERPRISE_DOMAIN, "idp-legacy", None, False),
    ("a subdomain not listed is not federated: fallback OTP",
     HomeRealmInput("hal@us.partner.com", ALL),
     RouteKind.EMAIL_OTP, Reason.FALLBACK_EMAIL_OTP, None, None, False),
    ("Google for gmail.com",
     HomeRealmInput("ann@gmail.com", ALL),
     RouteKind.UPSTREAM, Reason.GOOGLE_DOMAIN, "idp-google", None, False),
    ("Google for googlemail.com",
     HomeRealmInput("ann@googlemail.com", ALL),
     RouteKind.UPSTREAM, Reason.GOOGLE_DOMAIN, "idp-google", None, False),
    ("gmail.com without Google configured: fallback OTP",
     HomeRealmInput("ann@gmail.com", (PARTNER_SSO,)),
     RouteKind.EMAIL_OTP, Reason.FALLBACK_EMAIL_OTP, None, None, False),
    ("socialIdentityProviders removed from the order: no Google",
     HomeRealmInput("ann@gmail.com", ALL, primary_order=("azureActiveDirectory", "externalFederation")),
     RouteKind.EMAIL_OTP, Reason.FALLBACK_EMAIL_OTP, None, None, False),
    ("empty primary order: straight to the fallback even for a member elsewhere",
     HomeRealmInput("carl@fabrikam.com", ALL, home_tenant=FABRIKAM, primary_order=()),
     RouteKind.EMAIL_OTP, Reason.FALLBACK_EMAIL_OTP, None, None, False),
    ("Facebook is never used for redemption routing",
     HomeRealmInput("ivy@facebook.com", (FACEBOOK,)),
     RouteKind.EMAIL_OTP, Reason.FALLBACK_EMAIL_OTP, None, None, False),
    ("fallback emailOneTimePasscode",
     HomeRealmInput("jo@elsewhere.org", ALL, fallback="emailOneTimePasscode"),
     RouteKind.EMAIL_OTP, Reason.FALLBACK_EMAIL_OTP, None, None, False),
    ("fallback none: blocked with what to configure",
     HomeRealmInput("jo@elsewhere.org", ALL, fallback="none"),
     RouteKind.BLOCKED, Reason.FALLBACK_NONE, None, None, False),
    ("OTP turned off and nothing else matches: blocked",
     HomeRealmInput("jo@elsewhere.org", ALL, email_otp_for_guests=False),
     RouteKind.BLOCKED, Reason.FALLBACK_OTP_DISABLED, None, None, False),
    ("OTP turned off does not affect an enterprise route",
     HomeRealmInput("bob@partner.com", ALL, email_otp_for_guests=False),
     RouteKind.UPSTREAM, Reason.ENTERPRISE_DOMAIN, "idp-sso", None, False),
]


@pytest.mark.parametrize(("case", "data", "kind", "reason", "provider_id", "home_issuer", "sticky"), CASES,
                         ids=[c[0] for c in CASES])
def test_home_realm_table(case: str, data: HomeRealmInput, kind: RouteKind, reason: Reason,
                          provider_id: str | None, home_issuer: str | None, sticky: bool) -> None:
    route = choose_home_realm(data)
    assert (route.kind, route.reason, route.provider_id, route.home_issuer, route.sticky) == (
        kind, reason, provider_id, home_issuer, sticky)
    assert route.reasons and route.message == route.reasons[-1]


def test_fallback_none_names_what_the_administrator_must_configure() -> None:
    route = choose_home_realm(HomeRealmInput("jo@elsewhere.org", (GOOGLE,), fallback="none"))
    assert "An administrator must configure an identity provider for elsewhere.org" in route.message
    assert "email one-time passcode" in route.message
    assert route.reasons[:-1] == ("No other organization has a member with this address.",
                                  "No enterprise identity provider lists elsewhere.org.",
                                  "elsewhere.org is not a Google address.")


def test_blocked_otp_guest_is_told_why() -> None:
    route = choose_home_realm(HomeRealmInput("ann@gmail.com", ALL, email_otp_for_guests=False,
                                             bound_identities=(MAIL,)))
    assert "turned off" in route.message and "reset" in route.message


def test_removed_provider_is_named() -> None:
    route = choose_home_realm(HomeRealmInput("a@b.com", (), bound_identities=(BoundIdentity("google.com", "1"),)))
    assert "google.com" in route.message and "no longer configured" in route.message


@pytest.mark.parametrize(
    "data",
    [
        HomeRealmInput("no-at-sign"),
        HomeRealmInput("a@b.com", primary_order=("microsoftAccount",)),
        HomeRealmInput("a@b.com", fallback="microsoftAccount"),
    ],
)
def test_malformed_input_is_a_value_error(data: HomeRealmInput) -> None:
    with pytest.raises(ValueError):
        choose_home_realm(data)


# -- linking (decision 6) ------------------------------------------------------------------------------------
LINK_CASES = [
    ("already bound identity wins regardless of email", dict(bound_user_id="u1", email=None, email_verified=None,
     candidates=()), LinkOutcome.BOUND, "u1"),
    ("verified email, one unbound invited guest: link", dict(bound_user_id=None, email="a@p.com",
     email_verified=True, candidates=(LinkCandidate("u2"),)), LinkOutcome.LINK, "u2"),
    ('string "true" counts as verified', dict(bound_user_id=None, email="a@p.com", email_verified="True",
     candidates=(LinkCandidate("u2"),)), LinkOutcome.LINK, "u2"),
    ("email_verified false: refused", dict(bound_user_id=None, email="a@p.com", email_verified=False,
     candidates=(LinkCandidate("u2"),)), LinkOutcome.REFUSE_UNVERIFIED, None),
    ("email_verified absent: refused", dict(bound_user_id=None, email="a@p.com", email_verified=None,
     candidates=(LinkCandidate("u2"),)), LinkOutcome.REFUSE_UNVERIFIED, None),
    ('email_verified "1" or "yes" is not an explicit true', dict(bound_user_id=None, email="a@p.com",
     email_verified="yes", candidates=(LinkCandidate("u2"),)), LinkOutcome.REFUSE_UNVERIFIED, None),
    ("no user with that email", dict(bound_user_id=None, email="a@p.com", email_verified=True, candidates=()),
     LinkOutcome.NO_MATCH, None),
    ("two users with that email", dict(bound_user_id=None, email="a@p.com", email_verified=True,
     candidates=(LinkCandidate("u2"), LinkCandidate("u3"))), LinkOutcome.REFUSE_AMBIGUOUS, None),
    ("user already bound to another provider (sticky)", dict(bound_user_id=None, email="a@p.com",
     email_verified=True, candidates=(LinkCandidate("u2", ("mail",)),)), LinkOutcome.REFUSE_BOUND_ELSEWHERE, "u2"),
    ("user bound to another account at the same provider", dict(bound_user_id=None, email="a@p.com",
     email_verified=True, candidates=(LinkCandidate("u2", ("https://idp.example",)),)),
     LinkOutcome.REFUSE_BOUND_ELSEWHERE, "u2"),
]


@pytest.mark.parametrize(("case", "kwargs", "outcome", "user_id"), LINK_CASES, ids=[c[0] for c in LINK_CASES])
def test_linking_table(case: str, kwargs: dict[str, object], outcome: LinkOutcome, user_id: str | None) -> None:
    decision = decide_link(issuer="https://idp.example", **kwargs)  # type: ignore[arg-type]
    assert (decision.outcome, decision.user_id) == (outcome, user_id)
    assert decision.allowed is (outcome in (LinkOutcome.BOUND, LinkOutcome.LINK))
    assert decision.reason


def test_unverified_refusal_says_why() -> None:
    decision = decide_link(issuer="https://idp.example", bound_user_id=None, email="a@p.com", email_verified=False,
                           candidates=(LinkCandidate("u2"),))
    assert "did not mark a@p.com as verified" in decision.reason


@pytest.mark.parametrize(("value", "verified"), [(True, True), ("true", True), (" TRUE ", True), (False, False),
                                                  (None, False), (1, False), ("1", False), ("false", False)])
def test_email_is_verified_only_on_explicit_true(value: object, verified: bool) -> None:
    assert email_is_verified(value) is verified
