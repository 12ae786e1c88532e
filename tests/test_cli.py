"""The `portico` command: it creates what it prints, and bad input exits 2 with nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from idp.cli import main
from idp.config import Settings
from idp.db import Base, Database
from idp.directory import applications, groups, roles, tenants, users
from idp.keys import KeyStore


@pytest.fixture
def cli_env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    return {
        "PORTICO_DATABASE_URL": settings.database_url,
        "PORTICO_KEYS_DIR": str(tmp_path / "cli-keys"),
        "PORTICO_INSTANCE_DIR": str(tmp_path / "cli-instance"),
        "PORTICO_TENANT_DOMAIN_SUFFIX": "portico.example",
        "PORTICO_BASE_URL": "http://127.0.0.1:5000",
        "PORTICO_ENV": "development",
    }


@pytest.fixture
def run(cli_env: dict[str, str]):
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(main, list(args), env=cli_env, catch_exceptions=False)

    return invoke


def row_counts(database: Database) -> dict[str, int]:
    with database.engine.connect() as conn:
        return {t.name: conn.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def test_tenant_create_prints_what_it_created(run, database: Database) -> None:
    result = run("tenant", "create", "contoso", "--name", "Contoso", "--domain", "contoso.com", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    with database.sessionmaker() as s:
        tenant = tenants.get_tenant(s, "contoso")
        assert data["id"] == tenant.id
        assert data["issuer"] == "http://127.0.0.1:5000/contoso"
        assert sorted(data["verifiedDomains"]) == sorted(tenant.verified_domains) == [
            "contoso.com", "contoso.portico.example"]
    listed = json.loads(run("tenant", "list", "--json").output)
    assert [t["slug"] for t in listed] == ["contoso"]


def test_user_group_client_commands_create_what_they_print(run, database: Database) -> None:
    assert run("tenant", "create", "contoso", "--name", "Contoso").exit_code == 0
    member = json.loads(run("user", "create", "--tenant", "contoso", "--email", "admin@contoso.portico.example",
                            "--password", "long-enough-pw", "--role", "Global Administrator", "--json").output)
    guest = json.loads(run("user", "create", "--tenant", "contoso", "--email", "alice@fabrikam.com", "--guest",
                           "--json").output)
    group = json.loads(run("group", "create", "--tenant", "contoso", "--name", "Partners", "--json").output)
    added = run("group", "add-member", "--tenant", "contoso", "--group", "Partners", "--user", "alice@fabrikam.com")
    assert added.exit_code == 0, added.output
    client = json.loads(run("client", "create", "--tenant", "contoso", "--name", "Wiki",
                            "--redirect-uri", "https://wiki.example/cb", "--grant-type", "authorization_code",
                            "--grant-type", "refresh_token", "--scope", "openid", "--scope", "profile",
                            "--json").output)
    with database.sessionmaker() as s:
        tenant = tenants.get_tenant(s, "contoso")
        m = users.get_user(s, tenant, member["id"])
        assert m.user_principal_name == "admin@contoso.portico.example" and m.password_hash
        assert roles.roles_of(s, tenant, m) == {"Global Administrator"}
        g = users.get_user(s, tenant, guest["id"])
        assert g.user_principal_name == "alice_fabrikam.com#EXT#@contoso.portico.example"
        assert g.external_user_state == "PendingAcceptance" and g.password_hash is None
        grp = groups.get_group(s, tenant, group["id"])
        assert groups.member_ids(s, tenant, grp) == [g.id]
        app = applications.find_application_by_client_id(s, tenant, client["client_id"])
        assert app is not None and app.id == client["id"]
        assert applications.verify_client_secret(app, client["client_secret"])
        assert app.grant_types == ["authorization_code", "refresh_token"]


def test_client_secret_printed_once_in_text_mode(run) -> None:
    run("tenant", "create", "contoso", "--name", "Contoso")
    result = run("client", "create", "--tenant", "contoso", "--name", "Sync", "--grant-type", "client_credentials",
                 "--scope", "scim.read", "--scope", "scim.write")
    assert result.exit_code == 0
    assert "client_id: " in result.output and "client_secret: " in result.output
    public = run("client", "create", "--tenant", "contoso", "--name", "SPA", "--public",
                 "--redirect-uri", "http://127.0.0.1:8000/cb", "--json")
    assert json.loads(public.output)["client_secret"] is None
    fast = json.loads(run("client", "create", "--tenant", "contoso", "--name", "Fast sync", "--grant-type",
                          "client_credentials", "--scope", "scim.read", "--access-token-alg", "ES256", "--json").output)
    assert (fast["access_token_signed_response_alg"], fast["id_token_signed_response_alg"]) == ("ES256", "RS256")


@pytest.mark.parametrize(
    "args",
    [
        ("tenant", "create", "Bad Slug", "--name", "X"),
        ("tenant", "create", "contoso", "--name", "Again"),
        ("tenant", "create", "newco", "--name", "X", "--domain", "not a domain"),
        ("tenant", "create", "newco", "--name", "X", "--privacy-url", "ftp://x"),
        ("tenant", "create", "newco"),
        ("user", "create", "--tenant", "nowhere", "--email", "a@b.com"),
        ("user", "create", "--tenant", "contoso", "--email", "not-an-email"),
        ("user", "create", "--tenant", "contoso", "--email", "x@contoso.portico.example", "--password", "short"),
        ("user", "create", "--tenant", "contoso", "--email", "x@contoso.portico.example", "--role", "Emperor"),
        ("user", "create", "--tenant", "contoso", "--email", "g@partner.com", "--guest", "--password", "long-pw-1"),
        ("user", "create", "--tenant", "contoso", "--email", "a+b@partner.com", "--guest"),
        ("group", "create", "--tenant", "contoso", "--name", ""),
        ("group", "add-member", "--tenant", "contoso", "--group", "nope", "--user", "nobody@x.com"),
        ("client", "create", "--tenant", "contoso", "--name", "X", "--redirect-uri", "javascript:alert(1)"),
        ("client", "create", "--tenant", "contoso", "--name", "X", "--grant-type", "password"),
        ("client", "create", "--tenant", "contoso", "--name", "X", "--grant-type", "client_credentials",
         "--access-token-alg", "HS256"),
        ("client", "create", "--tenant", "contoso", "--name", "X", "--public", "--grant-type", "client_credentials"),
        ("client", "create", "--tenant", "contoso", "--name", "X"),
        ("keys", "retire", "--kid", "no-such-key"),
        ("keys", "rotate", "--alg", "HS256"),
        ("serve", "--port", "0"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(run, database: Database, args: tuple[str, ...]) -> None:
    assert run("tenant", "create", "contoso", "--name", "Contoso").exit_code == 0
    before = row_counts(database)
    result = run(*args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.strip().splitlines() if line.strip()]
    assert lines and (lines[-1].startswith("error: ") or lines[-1].startswith("Error: "))
    assert row_counts(database) == before


def test_failure_after_partial_work_rolls_back(run, database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """The user row is written, then the role assignment fails inside the same command: no user remains."""
    from idp.errors import ValidationError

    run("tenant", "create", "contoso", "--name", "Contoso")
    before = row_counts(database)

    def broken_assign(*_args, **_kwargs):
        raise ValidationError("role store unavailable")

    monkeypatch.setattr(roles, "assign_role", broken_assign)
    result = run("user", "create", "--tenant", "contoso", "--email", "dup@contoso.portico.example",
                 "--password", "long-enough-pw", "--role", "User Administrator")
    assert result.exit_code == 2 and "role store unavailable" in result.output
    assert row_counts(database) == before


def test_duplicate_user_refused(run, database: Database) -> None:
    run("tenant", "create", "contoso", "--name", "Contoso")
    assert run("user", "create", "--tenant", "contoso", "--email", "dup@contoso.portico.example").exit_code == 0
    again = run("user", "create", "--tenant", "contoso", "--email", "DUP@contoso.portico.example")
    assert again.exit_code == 2 and "already exists" in again.output


def test_commands_refuse_an_uninitialised_database(tmp_path: Path) -> None:
    env = {"PORTICO_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}", "PORTICO_INSTANCE_DIR": str(tmp_path)}
    result = CliRunner().invoke(main, ["tenant", "list"], env=env)
    assert result.exit_code == 2 and "portico init" in result.output


def test_keys_commands(run, cli_env: dict[str, str]) -> None:
    listed = json.loads(run("keys", "list", "--json").output)
    assert listed == []
    run("init")
    listed = json.loads(run("keys", "list", "--json").output)
    active = {k["alg"]: k["kid"] for k in listed if k["status"] == "active"}
    rotated = json.loads(run("keys", "rotate", "--alg", "RS256", "--json").output)
    assert {k["kid"]: k["status"] for k in rotated}[active["RS256"]] == "previous"
    assert {k["kid"]: k["status"] for k in rotated}[active["ES256"]] == "active"
    retired = json.loads(run("keys", "retire", "--json").output)
    assert active["RS256"] not in {k["kid"] for k in retired}
    assert {k.kid for k in KeyStore(Path(cli_env["PORTICO_KEYS_DIR"])).list()} == {k["kid"] for k in retired}


def test_demo_is_idempotent_and_prints_passwords(run, database: Database, cli_env: dict[str, str]) -> None:
    first = json.loads(run("demo", "--json").output)
    second = json.loads(run("demo", "--json").output)
    assert [t["slug"] for t in first["tenants"]] == ["contoso", "fabrikam"]
    assert first == second
    with database.sessionmaker() as s:
        for entry in first["tenants"]:
            tenant = tenants.get_tenant(s, entry["slug"])
            admin = users.find_user_by_upn(s, tenant, entry["admin_email"])
            assert admin is not None
            from idp.directory.passwords import verify_password

            assert verify_password(admin.password_hash, entry["admin_password"])
            assert roles.roles_of(s, tenant, admin) == {"Global Administrator"}
        contoso = tenants.get_tenant(s, "contoso")
        assert len(applications.list_applications(s, contoso)) == 1
    creds = Path(cli_env["PORTICO_INSTANCE_DIR"]) / "demo-credentials.json"
    assert creds.stat().st_mode & 0o077 == 0


def test_invite_prints_the_graph_response(run, database: Database) -> None:
    run("tenant", "create", "contoso", "--name", "Contoso")
    result = run("invite", "--tenant", "contoso", "--email", "john@fabrikam.com", "--redirect-url",
                 "https://app.example/", "--display-name", "John", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["status"] == "PendingAcceptance" and data["invitedUserDisplayName"] == "John"
    assert data["inviteRedeemUrl"].startswith("http://127.0.0.1:5000/contoso/redeem?")
    with database.sessionmaker() as s:
        tenant = tenants.get_tenant(s, "contoso")
        guest = users.get_user(s, tenant, data["invitedUser"]["id"])
        assert guest.user_principal_name == data["invitedUser"]["userPrincipalName"]
    before = row_counts(database)
    bad = run("invite", "--tenant", "contoso", "--email", "x+y@fabrikam.com", "--redirect-url", "https://a.example/")
    assert bad.exit_code == 2 and bad.output.startswith("error: ")
    assert row_counts(database) == before
