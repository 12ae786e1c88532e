"""`portico client create ... --scope scim.read --scope scim.write` registers a SCIM provisioning client."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from idp.cli import main
from idp.config import Settings
from idp.models import Tenant


def test_client_create_with_scim_scopes(settings: Settings, contoso: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"PORTICO_DATABASE_URL": settings.database_url, "PORTICO_KEYS_DIR": str(settings.keys_dir),
                        "PORTICO_INSTANCE_DIR": str(settings.instance_dir), "PORTICO_SECRET_KEY": settings.secret_key,
                        "PORTICO_TENANT_DOMAIN_SUFFIX": settings.tenant_domain_suffix}.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["client", "create", "--tenant", "contoso", "--name", "File sync",
                                       "--grant-type", "client_credentials", "--scope", "scim.read",
                                       "--scope", "scim.write", "--json"])
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert created["scopes"] == ["scim.read", "scim.write"]
    assert created["grant_types"] == ["client_credentials"]
    assert created["client_secret"]
