"""Member sign-ins through the journey end up in the sign-in log (read back through the API): a wrong password,
a success for an application, and a sign-in blocked by conditional access."""

from __future__ import annotations

from flask.testing import FlaskClient
from journey_support import csrf, sign_ins

from idp import policy_store
from idp.db import Database
from idp.directory import applications, users
from idp.models import SsoSession, Tenant

ISSUER = "http://127.0.0.1:5000/contoso"
ADA = "ada@contoso.com"
PASSWORD = "correct horse battery staple"
BLOCK_MEMBERS = {
    "displayName": "Block members", "state": "enabled",
    "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]}},
    "grantControls": {"operator": "OR", "builtInControls": ["block"]},
}


def _sign_in(client: FlaskClient, password: str):  # type: ignore[no-untyped-def]
    page = client.get("/contoso/login")
    return client.post("/contoso/login", data={"csrf_token": csrf(page.text), "email": ADA, "password": password,
                                               "submit": "Sign in"})


def _member(database: Database, contoso: Tenant) -> str:
    with database.transaction() as s:
        return users.create_member(s, contoso, ADA, password=PASSWORD, display_name="Ada").id


def test_wrong_password_then_success_for_an_application(client: FlaskClient, database: Database,
                                                        contoso: Tenant) -> None:
    ada = _member(database, contoso)
    with database.transaction() as s:
        app = applications.create_application(s, contoso, name="Wiki", redirect_uris=["http://127.0.0.1:8765/cb"],
                                              grant_types=["authorization_code"], scopes=["openid"],
                                              public=False, first_party=True).application
        client_id = app.client_id
    assert _sign_in(client, "wrong").status_code == 400
    authorize = client.get("/contoso/authorize", query_string={
        "response_type": "code", "client_id": client_id, "redirect_uri": "http://127.0.0.1:8765/cb",
        "scope": "openid", "state": "s1"})
    page = client.get(authorize.headers["Location"])
    request_id = authorize.headers["Location"].split("request=")[1]
    signed_in = client.post("/contoso/login", data={"csrf_token": csrf(page.text), "request_id": request_id,
                                                    "email": ADA, "password": PASSWORD, "submit": "Sign in"})
    assert f"resume={request_id}" in signed_in.headers["Location"]
    success, failure = sign_ins(client, contoso, ISSUER)
    assert failure["outcome"] == "failure" and failure["userPrincipalName"] == ADA and failure["userId"] is None
    assert failure["status"]["failureReason"] == "The email address or password is incorrect."
    assert success["outcome"] == "success" and success["userId"] == ada
    assert success["appId"] == client_id and success["appDisplayName"] == "Wiki"
    assert success["authenticationMethodsReferences"] == ["pwd"] and success["upstreamIdentityProvider"] is None
    assert {failure["ipAddress"], success["ipAddress"]} == {"127.0.0.1"}


def test_blocked_by_conditional_access(client: FlaskClient, database: Database, contoso: Tenant) -> None:
    ada = _member(database, contoso)
    with database.transaction() as s:
        policy_store.create_conditional_access(s, contoso, BLOCK_MEMBERS, roles=None, actor="admin",
                                               now_iso="2026-01-01T00:00:00Z")
    blocked = _sign_in(client, PASSWORD)
    assert blocked.status_code == 403 and "Sign-in blocked" in blocked.text
    with database.sessionmaker() as s:
        assert s.query(SsoSession).count() == 0
    [entry] = sign_ins(client, contoso, ISSUER)
    assert entry["outcome"] == "failure" and entry["userId"] == ada
    assert entry["status"]["errorCode"] == 53003 and entry["refusedBy"].startswith("conditionalAccessPolicies/")
