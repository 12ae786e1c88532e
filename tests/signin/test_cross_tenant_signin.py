"""Cross-tenant sign-in inside one deployment: a member of Fabrikam invited into Contoso signs in at Fabrikam
(on Fabrikam's own, Fabrikam-branded page) through ordinary OIDC federation to Fabrikam's issuer, over real HTTP."""

from __future__ import annotations

from urllib.parse import urljoin

import pytest
import requests
from journey_support import MFA_FOR_GUESTS, REDIRECT, csrf, invite, path_of
from oidc_support import LiveServer
from sqlalchemy import select

from idp import policy_store
from idp.db import Database
from idp.directory import applications, users
from idp.invitations import automatic
from idp.models import IdentityProvider, OutboxMessage, Tenant, User
from idp.runtime import runtime
from idp.tokens import issue_access_token

PASSWORD = "correct horse battery staple"
JOHN = "john@fabrikam.com"



def follow(browser: requests.Session, url: str, base: str) -> requests.Response:
    """Follow redirects while they stay on the live server (the final redirect target is not fetched)."""
    response = browser.get(url, allow_redirects=False, timeout=10)
    while response.is_redirect and urljoin(url, response.headers["Location"]).startswith(base):
        url = urljoin(url, response.headers["Location"])
        response = browser.get(url, allow_redirects=False, timeout=10)
    return response


def sign_in_at_fabrikam(browser: requests.Session, live: LiveServer, link: str) -> requests.Response:
    page = follow(browser, link, live.base_url)
    assert page.status_code == 200 and "/fabrikam/login" in page.url, page.text
    assert "Sign in to Fabrikam" in page.text  # the home tenant's page, with its name
    request_id = page.url.split("request=")[1]
    response = browser.post(page.url, data={"csrf_token": csrf(page.text), "request_id": request_id,
                                            "email": JOHN, "password": PASSWORD}, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text
    return follow(browser, urljoin(page.url, response.headers["Location"]), live.base_url)


def test_member_of_another_tenant_redeems_by_signing_in_at_home(live: LiveServer, database: Database,
                                                               contoso: Tenant, fabrikam: Tenant) -> None:
    with database.transaction() as s:
        users.create_member(s, fabrikam, JOHN, password=PASSWORD, display_name="John")
    link = invite(database, contoso, JOHN, issuer=live.issuer("contoso"), send=False)
    browser = requests.Session()
    review = sign_in_at_fabrikam(browser, live, link)
    assert review.status_code == 200 and "Review permissions" in review.text, review.text
    accepted = browser.post(review.url, data={"csrf_token": csrf(review.text), "accept": "Accept"},
                            allow_redirects=False, timeout=10)
    assert accepted.headers["Location"] == REDIRECT

    with database.sessionmaker() as s:
        [guest] = users.find_users_by_email(s, contoso, JOHN)
        [member] = users.find_users_by_email(s, fabrikam, JOHN)
        assert guest.external_user_state == "Accepted"
        assert ("federated", live.issuer("fabrikam"), member.id) in {
            (i.sign_in_type, i.issuer, i.issuer_assigned_id) for i in s.get(User, guest.id).identities}
        [client] = [a for a in applications.list_applications(s, fabrikam)
                    if a.display_name == "Portico federation: Contoso"]
        assert client.redirect_uris == [f"{live.issuer('contoso')}/signin/callback"]
        provider = s.query(IdentityProvider).filter_by(tenant_id=contoso.id).one()
        assert provider.issuer == live.issuer("fabrikam") and provider.client_id == client.client_id


def test_home_tenant_outbound_block_ends_on_a_page_naming_the_setting(live: LiveServer, database: Database,
                                                                     contoso: Tenant, fabrikam: Tenant) -> None:
    with database.transaction() as s:
        users.create_member(s, fabrikam, JOHN, password=PASSWORD)
    link = invite(database, contoso, JOHN, issuer=live.issuer("contoso"), send=False)
    with database.transaction() as s:
        policy_store.create_cross_tenant_partner(s, fabrikam, {"tenantId": contoso.id, "b2bCollaborationOutbound": {
            "usersAndGroups": {"accessType": "blocked", "targets": [{"target": "AllUsers", "targetType": "user"}]},
            "applications": {"accessType": "blocked",
                             "targets": [{"target": "AllApplications", "targetType": "application"}]}}},
            roles=None, actor="admin")
    refused = sign_in_at_fabrikam(requests.Session(), live, link)
    assert refused.status_code == 403 and "b2bCollaborationOutbound" in refused.text
    assert path_of(refused.url).startswith("/contoso/signin/callback")


def sign_ins(live: LiveServer, tenant: Tenant) -> list[dict]:
    """``GET {issuer}/api/v1/auditLogs/signIns`` with an ``AuditLog.Read.All`` token of that tenant."""
    issuer = live.issuer(tenant.slug)
    token, _ = issue_access_token(runtime(live.app).keys, issuer=issuer, tenant_id=tenant.id, subject="auditor",
                                  client_id="auditor", audience=issuer, scopes=("AuditLog.Read.All",))
    response = requests.get(f"{issuer}/api/v1/auditLogs/signIns", headers={"Authorization": f"Bearer {token}"},
                            timeout=10)
    assert response.status_code == 200, response.text
    return list(response.json()["value"])


def test_automatic_redemption_skips_review_permissions_and_mails_a_notice(live: LiveServer, database: Database,
                                                                          contoso: Tenant, fabrikam: Tenant) -> None:
    with database.transaction() as s:
        users.create_member(s, fabrikam, JOHN, password=PASSWORD)
        policy_store.create_cross_tenant_partner(s, contoso, {
            "tenantId": fabrikam.id, "automaticUserConsentSettings": {"inboundAllowed": True}}, roles=None,
            actor="admin")
        policy_store.create_cross_tenant_partner(s, fabrikam, {
            "tenantId": contoso.id, "automaticUserConsentSettings": {"outboundAllowed": True}}, roles=None,
            actor="admin")
    link = invite(database, contoso, JOHN, issuer=live.issuer("contoso"), send=False)
    landed = sign_in_at_fabrikam(requests.Session(), live, link)
    assert landed.status_code == 302 and landed.headers["Location"] == REDIRECT  # no "Review permissions"
    with database.sessionmaker() as s:
        [guest] = users.find_users_by_email(s, contoso, JOHN)
        assert guest.external_user_state == "Accepted"
        [notice] = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == automatic.NOTIFICATION_KIND))
        assert notice.to_address == JOHN and "Contoso" in notice.subject
    [entry] = [e for e in sign_ins(live, contoso) if e["userId"] == guest.id]
    assert entry["outcome"] == "success" and entry["homeTenantId"] == fabrikam.id
    assert entry["upstreamIdentityProvider"] == live.issuer("fabrikam") and entry["ipAddress"] == "127.0.0.1"
    assert [e["outcome"] for e in sign_ins(live, fabrikam)] == ["success"]  # John's sign-in at home is logged too


