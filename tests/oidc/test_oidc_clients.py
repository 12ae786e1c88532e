"""Client authentication methods, client_credentials for Portico's APIs, response modes, ID token algorithms,
consent, tenant isolation and key rotation."""

from __future__ import annotations

import time
import uuid

from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet
from oidc_support import (
    RelyingParty,
    authorize_params,
    csrf_token,
    login_and_get_code,
    make_rp,
    pkce_pair,
    query_of,
    sign_in,
    signed_in_tokens,
)

from idp import create_app
from idp.db import Database
from idp.directory import applications, groups, users
from idp.keys import KeyStore
from idp.models import Tenant
from idp.tokens import token_scopes, verify_access_token

ISSUER = "http://127.0.0.1:5000/contoso"


def _scim_client(database: Database, tenant: Tenant, **columns) -> RelyingParty:  # type: ignore[no-untyped-def]
    return make_rp(database, tenant, grant_types=["client_credentials"], scopes=["scim.read", "scim.write"],
                   **columns)


def test_discovery_issuer_is_exactly_base_url_and_tenant(client: FlaskClient, contoso: Tenant) -> None:
    config = client.get("/contoso/.well-known/openid-configuration").json
    assert config["issuer"] == ISSUER
    assert config["jwks_uri"] == f"{ISSUER}/.well-known/jwks.json"
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert client.get("/.well-known/oauth-authorization-server/contoso").json["issuer"] == ISSUER
    assert client.get("/.well-known/oauth-authorization-server/nowhere").status_code == 404


def test_client_credentials_token_for_scim_has_the_issuer_as_audience(client, database, contoso, app) -> None:  # type: ignore[no-untyped-def]
    scim = _scim_client(database, contoso)
    response = client.post("/contoso/token", data={"grant_type": "client_credentials", "scope": "scim.read"},
                           auth=(scim.client_id, scim.client_secret))
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    body = response.json
    assert body["token_type"] == "Bearer" and "refresh_token" not in body and "id_token" not in body
    claims = verify_access_token(app.extensions["portico"].keys, body["access_token"], issuer=ISSUER,
                                 audience=ISSUER)
    assert token_scopes(claims) == {"scim.read"} and claims["sub"] == scim.client_id and claims["tid"] == contoso.id
    header = jwt.decode(body["access_token"], app.extensions["portico"].keys.verification_keys()).header
    assert header["typ"] == "at+jwt" and header["alg"] == "RS256"  # RFC 9068's mandatory algorithm by default


def test_access_tokens_are_es256_when_the_application_asks(client, database, contoso, app) -> None:  # type: ignore[no-untyped-def]
    scim = _scim_client(database, contoso, access_token_signed_response_alg="ES256")
    token = client.post("/contoso/token", data={"grant_type": "client_credentials", "scope": "scim.read"},
                        auth=(scim.client_id, scim.client_secret)).json["access_token"]
    keys = app.extensions["portico"].keys
    assert jwt.decode(token, keys.verification_keys()).header["alg"] == "ES256"
    assert verify_access_token(keys, token, issuer=ISSUER, audience=ISSUER)["sub"] == scim.client_id
    introspection = client.post("/contoso/introspect", data={"token": token},
                                auth=(scim.client_id, scim.client_secret)).json
    assert introspection["active"] is True
    scim_response = client.get("/contoso/scim/v2/Users", headers={"Authorization": f"Bearer {token}"})
    assert scim_response.status_code == 200  # a Portico resource server accepts it


def test_client_credentials_refuses_scopes_not_granted_and_openid(client, database, contoso) -> None:  # type: ignore[no-untyped-def]
    scim = _scim_client(database, contoso)
    for scope in ("directory.everything", "openid"):
        response = client.post("/contoso/token", data={"grant_type": "client_credentials", "scope": scope},
                               auth=(scim.client_id, scim.client_secret))
        assert response.status_code == 400 and response.json["error"] == "invalid_scope"


