"""Signing keys on disk (``PORTICO_KEYS_DIR``), their rotation and the published JWKS.

One key set serves the whole deployment; every tenant publishes it at ``/{tenant}/.well-known/jwks.json``.
Tokens cannot be confused across tenants because each carries its tenant's ``iss`` (and ``tid``).

For each algorithm (RS256, ES256) the store keeps:

* ``active``   - signs new tokens and is published;
* ``next``     - published but not yet signing, so caches of relying parties hold it before it signs;
* ``previous`` - no longer signs, still published so tokens it signed keep verifying until it is retired.

``rotate`` promotes next -> active and active -> previous and creates a new next key; ``retire`` deletes
previous keys. The manifest (``keys.json``) is replaced atomically and re-read when it changes on disk, so
several processes sharing the folder agree on the active key.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from joserfc.jwk import ECKey, KeySet, RSAKey

ALGORITHMS = ("RS256", "ES256")
STATUSES = ("active", "next", "previous")
MANIFEST = "keys.json"
KeyObject = RSAKey | ECKey


class KeyStoreError(Exception):
    """The keys folder is unusable or an operation names a key that cannot take it."""


@dataclass(frozen=True)
class KeyInfo:
    kid: str
    alg: str
    status: str
    created_at: str

    def as_dict(self) -> dict[str, str]:
        return {"kid": self.kid, "alg": self.alg, "status": self.status, "created_at": self.created_at}


def _generate(alg: str) -> KeyObject:
    if alg == "RS256":
        return RSAKey.generate_key(2048, private=True)
    if alg == "ES256":
        return ECKey.generate_key("P-256", private=True)
    raise KeyStoreError(f"unsupported algorithm {alg!r}")


def _import(alg: str, pem: bytes, kid: str) -> KeyObject:
    params = {"kid": kid, "alg": alg, "use": "sig"}
    if alg == "RS256":
        return RSAKey.import_key(pem, params)
    return ECKey.import_key(pem, params)


class KeyStore:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._manifest_path = self.directory / MANIFEST  # stat()ed before every signature: built once
        self._lock = threading.Lock()
        self._loaded_mtime: int | None = None
        self._entries: list[KeyInfo] = []
        self._keys: dict[str, KeyObject] = {}
        self._verification: KeySet | None = None  # the public key set of the loaded keys, built once per load

    # -- files -------------------------------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self._manifest_path

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """A cross-process lock for changes to the folder."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.directory / ".lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _read_manifest(self) -> list[KeyInfo]:
        if not self.manifest_path.exists():
            return []
        try:
            data = json.loads(self.manifest_path.read_text())
            return [KeyInfo(**entry) for entry in data["keys"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise KeyStoreError(f"{self.manifest_path} is not a valid key manifest: {exc}") from None

    def _write_manifest(self, entries: list[KeyInfo]) -> None:
        tmp = self.manifest_path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"keys": [e.as_dict() for e in entries]}, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.manifest_path)

    def _new_key(self, alg: str, status: str) -> KeyInfo:
        key = _generate(alg)
        kid = key.thumbprint()
        path = self.directory / f"{kid}.pem"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key.as_pem(private=True))
        return KeyInfo(kid=kid, alg=alg, status=status, created_at=datetime.now(UTC).isoformat(timespec="seconds"))

    def _reload_if_changed(self) -> None:
        try:
            mtime = self.manifest_path.stat().st_mtime_ns
        except FileNotFoundError:
            mtime = None
        if mtime == self._loaded_mtime and (self._entries or mtime is None):
            return
        entries = self._read_manifest()
        keys: dict[str, KeyObject] = {}
        for entry in entries:
            try:
                pem = (self.directory / f"{entry.kid}.pem").read_bytes()
            except OSError as exc:
                raise KeyStoreError(f"key file for {entry.kid} is missing: {exc}") from None
            keys[entry.kid] = _import(entry.alg, pem, entry.kid)
        self._entries, self._keys, self._loaded_mtime = entries, keys, mtime
        self._verification = None

    def _mutate(self, change: Any) -> list[KeyInfo]:
        with self._lock, self._exclusive():
            entries = self._read_manifest()
            new_entries, doomed = change(entries)
            self._write_manifest(new_entries)
            for kid in doomed:
                (self.directory / f"{kid}.pem").unlink(missing_ok=True)
            self._loaded_mtime = None
            self._entries = []
            return new_entries

    # -- operations --------------------------------------------------------------------------------------
    def _missing(self, entries: list[KeyInfo]) -> list[tuple[str, str]]:
        return [(alg, status) for alg in ALGORITHMS for status in ("active", "next")
                if not any(e.alg == alg and e.status == status for e in entries)]

    def ensure(self) -> list[KeyInfo]:
        """Create whatever is missing: an active and a next key for each algorithm. Safe to repeat, and cheap
        when nothing is missing (keys are then loaded lazily, on first use)."""
        try:
            current = self._read_manifest()
        except KeyStoreError:
            current = []
        if current and not self._missing(current):
            return current

        def change(entries: list[KeyInfo]) -> tuple[list[KeyInfo], list[str]]:
            result = list(entries)
            for alg, status in self._missing(entries):
                result.append(self._new_key(alg, status))
            return result, []

        return self._mutate(change)

    def rotate(self, alg: str | None = None) -> list[KeyInfo]:
        algs = self._algs(alg)

        def change(entries: list[KeyInfo]) -> tuple[list[KeyInfo], list[str]]:
            result: list[KeyInfo] = []
            for e in entries:
                if e.alg in algs and e.status == "active":
                    result.append(KeyInfo(e.kid, e.alg, "previous", e.created_at))
                elif e.alg in algs and e.status == "next":
                    result.append(KeyInfo(e.kid, e.alg, "active", e.created_at))
                else:
                    result.append(e)
            for a in algs:
                if not any(e.alg == a and e.status == "active" for e in result):
                    result.append(self._new_key(a, "active"))
                result.append(self._new_key(a, "next"))
            return result, []

        return self._mutate(change)

    def retire(self, kid: str | None = None) -> list[KeyInfo]:
        """Unpublish and delete previous keys (all of them, or the one named ``kid``)."""

        def change(entries: list[KeyInfo]) -> tuple[list[KeyInfo], list[str]]:
            if kid is not None:
                match = [e for e in entries if e.kid == kid]
                if not match:
                    raise KeyStoreError(f"no key {kid!r}")
                if match[0].status != "previous":
                    raise KeyStoreError(f"key {kid!r} is {match[0].status}; only previous keys can be retired")
            doomed = [e.kid for e in entries if e.status == "previous" and (kid is None or e.kid == kid)]
            return [e for e in entries if e.kid not in doomed], doomed

        return self._mutate(change)

    def _algs(self, alg: str | None) -> tuple[str, ...]:
        if alg is None:
            return ALGORITHMS
        if alg not in ALGORITHMS:
            raise KeyStoreError(f"unsupported algorithm {alg!r}; use one of {', '.join(ALGORITHMS)}")
        return (alg,)

    # -- reading -----------------------------------------------------------------------------------------
    def list(self) -> list[KeyInfo]:
        with self._lock:
            self._reload_if_changed()
            return list(self._entries)

    def signing_key(self, alg: str = "RS256") -> KeyObject:
        with self._lock:
            self._reload_if_changed()
            for entry in self._entries:
                if entry.alg == alg and entry.status == "active":
                    return self._keys[entry.kid]
        raise KeyStoreError(f"no active {alg} key in {self.directory}; run `portico init`")

    def public_jwks(self) -> dict[str, Any]:
        with self._lock:
            self._reload_if_changed()
            return self._jwks()

    def _jwks(self) -> dict[str, Any]:
        return {"keys": [self._keys[e.kid].as_dict(private=False) for e in self._entries]}

    def verification_keys(self) -> KeySet:
        """Every published key, public parts only, for verifying tokens this deployment signed (rebuilt when the
        manifest changes, like every other read)."""
        with self._lock:
            self._reload_if_changed()
            if self._verification is None:
                self._verification = KeySet.import_key_set(self._jwks())
            return self._verification

    def is_ready(self) -> bool:
        try:
            return all(self.signing_key(alg) is not None for alg in ALGORITHMS)
        except KeyStoreError:
            return False
