"""``portico mfa reset --tenant T --user U``."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pyotp
from click.testing import CliRunner
from sqlalchemy import select

from idp.cli import main
from idp.config import Settings
from idp.db import Database
from idp.directory import users
from idp.mfa import service
from idp.models import AuditEvent, Tenant


def test_reset_by_email_then_nothing_left(settings: Settings, database: Database, contoso: Tenant, tmp_path) -> None:
    now = datetime.now(UTC)
    with database.transaction() as s:
        user = users.create_member(s, contoso, "ada@contoso.com")
        secret = service.begin_enrolment(s, contoso, user, secret_key=settings.secret_key).secret
        assert service.confirm_enrolment(s, contoso, user, pyotp.TOTP(secret).at(now),
                                         secret_key=settings.secret_key, now=now)[0].ok
        user_id = user.id
    env = {"PORTICO_DATABASE_URL": settings.database_url, "PORTICO_KEYS_DIR": str(tmp_path / "keys"),
           "PORTICO_INSTANCE_DIR": str(tmp_path / "instance"), "PORTICO_BASE_URL": "http://127.0.0.1:5000",
           "PORTICO_ENV": "development"}
    runner = CliRunner()
    result = runner.invoke(main, ["mfa", "reset", "--tenant", "contoso", "--user", "ada@contoso.com", "--json"],
                           env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"userId": user_id, "userPrincipalName": "ada@contoso.com", "reset": True}
    with database.sessionmaker() as s:
        assert not service.is_enrolled(s, contoso, users.get_user(s, contoso, user_id))
        assert s.scalar(select(AuditEvent).where(AuditEvent.activity == "Reset MFA")).actor == "cli"
    again = runner.invoke(main, ["mfa", "reset", "--tenant", "contoso", "--user", user_id], env=env)
    assert again.exit_code == 0 and "had no MFA registered" in again.output
    unknown = runner.invoke(main, ["mfa", "reset", "--tenant", "contoso", "--user", "nobody@contoso.com"], env=env)
    assert unknown.exit_code == 2 and "nobody@contoso.com" in unknown.output
