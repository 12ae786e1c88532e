"""RP-initiated logout rules and the SSO session it ends."""

from __future__ import annotations

from oidc_support import assert_signed_out, authorize_params, csrf_token, query_of, sign_in, signed_in_tokens


def test_logout_without_id_token_hint_asks_before_signing_out(client, rp, member) -> None:  # type: ignore[no-untyped-def]
    tokens = signed_in_tokens(client, rp)
    page = client.get("/contoso/logout", query_string={"client_id": rp.client_id})
    assert page.status_code == 200 and ">Sign out</button>" in page.text
    # still signed in until the user confirms
    assert "code" in query_of(client.get("/contoso/authorize", query_string=authorize_params(rp)).headers["Location"])
    page = client.get("/contoso/logout", query_string={"client_id": rp.client_id})
    done = client.post("/contoso/logout", data={"csrf_token": csrf_token(page.text), "client_id": rp.client_id})
    assert done.status_code == 200 and "You have signed out" in done.text
    assert_signed_out(client, rp, tokens)  # and the session's refresh tokens end with it


def test_logout_refuses_an_unregistered_post_logout_redirect_uri(client, rp, member) -> None:  # type: ignore[no-untyped-def]
    tokens = signed_in_tokens(client, rp)
    response = client.get("/contoso/logout", query_string={
        "id_token_hint": tokens["id_token"], "post_logout_redirect_uri": "https://attacker.example/"})
    assert response.status_code == 400 and "Location" not in response.headers


def test_logout_refuses_an_id_token_hint_from_another_tenant(client, rp, member, fabrikam) -> None:  # type: ignore[no-untyped-def]
    tokens = signed_in_tokens(client, rp)
    response = client.get("/fabrikam/logout", query_string={"id_token_hint": tokens["id_token"]})
    assert response.status_code == 400


def test_an_id_token_hint_of_an_earlier_session_asks_before_signing_out(client, rp, member) -> None:  # type: ignore[no-untyped-def]
    old = signed_in_tokens(client, rp)
    fresh = client.get("/contoso/authorize", query_string=authorize_params(rp, prompt="login"))
    sign_in(client, fresh.headers["Location"])  # same user, a new SSO session (new sid)
    page = client.get("/contoso/logout", query_string={"id_token_hint": old["id_token"]})
    assert page.status_code == 200 and ">Sign out</button>" in page.text
    assert "code" in query_of(client.get("/contoso/authorize", query_string=authorize_params(rp)).headers["Location"])


def test_an_access_token_is_not_an_id_token_hint(client, rp, member) -> None:  # type: ignore[no-untyped-def]
    """Access tokens (``typ: at+jwt``) are signed with the same keys: they must not pass for an ID token, at the
    logout endpoint nor at the authorization endpoint."""
    tokens = signed_in_tokens(client, rp)
    refused = client.get("/contoso/logout", query_string={"id_token_hint": tokens["access_token"]})
    assert refused.status_code == 400
    authorize = client.get("/contoso/authorize", query_string=authorize_params(
        rp, prompt="none", id_token_hint=tokens["access_token"]))
    assert query_of(authorize.headers["Location"])["error"] == "invalid_request"
    accepted = client.get("/contoso/logout", query_string={"id_token_hint": tokens["id_token"]})
    assert accepted.status_code in (200, 302)