def test_configured_audience_is_kept_and_issuer_added_for_api_scopes(client, database, contoso, app) -> None:  # type: ignore[no-untyped-def]
    scim = _scim_client(database, contoso, access_token_audience="https://api.contoso.com")
    body = client.post("/contoso/token", data={"grant_type": "client_credentials", "scope": "scim.write"},
                       auth=(scim.client_id, scim.client_secret)).json
    claims = verify_access_token(app.extensions["portico"].keys, body["access_token"], issuer=ISSUER)
    assert claims["aud"] == ["https://api.contoso.com", ISSUER]


def test_client_secret_post_is_accepted(client, database, contoso) -> None:  # type: ignore[no-untyped-def]
    scim = _scim_client(database, contoso)
    response = client.post("/contoso/token", data={"grant_type": "client_credentials", "scope": "scim.read",
                                                   "client_id": scim.client_id, "client_secret": scim.client_secret})
    assert response.status_code == 200


def test_private_key_jwt_client_authentication_and_replay(client, database, contoso) -> None:  # type: ignore[no-untyped-def]
    key = ECKey.generate_key("P-256", private=True, parameters={"kid": "rp-key-1"})
    scim = _scim_client(database, contoso, token_endpoint_auth_method="private_key_jwt",
                        jwks=KeySet([key]).as_dict(private=False))
    now = int(time.time())
    assertion = jwt.encode({"alg": "ES256", "kid": "rp-key-1"}, {
        "iss": scim.client_id, "sub": scim.client_id, "aud": f"{ISSUER}/token", "iat": now, "exp": now + 60,
        "jti": uuid.uuid4().hex}, key)
    data = {"grant_type": "client_credentials", "scope": "scim.read",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion}
    assert client.post("/contoso/token", data=data).status_code == 200
    replay = client.post("/contoso/token", data=data)
    assert replay.status_code == 401 and replay.json["error"] == "invalid_client"
    # and the secret no longer works for a private_key_jwt client
    basic = client.post("/contoso/token", data={"grant_type": "client_credentials"},
                        auth=(scim.client_id, scim.client_secret))
    assert basic.status_code == 401


def test_public_client_uses_none_with_pkce_which_is_required(client, database, contoso, member) -> None:  # type: ignore[no-untyped-def]
    spa = make_rp(database, contoso, public=True)
    no_pkce = client.get("/contoso/authorize", query_string=authorize_params(spa))
    assert query_of(no_pkce.headers["Location"])["error"] == "invalid_request"
    verifier, challenge = pkce_pair()
    code = login_and_get_code(client, spa, challenge)["code"]
    response = client.post("/contoso/token", data={"grant_type": "authorization_code", "code": code,
                                                   "redirect_uri": spa.redirect_uri, "client_id": spa.client_id,
                                                   "code_verifier": verifier})
    assert response.status_code == 200 and "id_token" in response.json


def test_wrong_pkce_verifier_is_invalid_grant(client, rp, member) -> None:  # type: ignore[no-untyped-def]
    _verifier, challenge = pkce_pair()
    code = login_and_get_code(client, rp, challenge)["code"]
    response = client.post("/contoso/token", data={"grant_type": "authorization_code", "code": code,
                                                   "redirect_uri": rp.redirect_uri, "code_verifier": "x" * 50},
                           auth=(rp.client_id, rp.client_secret))
    assert response.json["error"] == "invalid_grant"


def test_form_post_response_mode_posts_code_state_and_iss(client, rp, member) -> None:  # type: ignore[no-untyped-def]
    login_and_get_code(client, rp)
    response = client.get("/contoso/authorize", query_string=authorize_params(rp, response_mode="form_post"))
    assert response.status_code == 200
    assert f'action="{rp.redirect_uri}"' in response.text
    assert 'name="code"' in response.text and 'name="state" value="st-123"' in response.text
    assert f'name="iss" value="{ISSUER}"' in response.text