def test_without_fabrikam_outbound_consent_review_permissions_stays(live: LiveServer, database: Database,
                                                                     contoso: Tenant, fabrikam: Tenant) -> None:
    with database.transaction() as s:
        users.create_member(s, fabrikam, JOHN, password=PASSWORD)
        policy_store.create_cross_tenant_partner(s, contoso, {
            "tenantId": fabrikam.id, "automaticUserConsentSettings": {"inboundAllowed": True}}, roles=None,
            actor="admin")
    link = invite(database, contoso, JOHN, issuer=live.issuer("contoso"), send=False)
    review = sign_in_at_fabrikam(requests.Session(), live, link)
    assert review.status_code == 200 and "Review permissions" in review.text
    with database.sessionmaker() as s:
        assert s.scalars(select(OutboxMessage).where(OutboxMessage.kind == automatic.NOTIFICATION_KIND)).all() == []


MFA_FOR_EVERYONE = {
    "displayName": "MFA for everyone", "state": "enabled",
    "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]}},
    "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
}


def enrol_totp(browser: requests.Session, page: requests.Response, base: str) -> requests.Response:
    """On an MFA enrolment page: read the manual key, confirm a code, continue the journey."""
    import re

    import pyotp

    key = re.search(r'id="manual-key"[^>]*>([A-Z2-7 ]+)</code>', page.text)
    assert key, page.text
    confirmed = browser.post(page.url, data={"csrf_token": csrf(page.text),
                                             "code": pyotp.TOTP(key.group(1).replace(" ", "")).now()}, timeout=10)
    assert confirmed.status_code == 200, confirmed.text
    done = re.search(r'href="(/[a-z]+/signin/mfa/done)"', confirmed.text)
    assert done, confirmed.text
    return follow(browser, urljoin(page.url, done.group(1)), base)


def _john_does_mfa_at_fabrikam(database: Database, contoso: Tenant, fabrikam: Tenant, *, trusted: bool,
                               contoso_requires_mfa: bool = False) -> None:
    """John, a fabrikam member whom fabrikam's conditional access sends through MFA; contoso's inbound trust of
    fabrikam's MFA claims is ``trusted`` (and contoso itself requires MFA of guests if asked)."""
    with database.transaction() as s:
        users.create_member(s, fabrikam, JOHN, password=PASSWORD)
        policy_store.create_conditional_access(s, fabrikam, MFA_FOR_EVERYONE, roles=None, actor="admin",
                                               now_iso="2026-11-27T00:00:00Z")
        if contoso_requires_mfa:
            policy_store.create_conditional_access(s, contoso, MFA_FOR_GUESTS, roles=None, actor="admin",
                                                   now_iso="2026-11-27T00:00:00Z")
        policy_store.create_cross_tenant_partner(s, contoso, {
            "tenantId": fabrikam.id, "inboundTrust": {"isMfaAccepted": trusted}}, roles=None, actor="admin")


