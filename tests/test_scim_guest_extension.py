"""The Portico guest extension over SCIM.

``showInAddressList`` is the provisioning client's (readWrite). The other attributes are Portico's record of the
invitation: read-only (RFC 7644 §3.5.2: a PATCH naming one, or changing its value, is a 400 ``mutability``; §3.5.1:
a PUT ignores them) and returned only when named in ``attributes`` (RFC 7643 §7 ``returned: request``). A PATCH of
the extension as a whole acts on what the client manages: ``add``/``replace`` set the attributes they name and
leave the others (§3.5.2.1, §3.5.2.3); ``remove`` unassigns ``showInAddressList`` and leaves Portico's record.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from scim_support import BULK_SCHEMA, GUEST, USER_SCHEMA, Scim, access_token, patch_op

from idp.models import Tenant

RECORD = {"externalUserState", "externalUserStateChangeDateTime", "creationType", "identities", "sponsors",
          "invitedBy"}


@pytest.fixture
def scim(app: Flask, client: FlaskClient, contoso: Tenant) -> Scim:
    return Scim(client, "contoso", access_token(app, contoso, ["scim.read", "scim.write"]))


@pytest.fixture(params=["Guest", "Member"])
def user(request: pytest.FixtureRequest, scim: Scim) -> dict[str, Any]:
    if request.param == "Guest":
        return scim.create_user("gale@fabrikam.com", userType="Guest")
    return scim.create_user("mel")


def _record(scim: Scim, user: dict[str, Any]) -> dict[str, Any]:
    """Portico's read-only record of the user (everything in the extension but showInAddressList)."""
    return {k: v for k, v in scim.guest(user["id"]).items() if k != "showInAddressList"}


def _shown(scim: Scim, user: dict[str, Any]) -> Any:
    return scim.get(f"Users/{user['id']}").json.get(GUEST, {}).get("showInAddressList")


def test_invited_guests_start_hidden_and_the_record_is_returned_on_request(scim: Scim) -> None:
    guest = scim.create_user("gale@fabrikam.com", userType="Guest")
    member = scim.create_user("mel")
    assert guest[GUEST] == {"showInAddressList": False}  # b2b-collaboration.md §3.1: hidden by default
    assert GUEST not in member  # unassigned: shown
    for user in (guest, member):
        assert GUEST not in scim.get(f"Users/{user['id']}", attributes="userName").json
        listed = scim.search(f'id eq "{user["id"]}"')[0]
        assert set(listed.get(GUEST, {})) <= {"showInAddressList"}
    record = _record(scim, guest)
    assert set(record) == RECORD - {"sponsors", "invitedBy"}  # an app invited her: no inviting user
    assert record["identities"] == [{"signInType": "userPrincipalName", "issuer": "contoso.portico.example",
                                     "issuerAssignedId": guest["userName"]}]
    assert set(_record(scim, member)) == {"identities"}
    # Named attributes come back in searches too.
    listed = scim.search(f'id eq "{guest["id"]}"', attributes=f"{GUEST}:creationType")[0]
    assert listed[GUEST] == {"creationType": "Invitation"}


def test_show_in_address_list_is_written_by_the_client(scim: Scim, user: dict[str, Any]) -> None:
    before = _record(scim, user)
    for value, operation in enumerate([
        {"op": "replace", "path": f"{GUEST}:showInAddressList", "value": True},
        {"op": "add", "path": f"{GUEST}:showInAddressList", "value": False},
        {"op": "replace", "path": GUEST, "value": {"showInAddressList": True}},
        {"op": "add", "path": GUEST, "value": {"showInAddressList": False}},
        {"op": "replace", "value": {GUEST: {"showInAddressList": True}}},
        {"op": "Replace", "value": {f"{GUEST}:showInAddressList": "False"}},  # Entra's dialect
    ]):
        expected = value % 2 == 0
        response = scim.patch(f"Users/{user['id']}", patch_op(operation))
        assert response.status_code in (200, 204), (operation, response.json)
        assert scim.get(f"Users/{user['id']}").json[GUEST] == {"showInAddressList": expected}, operation
        found = scim.search(f"{GUEST}:showInAddressList eq {str(expected).lower()}")
        assert [u["id"] for u in found] == [user["id"]], operation
    assert _record(scim, user) == before


def test_show_in_address_list_is_a_boolean(scim: Scim, user: dict[str, Any]) -> None:
    response = scim.patch(f"Users/{user['id']}", patch_op(
        {"op": "replace", "path": f"{GUEST}:showInAddressList", "value": "sometimes"}))
    assert response.status_code == 400, response.json


def test_creation_sets_show_in_address_list(scim: Scim) -> None:
    extension = {"schemas": [USER_SCHEMA, GUEST], GUEST: {"showInAddressList": True}}
    guest = scim.create_user("gale@fabrikam.com", userType="Guest", **extension)
    member = scim.create_user("mel", **{**extension, GUEST: {"showInAddressList": False}})
    assert (guest[GUEST], member[GUEST]) == ({"showInAddressList": True}, {"showInAddressList": False})
    assert _record(scim, guest)["creationType"] == "Invitation"
    hidden = scim.search(f"{GUEST}:showInAddressList eq false")
    assert [u["id"] for u in hidden] == [member["id"]]
    unassigned = scim.create_user("nia")
    ordered = scim.get("Users", sortBy=f"{GUEST}:showInAddressList").json["Resources"]
    assert [u["id"] for u in ordered] == [member["id"], guest["id"], unassigned["id"]]  # false, true, unassigned