def test_id_token_uses_es256_when_the_client_asks(client, database, contoso, member, app) -> None:  # type: ignore[no-untyped-def]
    rp = make_rp(database, contoso, id_token_signed_response_alg="ES256")
    code = login_and_get_code(client, rp)["code"]
    body = client.post("/contoso/token", data={"grant_type": "authorization_code", "code": code,
                                               "redirect_uri": rp.redirect_uri},
                       auth=(rp.client_id, rp.client_secret)).json
    decoded = jwt.decode(body["id_token"], app.extensions["portico"].keys.verification_keys())
    assert decoded.header["alg"] == "ES256" and decoded.claims["aud"] == [rp.client_id]


def test_third_party_app_asks_consent_remembers_it_and_it_can_be_revoked(client, database, contoso, member) -> None:  # type: ignore[no-untyped-def]
    rp = make_rp(database, contoso, first_party=False)
    params = authorize_params(rp)
    response = client.get("/contoso/authorize", query_string=params)
    response = client.get(sign_in(client, response.headers["Location"]).headers["Location"])
    assert "/contoso/consent" in response.headers["Location"]
    page = client.get(response.headers["Location"])
    assert "Read your email address" in page.text and "Relying party" in page.text
    request_id = query_of(response.headers["Location"])["request"]
    allowed = client.post("/contoso/consent", data={"csrf_token": csrf_token(page.text), "request_id": request_id,
                                                    "allow": "Allow"})
    assert "code" in query_of(client.get(allowed.headers["Location"]).headers["Location"])

    # remembered: no consent page the second time
    again = client.get("/contoso/authorize", query_string=authorize_params(rp))
    assert "code" in query_of(again.headers["Location"])

    # revoked from the permissions page: asked again
    consents = client.get("/contoso/consents")
    assert "Relying party" in consents.text
    client.post("/contoso/consents", data={"csrf_token": csrf_token(consents.text),
                                           "application_id": rp.application_id})
    asked = client.get("/contoso/authorize", query_string=authorize_params(rp))
    assert "/contoso/consent" in asked.headers["Location"]
    silent = client.get("/contoso/authorize", query_string=authorize_params(rp, prompt="none"))
    assert query_of(silent.headers["Location"])["error"] == "consent_required"
    assert "prompt=none" in query_of(silent.headers["Location"])["error_description"]


def test_denied_consent_returns_access_denied(client, database, contoso, member) -> None:  # type: ignore[no-untyped-def]
    rp = make_rp(database, contoso, first_party=False)
    response = client.get("/contoso/authorize", query_string=authorize_params(rp))
    consent_url = client.get(sign_in(client, response.headers["Location"]).headers["Location"]).headers["Location"]
    page = client.get(consent_url)
    denied = client.post("/contoso/consent", data={"csrf_token": csrf_token(page.text), "deny": "Cancel",
                                                   "request_id": query_of(consent_url)["request"]})
    query = query_of(client.get(denied.headers["Location"]).headers["Location"])
    assert query["error"] == "access_denied" and query["state"] == "st-123"


def test_tokens_of_one_tenant_are_rejected_by_another(client, database, contoso, fabrikam, rp, member) -> None:  # type: ignore[no-untyped-def]
    verifier, challenge = pkce_pair()
    code = login_and_get_code(client, rp, challenge)["code"]
    tokens = client.post("/contoso/token", data={"grant_type": "authorization_code", "code": code,
                                                 "redirect_uri": rp.redirect_uri, "code_verifier": verifier},
                         auth=(rp.client_id, rp.client_secret)).json
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/contoso/userinfo", headers=bearer).status_code == 200
    rejected = client.get("/fabrikam/userinfo", headers=bearer)
    assert rejected.status_code == 401
    assert 'error="invalid_token"' in rejected.headers["WWW-Authenticate"]

    other = make_rp(database, fabrikam)
    for token in (tokens["access_token"], tokens["refresh_token"]):
        body = client.post("/fabrikam/introspect", data={"token": token},
                           auth=(other.client_id, other.client_secret)).json
        assert body == {"active": False}
    # contoso's client cannot authenticate at fabrikam either
    assert client.post("/fabrikam/introspect", data={"token": tokens["access_token"]},
                       auth=(rp.client_id, rp.client_secret)).status_code == 401


