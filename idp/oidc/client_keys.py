"""Client public keys published at a ``jwks_uri`` (``private_key_jwt``, RFC 7523 / OIDC Core §9).

Keys are fetched over HTTP(S) and cached per process: for the response's ``Cache-Control: max-age`` clamped to
[``MIN_TTL``, ``MAX_TTL``] (``DEFAULT_TTL`` when it names none). An assertion signed with a ``kid`` the cached set
lacks triggers one refetch (the client rotated its key), at most once per ``REFETCH_COOLDOWN`` per URI so a
stream of bogus ``kid`` values cannot turn Portico into a load generator against the client's server.

Fetching follows the rules for other URLs (:func:`idp.directory.applications.validate_jwks_uri`): https only in
production; plain http to a loopback host in development. No redirects, short timeouts, a size limit.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from werkzeug.http import parse_cache_control_header

from idp.directory.applications import validate_jwks_uri
from idp.errors import ValidationError

DEFAULT_TTL = 300.0
MIN_TTL = 60.0
MAX_TTL = 3600.0
REFETCH_COOLDOWN = 1.0
TIMEOUT = (3.05, 5.0)  # connect, read (seconds, per socket operation)
TOTAL_TIMEOUT = 8.0  # the whole body, so a slow drip cannot hold a token request
MAX_BYTES = 64 * 1024
log = logging.getLogger(__name__)


class JwksFetchError(Exception):
    """The client's JWKS could not be fetched or read; the message says why (shown in ``invalid_client``)."""


@dataclass(frozen=True)
class _Entry:
    keys: KeySet
    fetched_at: float
    expires_at: float


def ttl_from(cache_control: str | None) -> float:
    """Seconds to keep a JWKS: ``max-age`` within bounds; ``no-store``/``no-cache`` mean the minimum."""
    header = parse_cache_control_header(cache_control)
    if header.no_store or header.no_cache:
        return MIN_TTL
    if header.max_age is None:
        return DEFAULT_TTL
    return min(max(float(header.max_age), MIN_TTL), MAX_TTL)


class ClientJwksCache:
    def __init__(self, *, http: requests.Session | None = None, clock: Callable[[], float] = time.monotonic,
                 refetch_cooldown: float = REFETCH_COOLDOWN, max_bytes: int = MAX_BYTES,
                 timeout: tuple[float, float] = TIMEOUT) -> None:
        self.http = http  # None: a plain requests.get per fetch (a shared Session is not thread-safe)
        self.clock = clock
        self.refetch_cooldown = refetch_cooldown
        self.max_bytes = max_bytes
        self.timeout = timeout
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def keys(self, uri: str, *, production: bool, kid: str | None = None) -> KeySet:
        """The key set at ``uri`` (cached); refetched once when ``kid`` is not in the cached set."""
        try:
            validate_jwks_uri(uri, production=production)
        except ValidationError as exc:
            raise JwksFetchError(str(exc)) from None
        now = self.clock()
        entry = self._entries.get(uri)
        if entry is None or entry.expires_at <= now:
            entry = self._fetch(uri)
        elif kid and not _has_kid(entry.keys, kid) and now - entry.fetched_at >= self.refetch_cooldown:
            entry = self._fetch(uri)
        return entry.keys

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _fetch(self, uri: str) -> _Entry:
        try:
            with (self.http or requests).get(uri, timeout=self.timeout, stream=True, allow_redirects=False,
                               headers={"Accept": "application/jwk-set+json, application/json"}) as response:
                if response.status_code != 200:
                    raise JwksFetchError(f"the jwks_uri answered HTTP {response.status_code}")
                body = _read_limited(response, self.max_bytes)
                cache_control = response.headers.get("Cache-Control")
        except requests.RequestException as exc:
            log.warning("client jwks_uri %s could not be fetched: %s", uri, exc)
            raise JwksFetchError(f"the jwks_uri could not be reached ({type(exc).__name__})") from None
        try:
            document = json.loads(body)
            if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
                raise ValueError("no keys array")
            keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
        except (ValueError, TypeError, KeyError, JoseError) as exc:
            raise JwksFetchError(f"the jwks_uri does not serve a valid JWK Set ({exc})") from None
        now = self.clock()
        entry = _Entry(keys, now, now + ttl_from(cache_control))
        with self._lock:
            self._entries[uri] = entry
        return entry


def _read_limited(response: requests.Response, limit: int) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise JwksFetchError(f"the JWK Set is larger than {limit} bytes")
    chunks, size, deadline = [], 0, time.monotonic() + TOTAL_TIMEOUT
    for chunk in response.iter_content(8192):
        size += len(chunk)
        if size > limit:
            raise JwksFetchError(f"the JWK Set is larger than {limit} bytes")
        if time.monotonic() > deadline:
            raise JwksFetchError("the jwks_uri took too long to answer")
        chunks.append(chunk)
    return b"".join(chunks)


def _has_kid(keys: KeySet, kid: str) -> bool:
    return any(key.kid == kid for key in keys.keys)


_process_cache = ClientJwksCache()


def client_jwks_cache() -> ClientJwksCache:
    """This process's cache (every request of every app in the process shares it)."""
    return _process_cache