@pytest.mark.parametrize("operation", [
    {"op": "remove", "path": GUEST},
    {"op": "remove", "path": GUEST.upper()},
    {"op": "replace", "value": {GUEST: None}},
    {"op": "remove", "path": f"{GUEST}:showInAddressList"},
])
def test_removing_the_extension_unassigns_what_the_client_manages(
    scim: Scim, user: dict[str, Any], operation: dict[str, Any]
) -> None:
    scim.patch(f"Users/{user['id']}", patch_op(
        {"op": "replace", "path": f"{GUEST}:showInAddressList", "value": False}))
    before = _record(scim, user)
    assert before["identities"]  # every user has at least its userPrincipalName identity (spec §3.3)
    response = scim.patch(f"Users/{user['id']}", patch_op(operation))
    assert response.status_code == 204, response.json
    assert GUEST not in scim.get(f"Users/{user['id']}").json  # unassigned (RFC 7644 §3.5.2.2)
    assert _record(scim, user) == before  # Portico's record is not the client's to remove


def test_bulk_removes_the_extension_as_a_single_patch_does(scim: Scim, user: dict[str, Any]) -> None:
    before = _record(scim, user)
    response = scim.post("Bulk", {"schemas": [BULK_SCHEMA], "Operations": [
        {"method": "PATCH", "path": f"/Users/{user['id']}", "data": patch_op({"op": "remove", "path": GUEST})}]})
    assert response.status_code == 200, response.json
    assert response.json["Operations"][0]["status"] in ("200", "204")
    assert _shown(scim, user) is None
    assert _record(scim, user) == before


def test_read_only_guest_attributes_cannot_be_removed_or_changed(scim: Scim, user: dict[str, Any]) -> None:
    before, shown = _record(scim, user), _shown(scim, user)
    for operation in (
        {"op": "remove", "path": f"{GUEST}:identities"},
        {"op": "remove", "path": f"{GUEST}:creationType"},
        {"op": "remove", "path": f'{GUEST}:identities[signInType eq "userPrincipalName"]'},
        {"op": "replace", "path": GUEST, "value": {"identities": []}},
        {"op": "add", "path": GUEST, "value": {"creationType": "LocalAccount", "showInAddressList": True}},
        {"op": "replace", "path": f"{GUEST}:externalUserState", "value": "Accepted"},
        {"op": "replace", "value": {GUEST: {"sponsors": [{"value": "someone", "type": "User"}]}}},
    ):
        response = scim.patch(f"Users/{user['id']}", patch_op(operation))
        assert response.status_code == 400, (operation, response.json)
        assert response.json["scimType"] == "mutability", operation
    assert (_record(scim, user), _shown(scim, user)) == (before, shown)


@pytest.mark.parametrize("operation", [
    {"op": "add", "path": GUEST, "value": {}},
    {"op": "replace", "path": GUEST, "value": {}},
    {"op": "replace", "value": {"displayName": "Renamed", GUEST: {}}},
])
def test_an_extension_value_naming_no_attribute_changes_nothing(
    scim: Scim, user: dict[str, Any], operation: dict[str, Any]
) -> None:
    before, shown = _record(scim, user), _shown(scim, user)
    response = scim.patch(f"Users/{user['id']}", patch_op(operation))
    assert response.status_code in (200, 204), response.json
    assert (_record(scim, user), _shown(scim, user)) == (before, shown)


def test_put_ignores_the_record_and_keeps_show_in_address_list_unless_sent(
    scim: Scim, user: dict[str, Any]
) -> None:
    # RFC 7644 §3.5.1: read-only values in a replacement are ignored, whether sent or left out; a readWrite
    # attribute left out may keep a value the provider assigns: Okta's and Entra's PUTs do not know this one.
    scim.patch(f"Users/{user['id']}", patch_op(
        {"op": "replace", "path": f"{GUEST}:showInAddressList", "value": False}))
    before = _record(scim, user)
    for extension in ({GUEST: {"externalUserState": "Accepted", "creationType": "LocalAccount"}}, {}):
        body = {"schemas": [USER_SCHEMA, GUEST], "userName": user["userName"], **extension}
        response = scim.put(f"Users/{user['id']}", body)
        assert response.status_code == 200, response.json
        assert response.json[GUEST] == {"showInAddressList": False}
        assert _record(scim, user) == before
    body = {"schemas": [USER_SCHEMA, GUEST], "userName": user["userName"], GUEST: {"showInAddressList": True}}
    assert scim.put(f"Users/{user['id']}", body).json[GUEST] == {"showInAddressList": True}
    assert _record(scim, user) == before
