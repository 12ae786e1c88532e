"""Settings from PORTICO_* environment variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from idp.config import ConfigError, load_settings


def test_defaults_and_persisted_secret(tmp_path: Path) -> None:
    env = {"PORTICO_INSTANCE_DIR": str(tmp_path / "inst")}
    first = load_settings(env, cwd=tmp_path)
    assert first.base_url == "http://127.0.0.1:5000"
    assert first.database_url == f"sqlite:///{tmp_path / 'inst' / 'portico.db'}"
    assert first.keys_dir == tmp_path / "keys"
    assert first.env == "development"
    assert first.issuer_for("contoso") == "http://127.0.0.1:5000/contoso"
    secret_file = tmp_path / "inst" / "secret_key"
    assert secret_file.stat().st_mode & 0o077 == 0
    assert load_settings(env, cwd=tmp_path).secret_key == first.secret_key  # persisted, not regenerated


def test_explicit_values(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "PORTICO_DATABASE_URL": "postgresql+psycopg://u@db/portico",
            "PORTICO_BASE_URL": "https://id.example.com/",
            "PORTICO_SECRET_KEY": "s" * 32,
            "PORTICO_KEYS_DIR": str(tmp_path / "k"),
            "PORTICO_TENANT_DOMAIN_SUFFIX": "Id.Example.COM",
            "PORTICO_ENV": "production",
            "PORTICO_SMTP_HOST": "mail.example.com",
            "PORTICO_SMTP_PORT": "587",
            "PORTICO_SMTP_STARTTLS": "true",
            "PORTICO_SMTP_USERNAME": "portico",
            "PORTICO_SMTP_PASSWORD": "pw",
            "PORTICO_MAIL_FROM": "Portico <id@example.com>",
            "PORTICO_CACHE_SECONDS": "0.5",
            "PORTICO_SQLITE_SYNCHRONOUS": "Full",
        },
        cwd=tmp_path,
    )
    assert settings.base_url == "https://id.example.com"
    assert settings.issuer_for("contoso") == "https://id.example.com/contoso"
    assert settings.tenant_domain_suffix == "id.example.com"
    assert settings.is_production
    assert (settings.smtp.host, settings.smtp.port, settings.smtp.starttls) == ("mail.example.com", 587, True)
    assert settings.smtp.mail_from == "Portico <id@example.com>"
    assert settings.cache_seconds == 0.5
    assert settings.sqlite_synchronous == "FULL"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PORTICO_ENV": "staging"}, "PORTICO_ENV"),
        ({"PORTICO_ENV": "production", "PORTICO_BASE_URL": "http://id.example.com"}, "https"),
        ({"PORTICO_ENV": "production", "PORTICO_BASE_URL": "https://127.0.0.1"}, "loopback"),
        ({"PORTICO_ENV": "production", "PORTICO_BASE_URL": "https://localhost:5000"}, "loopback"),
        ({"PORTICO_BASE_URL": "not a url"}, "PORTICO_BASE_URL"),
        ({"PORTICO_BASE_URL": "https://x.example/?a=1"}, "query"),
        ({"PORTICO_SMTP_PORT": "seventy"}, "PORTICO_SMTP_PORT"),
        ({"PORTICO_SMTP_PORT": "70000"}, "PORTICO_SMTP_PORT"),
        ({"PORTICO_SMTP_STARTTLS": "maybe"}, "PORTICO_SMTP_STARTTLS"),
        ({"PORTICO_SECRET_KEY": "short"}, "PORTICO_SECRET_KEY"),
        ({"PORTICO_DATABASE_URL": "portico.db"}, "PORTICO_DATABASE_URL"),
        ({"PORTICO_TENANT_DOMAIN_SUFFIX": "a b"}, "PORTICO_TENANT_DOMAIN_SUFFIX"),
        ({"PORTICO_CACHE_SECONDS": "two"}, "PORTICO_CACHE_SECONDS"),
        ({"PORTICO_SQLITE_SYNCHRONOUS": "off"}, "PORTICO_SQLITE_SYNCHRONOUS"),
        ({"PORTICO_CACHE_SECONDS": "-1"}, "PORTICO_CACHE_SECONDS"),
        ({"PORTICO_CACHE_SECONDS": "nan"}, "PORTICO_CACHE_SECONDS"),
        ({"PORTICO_CACHE_SECONDS": "301"}, "PORTICO_CACHE_SECONDS"),
    ],
)
def test_bad_values_name_the_variable(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings({"PORTICO_INSTANCE_DIR": str(tmp_path)} | env, cwd=tmp_path)


def test_development_allows_http_loopback(tmp_path: Path) -> None:
    settings = load_settings({"PORTICO_BASE_URL": "http://localhost:8080", "PORTICO_INSTANCE_DIR": str(tmp_path)})
    assert settings.base_url == "http://localhost:8080"
