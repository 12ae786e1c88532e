"""Redeem-URL tickets: opaque, 256-bit, stored as a SHA-256 digest (a slow hash buys nothing at this entropy)."""

from __future__ import annotations

import hashlib
import secrets
from urllib.parse import urlencode


def new_ticket() -> str:
    return secrets.token_urlsafe(32)


def ticket_digest(ticket: str) -> str:
    return "sha256$" + hashlib.sha256(ticket.encode()).hexdigest()


def redeem_url(issuer: str, tenant_id: str, invitation_id: str, ticket: str) -> str:
    """The §1.5 shape under the tenant's issuer: ``{issuer}/redeem?tenant=&user=&ticket=&ver=2.0``."""
    query = urlencode({"tenant": tenant_id, "user": invitation_id, "ticket": ticket, "ver": "2.0"})
    return f"{issuer}/redeem?{query}"