def test_a_client_cannot_introspect_another_clients_token(client, database, contoso, rp, member) -> None:  # type: ignore[no-untyped-def]
    code = login_and_get_code(client, rp)["code"]
    tokens = client.post("/contoso/token", data={"grant_type": "authorization_code", "code": code,
                                                 "redirect_uri": rp.redirect_uri},
                         auth=(rp.client_id, rp.client_secret)).json
    other = make_rp(database, contoso)
    assert client.post("/contoso/introspect", data={"token": tokens["access_token"]},
                       auth=(other.client_id, other.client_secret)).json == {"active": False}


def test_userinfo_without_or_with_a_bad_token_is_401_bearer_invalid_token(client, contoso) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/contoso/userinfo", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer") and 'error="invalid_token"' in (
        response.headers["WWW-Authenticate"])
    assert client.get("/contoso/userinfo").status_code == 401
    # no usable Bearer credentials (another scheme, an empty token): a plain challenge, no non-RFC 6750 error code
    for header in ("Basic YTpi", "Bearer", "Bearer "):
        response = client.get("/contoso/userinfo", headers={"Authorization": header})
        assert response.status_code == 401 and response.json["error"] == "invalid_token"
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="http://127.0.0.1:5000/contoso"'


def test_tokens_issued_before_key_rotation_still_validate_from_the_jwks(settings, database, contoso, member,
                                                                       tmp_path) -> None:  # type: ignore[no-untyped-def]
    own = settings.with_overrides(keys_dir=tmp_path / "keys")
    app = create_app(own)
    try:
        client = app.test_client()
        rp = make_rp(database, contoso)
        code = login_and_get_code(client, rp)["code"]
        before = client.post("/contoso/token", data={"grant_type": "authorization_code", "code": code,
                                                     "redirect_uri": rp.redirect_uri},
                             auth=(rp.client_id, rp.client_secret)).json
        KeyStore(own.keys_dir).rotate()  # what `portico keys rotate` does, seen by the running app via the manifest

        jwks = KeySet.import_key_set(client.get("/contoso/.well-known/jwks.json").json)
        for token in (before["access_token"], before["id_token"]):
            jwt.decode(token, jwks)  # raises if the signing key is no longer published
        assert client.get("/contoso/userinfo",
                          headers={"Authorization": f"Bearer {before['access_token']}"}).status_code == 200
        after = client.post("/contoso/token", data={"grant_type": "refresh_token",
                                                    "refresh_token": before["refresh_token"]},
                            auth=(rp.client_id, rp.client_secret)).json
        old_kid = jwt.decode(before["access_token"], jwks).header["kid"]
        assert jwt.decode(after["access_token"], jwks).header["kid"] != old_kid
    finally:
        app.extensions["portico"].database.dispose()


def test_behind_a_tls_proxy_the_public_base_url_is_used(settings, database, contoso, member) -> None:  # type: ignore[no-untyped-def]
    """Production: the app sees plain http on an internal host; the issuer is https from PORTICO_BASE_URL."""
    app = create_app(settings.with_overrides(env="production", base_url="https://id.contoso.example"))
    try:
        client = app.test_client()
        scim = _scim_client(database, contoso)
        internal = {"base_url": "http://portico.internal:8000"}
        response = client.post("/contoso/token", data={"grant_type": "client_credentials", "scope": "scim.read"},
                               auth=(scim.client_id, scim.client_secret), **internal)
        assert response.status_code == 200, response.text
        claims = verify_access_token(app.extensions["portico"].keys, response.json["access_token"],
                                     issuer="https://id.contoso.example/contoso", audience=None)
        assert claims["iss"] == "https://id.contoso.example/contoso"
        rp = make_rp(database, contoso)
        bad = client.get("/contoso/authorize", query_string=authorize_params(rp, prompt="none"), **internal)
        assert bad.headers["Location"].startswith(rp.redirect_uri)
        assert query_of(bad.headers["Location"])["iss"] == "https://id.contoso.example/contoso"
    finally:
        app.extensions["portico"].database.dispose()


