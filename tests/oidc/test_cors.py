"""CORS for browser-based relying parties: public documents from any origin; token, revocation and UserInfo from
the origins of the tenant's registered redirect URIs only; no credentials; preflights answered."""

from __future__ import annotations

from oidc_support import signed_in_tokens

APP_ORIGIN = "http://127.0.0.1:8765"  # the origin of oidc_support.REDIRECT_URI
OTHER_ORIGIN = "https://evil.example"


def test_public_documents_are_readable_from_any_origin(client, rp) -> None:  # type: ignore[no-untyped-def]
    for path in ("/contoso/.well-known/openid-configuration", "/contoso/.well-known/oauth-authorization-server",
                 "/.well-known/oauth-authorization-server/contoso", "/contoso/.well-known/jwks.json"):
        response = client.get(path, headers={"Origin": OTHER_ORIGIN})
        assert response.status_code == 200, path
        assert response.headers["Access-Control-Allow-Origin"] == "*", path
        assert "Access-Control-Allow-Credentials" not in response.headers


def test_token_and_userinfo_answer_registered_origins_only(client, rp, member) -> None:  # type: ignore[no-untyped-def]
    tokens = signed_in_tokens(client, rp)
    for origin, allowed in ((APP_ORIGIN, True), (OTHER_ORIGIN, False), ("http://127.0.0.1:9999", False)):
        preflight = client.options("/contoso/userinfo", headers={
            "Origin": origin, "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization"})
        userinfo = client.get("/contoso/userinfo", headers={"Origin": origin,
                                                            "Authorization": f"Bearer {tokens['access_token']}"})
        assert userinfo.status_code == 200
        for response in (preflight, userinfo):
            if allowed:
                assert response.headers["Access-Control-Allow-Origin"] == origin
                assert "authorization" in response.headers["Access-Control-Allow-Headers"].lower()
                assert "Origin" in response.headers.get("Vary", "")
            else:
                assert "Access-Control-Allow-Origin" not in response.headers
            assert "Access-Control-Allow-Credentials" not in response.headers
    refreshed = client.post("/contoso/token", headers={"Origin": APP_ORIGIN}, auth=(rp.client_id, rp.client_secret),
                            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    assert refreshed.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    refused = client.post("/contoso/token", headers={"Origin": OTHER_ORIGIN},
                          data={"grant_type": "client_credentials"})
    assert refused.status_code == 401 and "Access-Control-Allow-Origin" not in refused.headers


def test_another_tenants_redirect_origins_do_not_count(client, rp, fabrikam) -> None:  # type: ignore[no-untyped-def]
    response = client.options("/fabrikam/token", headers={"Origin": APP_ORIGIN,
                                                           "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in response.headers
