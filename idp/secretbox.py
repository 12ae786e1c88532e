"""Keys derived from ``PORTICO_SECRET_KEY`` (HKDF-SHA256, one key per purpose) and authenticated encryption
for upstream secrets that must stay usable (AES-256-GCM, each ciphertext bound to its owner by associated data).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = "v1"
NONCE_BYTES = 12


class SecretBoxError(ValueError):
    """A ciphertext could not be opened: wrong key (PORTICO_SECRET_KEY changed), wrong owner, or tampering."""


def derive_key(secret_key: str, purpose: str, length: int = 32) -> bytes:
    """A key for one purpose only, so a leak of one derived key does not expose the others."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=b"portico/v1", info=purpose.encode()).derive(
        secret_key.encode()
    )


def keyed_digest(key: bytes, message: str) -> str:
    """HMAC-SHA256 in hex: how short secrets (one-time codes) are stored."""
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def digests_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class SecretBox:
    def __init__(self, secret_key: str, purpose: str) -> None:
        self._aead = AESGCM(derive_key(secret_key, purpose))

    def seal(self, plaintext: str, *, context: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return f"{VERSION}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def open(self, token: str, *, context: str) -> str:
        version, _, body = token.partition(".")
        if version != VERSION or not body:
            raise SecretBoxError("unknown ciphertext format")
        try:
            raw = base64.urlsafe_b64decode(body.encode())
            return self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode()).decode()
        except (InvalidTag, ValueError):
            raise SecretBoxError(
                "the stored secret cannot be decrypted (was PORTICO_SECRET_KEY changed?)"
            ) from None
