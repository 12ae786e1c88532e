"""Provider state rules that are easiest to see at the service level: expiry and housekeeping."""

from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner
from oidc_support import assert_signed_out, login_and_get_code, signed_in_tokens
from sqlalchemy import func, select

from idp.cli import main
from idp.db import Database, utcnow
from idp.models import AuthorizationCode, RevokedAccessToken, SsoSession
from idp.oidc import store


def test_is_expired_is_the_single_expiry_rule() -> None:
    now = utcnow()
    assert store.is_expired(now, now) and store.is_expired(now - timedelta(seconds=1), now)
    assert not store.is_expired(now + timedelta(seconds=1), now)


def test_purge_removes_only_rows_nothing_can_use(client, rp, member, database: Database, contoso) -> None:  # type: ignore[no-untyped-def]
    login_and_get_code(client, rp)
    with database.transaction() as s:
        store.revoke_access_token(s, contoso.id, "old-jti", utcnow() - timedelta(minutes=1))
        store.revoke_access_token(s, contoso.id, "live-jti", utcnow() + timedelta(minutes=5))
    with database.transaction() as s:
        counts = store.purge_expired(s, now=utcnow())
    assert counts["revoked_access_tokens"] == 1 and counts["authorization_codes"] == 0
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(RevokedAccessToken)) == 1
        assert s.scalar(select(func.count()).select_from(AuthorizationCode)) == 1
        assert store.is_access_token_revoked(s, "live-jti")
        later = store.purge_expired(s, now=utcnow() + timedelta(days=30))
    assert later["authorization_codes"] == 1 and later["sso_sessions"] == 1
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(SsoSession)) == 0


def test_portico_oidc_purge_command(cli_env, database: Database, contoso) -> None:  # type: ignore[no-untyped-def]
    with database.transaction() as s:
        store.revoke_access_token(s, contoso.id, "old-jti", utcnow() - timedelta(minutes=1))
    result = CliRunner().invoke(main, ["oidc", "purge", "--json"])
    assert result.exit_code == 0, result.output
    assert '"revoked_access_tokens": 1' in result.output


def test_portico_oidc_revoke_sessions_signs_a_user_out_everywhere(client, rp, member, cli_env) -> None:  # type: ignore[no-untyped-def]
    tokens = signed_in_tokens(client, rp)
    result = CliRunner().invoke(main, ["oidc", "revoke-sessions", "--tenant", "contoso", "--user",
                                       "ada@contoso.com", "--json"])
    assert result.exit_code == 0, result.output
    assert '"sessions": 1' in result.output
    assert_signed_out(client, rp, tokens)
    unknown = CliRunner().invoke(main, ["oidc", "revoke-sessions", "--tenant", "contoso", "--user", "nobody@x.y"])
    assert unknown.exit_code == 2
