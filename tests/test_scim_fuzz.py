"""Property-based: random filters and random PATCH bodies never make the SCIM endpoint answer 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scim_support import ENTERPRISE, GUEST, PATCH_SCHEMA, Scim, access_token

from idp.models import Tenant

ATTRIBUTES = [
    "userName", "displayName", "title", "nickName", "active", "externalId", "id", "userType", "name",
    "name.givenName", "name.familyName", "emails", "emails.value", "emails.type", "emails.primary", "groups",
    "groups.value", "meta.created", "meta.lastModified", "meta.resourceType", "phoneNumbers", "addresses.locality",
    f"{ENTERPRISE}:employeeNumber", f"{ENTERPRISE}:department", f"{GUEST}:externalUserState",
    f"{GUEST}:identities.issuer", f"{GUEST}:sponsors", "unknown", "x.y.z", "members", "EMAILS.VALUE",
]
OPERATORS = ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "EQ", "Co", "xx"]
JSON_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12), st.sampled_from(["2020-01-01T00:00:00Z", "%", "_", "\\", '"', "a@b.example", ""]),
)

comparisons = st.builds(
    lambda a, o, v: f"{a} {o} {json.dumps(v)}", st.sampled_from(ATTRIBUTES), st.sampled_from(OPERATORS), JSON_VALUES
)
presences = st.builds(lambda a: f"{a} pr", st.sampled_from(ATTRIBUTES))
value_paths = st.builds(lambda a, inner: f"{a}[{inner}]", st.sampled_from(["emails", "groups", "members", "name",
                                                                           f"{GUEST}:identities"]),
                        st.one_of(comparisons, presences))
atoms = st.one_of(comparisons, presences, value_paths)
filters = st.recursive(
    atoms,
    lambda inner: st.one_of(
        st.builds(lambda a, b, op: f"{a} {op} {b}", inner, inner, st.sampled_from(["and", "or", "AND"])),
        st.builds(lambda a: f"not ({a})", inner),
        st.builds(lambda a: f"({a})", inner),
    ),
    max_leaves=5,
)
garbage = st.text(max_size=40)

PATHS = st.one_of(st.none(), st.sampled_from(ATTRIBUTES), st.builds(lambda a, f: f"{a}[{f}].value",
                  st.sampled_from(["emails", "members"]), comparisons), st.text(max_size=15))
JSON_TREE = st.recursive(JSON_VALUES, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(ATTRIBUTES + ["value", "type", "op"]), inner,
                                                 max_size=3)), max_leaves=6)
operations = st.fixed_dictionaries(
    {"op": st.sampled_from(["add", "remove", "replace", "Add", "Replace", "REMOVE", "move", ""])},
    optional={"path": PATHS, "value": JSON_TREE},
)
patch_bodies = st.one_of(
    st.builds(lambda ops: {"schemas": [PATCH_SCHEMA], "Operations": ops}, st.lists(operations, max_size=3)),
    JSON_TREE,
)

NEVER = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def scim(app: Flask, client: FlaskClient, contoso: Tenant) -> Scim:
    return Scim(client, "contoso", access_token(app, contoso, ["scim.read", "scim.write"]))


@pytest.fixture
def targets(scim: Scim) -> dict[str, str]:
    user = scim.create_user("fuzz@contoso.com", title="T", emails=[{"value": "fuzz@contoso.com", "type": "work"}])
    return {"Users": user["id"], "Groups": scim.create_group("fuzz", [user["id"]])["id"]}


@NEVER
@given(scim_filter=st.one_of(filters, garbage))
def test_random_filters_never_fail(scim: Scim, targets: dict[str, str], scim_filter: str) -> None:
    response = scim.get("Users", filter=scim_filter)
    assert response.status_code in (200, 400), (scim_filter, response.json)
    if response.status_code == 400:
        assert response.json["scimType"] == "invalidFilter", (scim_filter, response.json)


@NEVER
@given(body=patch_bodies, target=st.sampled_from(["Users", "Groups"]))
def test_random_patch_bodies_never_fail(scim: Scim, targets: dict[str, str], body: Any, target: str) -> None:
    resource = targets[target]
    response = scim.patch(f"{target}/{resource}", body)
    assert response.status_code in (200, 204, 400, 409), (body, response.json)
    if response.status_code == 200:
        assert response.json["id"] == resource
