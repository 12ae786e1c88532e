"""The upstream OIDC / OAuth 2 client against a real OpenID provider built with Authlib, on loopback."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
import requests
from authlib_op import LoopbackOP
from smtp_capture import free_port

from idp.db import Database
from idp.directory import users
from idp.federation import accounts
from idp.federation import service as federation
from idp.federation.client import (
    PendingAuthorization,
    UpstreamClient,
    UpstreamConfig,
    UpstreamError,
    UpstreamIdentity,
)
from idp.federation.presets import OIDC_DEFAULT_MAPPING
from idp.federation.service import ProviderInput
from idp.models import IdentityProvider, Tenant
from idp.policy.linking import LinkOutcome

SECRET = "test-secret-key-0123456789abcdef"
REDIRECT = "http://127.0.0.1:5000/contoso/federation/callback"


@pytest.fixture
def op(op_server: LoopbackOP) -> LoopbackOP:
    op_server.reset()
    op_server.add_client("portico", "op-secret", REDIRECT)
    return op_server


def add_provider(database: Database, tenant: Tenant, op: LoopbackOP, **fields: object) -> IdentityProvider:
    data = {"type": "oidc", "name": "Partner SSO", "issuer": op.issuer, "client_id": "portico",
            "client_secret": "op-secret", "domains": ("partner.com",), **fields}
    with database.transaction() as db:
        return federation.add_provider(db, tenant, ProviderInput(**data), secret_key=SECRET)  # type: ignore[arg-type]


def authorize(client: UpstreamClient) -> tuple[PendingAuthorization, dict[str, str], str]:
    url, pending = client.begin(REDIRECT)
    response = requests.get(url, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith(REDIRECT)
    return pending, dict(parse_qsl(urlsplit(location).query)), url


def sign_in(provider: IdentityProvider, *, tamper: dict[str, str] | None = None) -> UpstreamIdentity:
    client = UpstreamClient(provider)
    pending, params, _ = authorize(client)
    return client.complete(pending, {**params, **(tamper or {})}, now=datetime.now(UTC),
                           client_secret=federation.client_secret(provider, secret_key=SECRET))


def test_oidc_sign_in_with_discovery_pkce_nonce_and_a_valid_id_token(
    database: Database, contoso: Tenant, op: LoopbackOP
) -> None:
    provider = add_provider(database, contoso, op)
    client = UpstreamClient(provider)
    pending, params, url = authorize(client)
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(f"{op.issuer}/authorize?")
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] == [pending.nonce]
    assert query["state"] == [pending.state] and query["scope"] == ["openid email profile"]
    [stored] = op.codes.values()
    assert stored.code_challenge and stored.nonce == pending.nonce
    restored = PendingAuthorization.from_dict(pending.to_dict())  # the journey keeps it server-side
    identity = client.complete(restored, params, now=datetime.now(UTC),
                               client_secret=federation.client_secret(provider, secret_key=SECRET))
    assert (identity.issuer, identity.subject, identity.email) == (op.issuer, "op-user-1", "bob@partner.com")
    assert identity.email_verified is True and identity.name == "Bob Partner"
    assert identity.amr == ("pwd", "mfa") and identity.provider_id == provider.id


@pytest.mark.parametrize("fault", ["bad_signature", "wrong_audience", "wrong_nonce", "expired"])
def test_untrustworthy_id_tokens_are_refused(database: Database, contoso: Tenant, op: LoopbackOP, fault: str) -> None:
    provider = add_provider(database, contoso, op)
    op.fault = fault
    with pytest.raises(UpstreamError) as caught:
        sign_in(provider)
    assert caught.value.reason == "invalidIdToken"
    assert "cannot trust" in caught.value.message


def test_denied_consent_ends_with_a_readable_reason_and_a_log_line(
    database: Database, contoso: Tenant, op: LoopbackOP, caplog: pytest.LogCaptureFixture
) -> None:
    provider = add_provider(database, contoso, op)
    op.fault = "deny"
    with pytest.raises(UpstreamError) as caught:
        sign_in(provider)
    assert caught.value.reason == "accessDenied" and "did not allow Partner SSO" in caught.value.message
    assert any("accessDenied" in r.getMessage() and provider.id in r.getMessage() for r in caplog.records)


def test_bad_state_is_refused_before_the_code_is_used(database: Database, contoso: Tenant, op: LoopbackOP) -> None:
    provider = add_provider(database, contoso, op)
    with pytest.raises(UpstreamError) as caught:
        sign_in(provider, tamper={"state": "forged"})
    assert caught.value.reason == "invalidState"
    assert len(op.codes) == 1  # never exchanged


def test_a_used_or_expired_code_is_refused(database: Database, contoso: Tenant, op: LoopbackOP) -> None:
    provider = add_provider(database, contoso, op)
    client = UpstreamClient(provider)
    pending, params, _ = authorize(client)
    secret = federation.client_secret(provider, secret_key=SECRET)
    client.complete(pending, params, now=datetime.now(UTC), client_secret=secret)
    with pytest.raises(UpstreamError) as caught:
        client.complete(pending, params, now=datetime.now(UTC), client_secret=secret)
    assert caught.value.reason == "tokenError" and "invalid_grant" in (caught.value.detail or "")


def test_wrong_client_secret_is_a_token_error(database: Database, contoso: Tenant, op: LoopbackOP) -> None:
    provider = add_provider(database, contoso, op, client_secret="not-the-secret")
    with pytest.raises(UpstreamError) as caught:
        sign_in(provider)
    assert caught.value.reason == "tokenError"


def test_unreachable_provider(database: Database, contoso: Tenant) -> None:
    with database.transaction() as db:
        provider = federation.add_provider(db, contoso, ProviderInput(
            type="oidc", name="Down", issuer=f"http://127.0.0.1:{free_port()}", client_id="c", client_secret="s"),
            secret_key=SECRET)
    with pytest.raises(UpstreamError) as caught:
        UpstreamClient(provider, timeout=2).begin(REDIRECT)
    assert caught.value.reason == "unreachable" and "cannot be reached" in caught.value.message


def test_discovery_for_another_issuer_is_refused(database: Database, contoso: Tenant, op: LoopbackOP) -> None:
    provider = add_provider(database, contoso, op, issuer=op.issuer + "/other")
    with pytest.raises(UpstreamError) as caught:
        UpstreamClient(provider).begin(REDIRECT)
    assert caught.value.reason in ("invalidMetadata",)


def test_plain_oauth2_provider_uses_userinfo_and_the_claim_mapping(
    database: Database, contoso: Tenant, op: LoopbackOP
) -> None:
    op.user = {"sub": "u-77", "email": "zoe@legacy.example", "email_verified": False, "name": "Zoe"}
    provider = add_provider(database, contoso, op, type="oauth2", name="Legacy", issuer=None, domains=(),
                            authorization_endpoint=f"{op.issuer}/authorize", token_endpoint=f"{op.issuer}/token",
                            userinfo_endpoint=f"{op.issuer}/userinfo", scopes=("email", "profile"),
                            claim_mapping={"name": "email"})
    identity = sign_in(provider)
    assert (identity.issuer, identity.subject, identity.email) == (op.issuer, "u-77", "zoe@legacy.example")
    assert identity.name == "zoe@legacy.example" and identity.email_verified is False


def test_unverified_upstream_email_never_links_to_an_existing_account(
    database: Database, contoso: Tenant, op: LoopbackOP
) -> None:
    provider = add_provider(database, contoso, op)
    with database.transaction() as db:
        guest = users.create_guest(db, contoso, "bob@partner.com")
    op.user = {**op.user, "email_verified": False}
    unverified = sign_in(provider)
    with database.sessionmaker() as db:
        decision = accounts.match_upstream_identity(db, contoso, unverified)
    assert decision.outcome is LinkOutcome.REFUSE_UNVERIFIED and not decision.allowed

    op.user = {**op.user, "email_verified": True}
    verified = sign_in(provider)
    with database.transaction() as db:
        decision = accounts.match_upstream_identity(db, contoso, verified)
        assert decision.outcome is LinkOutcome.LINK and decision.user_id == guest.id
        accounts.bind_upstream_identity(db, users.get_user(db, contoso, guest.id), verified)
    op.user = {**op.user, "email": "renamed@partner.com", "email_verified": False}
    again = sign_in(provider)  # bound now: the identity, not the email, decides
    with database.sessionmaker() as db:
        decision = accounts.match_upstream_identity(db, contoso, again)
    assert decision.outcome is LinkOutcome.BOUND and decision.user_id == guest.id


def test_microsoft_common_issuer_is_matched_against_the_token_tenant() -> None:
    from idp.federation.client import _expected_issuer

    template = "https://login.microsoftonline.com/{tenantid}/v2.0"
    assert _expected_issuer(template, {"tid": "9188040d"}) == "https://login.microsoftonline.com/9188040d/v2.0"
    assert _expected_issuer(template, {}) == template  # no tid: can never match a real iss
    assert _expected_issuer("https://sso.partner.com", {"tid": "x"}) == "https://sso.partner.com"


@pytest.mark.filterwarnings("ignore:JWS algorithm \"none\" is deprecated")  # the test OP signs with none on purpose
@pytest.mark.parametrize("fault", ["alg_none", "extra_audience"])
def test_unsigned_tokens_and_foreign_audiences_without_azp_are_refused(
    database: Database, contoso: Tenant, op: LoopbackOP, fault: str
) -> None:
    provider = add_provider(database, contoso, op)
    op.fault = fault
    with pytest.raises(UpstreamError) as caught:
        sign_in(provider)
    assert caught.value.reason == "invalidIdToken"


def test_several_audiences_are_accepted_when_azp_is_this_client(
    database: Database, contoso: Tenant, op: LoopbackOP
) -> None:
    provider = add_provider(database, contoso, op)
    op.fault = "extra_audience_azp"
    assert sign_in(provider).subject == "op-user-1"


def test_signing_key_rotation_at_the_upstream_is_followed(database: Database, contoso: Tenant, op: LoopbackOP) -> None:
    provider = add_provider(database, contoso, op)
    original = op.signing_key
    op.signing_key = op.rogue_key  # the upstream rotates: new key signs and is published
    try:
        assert sign_in(provider).subject == "op-user-1"
    finally:
        op.signing_key = original


def _microsoft_style(op: LoopbackOP) -> UpstreamConfig:
    return UpstreamConfig(id="ms", name="Microsoft", type="microsoft", client_id="portico",
                          scopes=("openid", "email", "profile"), claim_mapping=OIDC_DEFAULT_MAPPING,
                          identity_issuer="MicrosoftAccount", issuer=f"{op.issuer}/common/v2.0")


def test_multi_tenant_issuer_accepts_the_token_of_the_accounts_own_tenant(op: LoopbackOP) -> None:
    op.multi_tenant = True
    client = UpstreamClient(_microsoft_style(op))
    pending, params, _ = authorize(client)
    identity = client.complete(pending, params, client_secret="op-secret", now=datetime.now(UTC))
    assert identity.issuer == "MicrosoftAccount" and identity.subject == "op-user-1"
    assert identity.claims["iss"] == f"{op.issuer}/tid-123/v2.0"
    op.fault = "tenant_mismatch"  # iss names another tenant than the token's tid
    pending, params, _ = authorize(client)
    with pytest.raises(UpstreamError) as caught:
        client.complete(pending, params, client_secret="op-secret", now=datetime.now(UTC))
    assert caught.value.reason == "invalidIdToken"
