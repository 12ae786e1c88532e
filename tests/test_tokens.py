"""The access-token contract shared by the token endpoint and Portico's resource servers."""

from __future__ import annotations

from pathlib import Path

import pytest

from idp.keys import KeyStore
from idp.tokens import InvalidToken, issue_access_token, token_scopes, verify_access_token

ISS = "http://127.0.0.1:5000/contoso"


@pytest.fixture
def store(tmp_path: Path) -> KeyStore:
    store = KeyStore(tmp_path / "keys")
    store.ensure()
    return store


def mint(store: KeyStore, **overrides) -> str:
    args = {"issuer": ISS, "tenant_id": "t1", "subject": "c1", "client_id": "c1", "audience": ISS,
            "scopes": ["scim.read", "scim.write"]} | overrides
    return issue_access_token(store, **args)[0]


def test_round_trip(store: KeyStore) -> None:
    claims = verify_access_token(store, mint(store), issuer=ISS, audience=ISS)
    assert claims["tid"] == "t1" and token_scopes(claims) == {"scim.read", "scim.write"}


@pytest.mark.parametrize(
    ("token_args", "verify_args", "message"),
    [
        ({}, {"issuer": "http://127.0.0.1:5000/fabrikam"}, "iss"),
        ({}, {"audience": "https://other"}, "aud"),
        ({"lifetime": -120}, {}, "exp"),
    ],
)
def test_rejections(store: KeyStore, token_args: dict, verify_args: dict, message: str) -> None:
    token = mint(store, **token_args)
    with pytest.raises(InvalidToken, match=message):
        verify_access_token(store, token, **({"issuer": ISS, "audience": ISS} | verify_args))


def test_garbage_and_revoked(store: KeyStore) -> None:
    with pytest.raises(InvalidToken):
        verify_access_token(store, "not.a.jwt", issuer=ISS)
    with pytest.raises(InvalidToken, match="revoked"):
        verify_access_token(store, mint(store), issuer=ISS, is_revoked=lambda jti: True)


def test_foreign_key_rejected(store: KeyStore, tmp_path: Path) -> None:
    other = KeyStore(tmp_path / "other")
    other.ensure()
    with pytest.raises(InvalidToken):
        verify_access_token(store, mint(other), issuer=ISS)
