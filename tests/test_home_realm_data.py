"""Home-realm discovery fed from the database: providers, bound identities, members of other tenants."""

from __future__ import annotations

from idp.db import Database
from idp.directory import users
from idp.federation import discovery
from idp.federation import service as federation
from idp.federation.service import ProviderInput
from idp.models import Tenant
from idp.policy.home_realm import HomeRealmInput, Reason, RouteKind, choose_home_realm

SECRET = "test-secret-key-0123456789abcdef"


def issuer_for(slug: str) -> str:
    return f"http://127.0.0.1:5000/{slug}"


def test_routes_from_stored_providers_identities_and_other_tenants(
    database: Database, contoso: Tenant, fabrikam: Tenant
) -> None:
    with database.transaction() as db:
        sso = federation.add_provider(db, contoso, ProviderInput(
            type="oidc", name="Partner SSO", issuer="https://sso.partner.com", client_id="c", client_secret="s",
            domains=("partner.com",)), secret_key=SECRET)
        google = federation.add_provider(db, contoso, ProviderInput(type="google", client_id="g", client_secret="s"),
                                         secret_key=SECRET)
        users.create_member(db, fabrikam, "carl@fabrikam.com", password="long-enough-pw")
        users.create_guest(db, fabrikam, "guest@elsewhere.org")  # a guest elsewhere is not a home tenant
        otp_guest = users.create_guest(db, contoso, "ann@gmail.com")
        users.add_identity(db, otp_guest, sign_in_type="federated", issuer="mail",
                           issuer_assigned_id="ann@gmail.com")

    def route(email: str) -> tuple[RouteKind, Reason, str | None]:
        with database.sessionmaker() as db:
            guest = next(iter(users.find_users_by_email(db, contoso, email)), None)
            data = HomeRealmInput(
                email=email,
                upstreams=discovery.upstreams_for(db, contoso),
                bound_identities=discovery.bound_identities_of(guest),
                home_tenant=discovery.home_tenant_for(db, contoso, email, issuer_for=issuer_for),
            )
        decided = choose_home_realm(data)
        return decided.kind, decided.reason, decided.provider_id or decided.home_issuer

    assert route("bob@partner.com") == (RouteKind.UPSTREAM, Reason.ENTERPRISE_DOMAIN, sso.id)
    assert route("zed@gmail.com") == (RouteKind.UPSTREAM, Reason.GOOGLE_DOMAIN, google.id)
    assert route("ann@gmail.com") == (RouteKind.EMAIL_OTP, Reason.BOUND_IDENTITY, None)
    assert route("Carl@Fabrikam.com") == (RouteKind.HOME_TENANT, Reason.HOME_TENANT_MEMBER, issuer_for("fabrikam"))
    assert route("guest@elsewhere.org") == (RouteKind.EMAIL_OTP, Reason.FALLBACK_EMAIL_OTP, None)
    with database.sessionmaker() as db:  # a tenant's own member is not sent to a "home tenant"
        assert discovery.home_tenant_for(db, fabrikam, "carl@fabrikam.com", issuer_for=issuer_for) is None
