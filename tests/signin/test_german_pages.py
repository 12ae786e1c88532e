"""Every refusal and error page of the sign-in journey speaks German when the browser (or ``ui_locales``) asks for
it: the messages services and Authlib produce included, not only the page templates. Each case walks the real
journey to its page with ``Accept-Language: de`` and checks ``<html lang="de">``, German sentences, and that the
English text of the same page is gone. The code mails are read from the outbox (no SMTP needed here)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

import pytest
import requests
from authlib_op import LoopbackOP
from flask.testing import FlaskClient
from journey_support import csrf, invite, path_of
from oidc_support import authorize_params, make_rp
from smtp_capture import free_port
from sqlalchemy import select

from idp import policy_store
from idp.db import Database, utcnow
from idp.directory import users
from idp.federation import service as federation
from idp.federation.service import ProviderInput
from idp.languages import translations_for
from idp.models import EmailOtpCode, Invitation, OutboxMessage, Tenant

ISSUER = "http://127.0.0.1:5000/contoso"
SECRET = "test-secret-key-0123456789abcdef"
GUEST = "john@fabrikam.com"
OTP = "/contoso/signin/otp"
PASSWORD = "correct horse battery staple"
Walk = Callable[[FlaskClient, Database, Tenant], object]


def _otp_page(client: FlaskClient, database: Database, tenant: Tenant) -> None:
    """Open the invitation's redeem link: home-realm discovery sends the guest to the passcode page."""
    client.get(path_of(invite(database, tenant, GUEST, issuer=ISSUER, send=False)))
    assert client.get("/contoso/signin/route").headers["Location"].endswith(OTP)


def _send(client: FlaskClient):  # type: ignore[no-untyped-def]
    page = client.get(OTP)
    return client.post(OTP, data={"send-csrf_token": csrf(page.text, "send-"), "send-send": "Send code"})


def _enter(client: FlaskClient, code: str):  # type: ignore[no-untyped-def]
    page = client.get(OTP)
    return client.post(OTP, data={"verify-csrf_token": csrf(page.text, "verify-"), "verify-code": code,
                                  "verify-verify": "Verify"})


def _code_mail(database: Database) -> OutboxMessage:
    with database.sessionmaker() as s:
        mail = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "email_otp")
                         .order_by(OutboxMessage.created_at.desc())).first()
        assert mail is not None
        s.expunge(mail)
        return mail


def _signed_in_by_otp(client: FlaskClient, database: Database, tenant: Tenant,  # type: ignore[no-untyped-def]
                     then: Callable[[], None] = lambda: None):
    """Redeem link, passcode page, Send code, the code from the mail; ``then`` runs before the code is sent."""
    _otp_page(client, database, tenant)
    then()
    _send(client)
    return _enter(client, re.search(r"\b(\d{8})\b", _code_mail(database).text_body).group(1))  # type: ignore[union-attr]


def _member_login(client: FlaskClient, database: Database, tenant: Tenant, policy: dict):  # type: ignore[no-untyped-def]
    with database.transaction() as s:
        users.create_member(s, tenant, "ada@contoso.com", password=PASSWORD)
        policy_store.create_conditional_access(s, tenant, policy, roles=None, actor="admin",
                                               now_iso="2026-01-01T00:00:00Z")
    page = client.get("/contoso/login")
    return client.post("/contoso/login", data={"csrf_token": csrf(page.text), "email": "ada@contoso.com",
                                               "password": PASSWORD, "submit": "Sign in"})


# -- the walks ---------------------------------------------------------------------------------------------
def not_invited(client, database, tenant):  # type: ignore[no-untyped-def]
    page = client.get("/contoso/login")
    client.post("/contoso/login", data={"csrf_token": csrf(page.text), "email": "stranger@example.org",
                                        "next": "Next"})
    return client.get("/contoso/signin/route")


def empty_email(client, database, tenant):  # type: ignore[no-untyped-def]
    page = client.get("/contoso/login")
    return client.post("/contoso/login", data={"csrf_token": csrf(page.text), "email": "", "next": "Next"})


def wrong_code(client, database, tenant):  # type: ignore[no-untyped-def]
    _otp_page(client, database, tenant)
    _send(client)
    return _enter(client, "00000000")


def malformed_code(client, database, tenant):  # type: ignore[no-untyped-def]
    _otp_page(client, database, tenant)
    _send(client)
    return _enter(client, "123")


