"""ui_locales (then Accept-Language, then English) picks the language of the whole sign-in journey."""

from __future__ import annotations

import re

import pytest
from oidc_support import authorize_params, csrf_token, make_rp, query_of

from idp.i18n import pick_language, ui_language


def _login_page(client, rp, headers=None, **extra):  # type: ignore[no-untyped-def]
    response = client.get("/contoso/authorize", query_string=authorize_params(rp, **extra), headers=headers or {})
    assert response.status_code == 302 and "/contoso/login?request=" in response.headers["Location"]
    return response.headers["Location"], client.get(response.headers["Location"], headers=headers or {})


def _lang(html: str) -> str:
    match = re.search(r'<html lang="([^"]+)">', html)
    assert match, "no <html lang>"
    return match.group(1)


def _label(html: str, field: str) -> str:
    match = re.search(rf'<label for="{field}">([^<]+)</label>', html)
    assert match, f"no label for {field}"
    return match.group(1)


def test_ui_locales_shows_the_login_page_in_german_and_later_pages_keep_it(client, rp, member) -> None:  # type: ignore[no-untyped-def]
    location, page = _login_page(client, rp, ui_locales="fr-CA de-CH en")  # the first supported one wins
    assert _lang(page.text) == "de"
    assert _label(page.text, "email") == "E-Mail-Adresse"
    assert ">Weiter</button>" in page.text and "Bei Contoso anmelden" in page.text
    request_id = query_of(location)["request"]
    # the next page of the journey has no ui_locales in its URL and the browser asks for English: still German
    wrong = client.post(location, data={"csrf_token": csrf_token(page.text), "request_id": request_id,
                                        "email": "ada@contoso.com", "password": "wrong"},
                        headers={"Accept-Language": "en-US"})
    assert _lang(wrong.text) == "de" and _label(wrong.text, "password") == "Kennwort"
    assert "Die E-Mail-Adresse oder das Kennwort ist falsch." in wrong.text and ">Anmelden</button>" in wrong.text


def test_the_consent_page_of_the_journey_is_german_too(client, database, contoso, member) -> None:  # type: ignore[no-untyped-def]
    rp = make_rp(database, contoso, first_party=False)
    location, page = _login_page(client, rp, ui_locales="de")
    signed_in = client.post(location, data={"csrf_token": csrf_token(page.text), "request_id": query_of(location)[
        "request"], "email": "ada@contoso.com", "password": "correct horse battery staple"})
    consent = client.get(client.get(signed_in.headers["Location"]).headers["Location"])
    assert _lang(consent.text) == "de" and ">Erlauben</button>" in consent.text
    assert "Ihre E-Mail-Adresse lesen" in consent.text  # scope descriptions are translated


def test_accept_language_picks_german_without_ui_locales(client, rp, member) -> None:  # type: ignore[no-untyped-def]
    _location, page = _login_page(client, rp, headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    assert _lang(page.text) == "de" and _label(page.text, "email") == "E-Mail-Adresse"


def test_english_is_the_default_and_keeps_its_public_labels(client, rp, member) -> None:  # type: ignore[no-untyped-def]
    _location, page = _login_page(client, rp)
    assert _lang(page.text) == "en"
    assert _label(page.text, "email") == "Email address" and ">Next</button>" in page.text
    assert "Sign in to Contoso" in page.text


@pytest.mark.parametrize(("accept", "expected"), [(None, "en"), ("de", "de")])
def test_an_unsupported_ui_locale_falls_back_to_the_browser_then_english(client, rp, member, accept,  # type: ignore[no-untyped-def]
                                                                         expected) -> None:
    headers = {"Accept-Language": accept} if accept else {}
    _location, page = _login_page(client, rp, headers=headers, ui_locales="fr-FR ja")
    assert _lang(page.text) == expected


def test_a_later_request_without_ui_locales_forgets_the_language(client, rp, member) -> None:  # type: ignore[no-untyped-def]
    _login_page(client, rp, ui_locales="de")
    _location, page = _login_page(client, rp)
    assert _lang(page.text) == "en"


def test_error_pages_of_the_authorization_endpoint_are_translated(client, rp) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/contoso/authorize?resume=unknown", headers={"Accept-Language": "de"})
    assert page.status_code == 400 and _lang(page.text) == "de"
    assert "Diese Anmeldeanfrage ist abgelaufen" in page.text


def test_discovery_lists_the_supported_ui_locales(client, contoso) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/contoso/.well-known/openid-configuration").json["ui_locales_supported"] == ["en", "de"]


@pytest.mark.parametrize(("value", "expected"), [("de", "de"), ("fr de-AT", "de"), ("en-GB de", "en"), ("fr", None),
                                                 ("", None), (None, None)])
def test_ui_language(value, expected) -> None:  # type: ignore[no-untyped-def]
    assert ui_language(value) == expected
    assert pick_language(ui_language(value)) == (expected or "en")


def test_an_unknown_organization_page_follows_the_browser_language(client, contoso) -> None:  # type: ignore[no-untyped-def]
    german = client.get("/nowhere/login", headers={"Accept-Language": "de"})
    assert german.status_code == 404 and _lang(german.text) == "de" and "Organisation nicht gefunden" in german.text
    assert "Organization not found" in client.get("/nowhere/login").text
