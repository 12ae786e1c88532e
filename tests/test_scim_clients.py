"""Compatibility with real provisioning clients: the exact payloads Microsoft Entra and Okta send, each in its
own test, next to the strict RFC 7644 forms that must keep working."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from scim_support import ENTERPRISE, PATCH_SCHEMA, USER_SCHEMA, Scim, access_token

from idp.models import Tenant


@pytest.fixture
def scim(app: Flask, client: FlaskClient, contoso: Tenant) -> Scim:
    return Scim(client, "contoso", access_token(app, contoso, ["scim.read", "scim.write"]))


@pytest.fixture
def user(scim: Scim) -> dict[str, Any]:
    return scim.create_user("adele@contoso.com", displayName="Adele", active=True,
                            emails=[{"value": "adele@contoso.com", "type": "home"}])


@pytest.fixture
def group_with_two(scim: Scim) -> tuple[dict[str, Any], str, str]:
    first = scim.create_user("first@contoso.com")["id"]
    second = scim.create_user("second@contoso.com")["id"]
    return scim.create_group("Sync", [first, second]), first, second


def _ok(response: Any) -> None:
    assert response.status_code in (200, 204), response.json


# -- Microsoft Entra -----------------------------------------------------------------------------------------------


def test_entra_creates_a_user(scim: Scim) -> None:
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_ab6490ee@contoso.com",
        "active": True,
        "emails": [{"primary": True, "type": "work", "value": "Test_User_fd0ea19b@contoso.com"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "roles": [],
        ENTERPRISE: {"department": "Sales", "employeeNumber": "42"},
    }
    response = scim.post("Users", body)
    assert response.status_code == 201, response.json
    created = response.json
    assert created["externalId"] == "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"
    assert created["name"] == {"formatted": "givenName familyName", "familyName": "familyName",
                               "givenName": "givenName"}
    assert created[ENTERPRISE] == {"department": "Sales", "employeeNumber": "42"}
    found = scim.search('userName eq "test_user_ab6490ee@contoso.com"')
    assert [u["id"] for u in found] == [created["id"]]


def test_entra_capitalised_replace_with_string_boolean_false(scim: Scim, user: dict[str, Any]) -> None:
    body = {"schemas": [PATCH_SCHEMA], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}
    _ok(scim.patch(f"Users/{user['id']}", body))
    assert scim.get(f"Users/{user['id']}").json["active"] is False


def test_entra_capitalised_replace_with_string_boolean_true(scim: Scim, user: dict[str, Any]) -> None:
    scim.patch(f"Users/{user['id']}", {"schemas": [PATCH_SCHEMA],
                                       "Operations": [{"op": "replace", "path": "active", "value": False}]})
    body = {"schemas": [PATCH_SCHEMA], "Operations": [{"op": "Replace", "path": "active", "value": "True"}]}
    _ok(scim.patch(f"Users/{user['id']}", body))
    assert scim.get(f"Users/{user['id']}").json["active"] is True


def test_entra_add_of_several_attributes(scim: Scim, user: dict[str, Any]) -> None:
    body = {"schemas": [PATCH_SCHEMA], "Operations": [
        {"op": "Add", "path": "title", "value": "Engineer"},
        {"op": "Add", "path": "name.givenName", "value": "Adele"},
        {"op": "Add", "path": f"{ENTERPRISE}:employeeNumber", "value": "7"},
    ]}
    _ok(scim.patch(f"Users/{user['id']}", body))
    stored = scim.get(f"Users/{user['id']}").json
    assert (stored["title"], stored["name"]["givenName"], stored[ENTERPRISE]["employeeNumber"]) == (
        "Engineer", "Adele", "7")


def test_entra_replace_of_a_missing_multi_valued_element_adds_it(scim: Scim, user: dict[str, Any]) -> None:
    body = {"schemas": [PATCH_SCHEMA], "Operations": [
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "adele.work@contoso.com"}]}
    _ok(scim.patch(f"Users/{user['id']}", body))
    emails = {e["type"]: e["value"] for e in scim.get(f"Users/{user['id']}").json["emails"]}
    assert emails == {"home": "adele@contoso.com", "work": "adele.work@contoso.com"}
    assert [u["id"] for u in scim.search('emails[type eq "work" and value eq "adele.work@contoso.com"]')] == [
        user["id"]]


def test_entra_adds_a_group_member(scim: Scim, user: dict[str, Any]) -> None:
    group = scim.create_group("Entra group")
    body = {"schemas": [PATCH_SCHEMA], "Operations": [
        {"op": "Add", "path": "members", "value": [{"value": user["id"]}]}]}
    _ok(scim.patch(f"Groups/{group['id']}", body))
    assert [m["value"] for m in scim.get(f"Groups/{group['id']}").json["members"]] == [user["id"]]


def test_entra_removes_members_by_value_list(scim: Scim, group_with_two: tuple[dict[str, Any], str, str]) -> None:
    group, first, second = group_with_two
    body = {"schemas": [PATCH_SCHEMA], "Operations": [
        {"op": "Remove", "path": "members", "value": [{"value": first}]}]}
    _ok(scim.patch(f"Groups/{group['id']}", body))
    assert [m["value"] for m in scim.get(f"Groups/{group['id']}").json["members"]] == [second]


def test_entra_replaces_without_path_with_a_partial_object(scim: Scim, user: dict[str, Any]) -> None:
    body = {"schemas": [PATCH_SCHEMA], "Operations": [
        {"op": "Replace", "value": {"displayName": "Adele Vance", "active": False}}]}
    _ok(scim.patch(f"Users/{user['id']}", body))
    stored = scim.get(f"Users/{user['id']}").json
    assert (stored["displayName"], stored["active"], stored["userName"]) == ("Adele Vance", False,
                                                                              "adele@contoso.com")


def test_entra_custom_extension_attributes_are_ignored(scim: Scim) -> None:
    custom = "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User"
    response = scim.post("Users", {"schemas": [USER_SCHEMA, custom], "userName": "custom@contoso.com",
                                   "unknownAttribute": "x", custom: {"CustomAttribute": "y"}})
    assert response.status_code == 201, response.json
    assert "unknownAttribute" not in response.json and custom not in response.json


# -- Okta ----------------------------------------------------------------------------------------------------------


def test_okta_deactivates_with_replace_without_path(scim: Scim, user: dict[str, Any]) -> None:
    body = {"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "value": {"active": False}}]}
    _ok(scim.patch(f"Users/{user['id']}", body))
    assert scim.get(f"Users/{user['id']}").json["active"] is False


def test_okta_removes_a_member_by_filter_path(scim: Scim, group_with_two: tuple[dict[str, Any], str, str]) -> None:
    group, first, second = group_with_two
    body = {"schemas": [PATCH_SCHEMA], "Operations": [{"op": "remove", "path": f'members[value eq "{second}"]'}]}
    _ok(scim.patch(f"Groups/{group['id']}", body))
    assert [m["value"] for m in scim.get(f"Groups/{group['id']}").json["members"]] == [first]


def test_okta_renames_a_group_with_its_id_in_the_value(scim: Scim) -> None:
    group = scim.create_group("Old name")
    body = {"schemas": [PATCH_SCHEMA], "Operations": [
        {"op": "replace", "value": {"id": group["id"], "displayName": "New name"}}]}
    _ok(scim.patch(f"Groups/{group['id']}", body))
    assert scim.get(f"Groups/{group['id']}").json["displayName"] == "New name"


def test_okta_put_full_replacement(scim: Scim, user: dict[str, Any]) -> None:
    body = {
        "schemas": [USER_SCHEMA],
        "id": user["id"],
        "userName": "adele@contoso.com",
        "name": {"givenName": "Adele", "familyName": "Vance"},
        "emails": [{"primary": True, "value": "adele@contoso.com", "type": "work"}],
        "displayName": "Adele Vance",
        "locale": "en-US",
        "externalId": "00u1dhhb1fkIGP7RL1d8",
        "groups": [],
        "active": True,
    }
    response = scim.put(f"Users/{user['id']}", body)
    assert response.status_code == 200, response.json
    stored = scim.get(f"Users/{user['id']}").json
    assert stored["name"] == {"givenName": "Adele", "familyName": "Vance"}
    assert stored["emails"] == [{"value": "adele@contoso.com", "type": "work", "primary": True}]
    assert (stored["locale"], stored["externalId"]) == ("en-US", "00u1dhhb1fkIGP7RL1d8")
    # A full replacement: what the body leaves out is gone.
    replaced = scim.put(f"Users/{user['id']}", {"schemas": [USER_SCHEMA], "userName": "adele@contoso.com"})
    assert replaced.status_code == 200
    assert "displayName" not in replaced.json and "emails" not in replaced.json


def test_okta_put_replaces_group_members(scim: Scim, group_with_two: tuple[dict[str, Any], str, str]) -> None:
    group, first, _second = group_with_two
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": group["id"],
            "displayName": "Sync", "members": [{"value": first, "display": "first@contoso.com"}]}
    response = scim.put(f"Groups/{group['id']}", body)
    assert response.status_code == 200, response.json
    assert [m["value"] for m in response.json["members"]] == [first]


# -- strict RFC 7644 forms keep working ----------------------------------------------------------------------------


def test_rfc_lowercase_operations(scim: Scim, user: dict[str, Any]) -> None:
    body = {"schemas": [PATCH_SCHEMA], "Operations": [
        {"op": "replace", "path": "displayName", "value": "A"},
        {"op": "add", "path": "emails", "value": [{"value": "a2@contoso.com", "type": "other"}]},
        {"op": "remove", "path": 'emails[type eq "home"]'},
    ]}
    _ok(scim.patch(f"Users/{user['id']}", body))
    stored = scim.get(f"Users/{user['id']}").json
    assert stored["displayName"] == "A"
    assert [e["value"] for e in stored["emails"]] == ["a2@contoso.com"]


def test_rfc_replace_with_a_filter_matching_nothing_is_no_target(scim: Scim, user: dict[str, Any]) -> None:
    body = {"schemas": [PATCH_SCHEMA], "Operations": [
        {"op": "replace", "path": 'emails[value co "nowhere"].type', "value": "work"}]}
    response = scim.patch(f"Users/{user['id']}", body)
    assert response.status_code == 400
    assert response.json["scimType"] == "noTarget"


def test_rfc_unknown_operation_is_refused(scim: Scim, user: dict[str, Any]) -> None:
    body = {"schemas": [PATCH_SCHEMA], "Operations": [{"op": "merge", "path": "title", "value": "x"}]}
    response = scim.patch(f"Users/{user['id']}", body)
    assert response.status_code == 400


def test_read_only_guest_attributes_cannot_be_patched(scim: Scim, user: dict[str, Any]) -> None:
    guest = "urn:portico:params:scim:schemas:extension:guest:2.0:User"
    body = {"schemas": [PATCH_SCHEMA], "Operations": [
        {"op": "replace", "path": f"{guest}:externalUserState", "value": "Accepted"}]}
    response = scim.patch(f"Users/{user['id']}", body)
    assert response.status_code == 400
    assert response.json["scimType"] == "mutability"
