"""Where to go after signing in when no authorization request is waiting: a page of the same tenant only."""

from __future__ import annotations

from urllib.parse import urlsplit

from idp.models import Tenant


def safe_return_path(value: str | None, tenant: Tenant) -> str | None:
    """``value`` when it is a local path under ``/{tenant}/`` (no scheme, host or protocol-relative tricks)."""
    if not value or len(value) > 2048 or "\\" in value or any(ord(ch) < 0x20 for ch in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not parts.path.startswith(f"/{tenant.slug}/") or value.startswith("//"):
        return None
    return value
