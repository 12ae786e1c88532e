"""Bulk imports: runs of POSTs are created by the storage together, with the outcome of one-by-one creation."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from scim2_models import BulkOperation, SearchRequest, UniquenessException
from scim2_server.bulk import BulkPlan
from scim2_server.handler import ScimHandler
from scim2_server.service import ScimService
from scim_support import BULK_SCHEMA, ENTERPRISE, GROUP_SCHEMA, USER_SCHEMA, Scim, access_token
from sqlalchemy import func, select

from idp import policy_store
from idp.db import Database
from idp.directory import users
from idp.models import AuditEvent, Tenant, User
from scim import app as scim_app
from scim.app import ScimEndpoint
from scim.bulk import may_reference
from scim.schema import BULK_MAX_OPERATIONS, build_provider, resource_type_named
from scim.storage import SqlStorage


def _post(bulk_id: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"method": "POST", "path": "/Users", "bulkId": bulk_id, "data": {"schemas": [USER_SCHEMA], **data}}


def _mixed_operations(domain: str) -> list[dict[str, Any]]:
    """Every kind of outcome a run of creations can have, in one request."""
    return [
        _post("a", {"userName": f"Ann@{domain}", "displayName": "Ann", "title": "Boss", "externalId": "x-1",
                    "name": {"givenName": "Ann", "familyName": "A", "middleName": "M"},
                    "emails": [{"value": f"ann@{domain}", "type": "work", "primary": True},
                               {"value": "ann@home.example", "type": "home"}, {"value": f"ANN@{domain}"}],
                    "phoneNumbers": [{"value": "+1 555", "type": "work"}],
                    "schemas": [USER_SCHEMA, ENTERPRISE], ENTERPRISE: {"employeeNumber": "7", "department": "S"}}),
        _post("b", {"userName": f"ann@{domain}"}),  # taken earlier in the same batch: 409
        _post("c", {"userName": "bob", "active": False}),  # created disabled: the one-by-one path inside the batch
        _post("d", {"userName": "eve@elsewhere.example"}),  # a member in a foreign domain: 400
        _post("e", {"userName": "gina@blocked.example", "userType": "Guest"}),  # refused by the invitation policy
        _post("f", {"userName": "gus@partner.example", "userType": "Guest", "displayName": "Gus"}),
        _post("g", {"userName": "two", "emails": [{"value": "1@x.example", "primary": True},
                                                  {"value": "2@x.example", "primary": True}]}),  # 400
        _post("h", {"userName": "taken"}),  # existed before: 409
        _post("i", {"userName": "cy", "displayName": "x" * 257}),  # too long: 400
        _post("j", {"userName": "dan", "nickName": "D"}),
        {"method": "POST", "path": "/Groups", "bulkId": "t",
         "data": {"schemas": [GROUP_SCHEMA], "displayName": "Team", "members": [{"value": "bulkId:j"}]}},
        _post("k", {"userName": "last"}),
    ]


def _block(database: Database, tenant: Tenant) -> None:
    with database.transaction() as s:
        policy_store.update_external_collaboration(s, s.merge(tenant), {"b2bManagementPolicy": {
            "InvitationsAllowedAndBlockedDomainsPolicy": {"BlockedDomains": ["blocked.example"]}}},
            policy="b2bManagementPolicy", roles=None, actor="test")


def _comparable_outcomes(operations: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(op["bulkId"], op["status"], op.get("version"), "location" in op,
             (op.get("response") or {}).get("scimType")) for op in operations]


def _comparable_users(scim: Scim) -> list[dict[str, Any]]:
    listed = scim.get("Users", sortBy="displayName", count=100).json["Resources"]
    for user in listed:
        for key in ("meta", "groups"):
            user.pop(key, None)
        user["userName"] = user["userName"].split("@")[0].split("_")[0]
        user.get("emails", []).sort(key=lambda e: e["value"])
        for email in user.get("emails", []):
            email["value"] = email["value"].split("@")[0]
        guest = scim.guest(user.pop("id"))
        guest.pop("externalUserStateChangeDateTime", None)
        guest.pop("identities", None)
        guest.pop("sponsors", None)
        user["urn:portico:params:scim:schemas:extension:guest:2.0:User"] = guest
    return sorted(listed, key=lambda u: u["userName"])


def test_batched_bulk_has_the_outcome_of_one_by_one_creation(
    app: Flask, client: FlaskClient, database: Database, contoso: Tenant, fabrikam: Tenant,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    outcomes, stored, audited = [], [], []
    for tenant, handler in ((contoso, scim_app.PorticoScimHandler), (fabrikam, ScimHandler)):
        monkeypatch.setattr(scim_app, "PorticoScimHandler", handler)  # fabrikam: scim2-server's own loop
        _block(database, tenant)
        scim = Scim(client, tenant.slug, access_token(app, tenant, ["scim.read", "scim.write"]))
        scim.create_user("taken")
        domain = f"{tenant.slug}.com"
        response = scim.post("Bulk", {"schemas": [BULK_SCHEMA], "Operations": _mixed_operations(domain)})
        assert response.status_code == 200, response.json
        outcomes.append(_comparable_outcomes(response.json["Operations"]))
        stored.append(_comparable_users(scim))
        team = scim.search('displayName eq "Team"', path="Groups")[0]
        assert [m["value"] for m in team["members"]] == [scim.search('userName eq "dan"')[0]["id"]]
        with database.sessionmaker() as s:
            audited.append(sorted(s.execute(
                select(AuditEvent.activity, AuditEvent.actor, func.count())
                .where(AuditEvent.tenant_id == tenant.id).group_by(AuditEvent.activity, AuditEvent.actor)
            ).all()))
    assert outcomes[0] == outcomes[1]
    assert [status for _, status, *_ in outcomes[0]] == [
        "201", "409", "201", "400", "403", "201", "400", "409", "400", "201", "201", "201"]
    assert stored[0] == stored[1]
    assert {u["userName"] for u in stored[0]} == {"ann", "bob", "gus", "dan", "last", "taken"}
    assert audited[0] == audited[1]


def test_a_thousand_users_in_one_request(scim_client: Scim, database: Database, contoso: Tenant) -> None:
    operations = [_post(f"u{n}", {"userName": f"user{n:04d}@contoso.com", "displayName": f"User {n}",
                                  "emails": [{"value": f"user{n:04d}@contoso.com", "primary": True}]})
                  for n in range(BULK_MAX_OPERATIONS)]
    response = scim_client.post("Bulk", {"schemas": [BULK_SCHEMA], "Operations": operations})
    assert response.status_code == 200
    results = response.json["Operations"]
    assert {op["status"] for op in results} == {"201"} and len(results) == BULK_MAX_OPERATIONS
    assert scim_client.get("Users", count=0).json["totalResults"] == BULK_MAX_OPERATIONS
    last = scim_client.get(results[-1]["location"].split("/scim/v2/")[1]).json
    assert last["userName"] == f"user{BULK_MAX_OPERATIONS - 1:04d}@contoso.com"
    assert last["meta"]["version"] == results[-1]["version"]
    with database.sessionmaker() as s:
        events = s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.activity == "Add user"))
        assert events == BULK_MAX_OPERATIONS


def test_more_operations_than_announced_is_413(scim_client: Scim) -> None:
    config = scim_client.get("ServiceProviderConfig").json["bulk"]
    assert config["maxOperations"] == BULK_MAX_OPERATIONS
    operations = [_post(f"u{n}", {"userName": f"u{n}"}) for n in range(BULK_MAX_OPERATIONS + 1)]
    response = scim_client.post("Bulk", {"schemas": [BULK_SCHEMA], "Operations": operations})
    assert response.status_code == 413
    assert scim_client.get("Users", count=0).json["totalResults"] == 0


def test_fail_on_errors_inside_a_run_creates_nothing_after_the_last_accepted_error(scim_client: Scim) -> None:
    names = ["a1", "bad@elsewhere.example", "a2", "a1", "a3", "a4"]
    response = scim_client.post("Bulk", {"schemas": [BULK_SCHEMA], "failOnErrors": 2, "Operations": [
        _post(f"b{n}", {"userName": name}) for n, name in enumerate(names)]})
    assert [op["status"] for op in response.json["Operations"]] == ["201", "400", "201", "409"]
    listed = scim_client.get("Users", sortBy="userName").json["Resources"]
    assert [u["userName"] for u in listed] == ["a1", "a2"]


def test_a_unique_value_only_the_insert_finds_taken_falls_back_to_one_by_one(
    database: Database, contoso: Tenant
) -> None:
    """The batch checks userNames; any other unique value (here the UPN identity another user holds, as a
    concurrent writer's insert would) fails the batch's insert: then each creation runs as a single POST, the
    clashing one gets 409 and the others are created."""
    with database.transaction() as s:
        tenant = s.merge(contoso)
        other = users.provision_member(s, tenant, "other")
        users.add_identity(s, other, sign_in_type="userPrincipalName", issuer=tenant.initial_domain,
                           issuer_assigned_id="second")
    provider = build_provider()
    user_type = resource_type_named(provider, "User")
    model = provider.model_for(user_type)
    with database.transaction() as s:
        storage = SqlStorage(s, s.merge(contoso), provider, actor="test")
        results = storage.create_many(user_type, [model.model_validate({"userName": n})
                                                  for n in ("first", "second", "third")])
        assert isinstance(results[1], UniquenessException)
        assert [r.user_name for r in results if not isinstance(r, Exception)] == ["first", "third"]
    with database.sessionmaker() as s:
        assert sorted(s.scalars(select(User.user_principal_name).where(User.tenant_id == contoso.id))) == [
            "first", "other", "third"]


@pytest.mark.parametrize("raw", [True, False])
def test_created_members_are_answered_as_stored(database: Database, contoso: Tenant, raw: bool) -> None:
    """create_many answers from the rows it inserted (no read back): exactly what reading them gives (with
    ``raw_pages``, for a Bulk outcome: the id and version only)."""
    provider = build_provider()
    user_type = resource_type_named(provider, "User")
    model = provider.model_for(user_type)
    data = [{"schemas": [USER_SCHEMA, ENTERPRISE], "userName": "Ann@contoso.com", "displayName": "Ann",
             "externalId": "e1", "title": "T", "nickName": "N", "name": {"givenName": "A", "middleName": "M"},
             "emails": [{"value": "b@x.example", "type": "home", "display": "B"},
                        {"value": "ann@contoso.com", "type": "work", "primary": True}],
             "phoneNumbers": [{"value": "+1 555", "type": "work"}],
             ENTERPRISE: {"employeeNumber": "7", "department": "S"}},
            {"schemas": [USER_SCHEMA], "userName": "bare"},
            {"schemas": [USER_SCHEMA], "userName": "off", "active": False}]  # the one-by-one path
    with database.transaction() as s:
        storage = SqlStorage(s, s.merge(contoso), provider, actor="test", raw_pages=raw)
        created = storage.create_many(user_type, [model.model_validate(item) for item in data])
    with database.transaction() as s:
        storage = SqlStorage(s, s.merge(contoso), provider, actor="test", raw_pages=raw)
        if raw:  # what a Bulk outcome reads: the id and version a read gives
            read = storage.search([user_type], SearchRequest(count=10)).resources
            assert isinstance(created, list) and all(isinstance(c, dict) for c in created)
            assert sorted((c["id"], c["meta"]["version"]) for c in created) == sorted(
                (u["id"], u["meta"]["version"]) for u in read)
        else:
            with provider:
                assert [c.model_dump() for c in created] == [
                    storage.get(user_type, c.id).model_dump() for c in created]
    assert len(created) == 3


@pytest.mark.parametrize("outcomes", [
    [(BulkOperation.Method.post, "a", HTTPStatus.CREATED, "http://x/Users/1", 'W/"1"'),
     (BulkOperation.Method.post, None, HTTPStatus.CREATED, "http://x/Users/2", None),
     (BulkOperation.Method.delete, "d", HTTPStatus.NO_CONTENT, "http://x/Users/3", None),
     (BulkOperation.Method.patch, None, HTTPStatus.OK, "http://x/Groups/4", 'W/"7"')],
    [(BulkOperation.Method.post, "a", HTTPStatus.CREATED, "http://x/Users/1", 'W/"1"'),
     (BulkOperation.Method.post, "b", HTTPStatus.CONFLICT, None, None)],
])
def test_bulk_response_written_directly_equals_scim2_servers(outcomes: list[tuple[Any, ...]]) -> None:
    service = ScimEndpoint("s" * 32).service
    plan = BulkPlan([], None)
    for index, (method, bulk_id, status, location, version) in enumerate(outcomes):
        outcome = {"method": method, "bulk_id": bulk_id}
        if status >= 400:
            outcome = service.bulk_failure(outcome, UniquenessException(detail="taken"))
        else:
            outcome.update(status=status, location=location, version=version)
        plan.results[index] = outcome
    assert service.bulk_response(plan).body == ScimService.bulk_response(service, plan).body


@pytest.fixture
def scim_client(app: Flask, client: FlaskClient, contoso: Tenant) -> Scim:
    return Scim(client, "contoso", access_token(app, contoso, ["scim.read", "scim.write"]))


def test_bulk_success_without_publishing_equals_scim2_servers(scim_client: Scim) -> None:
    service = ScimEndpoint("s" * 32).service
    created = scim_client.create_user("pat", emails=[{"value": "pat@contoso.com", "primary": True}])
    with service.provider:
        resource = service.provider.model_for(resource_type_named(service.provider, "User")).model_validate(created)
        operation = BulkOperation[type(resource)](method=BulkOperation.Method.post, path="/Users", bulk_id="p")
        ours = service.bulk_success("http://x/scim/v2", operation, {"bulk_id": "p"}, resource)
        theirs = ScimService.bulk_success(service, "http://x/scim/v2", operation, {"bulk_id": "p"}, resource)
    assert ours == theirs and ours["location"] == f"http://x/scim/v2/Users/{created['id']}"


def _team_of(user_bulk_id: str) -> dict[str, Any]:
    return {"method": "POST", "path": "/Groups", "bulkId": "team",
            "data": {"schemas": [GROUP_SCHEMA], "displayName": "Team", "members": [{"value": user_bulk_id}]}}


def test_a_reference_written_with_json_escapes_is_still_resolved(scim_client: Scim) -> None:
    """The plan skips looking for references only in bodies that cannot hold one; ``\\u0062ulkId:`` can."""
    body = json.dumps({"schemas": [BULK_SCHEMA], "Operations": [
        _team_of("bulkId:ann"), _post("ann", {"userName": "ann@contoso.com"})]})
    escaped = body.replace('"bulkId:ann"', '"\\u0062ulkId:ann"')
    assert "bulkId:" not in escaped
    response = scim_client.post("Bulk", escaped)
    assert [op["status"] for op in response.json["Operations"]] == ["201", "201"]
    ann = scim_client.search('userName eq "ann@contoso.com"')[0]
    team = scim_client.search('displayName eq "Team"', path="Groups")[0]
    assert [m["value"] for m in team["members"]] == [ann["id"]]


def test_an_import_without_references_is_planned_without_walking_the_operations(
    scim_client: Scim, monkeypatch: pytest.MonkeyPatch,
) -> None:
    walked: list[Any] = []
    library_references = BulkPlan.references
    monkeypatch.setattr(BulkPlan, "references", staticmethod(lambda op: walked.append(op) or library_references(op)))
    users = [_post(f"u{n}", {"userName": f"user{n}@contoso.com"}) for n in range(3)]
    response = scim_client.post("Bulk", {"schemas": [BULK_SCHEMA], "Operations": users})
    assert [op["status"] for op in response.json["Operations"]] == ["201"] * 3
    assert walked == []
    response = scim_client.post("Bulk", {"schemas": [BULK_SCHEMA], "Operations": [
        _post("v", {"userName": "v@contoso.com"}), _team_of("bulkId:v")]})
    assert [op["status"] for op in response.json["Operations"]] == ["201", "201"]
    assert len(walked) == 2  # each operation once, for the plan and the run alike


def test_may_reference_is_false_only_for_bodies_without_the_prefix_or_escapes() -> None:
    assert not may_reference(b'{"bulkId": "a", "data": {"userName": "bulkId"}}')
    assert may_reference(b'{"value": "bulkId:a"}')
    assert may_reference(b'{"value": "\\u0062ulkId:a"}')
