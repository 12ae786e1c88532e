"""Signing keys: generation, file permissions, JWKS publication, rotation with overlap, retirement."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from idp.keys import KeyStore, KeyStoreError
from idp.models import Tenant


def sign(store: KeyStore, alg: str = "RS256") -> str:
    key = store.signing_key(alg)
    return jwt.encode({"alg": alg, "kid": key.kid}, {"sub": "x"}, key)


def verifies(token: str, jwks: dict) -> bool:
    try:
        jwt.decode(token, KeySet.import_key_set(jwks))
        return True
    except JoseError:
        return False


def test_keys_are_generated_private_and_complete(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys")
    store.ensure()
    infos = store.list()
    assert sorted((k.alg, k.status) for k in infos) == [
        ("ES256", "active"), ("ES256", "next"), ("RS256", "active"), ("RS256", "next")
    ]
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    for info in infos:
        assert stat.S_IMODE((tmp_path / "keys" / f"{info.kid}.pem").stat().st_mode) == 0o600
    public = store.public_jwks()["keys"]
    assert len(public) == 4 and all("d" not in k for k in public)
    store.ensure()  # idempotent
    assert store.list() == infos


def test_rotation_publishes_before_signing_and_keeps_old_until_retired(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys")
    store.ensure()
    old = store.signing_key("RS256").kid
    upcoming = next(k.kid for k in store.list() if k.alg == "RS256" and k.status == "next")
    assert upcoming in {k["kid"] for k in store.public_jwks()["keys"]}  # published before it signs
    token = sign(store)

    store.rotate()
    assert store.signing_key("RS256").kid == upcoming
    kids = {k["kid"] for k in store.public_jwks()["keys"]}
    assert {old, upcoming} <= kids
    assert verifies(token, store.public_jwks())
    new_token = sign(store)

    store.retire()
    kids = {k["kid"] for k in store.public_jwks()["keys"]}
    assert old not in kids and upcoming in kids
    assert not verifies(token, store.public_jwks())
    assert verifies(new_token, store.public_jwks())
    assert not (tmp_path / "keys" / f"{old}.pem").exists()


def test_only_previous_keys_can_be_retired(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys")
    store.ensure()
    with pytest.raises(KeyStoreError, match="only previous"):
        store.retire(store.signing_key().kid)
    with pytest.raises(KeyStoreError, match="no key"):
        store.retire("nope")


def test_another_process_sees_rotation(tmp_path: Path) -> None:
    first, second = KeyStore(tmp_path / "k"), KeyStore(tmp_path / "k")
    first.ensure()
    assert second.signing_key().kid == first.signing_key().kid
    first.rotate("RS256")
    assert second.signing_key().kid == first.signing_key().kid


def test_jwks_endpoint_serves_public_keys(client: FlaskClient, contoso: Tenant, keys_dir: Path) -> None:
    response = client.get("/contoso/.well-known/jwks.json")
    assert response.status_code == 200
    body = response.json
    assert {k["kid"] for k in body["keys"]} == {k.kid for k in KeyStore(keys_dir).list()}
    assert all("d" not in k for k in body["keys"])
    assert {k["alg"] for k in body["keys"]} == {"RS256", "ES256"}