def _mfa_at_home_then_at_contoso_unless_trusted(browser: requests.Session, live: LiveServer, start: str, *,
                                                trusted: bool) -> None:
    """fabrikam's own MFA first; back at contoso, its own second factor only without the trust; then consent."""
    at_home = sign_in_at_fabrikam(browser, live, start)
    assert path_of(at_home.url).startswith("/fabrikam/mfa"), at_home.url
    back_at_contoso = enrol_totp(browser, at_home, live.base_url)
    if trusted:
        assert "Review permissions" in back_at_contoso.text, back_at_contoso.url
    else:
        assert path_of(back_at_contoso.url).startswith("/contoso/mfa"), back_at_contoso.url
        review = enrol_totp(browser, back_at_contoso, live.base_url)
        assert "Review permissions" in review.text, review.url


@pytest.mark.parametrize("trusted", [True, False], ids=["isMfaAccepted", "no-trust"])
def test_mfa_done_at_fabrikam_counts_at_contoso_only_with_inbound_trust(
    live: LiveServer, database: Database, contoso: Tenant, fabrikam: Tenant, trusted: bool
) -> None:
    """Issue 7: a fabrikam user who did MFA at home skips contoso's MFA when contoso trusts fabrikam's MFA claims;
    without the trust, contoso asks for its own second factor."""
    _john_does_mfa_at_fabrikam(database, contoso, fabrikam, trusted=trusted, contoso_requires_mfa=True)
    link = invite(database, contoso, JOHN, issuer=live.issuer("contoso"), send=False)
    browser = requests.Session()
    _mfa_at_home_then_at_contoso_unless_trusted(browser, live, link, trusted=trusted)


@pytest.mark.parametrize("trusted", [True, False], ids=["isMfaAccepted", "no-trust"])
def test_acr_values_2_accepts_the_home_tenants_mfa_only_with_inbound_trust(
    live: LiveServer, database: Database, contoso: Tenant, fabrikam: Tenant, trusted: bool
) -> None:
    """An application asking contoso for ``acr_values=2`` (no conditional access at contoso): a guest who did MFA
    at home goes on when contoso trusts fabrikam's MFA claims; otherwise contoso asks for its own second factor."""
    from urllib.parse import urlencode

    from oidc_support import authorize_params, make_rp

    _john_does_mfa_at_fabrikam(database, contoso, fabrikam, trusted=trusted)
    invite(database, contoso, JOHN, issuer=live.issuer("contoso"), send=False)
    rp = make_rp(database, contoso)
    authorize = f"{live.issuer('contoso')}/authorize?" + urlencode(authorize_params(rp, acr_values="2",
                                                                                    login_hint=JOHN))
    browser = requests.Session()
    _mfa_at_home_then_at_contoso_unless_trusted(browser, live, authorize, trusted=trusted)


@pytest.mark.parametrize("trusted", [True, False], ids=["isMfaAccepted", "no-trust"])
def test_the_home_tenants_mfa_makes_acr_2_only_with_inbound_trust(
    live: LiveServer, database: Database, contoso: Tenant, fabrikam: Tenant, trusted: bool
) -> None:
    """No conditional access and no ``acr_values`` at contoso: the guest's session records fabrikam's ``amr``
    (``mfa`` included) either way, but its ``acr`` is "2" only when contoso trusts fabrikam's MFA claims."""
    from idp.models import SsoSession

    _john_does_mfa_at_fabrikam(database, contoso, fabrikam, trusted=trusted)
    link = invite(database, contoso, JOHN, issuer=live.issuer("contoso"), send=False)
    browser = requests.Session()
    review = enrol_totp(browser, sign_in_at_fabrikam(browser, live, link), live.base_url)
    assert "Review permissions" in review.text, review.url
    accepted = browser.post(review.url, data={"csrf_token": csrf(review.text), "accept": "Accept"},
                            allow_redirects=False, timeout=10)
    assert accepted.headers["Location"] == REDIRECT
    with database.sessionmaker() as s:
        [session] = s.scalars(select(SsoSession).where(SsoSession.tenant_id == contoso.id))
    assert "mfa" in session.amr
    assert session.acr == ("2" if trusted else "1")