def expired_code(client, database, tenant):  # type: ignore[no-untyped-def]
    _otp_page(client, database, tenant)
    _send(client)
    with database.transaction() as s:
        for row in s.scalars(select(EmailOtpCode)):
            row.expires_at = utcnow() - timedelta(seconds=1)
    return _enter(client, "12345678")


def locked_code(client, database, tenant):  # type: ignore[no-untyped-def]
    _otp_page(client, database, tenant)
    _send(client)
    for _ in range(4):
        _enter(client, "00000000")
    return _enter(client, "00000000")


def answer_without_a_sign_in(client, database, tenant):  # type: ignore[no-untyped-def]
    return client.get("/contoso/signin/callback", query_string={"code": "x", "state": "forged"})


def too_many_sends(client, database, tenant):  # type: ignore[no-untyped-def]
    _otp_page(client, database, tenant)
    for _ in range(5):
        _send(client)
    return _send(client)


def bad_invitation_link(client, database, tenant):  # type: ignore[no-untyped-def]
    link = invite(database, tenant, GUEST, issuer=ISSUER, send=False)
    return client.get(path_of(link).replace("ticket=", "ticket=x"))


def used_invitation_link(client, database, tenant):  # type: ignore[no-untyped-def]
    link = invite(database, tenant, GUEST, issuer=ISSUER, send=False)
    with database.transaction() as s:
        s.scalars(select(Invitation)).one().ticket_consumed_at = utcnow()
    return client.get(path_of(link))


def otp_turned_off(client, database, tenant):  # type: ignore[no-untyped-def]
    link = invite(database, tenant, GUEST, issuer=ISSUER, send=False)
    with database.transaction() as s:
        policy_store.update_external_collaboration(s, tenant, {"emailOtpForGuests": False},
                                                   policy="authorizationPolicy", roles=None, actor="admin")
    client.get(path_of(link))
    return client.get("/contoso/signin/route")


def cross_tenant_block(client, database, tenant):  # type: ignore[no-untyped-def]
    return _signed_in_by_otp(client, database, tenant, then=lambda: _block_all_inbound(database, tenant))


def _block_all_inbound(database: Database, tenant: Tenant) -> None:
    with database.transaction() as s:
        policy_store.update_cross_tenant_default(s, tenant, {"b2bCollaborationInbound": {
            "usersAndGroups": {"accessType": "blocked", "targets": [{"target": "AllUsers", "targetType": "user"}]},
            "applications": {"accessType": "blocked",
                             "targets": [{"target": "AllApplications", "targetType": "application"}]}}},
            roles=None, actor="admin")


def blocked_domain_at_redemption(client, database, tenant):  # type: ignore[no-untyped-def]
    _signed_in_by_otp(client, database, tenant)  # invited before the domain was blocked
    with database.transaction() as s:
        policy_store.update_external_collaboration(s, tenant, {"b2bManagementPolicy": {
            "InvitationsAllowedAndBlockedDomainsPolicy": {"BlockedDomains": ["fabrikam.com"]}}},
            policy="b2bManagementPolicy", roles=None, actor="admin")
    page = client.get("/contoso/signin/review")
    return client.post("/contoso/signin/review", data={"csrf_token": csrf(page.text), "accept": "Accept"})


def conditional_access_block(client, database, tenant):  # type: ignore[no-untyped-def]
    return _member_login(client, database, tenant, {
        "displayName": "Block everyone", "state": "enabled",
        "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]}},
        "grantControls": {"operator": "OR", "builtInControls": ["block"]}})


