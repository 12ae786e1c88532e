"""Upstream identity providers: presets, validation, encrypted client secrets and the `portico idp` CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from idp.cli import main
from idp.db import Database
from idp.errors import Conflict, ValidationError
from idp.federation import service as federation
from idp.federation.service import ProviderInput
from idp.models import AuditEvent, IdentityProvider, IdentityProviderDomain, Tenant
from idp.secretbox import SecretBox, SecretBoxError

SECRET = "test-secret-key-0123456789abcdef"


def add(database: Database, tenant: Tenant, **fields: object) -> IdentityProvider:
    data = ProviderInput(**{"client_id": "client-1", "client_secret": "upstream-secret", **fields})  # type: ignore[arg-type]
    with database.transaction() as db:
        return federation.add_provider(db, tenant, data, secret_key=SECRET)


def test_enterprise_oidc_provider_with_domains(database: Database, contoso: Tenant) -> None:
    provider = add(database, contoso, type="oidc", name="Partner SSO", issuer="https://sso.partner.com",
                   domains=("Partner.com", "eu.partner.com", "partner.com"))
    data = federation.provider_dict(provider)
    assert data["domains"] == ["eu.partner.com", "partner.com"]
    assert data["scopes"] == ["openid", "email", "profile"] and data["routing"] == "domain"
    assert data["identityIssuer"] == "https://sso.partner.com" and data["clientSecret"] == "****"
    with database.sessionmaker() as db:
        assert federation.find_provider_for_domain(db, contoso, "PARTNER.com").id == provider.id  # type: ignore[union-attr]
        assert federation.find_provider_for_domain(db, contoso, "sub.partner.com") is None
        assert db.scalars(select(AuditEvent.activity)).all()[-1] == "Add identity provider"


def test_google_preset(database: Database, contoso: Tenant) -> None:
    data = federation.provider_dict(add(database, contoso, type="google"))
    assert data["name"] == "Google" and data["issuer"] == "https://accounts.google.com"
    assert data["domains"] == ["gmail.com", "googlemail.com"] and data["identityIssuer"] == "google.com"
    assert data["routing"] == "social" and data["usedForRedemption"] is True


def test_microsoft_preset_uses_the_common_v2_endpoint(database: Database, contoso: Tenant) -> None:
    data = federation.provider_dict(add(database, contoso, type="microsoft"))
    assert data["issuer"] == "https://login.microsoftonline.com/common/v2.0"
    assert data["identityIssuer"] == "MicrosoftAccount" and data["domains"] == []


def test_facebook_preset_is_oauth2_with_userinfo_and_sign_up_only(database: Database, contoso: Tenant) -> None:
    data = federation.provider_dict(add(database, contoso, type="facebook"))
    assert data["issuer"] is None and data["identityIssuer"] == "facebook.com"
    assert data["userinfoEndpoint"].startswith("https://graph.facebook.com/")
    assert data["claimMapping"]["sub"] == "id" and data["usedForRedemption"] is False


def test_oauth2_needs_its_endpoints_and_takes_a_claim_mapping(database: Database, contoso: Tenant) -> None:
    with pytest.raises(ValidationError, match="--token-url"):
        add(database, contoso, type="oauth2", name="Legacy",
            authorization_endpoint="https://legacy.example/authorize", userinfo_endpoint="https://legacy.example/me")
    provider = add(database, contoso, type="oauth2", name="Legacy",
                   authorization_endpoint="https://legacy.example/authorize",
                   token_endpoint="https://legacy.example/token", userinfo_endpoint="https://legacy.example/me",
                   claim_mapping={"sub": "user_id", "email": "mail"}, domains=("legacy.example",))
    data = federation.provider_dict(provider)
    assert data["claimMapping"]["sub"] == "user_id" and data["claimMapping"]["email"] == "mail"
    assert data["identityIssuer"] == "https://legacy.example"


def test_client_secret_is_encrypted_at_rest_and_bound_to_its_row(database: Database, contoso: Tenant) -> None:
    provider = add(database, contoso, type="oidc", name="P", issuer="https://sso.partner.com",
                   client_secret="s3cret-value")
    with database.sessionmaker() as db:
        row = db.get(IdentityProvider, provider.id)
        assert row is not None and row.client_secret_encrypted is not None
        assert "s3cret-value" not in row.client_secret_encrypted
        assert federation.client_secret(row, secret_key=SECRET) == "s3cret-value"
        with pytest.raises(SecretBoxError, match="PORTICO_SECRET_KEY"):
            federation.client_secret(row, secret_key="another-secret-key-0123456789")
        other = add(database, contoso, type="oidc", name="Q", issuer="https://q.example")
        other.client_secret_encrypted = row.client_secret_encrypted  # a ciphertext moved to another row
        with pytest.raises(SecretBoxError):
            federation.client_secret(other, secret_key=SECRET)


def test_secretbox_rejects_tampering() -> None:
    box = SecretBox(SECRET, "purpose")
    sealed = box.seal("value", context="ctx")
    assert box.open(sealed, context="ctx") == "value"
    assert sealed != box.seal("value", context="ctx")  # fresh nonce each time
    tampered = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    for token in (tampered, "v2." + sealed[3:], "garbage"):
        with pytest.raises(SecretBoxError):
            box.open(token, context="ctx")
    with pytest.raises(SecretBoxError):
        SecretBox(SECRET, "other purpose").open(sealed, context="ctx")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"type": "saml"}, "unknown provider type"),
        ({"type": "oidc", "name": "X"}, "needs --issuer"),
        ({"type": "oidc", "issuer": "https://x.example"}, "needs a --name"),
        ({"type": "oidc", "name": "X", "issuer": "ftp://x.example"}, "absolute http"),
        ({"type": "oidc", "name": "X", "issuer": "https://x.example?a=1"}, "query"),
        ({"type": "oidc", "name": "X", "issuer": "https://x.example", "client_id": " "}, "--client-id"),
        ({"type": "oidc", "name": "X", "issuer": "https://x.example", "client_secret": ""}, "--client-secret"),
        ({"type": "oidc", "name": "X", "issuer": "https://x.example", "scopes": ("email",)}, "'openid' scope"),
        ({"type": "oidc", "name": "X", "issuer": "https://x.example", "domains": ("*.partner.com",)}, "exactly"),
        ({"type": "oidc", "name": "X", "issuer": "https://x.example", "domains": ("not a domain",)},
         "not a valid DNS"),
        ({"type": "oidc", "name": "X", "issuer": "https://x.example", "domains": ("gmail.com",)}, "Google"),
        ({"type": "oidc", "name": "X", "issuer": "https://x.example", "domains": ("contoso.com",)},
         "domain of this tenant"),
        ({"type": "oidc", "name": "X", "issuer": "https://x.example", "claim_mapping": {"role": "r"}},
         "cannot map claim"),
        ({"type": "oidc", "name": "X", "issuer": "https://x.example",
          "token_endpoint": "https://x.example/token"}, "discovery"),
        ({"type": "google", "domains": ("partner.com",)}, "takes no --domain"),
        ({"type": "google", "issuer": "https://evil.example"}, "fixed"),
        ({"type": "facebook", "token_endpoint": "https://evil.example/token"}, "fixed"),
    ],
)
def test_bad_input_is_refused_and_nothing_written(
    database: Database, contoso: Tenant, fields: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        add(database, contoso, **fields)
    with database.sessionmaker() as db:
        assert db.scalars(select(IdentityProvider)).all() == []


def test_production_refuses_plain_http_issuers(database: Database, contoso: Tenant) -> None:
    data = ProviderInput(type="oidc", name="X", issuer="http://sso.partner.com", client_id="c", client_secret="s")
    with pytest.raises(ValidationError, match="https"), database.transaction() as db:
        federation.add_provider(db, contoso, data, secret_key=SECRET, production=True)


def test_a_domain_routes_to_one_enterprise_provider_per_tenant(
    database: Database, contoso: Tenant, fabrikam: Tenant
) -> None:
    add(database, contoso, type="oidc", name="A", issuer="https://a.example", domains=("partner.com",))
    with pytest.raises(Conflict, match="already routes to identity provider A"):
        add(database, contoso, type="oidc", name="B", issuer="https://b.example", domains=("x.com", "partner.com"))
    add(database, fabrikam, type="oidc", name="A", issuer="https://a.example", domains=("partner.com",))
    with database.sessionmaker() as db:
        assert len(db.scalars(select(IdentityProviderDomain)).all()) == 2


def test_names_and_presets_are_unique_per_tenant(database: Database, contoso: Tenant) -> None:
    add(database, contoso, type="google")
    with pytest.raises(Conflict, match="already has a google provider"):
        add(database, contoso, type="google", name="Google 2")
    add(database, contoso, type="oidc", name="SSO", issuer="https://a.example")
    with pytest.raises(Conflict, match="named 'SSO'"):
        add(database, contoso, type="oidc", name="SSO", issuer="https://b.example")


def test_remove_deletes_the_provider_and_its_domains(database: Database, contoso: Tenant) -> None:
    provider = add(database, contoso, type="oidc", name="SSO", issuer="https://a.example", domains=("p.com",))
    with database.transaction() as db:
        federation.remove_provider(db, contoso, "SSO")
    with database.sessionmaker() as db:
        assert db.get(IdentityProvider, provider.id) is None
        assert db.scalars(select(IdentityProviderDomain)).all() == []
    add(database, contoso, type="oidc", name="SSO2", issuer="https://a.example", domains=("p.com",))


# -- CLI --------------------------------------------------------------------------------------------------
@pytest.fixture
def cli_env(database_url: str, keys_dir: Path, tmp_path: Path) -> dict[str, str]:
    return {"PORTICO_DATABASE_URL": database_url, "PORTICO_SECRET_KEY": SECRET,
            "PORTICO_INSTANCE_DIR": str(tmp_path), "PORTICO_KEYS_DIR": str(keys_dir)}


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def test_cli_add_list_remove(database: Database, contoso: Tenant, cli_env: dict[str, str]) -> None:
    added = run(cli_env, "idp", "add", "--tenant", "contoso", "--type", "oidc", "--name", "Partner",
                "--issuer", "https://sso.partner.com", "--client-id", "abc", "--client-secret", "topsecret",
                "--domain", "partner.com", "--domain", "partner.org", "--claim", "email=upn", "--json")
    assert added.exit_code == 0, added.output
    data = json.loads(added.output)
    assert data["domains"] == ["partner.com", "partner.org"] and data["claimMapping"]["email"] == "upn"
    assert "topsecret" not in added.output
    google = run(cli_env, "idp", "add", "--tenant", "contoso", "--type", "google", "--client-id", "g",
                 "--client-secret", "gs")
    assert google.exit_code == 0 and "added google identity provider Google" in google.output
    listed = run(cli_env, "idp", "list", "--tenant", "contoso", "--json")
    assert listed.exit_code == 0
    assert [p["name"] for p in json.loads(listed.output)] == ["Google", "Partner"]
    assert "topsecret" not in listed.output and "gs\"" not in listed.output
    removed = run(cli_env, "idp", "remove", "--tenant", "contoso", "--name", "Partner", "--json")
    assert removed.exit_code == 0 and json.loads(removed.output)["removed"] is True
    assert [p["name"] for p in json.loads(run(cli_env, "idp", "list", "--tenant", "contoso", "--json").output)] == [
        "Google"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--type", "oidc", "--name", "X", "--client-id", "a", "--client-secret", "b"], "needs --issuer"),
        (["--type", "oidc", "--name", "X", "--issuer", "https://x.example", "--client-id", "a", "--client-secret",
          "b", "--domain", "*.x.com"], "exactly"),
        (["--type", "oidc", "--name", "X", "--issuer", "https://x.example", "--client-id", "a", "--client-secret",
          "b", "--claim", "email"], "CLAIM=UPSTREAM_CLAIM"),
        (["--type", "facebook", "--client-id", "a", "--client-secret", "b", "--domain", "x.com"], "no --domain"),
    ],
)
def test_cli_bad_input_is_one_line_exit_2_nothing_written(
    database: Database, contoso: Tenant, cli_env: dict[str, str], args: list[str], message: str
) -> None:
    result = run(cli_env, "idp", "add", "--tenant", "contoso", *args)
    assert result.exit_code == 2 and message in result.output
    assert len(result.output.strip().splitlines()) == 1 and result.output.startswith("error: ")
    with database.sessionmaker() as db:
        assert db.scalars(select(IdentityProvider)).all() == []


def test_cli_unknown_tenant_and_provider(database: Database, contoso: Tenant, cli_env: dict[str, str]) -> None:
    result = run(cli_env, "idp", "list", "--tenant", "nowhere")
    assert result.exit_code == 2 and "no tenant 'nowhere'" in result.output
    result = run(cli_env, "idp", "remove", "--tenant", "contoso", "--name", "Nope")
    assert result.exit_code == 2 and "no identity provider 'Nope'" in result.output
