"""private_key_jwt with keys published at the application's jwks_uri, served by a real loopback HTTP server."""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from idp.cli import main
from idp.db import Database
from idp.directory import applications
from idp.errors import ValidationError
from idp.models import Tenant
from idp.oidc import client_keys
from idp.oidc.client_keys import ClientJwksCache, JwksFetchError

ISSUER = "http://127.0.0.1:5000/contoso"


class JwksServer:
    """Serves a JWK Set on loopback; tests change what it serves (keys, status, headers, delay, size)."""

    def __init__(self) -> None:
        self.keys: list[Any] = []
        self.status = 200
        self.cache_control: str | None = None
        self.delay = 0.0
        self.body: bytes | None = None
        self.hits = 0

        @Request.application
        def app(request: Request) -> Response:
            self.hits += 1
            time.sleep(self.delay)
            body = self.body if self.body is not None else json.dumps(
                KeySet(self.keys).as_dict(private=False)).encode()
            headers = {"Cache-Control": self.cache_control} if self.cache_control else {}
            return Response(body, self.status, headers, content_type="application/json")

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.port}/{secrets.token_hex(4)}/jwks.json"  # unique per test
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    server = JwksServer()
    yield server
    server.close()


def _key(kid: str) -> ECKey:
    return ECKey.generate_key("P-256", private=True, parameters={"kid": kid})


def _client(database: Database, tenant: Tenant, jwks_uri: str) -> str:
    with database.transaction() as s:
        created = applications.create_application(s, tenant, name="Key client", redirect_uris=[],
                                                  grant_types=["client_credentials"], scopes=["scim.read"],
                                                  jwks_uri=jwks_uri)
        assert created.client_secret is None
        assert created.application.token_endpoint_auth_method == "private_key_jwt"
        return created.application.client_id


def _token_request(client, client_id: str, key: ECKey) -> Any:  # type: ignore[no-untyped-def]
    now = int(time.time())
    assertion = jwt.encode({"alg": "ES256", "kid": key.kid}, {
        "iss": client_id, "sub": client_id, "aud": f"{ISSUER}/token", "iat": now, "exp": now + 60,
        "jti": uuid.uuid4().hex}, key)
    return client.post("/contoso/token", data={
        "grant_type": "client_credentials", "scope": "scim.read",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion})


def test_keys_come_from_the_jwks_uri_are_cached_and_a_rotated_key_is_picked_up(  # type: ignore[no-untyped-def]
    client, database, contoso, jwks_server: JwksServer
) -> None:
    old, new = _key("rp-2026-01"), _key("rp-2026-02")
    jwks_server.keys = [old]
    client_id = _client(database, contoso, jwks_server.url)
    assert _token_request(client, client_id, old).status_code == 200
    assert _token_request(client, client_id, old).status_code == 200
    assert jwks_server.hits == 1  # cached

    jwks_server.keys = [new]  # the client rotates its key
    time.sleep(client_keys.REFETCH_COOLDOWN)
    response = _token_request(client, client_id, new)
    assert response.status_code == 200, response.json  # unknown kid: fetched again, once
    assert jwks_server.hits == 2
    refused = _token_request(client, client_id, old)  # the retired key no longer works (within the cooldown)
    assert refused.status_code == 401 and refused.json["error"] == "invalid_client"
    assert jwks_server.hits == 2


def test_a_stream_of_unknown_kids_does_not_hammer_the_clients_server(  # type: ignore[no-untyped-def]
    client, database, contoso, jwks_server: JwksServer
) -> None:
    jwks_server.keys = [_key("real")]
    client_id = _client(database, contoso, jwks_server.url)
    for n in range(5):
        assert _token_request(client, client_id, _key(f"bogus-{n}")).status_code == 401
    assert jwks_server.hits == 1


@pytest.mark.parametrize(("setup", "message"), [
    (lambda s: setattr(s, "status", 503), "HTTP 503"),
    (lambda s: setattr(s, "body", b"<html>not json</html>"), "valid JWK Set"),
    (lambda s: setattr(s, "body", b'{"keys": [{"kty": "nope"}]}'), "valid JWK Set"),
    (lambda s: s.close(), "could not be reached"),
])
def test_a_failed_fetch_is_a_clear_invalid_client(client, database, contoso, jwks_server, setup, message) -> None:  # type: ignore[no-untyped-def]
    key = _key("k1")
    jwks_server.keys = [key]
    client_id = _client(database, contoso, jwks_server.url)
    setup(jwks_server)
    response = _token_request(client, client_id, key)
    assert response.status_code == 401 and response.json["error"] == "invalid_client"
    assert "WWW-Authenticate" in response.headers
    assert message in response.json["error_description"]