def test_assignment_required_lets_only_assigned_users_and_groups_in(client, database, contoso, member) -> None:  # type: ignore[no-untyped-def]
    rp = make_rp(database, contoso, assignment_required=True)
    first = client.get("/contoso/authorize", query_string=authorize_params(rp))
    denied = client.get(sign_in(client, first.headers["Location"]).headers["Location"])
    query = query_of(denied.headers["Location"])
    assert query["error"] == "access_denied" and "not assigned" in query["error_description"]

    with database.transaction() as s:
        tenant = s.merge(contoso)
        group = groups.create_group(s, tenant, "App users")
        groups.add_member(s, tenant, group, users.get_user(s, tenant, member))
        applications.assign(s, tenant, applications.get_application(s, tenant, rp.application_id), group)
    allowed = client.get("/contoso/authorize", query_string=authorize_params(rp))
    assert "code" in query_of(allowed.headers["Location"])


def test_a_client_cannot_introspect_or_revoke_another_clients_refresh_token(client, database, contoso, rp,
                                                                            member) -> None:  # type: ignore[no-untyped-def]
    tokens = signed_in_tokens(client, rp)
    other = make_rp(database, contoso)
    other_auth = (other.client_id, other.client_secret)
    assert client.post("/contoso/introspect", data={"token": tokens["refresh_token"]},
                       auth=other_auth).json == {"active": False}
    for token in (tokens["refresh_token"], tokens["access_token"]):
        client.post("/contoso/revoke", data={"token": token}, auth=other_auth)
    own = (rp.client_id, rp.client_secret)
    assert client.post("/contoso/introspect", data={"token": tokens["refresh_token"]}, auth=own).json["active"]
    assert client.post("/contoso/introspect", data={"token": tokens["access_token"]}, auth=own).json["active"]


def test_prompt_consent_asks_again_although_the_consent_is_remembered(client, database, contoso, member) -> None:  # type: ignore[no-untyped-def]
    rp = make_rp(database, contoso, first_party=False)
    response = client.get("/contoso/authorize", query_string=authorize_params(rp))
    consent_url = client.get(sign_in(client, response.headers["Location"]).headers["Location"]).headers["Location"]
    page = client.get(consent_url)
    client.post("/contoso/consent", data={"csrf_token": csrf_token(page.text), "allow": "Allow",
                                          "request_id": query_of(consent_url)["request"]})
    assert "code" in query_of(client.get("/contoso/authorize",
                                         query_string=authorize_params(rp)).headers["Location"])
    asked = client.get("/contoso/authorize", query_string=authorize_params(rp, prompt="consent"))
    assert "/contoso/consent" in asked.headers["Location"]


def test_an_unsupported_response_mode_is_an_error_sent_by_query(client, rp, member) -> None:  # type: ignore[no-untyped-def]
    login_and_get_code(client, rp)
    response = client.get("/contoso/authorize", query_string=authorize_params(rp, response_mode="fragment"))
    assert response.status_code == 302 and "#" not in response.headers["Location"]
    query = query_of(response.headers["Location"])
    assert query["error"] == "invalid_request" and "code" not in query and query["iss"] == ISSUER


def test_an_unknown_token_type_hint_is_ignored_at_introspection_and_revocation(client, rp, member) -> None:  # type: ignore[no-untyped-def]
    tokens = signed_in_tokens(client, rp)
    auth = (rp.client_id, rp.client_secret)
    for token in (tokens["access_token"], tokens["refresh_token"]):
        response = client.post("/contoso/introspect", data={"token": token, "token_type_hint": "id_token"}, auth=auth)
        assert response.status_code == 200 and response.json["active"] is True
    revoked = client.post("/contoso/revoke", data={"token": tokens["refresh_token"], "token_type_hint": "bogus"},
                          auth=auth)
    assert revoked.status_code == 200
    assert client.post("/contoso/introspect", data={"token": tokens["refresh_token"]}, auth=auth).json == {
        "active": False}
    assert client.post("/contoso/introspect", data={}, auth=auth).json["error"] == "invalid_request"
