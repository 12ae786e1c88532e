"""The sign-in log service and ``GET {issuer}/api/v1/auditLogs/signIns`` (Graph shape, $top, $filter, scope)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from idp import signin_log
from idp.db import Database
from idp.directory import users
from idp.models import Tenant
from idp.policy import (
    SYSTEM_DEFAULT,
    ConditionalAccessPolicy,
    SignInContext,
    Subject,
    resolve,
    sign_in_decision,
)
from idp.runtime import runtime
from idp.tokens import issue_access_token

ISSUER = "http://127.0.0.1:5000/contoso"
URL = "/contoso/api/v1/auditLogs/signIns"
REPORT_ONLY_MFA = ConditionalAccessPolicy.from_graph({
    "displayName": "MFA for guests (report-only)",
    "state": "enabledForReportingButNotEnforced",
    "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]}},
    "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
}, id="p-report")


@pytest.fixture
def mint(app: Flask, contoso: Tenant):
    def make(*scopes: str) -> dict[str, str]:
        token, _ = issue_access_token(runtime(app).keys, issuer=ISSUER, tenant_id=contoso.id, subject="auditor",
                                      client_id="auditor", audience=ISSUER, scopes=scopes)
        return {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture
def logged(database: Database, contoso: Tenant, fabrikam: Tenant) -> dict[str, str]:
    """Three attempts: a failed password, a guest allowed with a report-only MFA result, a refresh."""
    start = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    with database.transaction() as s:
        ada = users.create_member(s, contoso, "ada@contoso.com")
        guest = users.create_guest(s, contoso, "fiona@fabrikam.com")
        signin_log.record_sign_in(s, contoso, outcome="failure", reason="The password is incorrect.",
                                  user=ada, client_id="app-1", client_ip="192.0.2.7", now=start)
        context = SignInContext(user_id=guest.id, application_id="app-1", user_type="Guest", is_external=True,
                                home_tenant_id=fabrikam.id, cross_tenant=resolve(SYSTEM_DEFAULT, None))
        decision = sign_in_decision(context, [REPORT_ONLY_MFA], subject=Subject("home-id"))
        signin_log.record_sign_in(s, contoso, outcome=signin_log.outcome_of(decision), reason="allowed",
                                  user=guest, client_id="app-1", upstream_idp="http://idp.example/fabrikam",
                                  home_tenant_id=fabrikam.id, decision=decision, amr=["pwd"],
                                  now=start + timedelta(minutes=1))
        signin_log.record_sign_in(s, contoso, outcome="success", reason="refreshed", kind="refreshToken",
                                  user=guest, client_id="app-2", now=start + timedelta(minutes=2))
        return {"ada": ada.id, "guest": guest.id, "guest_upn": guest.user_principal_name}


def test_lists_newest_first_in_graph_shape(client: FlaskClient, mint, logged: dict[str, str],
                                           fabrikam: Tenant) -> None:
    response = client.get(URL, headers=mint("AuditLog.Read.All"))
    assert response.status_code == 200, response.json
    entries = response.json["value"]
    assert [e["createdDateTime"] for e in entries] == ["2026-11-27T08:02:00Z", "2026-11-27T08:01:00Z",
                                                     "2026-11-27T08:00:00Z"]
    refresh, guest, failed = entries
    assert refresh["isInteractive"] is False and refresh["incomingTokenType"] == "refreshToken"
    assert failed["status"] == {"errorCode": 50000, "failureReason": "The password is incorrect.",
                                "additionalDetails": None}
    assert failed["ipAddress"] == "192.0.2.7" and failed["userId"] == logged["ada"]
    assert guest["userPrincipalName"] == logged["guest_upn"] and guest["userType"] == "guest"
    assert guest["homeTenantId"] == fabrikam.id and guest["crossTenantAccessType"] == "b2bCollaboration"
    assert guest["upstreamIdentityProvider"] == "http://idp.example/fabrikam"
    assert guest["outcome"] == "success" and guest["status"]["errorCode"] == 0
    [applied] = guest["appliedConditionalAccessPolicies"]
    assert (applied["id"], applied["result"]) == ("p-report", "reportOnlyInterrupted")
    assert {r["setting"] for r in guest["crossTenantAccessPolicies"]} == {
        "b2bCollaborationInbound.usersAndGroups", "b2bCollaborationInbound.applications"}


def test_top_and_filters(client: FlaskClient, mint, logged: dict[str, str]) -> None:
    headers = mint("AuditLog.Read.All")
    assert len(client.get(URL, headers=headers, query_string={"$top": "1"}).json["value"]) == 1
    by_user = client.get(URL, headers=headers, query_string={"$filter": f"userId eq '{logged['guest']}'"}).json
    assert {e["userId"] for e in by_user["value"]} == {logged["guest"]} and len(by_user["value"]) == 2
    failures = client.get(URL, headers=headers, query_string={"$filter": "outcome eq 'failure'"}).json["value"]
    assert [e["userId"] for e in failures] == [logged["ada"]]
    both = client.get(URL, headers=headers, query_string={
        "$filter": f"userId eq '{logged['guest']}' and appId eq 'app-2'"}).json["value"]
    assert [e["appId"] for e in both] == ["app-2"]
    upn = client.get(URL, headers=headers, query_string={
        "$filter": f"userPrincipalName eq '{logged['guest_upn']}'"}).json["value"]
    assert len(upn) == 2


@pytest.mark.parametrize(("params", "target"), [
    ({"$top": "0"}, "$top"),
    ({"$top": "many"}, "$top"),
    ({"$filter": "status eq 'x'"}, "$filter"),
    ({"$filter": "outcome eq 'maybe'"}, "$filter"),
    ({"$filter": "userId ne 'x'"}, "$filter"),
])
def test_bad_queries_are_400_naming_the_parameter(client: FlaskClient, mint, contoso: Tenant,
                                                  params: dict[str, str], target: str) -> None:
    response = client.get(URL, headers=mint("AuditLog.Read.All"), query_string=params)
    assert response.status_code == 400
    assert response.json["error"]["target"] == target


def test_needs_the_audit_log_scope(client: FlaskClient, mint, contoso: Tenant) -> None:
    assert client.get(URL).status_code == 401
    assert client.get(URL, headers=mint("Policy.Read.All")).status_code == 403


def test_entries_are_per_tenant(client: FlaskClient, mint, logged: dict[str, str], database: Database,
                                fabrikam: Tenant) -> None:
    with database.sessionmaker() as s:
        assert signin_log.list_sign_ins(s, fabrikam) == []


def test_openapi_documents_the_query_parameters(client: FlaskClient, contoso: Tenant) -> None:
    operation = client.get("/contoso/api/v1/openapi.json").json["paths"]["/auditLogs/signIns"]["get"]
    assert {"oauth2": ["AuditLog.Read.All"]} in operation["security"]
    assert [p["name"] for p in operation["parameters"]] == ["$top", "$filter"]
