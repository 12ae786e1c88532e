"""Signed "Block future invitations" links: the token names the tenant and the address, and cannot be forged."""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer

from idp.directory.emails import normalize_email
from idp.errors import ValidationError

SALT = "portico.invitations.block"


def block_token(secret_key: str, tenant_id: str, email: str) -> str:
    return URLSafeSerializer(secret_key, salt=SALT).dumps({"t": tenant_id, "e": normalize_email(email)})


def read_block_token(secret_key: str, tenant_id: str, token: str) -> str:
    """The address a token was made for; refuses tokens of other tenants and tampered ones."""
    try:
        data = URLSafeSerializer(secret_key, salt=SALT).loads(token)
    except BadSignature:
        raise ValidationError("this link is not valid", field="token") from None
    if not isinstance(data, dict) or data.get("t") != tenant_id or not isinstance(data.get("e"), str):
        raise ValidationError("this link is not valid", field="token")
    return data["e"]


def block_url(issuer: str, secret_key: str, tenant_id: str, email: str) -> str:
    return f"{issuer}/invitations/block?token={block_token(secret_key, tenant_id, email)}"
