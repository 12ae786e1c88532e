"""Typed settings read from ``PORTICO_*`` environment variables.

Every value from the environment is validated here, once, so the rest of the code can trust ``Settings``.
A bad value raises :class:`ConfigError` with a one-line message naming the variable.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

ENVIRONMENTS = ("development", "production")
DEFAULT_BASE_URL = "http://127.0.0.1:5000"
DEFAULT_DOMAIN_SUFFIX = "portico.example"
DEFAULT_CACHE_SECONDS = 2.0


class ConfigError(ValueError):
    """A setting from the environment is missing or malformed."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str | None = None
    port: int = 25
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    mail_from: str = "Portico <no-reply@portico.example>"


@dataclass(frozen=True)
class Settings:
    database_url: str
    base_url: str
    secret_key: str
    keys_dir: Path
    instance_dir: Path
    tenant_domain_suffix: str = DEFAULT_DOMAIN_SUFFIX
    env: str = "development"
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    cache_seconds: float = DEFAULT_CACHE_SECONDS
    sqlite_synchronous: str = "NORMAL"

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    def issuer_for(self, tenant_slug: str) -> str:
        """The OIDC issuer of a tenant: exactly ``{base_url}/{slug}``."""
        return f"{self.base_url}/{tenant_slug}"

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def _parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _parse_port(name: str, raw: str) -> int:
    try:
        port = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a port number, got {raw!r}") from None
    if not 0 < port < 65536:
        raise ConfigError(f"{name} must be between 1 and 65535, got {port}")
    return port


def _parse_seconds(name: str, raw: str | None, default: float, *, maximum: float) -> float:
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not 0 <= value <= maximum:
        raise ConfigError(f"{name} must be between 0 and {maximum:g} seconds, got {raw!r}")
    return value


def is_loopback_host(host: str) -> bool:
    if host in ("localhost",) or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url_allowed(url: str, env: str, what: str) -> str:
    """Validate an absolute http(s) URL; production refuses plain http and loopback hosts."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{what} must be an absolute http(s) URL, got {url!r}")
    if parts.query or parts.fragment:
        raise ConfigError(f"{what} must not carry a query or fragment, got {url!r}")
    if env == "production":
        if parts.scheme != "https":
            raise ConfigError(f"{what} must use https when PORTICO_ENV=production, got {url!r}")
        if is_loopback_host(parts.hostname):
            raise ConfigError(f"{what} must not be a loopback address when PORTICO_ENV=production")
    return url


def _load_or_create_secret(instance_dir: Path) -> str:
    path = instance_dir / "secret_key"
    if path.exists():
        value = path.read_text().strip()
        if value:
            return value
    instance_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def load_settings(environ: Mapping[str, str] | None = None, *, cwd: Path | None = None) -> Settings:
    """Read settings from ``environ`` (default: ``os.environ``), validating every value."""
    env_vars = os.environ if environ is None else environ
    root = cwd or Path.cwd()

    env = env_vars.get("PORTICO_ENV", "development").strip() or "development"
    if env not in ENVIRONMENTS:
        raise ConfigError(f"PORTICO_ENV must be one of {', '.join(ENVIRONMENTS)}, got {env!r}")

    instance_dir = Path(env_vars.get("PORTICO_INSTANCE_DIR") or root / "instance").resolve()
    keys_dir = Path(env_vars.get("PORTICO_KEYS_DIR") or root / "keys").resolve()

    base_url = (env_vars.get("PORTICO_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
    check_url_allowed(base_url, env, "PORTICO_BASE_URL")

    database_url = env_vars.get("PORTICO_DATABASE_URL") or f"sqlite:///{instance_dir / 'portico.db'}"
    if "://" not in database_url:
        raise ConfigError(f"PORTICO_DATABASE_URL must be a SQLAlchemy URL, got {database_url!r}")

    suffix = (env_vars.get("PORTICO_TENANT_DOMAIN_SUFFIX") or DEFAULT_DOMAIN_SUFFIX).strip().lower().strip(".")
    if not suffix or " " in suffix or "/" in suffix:
        raise ConfigError(f"PORTICO_TENANT_DOMAIN_SUFFIX must be a DNS suffix, got {suffix!r}")

    secret_key = env_vars.get("PORTICO_SECRET_KEY") or _load_or_create_secret(instance_dir)
    if len(secret_key) < 16:
        raise ConfigError("PORTICO_SECRET_KEY must be at least 16 characters long")

    smtp_host = env_vars.get("PORTICO_SMTP_HOST") or None
    smtp = SmtpSettings(
        host=smtp_host,
        port=_parse_port("PORTICO_SMTP_PORT", env_vars.get("PORTICO_SMTP_PORT", "25")),
        username=env_vars.get("PORTICO_SMTP_USERNAME") or None,
        password=env_vars.get("PORTICO_SMTP_PASSWORD") or None,
        starttls=_parse_bool("PORTICO_SMTP_STARTTLS", env_vars.get("PORTICO_SMTP_STARTTLS", "false")),
        mail_from=env_vars.get("PORTICO_MAIL_FROM") or f"Portico <no-reply@{suffix}>",
    )
    synchronous = (env_vars.get("PORTICO_SQLITE_SYNCHRONOUS") or "normal").strip().upper()
    if synchronous not in ("NORMAL", "FULL"):
        raise ConfigError(f"PORTICO_SQLITE_SYNCHRONOUS must be normal or full, got {synchronous.lower()!r}")
    return Settings(
        sqlite_synchronous=synchronous,
        cache_seconds=_parse_seconds("PORTICO_CACHE_SECONDS", env_vars.get("PORTICO_CACHE_SECONDS"),
                                     DEFAULT_CACHE_SECONDS, maximum=300),
        database_url=database_url,
        base_url=base_url,
        secret_key=secret_key,
        keys_dir=keys_dir,
        instance_dir=instance_dir,
        tenant_domain_suffix=suffix,
        env=env,
        smtp=smtp,
    )
