"""The Portico guest extension over SCIM: every attribute is read-only, so a PATCH cannot remove or change it.

RFC 7644 §3.5.2.2: removing a read-only attribute is a 400 ``mutability``; §3.5.2.3: an ``add``/``replace`` of a
complex value leaves the sub-attributes it does not name unchanged, so one naming none changes nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from scim_support import BULK_SCHEMA, GUEST, USER_SCHEMA, Scim, access_token, patch_op

from idp.models import Tenant


@pytest.fixture
def scim(app: Flask, client: FlaskClient, contoso: Tenant) -> Scim:
    return Scim(client, "contoso", access_token(app, contoso, ["scim.read", "scim.write"]))


@pytest.fixture(params=["Guest", "Member"])
def user(request: pytest.FixtureRequest, scim: Scim) -> dict[str, Any]:
    if request.param == "Guest":
        return scim.create_user("gale@fabrikam.com", userType="Guest")
    return scim.create_user("mel")


def _guest(scim: Scim, user: dict[str, Any]) -> dict[str, Any]:
    return scim.get(f"Users/{user['id']}").json[GUEST]


@pytest.mark.parametrize("operation", [
    {"op": "remove", "path": GUEST},
    {"op": "remove", "path": GUEST.upper()},
    {"op": "remove", "path": f"{GUEST}:identities"},
    {"op": "replace", "value": {GUEST: None}},
])
def test_removing_guest_attributes_is_refused(scim: Scim, user: dict[str, Any], operation: dict[str, Any]) -> None:
    before = _guest(scim, user)
    assert before["identities"]  # every user has at least its userPrincipalName identity (spec §3.3)
    response = scim.patch(f"Users/{user['id']}", patch_op(operation))
    assert response.status_code == 400, response.json
    assert response.json["scimType"] == "mutability"
    assert _guest(scim, user) == before


def test_changing_guest_attributes_is_refused(scim: Scim, user: dict[str, Any]) -> None:
    before = _guest(scim, user)
    for operation in ({"op": "add", "path": GUEST, "value": {"creationType": "LocalAccount"}},
                      {"op": "replace", "path": f"{GUEST}:externalUserState", "value": "Accepted"},
                      {"op": "replace", "value": {GUEST: {"sponsors": [{"value": user["id"], "type": "User"}]}}}):
        response = scim.patch(f"Users/{user['id']}", patch_op(operation))
        assert response.status_code == 400, (operation, response.json)
        assert response.json["scimType"] == "mutability"
    assert _guest(scim, user) == before


@pytest.mark.parametrize("operation", [
    {"op": "add", "path": GUEST, "value": {}},
    {"op": "replace", "path": GUEST, "value": {}},
    {"op": "replace", "value": {"displayName": "Renamed", GUEST: {}}},
])
def test_an_extension_value_naming_no_attribute_changes_nothing(
    scim: Scim, user: dict[str, Any], operation: dict[str, Any]
) -> None:
    before = _guest(scim, user)
    response = scim.patch(f"Users/{user['id']}", patch_op(operation))
    assert response.status_code in (200, 204), response.json
    assert _guest(scim, user) == before


def test_bulk_cannot_remove_the_guest_extension(scim: Scim, user: dict[str, Any]) -> None:
    before = _guest(scim, user)
    response = scim.post("Bulk", {"schemas": [BULK_SCHEMA], "Operations": [
        {"method": "PATCH", "path": f"/Users/{user['id']}", "data": patch_op({"op": "remove", "path": GUEST})}]})
    assert response.status_code == 200, response.json
    assert response.json["Operations"][0]["status"] == "400"
    assert _guest(scim, user) == before


def test_put_ignores_guest_attributes(scim: Scim, user: dict[str, Any]) -> None:
    # RFC 7644 §3.5.1: read-only values in a replacement are ignored, whether sent or left out.
    before = _guest(scim, user)
    for extension in ({GUEST: {"externalUserState": "Accepted", "creationType": "LocalAccount"}}, {}):
        body = {"schemas": [USER_SCHEMA, GUEST], "userName": user["userName"], **extension}
        response = scim.put(f"Users/{user['id']}", body)
        assert response.status_code == 200, response.json
        assert response.json[GUEST] == before