def wrong_mfa_code(client, database, tenant):  # type: ignore[no-untyped-def]
    handed_over = _member_login(client, database, tenant, {
        "displayName": "MFA for everyone", "state": "enabled",
        "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]}},
        "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}})
    enrol = client.get(client.get(handed_over.headers["Location"]).headers["Location"])
    return client.post("/contoso/mfa/enrol", data={"csrf_token": csrf(enrol.text), "code": "000000"})


def unreachable_idp(client, database, tenant):  # type: ignore[no-untyped-def]
    with database.transaction() as s:
        federation.add_provider(s, tenant, ProviderInput(
            type="oidc", name="Partner SSO", issuer=f"http://127.0.0.1:{free_port()}", client_id="portico",
            client_secret="op-secret", domains=("partner.com",)), secret_key=SECRET)
    client.get(path_of(invite(database, tenant, "bob@partner.com", issuer=ISSUER, send=False)))
    return client.get("/contoso/signin/route")


def unregistered_redirect_uri(client, database, tenant):  # type: ignore[no-untyped-def]
    rp = make_rp(database, tenant)
    return client.get("/contoso/authorize", query_string=authorize_params(
        rp, redirect_uri="https://attacker.example/cb", ui_locales="de"), headers={"Accept-Language": "en"})


def unregistered_redirect_uri_posted(client, database, tenant):  # type: ignore[no-untyped-def]
    client.environ_base.pop("HTTP_ACCEPT_LANGUAGE")  # only the request's own ui_locales asks for German
    rp = make_rp(database, tenant)
    return client.post("/contoso/authorize", data=authorize_params(
        rp, redirect_uri="https://attacker.example/cb", ui_locales="de-AT"))


def unknown_client(client, database, tenant):  # type: ignore[no-untyped-def]
    rp = make_rp(database, tenant)
    return client.get("/contoso/authorize", query_string=authorize_params(rp, client_id="nobody"))


def logout_of_unknown_application(client, database, tenant):  # type: ignore[no-untyped-def]
    return client.get("/contoso/logout", query_string={"client_id": "nobody"})


def unknown_page(client, database, tenant):  # type: ignore[no-untyped-def]
    return client.get("/contoso/no-such-page")


@dataclass(frozen=True)
class Case:
    walk: Walk
    status: int
    german: tuple[str, ...]  # sentences the page must show
    english: tuple[str, ...]  # the English text of the same page, which must be gone


CASES = [
    Case(not_invited, 403, ("Sie wurden nicht zu Contoso eingeladen",), ("You have not been invited",)),
    Case(empty_email, 400, ("Dieses Feld wird benötigt.",), ("This field is required",)),  # WTForms' catalog
    Case(wrong_code, 400, ("Dieser Code ist nicht richtig. Prüfen Sie die neueste E-Mail",), ("not correct",)),
    Case(malformed_code, 400, ("Geben Sie den 8-stelligen Code aus der E-Mail ein.",), ("Enter the",)),
    Case(expired_code, 400, ("Dieser Code ist abgelaufen.",), ("has expired",)),
    Case(locked_code, 400, ("Es wurden zu viele falsche Codes eingegeben. Fordern Sie einen neuen Code an.",),
         ("Too many wrong codes",)),
    Case(answer_without_a_sign_in, 400, ("Diese Anmeldung konnte nicht zugeordnet werden",), ("could not be matched",)),
    Case(too_many_sends, 429, ("An diese Adresse wurden zu viele Codes gesendet. Versuchen Sie es in 15 Minuten "
                               "erneut.",), ("Too many codes",)),
    Case(bad_invitation_link, 400, ("Dieser Einladungslink ist ungültig. Bitten Sie die Person",), ("not valid",)),
    Case(used_invitation_link, 400, ("Dieser Einladungslink wurde bereits verwendet. Melden Sie sich stattdessen",),
         ("already been used",)),
    Case(otp_turned_off, 403, ("Sie können sich hier gerade nicht anmelden",
                               "Für fabrikam.com ist kein Identitätsanbieter eingerichtet"),
         ("No identity provider",)),
    Case(cross_tenant_block, 403, ("Anmeldung durch die Zugriffsrichtlinie Ihrer Organisation blockiert",
                                   "Die mandantenübergreifenden Zugriffseinstellungen von Contoso",
                                   "Bitten Sie die Administration von Contoso um Zugriff.",
                                   "Technische Details:", "b2bCollaborationInbound.usersAndGroups"),
         ("cross-tenant access settings", "blocks AllUsers")),
    Case(blocked_domain_at_redemption, 403, ("Die Einladung konnte nicht angenommen werden",
                                             "Contoso nimmt keine Gäste mit Adressen bei fabrikam.com an.",
                                             "b2bManagementPolicy.BlockedDomains"),
         ("is blocked by the invitation policy",)),
    Case(conditional_access_block, 403, ("Die Richtlinie für bedingten Zugriff „Block everyone“ von Contoso "
                                         "blockiert diese Anmeldung.",), ("blocks access", "blocks this sign-in")),
    Case(wrong_mfa_code, 400, ("Dieser Code ist nicht richtig. Geben Sie den aktuellen Code",), ("not correct",)),
    Case(unreachable_idp, 502, ("Partner SSO ist nicht erreichbar",), ("cannot be reached",)),
    Case(unregistered_redirect_uri, 400, ("https://attacker.example/cb ist keine registrierte Adresse von "
                                          "Relying party",), ("is not a registered address",)),
    Case(unregistered_redirect_uri_posted, 400, ("ist keine registrierte Adresse",), ("registered address",)),
    Case(unknown_client, 400, ("Die Anwendung „nobody“ ist bei Contoso nicht registriert.",
                               "invalid_client"), ("is not registered with",)),
    Case(logout_of_unknown_application, 400, ("Unbekannte Anwendung.",), ("Unknown application",)),
    Case(unknown_page, 404, ("Seite nicht gefunden",), ("Not Found", "Page not found")),
]


@cache
def english_fragments() -> frozenset[str]:
    """Every longer piece of English text the catalog translates (split at its placeholders)."""
    catalog = translations_for("de")
    fragments = set()
    for msgid in catalog._catalog:  # noqa: SLF001  (gettext's own table: msgid -> German)
        singular = msgid[0] if isinstance(msgid, tuple) else msgid
        german = catalog._catalog[msgid]  # noqa: SLF001
        fragments.update(piece.strip() for piece in re.split(r"%\(\w+\)[sd]", singular)
                         if len(piece.strip()) >= 12 and piece.strip() not in german)
    return frozenset(fragments)


@pytest.mark.parametrize("case", CASES, ids=[c.walk.__name__ for c in CASES])
def test_refusal_and_error_pages_speak_german(client: FlaskClient, database: Database, contoso: Tenant,
                                              case: Case) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de-DE,de;q=0.9"
    page = case.walk(client, database, contoso)
    text = page.text.replace("&#34;", '"').replace("&#39;", "'")  # type: ignore[attr-defined]
    assert page.status_code == case.status, text  # type: ignore[attr-defined]
    assert '<html lang="de">' in text
    for sentence in case.german:
        assert sentence in text
    for english in case.english:
        assert english not in text
    leftovers = [fragment for fragment in english_fragments() if fragment in text]
    assert not leftovers, leftovers


def test_the_same_refusal_stays_english_for_an_english_browser(client: FlaskClient, database: Database,
                                                               contoso: Tenant) -> None:
    page = cross_tenant_block(client, database, contoso)
    assert page.status_code == 403 and '<html lang="en">' in page.text  # type: ignore[attr-defined]
    assert "The cross-tenant access settings of Contoso do not let your account sign in." in page.text  # type: ignore[attr-defined]


@pytest.mark.parametrize(("accept", "subject", "sentence"), [
    ("de", "Anmeldecode für Contoso", "Ihr Einmalcode für die Anmeldung bei Contoso lautet:"),
    ("en", "Contoso sign-in code", "Your one-time code to sign in to Contoso is:"),
])
def test_the_code_mail_is_in_the_language_of_the_sign_in_page(client: FlaskClient, database: Database,
                                                              contoso: Tenant, accept: str, subject: str,
                                                              sentence: str) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = accept
    _otp_page(client, database, contoso)
    _send(client)
    mail = _code_mail(database)
    assert mail.subject == subject and sentence in mail.text_body and sentence in (mail.html_body or "")
    assert f'<html lang="{accept}">' in (mail.html_body or "")


@pytest.mark.parametrize(("fault", "claims", "status", "german"), [
    ("deny", {}, 400, "Sie haben die Anmeldung nicht erlaubt"),
    (None, {"email_verified": False}, 403, "hat bob@partner.com nicht als bestätigt gekennzeichnet"),
])
def test_upstream_refusals_speak_german(client: FlaskClient, database: Database, contoso: Tenant,
                                        op_server: LoopbackOP, fault: str | None, claims: dict, status: int,
                                        german: str) -> None:
    op_server.reset()
    op_server.add_client("portico", "op-secret", f"{ISSUER}/signin/callback")
    op_server.fault = fault
    op_server.user = {**op_server.user, **claims}
    with database.transaction() as s:
        federation.add_provider(s, contoso, ProviderInput(
            type="oidc", name="Partner SSO", issuer=op_server.issuer, client_id="portico", client_secret="op-secret",
            domains=("partner.com",)), secret_key=SECRET)
    invite(database, contoso, "bob@partner.com", issuer=ISSUER, send=False)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    page = client.get("/contoso/login")
    client.post("/contoso/login", data={"csrf_token": csrf(page.text), "email": "bob@partner.com", "next": "Next"})
    upstream = requests.get(client.get("/contoso/signin/route").headers["Location"], allow_redirects=False,
                            timeout=10)
    answer = client.get(path_of(upstream.headers["Location"]))
    assert answer.status_code == status and '<html lang="de">' in answer.text and german in answer.text
