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


def test_a_token_checked_once_is_refused_once_its_key_is_retired(store: KeyStore) -> None:
    """Signatures are checked once per token and key set (idp.tokens._CHECKED); retiring the key that
    signed a token (another key set) makes the next verification check it again, and refuse it."""
    token = mint(store)
    assert verify_access_token(store, token, issuer=ISS)["tid"] == "t1"
    assert verify_access_token(store, token, issuer=ISS)["tid"] == "t1"  # from the checked tokens
    store.rotate("RS256")
    assert verify_access_token(store, token, issuer=ISS)["tid"] == "t1"  # its key is still published
    store.retire()
    with pytest.raises(InvalidToken, match="badly signed"):
        verify_access_token(store, token, issuer=ISS)


def test_claims_and_revocation_are_checked_on_every_verification(store: KeyStore) -> None:
    token = mint(store, lifetime=60)
    claims = verify_access_token(store, token, issuer=ISS, audience=ISS)
    claims["scope"] = "changed by the caller"  # a copy: the next caller sees the token's own claims
    assert token_scopes(verify_access_token(store, token, issuer=ISS)) == {"scim.read", "scim.write"}
    with pytest.raises(InvalidToken, match="exp"):
        verify_access_token(store, token, issuer=ISS, now=int(claims["exp"]) + 120)
    with pytest.raises(InvalidToken, match="iss"):
        verify_access_token(store, token, issuer="http://127.0.0.1:5000/fabrikam")
    with pytest.raises(InvalidToken, match="aud"):
        verify_access_token(store, token, issuer=ISS, audience="https://other")
    with pytest.raises(InvalidToken, match="revoked"):
        verify_access_token(store, token, issuer=ISS, is_revoked=lambda jti: True)


def test_a_token_of_another_type_is_refused_every_time(store: KeyStore) -> None:
    from joserfc import jwt

    key = store.signing_key("RS256")
    claims = {"iss": ISS, "exp": 4_000_000_000, "jti": "j1", "aud": ISS}
    id_token = jwt.encode({"alg": "RS256", "typ": "JWT", "kid": key.kid}, claims, key)
    for _ in range(2):
        with pytest.raises(InvalidToken, match="not an access token"):
            verify_access_token(store, id_token, issuer=ISS)
