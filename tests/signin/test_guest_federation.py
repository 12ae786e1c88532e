"""Guest sign-in through an upstream OpenID provider (a real one built with Authlib, on loopback): routed by the
email's domain, bound by the verified-email rule, and every upstream failure ends on a readable page."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from authlib_op import LoopbackOP
from flask.testing import FlaskClient
from journey_support import MFA_FOR_GUESTS, REDIRECT, csrf, invite, path_of, review
from smtp_capture import free_port

from idp import policy_store
from idp.db import Database
from idp.directory import users
from idp.federation import service as federation
from idp.federation.service import ProviderInput
from idp.models import SsoSession, Tenant, User

ISSUER = "http://127.0.0.1:5000/contoso"
CALLBACK = f"{ISSUER}/signin/callback"
SECRET = "test-secret-key-0123456789abcdef"
BOB = "bob@partner.com"


@pytest.fixture
def op(op_server: LoopbackOP) -> LoopbackOP:
    op_server.reset()
    op_server.add_client("portico", "op-secret", CALLBACK)
    return op_server


def add_provider(database: Database, tenant: Tenant, issuer: str) -> None:
    with database.transaction() as db:
        federation.add_provider(db, tenant, ProviderInput(
            type="oidc", name="Partner SSO", issuer=issuer, client_id="portico", client_secret="op-secret",
            domains=("partner.com",)), secret_key=SECRET)


def to_upstream_and_back(client: FlaskClient, *, tamper: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """/signin/route -> the OP's authorize endpoint -> back to /signin/callback; returns the callback's response."""
    routed = client.get("/contoso/signin/route")
    assert routed.status_code == 302, routed.text
    upstream = requests.get(routed.headers["Location"], allow_redirects=False, timeout=10)
    assert upstream.headers["Location"].startswith(CALLBACK)
    params = {**dict(parse_qsl(urlsplit(upstream.headers["Location"]).query)), **(tamper or {})}
    return client.get("/contoso/signin/callback", query_string=params)


def bob(database: Database, tenant: Tenant) -> User:
    with database.sessionmaker() as s:
        [user] = users.find_users_by_email(s, tenant, BOB)
        s.expunge_all()
        return user


def test_invited_guest_redeems_through_the_upstream_idp_and_is_bound_to_it(
        client: FlaskClient, database: Database, contoso: Tenant, op: LoopbackOP) -> None:
    add_provider(database, contoso, op.issuer)
    link = invite(database, contoso, BOB, issuer=ISSUER, send=False)
    client.get(path_of(link))
    back = to_upstream_and_back(client)
    assert back.headers["Location"].endswith("/contoso/signin/review")
    assert review(client, "/contoso/signin/review").headers["Location"] == REDIRECT
    with database.sessionmaker() as s:
        user = s.get(User, bob(database, contoso).id)
        assert user.external_user_state == "Accepted"
        assert ("federated", op.issuer, "op-user-1") in {(i.sign_in_type, i.issuer, i.issuer_assigned_id)
                                                         for i in user.identities}

    client.delete_cookie("portico_sso", path="/contoso/")  # next time: sticky, straight to the upstream
    page = client.get("/contoso/login")
    client.post("/contoso/login", data={"csrf_token": csrf(page.text), "email": BOB, "next": "Next"})
    again = to_upstream_and_back(client)
    assert again.status_code == 302 and again.headers["Location"].endswith("/contoso/")


def _start_jit(client: FlaskClient) -> None:
    page = client.get("/contoso/login")
    client.post("/contoso/login", data={"csrf_token": csrf(page.text), "email": BOB, "next": "Next"})


def test_an_unverified_upstream_email_never_links_to_the_invited_account(
        client: FlaskClient, database: Database, contoso: Tenant, op: LoopbackOP) -> None:
    add_provider(database, contoso, op.issuer)
    invite(database, contoso, BOB, issuer=ISSUER, send=False)
    op.user = {**op.user, "email_verified": False}
    _start_jit(client)
    refused = to_upstream_and_back(client)
    assert refused.status_code == 403 and "did not mark bob@partner.com as verified" in refused.text
    with database.sessionmaker() as s:
        user = s.get(User, bob(database, contoso).id)
        assert user.external_user_state == "PendingAcceptance"
        assert not [i for i in user.identities if i.sign_in_type == "federated"]


@pytest.mark.parametrize(("fault", "tamper", "title"), [
    ("deny", None, "You did not allow the sign-in"),
    (None, {"state": "forged"}, "This sign-in could not be matched"),
    (None, {"code": "expired-or-made-up"}, "Partner SSO did not complete the sign-in"),
    ("bad_signature", None, "Partner SSO sent an identity that cannot be trusted"),
    ("wrong_audience", None, "Partner SSO sent an identity that cannot be trusted"),
    ("wrong_nonce", None, "Partner SSO sent an identity that cannot be trusted"),
])
def test_upstream_failures_end_on_a_readable_page(client: FlaskClient, database: Database, contoso: Tenant,
                                                  op: LoopbackOP, fault: str | None, tamper: dict | None,
                                                  title: str) -> None:
    add_provider(database, contoso, op.issuer)
    invite(database, contoso, BOB, issuer=ISSUER, send=False)
    op.fault = fault
    _start_jit(client)
    page = to_upstream_and_back(client, tamper=tamper)
    assert page.status_code == 400 and title in page.text
    assert bob(database, contoso).external_user_state == "PendingAcceptance"


def test_a_replayed_callback_is_refused(client: FlaskClient, database: Database, contoso: Tenant,
                                       op: LoopbackOP) -> None:
    add_provider(database, contoso, op.issuer)
    invite(database, contoso, BOB, issuer=ISSUER, send=False)
    _start_jit(client)
    routed = client.get("/contoso/signin/route")
    location = requests.get(routed.headers["Location"], allow_redirects=False, timeout=10).headers["Location"]
    assert client.get(path_of(location)).status_code == 302
    assert "could not be matched" in client.get(path_of(location)).text


def test_an_unreachable_idp_ends_on_a_readable_page(client: FlaskClient, database: Database,
                                                    contoso: Tenant) -> None:
    add_provider(database, contoso, f"http://127.0.0.1:{free_port()}")
    invite(database, contoso, BOB, issuer=ISSUER, send=False)
    _start_jit(client)
    page = client.get("/contoso/signin/route")
    assert page.status_code == 502 and "Partner SSO cannot be reached" in page.text




@pytest.mark.parametrize(("mfa_accepted", "next_page"), [(True, "/contoso/signin/review"), (False, "/contoso/mfa")])
def test_upstream_mfa_satisfies_require_mfa_only_with_inbound_trust(
        client: FlaskClient, database: Database, contoso: Tenant, op: LoopbackOP, mfa_accepted: bool,
        next_page: str) -> None:
    add_provider(database, contoso, op.issuer)  # the OP reports amr ["pwd", "mfa"]
    with database.transaction() as s:
        policy_store.create_conditional_access(s, contoso, MFA_FOR_GUESTS, roles=None, actor="admin",
                                               now_iso="2026-01-01T00:00:00Z")
        policy_store.create_cross_tenant_partner(s, contoso, {
            "tenantId": op.issuer, "inboundTrust": {"isMfaAccepted": mfa_accepted}}, roles=None, actor="admin")
    link = invite(database, contoso, BOB, issuer=ISSUER, send=False)
    client.get(path_of(link))
    back = to_upstream_and_back(client)
    assert back.headers["Location"].endswith(next_page)
    if mfa_accepted:
        review(client, "/contoso/signin/review")
        with database.sessionmaker() as s:
            assert s.query(SsoSession).one().amr == ["pwd", "mfa"]