# -- the cache on its own (a fake clock) -------------------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(("cache_control", "ttl"), [
    ("max-age=120", 120), ("public, max-age=5", client_keys.MIN_TTL), ("max-age=999999", client_keys.MAX_TTL),
    (None, client_keys.DEFAULT_TTL), ("no-store", client_keys.MIN_TTL),
])
def test_the_cache_honours_max_age_within_bounds(jwks_server: JwksServer, cache_control, ttl) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    cache = ClientJwksCache(clock=clock)
    jwks_server.keys, jwks_server.cache_control = [_key("a")], cache_control
    cache.keys(jwks_server.url, production=False)
    clock.now += ttl - 1
    cache.keys(jwks_server.url, production=False)
    assert jwks_server.hits == 1
    clock.now += 2
    cache.keys(jwks_server.url, production=False)
    assert jwks_server.hits == 2


def test_unknown_kid_refetches_once_after_the_cooldown(jwks_server: JwksServer) -> None:
    clock = Clock()
    cache = ClientJwksCache(clock=clock, refetch_cooldown=10)
    jwks_server.keys = [_key("a")]
    cache.keys(jwks_server.url, production=False, kid="a")
    jwks_server.keys = [_key("b")]
    assert [k.kid for k in cache.keys(jwks_server.url, production=False, kid="b").keys] == ["a"]  # cooling down
    clock.now += 10
    assert [k.kid for k in cache.keys(jwks_server.url, production=False, kid="b").keys] == ["b"]
    assert jwks_server.hits == 2


def test_size_limit_and_timeout(jwks_server: JwksServer) -> None:
    jwks_server.keys = [RSAKey.generate_key(2048, parameters={"kid": f"k{n}"}) for n in range(4)]
    with pytest.raises(JwksFetchError, match="larger than 1000 bytes"):
        ClientJwksCache(max_bytes=1000).keys(jwks_server.url, production=False)
    jwks_server.delay = 0.5
    with pytest.raises(JwksFetchError, match="could not be reached"):
        ClientJwksCache(timeout=(0.2, 0.2)).keys(jwks_server.url, production=False)


@pytest.mark.parametrize(("uri", "production", "ok"), [
    ("https://rp.example.com/jwks", True, True),
    ("http://rp.example.com/jwks", True, False),
    ("https://127.0.0.1/jwks", True, False),
    ("http://127.0.0.1:9000/jwks", False, True),
    ("http://localhost/jwks", False, True),
    ("http://rp.example.com/jwks", False, False),
    ("https://rp.example.com/jwks", False, True),
    ("ftp://rp.example.com/jwks", False, False),
    ("https://rp.example.com/jwks#frag", False, False),
])
def test_jwks_uri_rules(uri: str, production: bool, ok: bool) -> None:
    if ok:
        assert applications.validate_jwks_uri(uri, production=production) == uri
    else:
        with pytest.raises(ValidationError):
            applications.validate_jwks_uri(uri, production=production)
        with pytest.raises(JwksFetchError):  # checked again when fetching
            ClientJwksCache().keys(uri, production=production)


def test_registration_refuses_jwks_and_jwks_uri_together_and_private_keys(database, contoso) -> None:  # type: ignore[no-untyped-def]
    key = _key("k")
    with database.transaction() as s:
        with pytest.raises(ValidationError, match="not both"):
            applications.create_application(s, contoso, name="x", redirect_uris=[], scopes=["scim.read"],
                                             grant_types=["client_credentials"], jwks_uri="https://rp.example/j",
                                             jwks=KeySet([key]).as_dict(private=False))
        with pytest.raises(ValidationError, match="public keys only"):
            applications.create_application(s, contoso, name="x", redirect_uris=[], scopes=["scim.read"],
                                            grant_types=["client_credentials"],
                                            jwks=KeySet([key]).as_dict(private=True))


def test_cli_client_create_with_jwks_uri(database, contoso, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {"PORTICO_DATABASE_URL": settings.database_url, "PORTICO_KEYS_DIR": str(tmp_path / "keys"),
           "PORTICO_INSTANCE_DIR": str(tmp_path / "instance"), "PORTICO_ENV": "development"}
    result = CliRunner().invoke(main, ["client", "create", "--tenant", "contoso", "--name", "Keys",
                                       "--grant-type", "client_credentials", "--scope", "scim.read",
                                       "--jwks-uri", "http://127.0.0.1:9/jwks", "--json"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["client_secret"] is None and data["token_endpoint_auth_method"] == "private_key_jwt"
    assert data["jwks_uri"] == "http://127.0.0.1:9/jwks"
    bad = CliRunner().invoke(main, ["client", "create", "--tenant", "contoso", "--name", "Keys",
                                    "--grant-type", "client_credentials", "--jwks-uri", "http://rp.example/jwks"],
                             env=env)
    assert bad.exit_code == 2 and "https" in bad.output
