"""``userType`` and ``active`` are required attributes of every Portico User (RFC 7643 §2.2, §7).

They are published as ``required`` in ``/Schemas``; a PATCH cannot remove them or set them to null (400
``mutability``, RFC 7644 §3.5.2.2), so no removal ever turns a Guest into a Member or re-enables a disabled
account. A POST or PUT that leaves them out (Entra and Okta do not send ``userType``) gets ``Member``/``true`` on
creation and keeps the current values on replacement.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from scim_support import BULK_SCHEMA, USER_SCHEMA, Scim, access_token, patch_op

from idp.models import Tenant


@pytest.fixture
def scim(app: Flask, client: FlaskClient, contoso: Tenant) -> Scim:
    return Scim(client, "contoso", access_token(app, contoso, ["scim.read", "scim.write"]))


@pytest.fixture
def disabled_guest(scim: Scim) -> dict[str, Any]:
    guest = scim.create_user("gwen@fabrikam.com", userType="Guest", active=False, displayName="Gwen")
    assert (guest["userType"], guest["active"]) == ("Guest", False)
    return guest


def _state(scim: Scim, user: dict[str, Any]) -> tuple[str, bool]:
    stored = scim.get(f"Users/{user['id']}").json
    return stored["userType"], stored["active"]


def test_schemas_publish_user_type_and_active_as_required(scim: Scim) -> None:
    schema = scim.get(f"Schemas/{USER_SCHEMA}").json
    required = {a["name"]: a["required"] for a in schema["attributes"]}
    assert required["userType"] is True and required["active"] is True
    assert required["userName"] is True and required["displayName"] is False


@pytest.mark.parametrize("path", ["userType", "UserType", f"{USER_SCHEMA}:userType", "active", "ACTIVE"])
def test_removing_user_type_or_active_is_refused(scim: Scim, disabled_guest: dict[str, Any], path: str) -> None:
    response = scim.patch(f"Users/{disabled_guest['id']}", patch_op({"op": "remove", "path": path}))
    assert response.status_code == 400, response.json
    assert response.json["scimType"] == "mutability"
    assert _state(scim, disabled_guest) == ("Guest", False)


@pytest.mark.parametrize("operation", [
    {"op": "replace", "path": "userType", "value": None},
    {"op": "replace", "path": "active", "value": None},
    {"op": "Replace", "value": {"userType": None, "displayName": "G"}},
    {"op": "replace", "value": {"active": None}},
])
def test_setting_user_type_or_active_to_null_is_refused(
    scim: Scim, disabled_guest: dict[str, Any], operation: dict[str, Any]
) -> None:
    response = scim.patch(f"Users/{disabled_guest['id']}", patch_op(operation))
    assert response.status_code == 400, response.json
    assert response.json["scimType"] == "mutability"
    stored = scim.get(f"Users/{disabled_guest['id']}").json
    assert (stored["userType"], stored["active"], stored["displayName"]) == ("Guest", False, "Gwen")


def test_an_empty_user_type_is_invalid_not_member(scim: Scim, disabled_guest: dict[str, Any]) -> None:
    response = scim.patch(f"Users/{disabled_guest['id']}",
                          patch_op({"op": "replace", "path": "userType", "value": ""}))
    assert response.status_code == 400, response.json
    assert response.json["scimType"] == "invalidValue"
    assert _state(scim, disabled_guest) == ("Guest", False)


def test_bulk_patch_cannot_remove_user_type(scim: Scim, disabled_guest: dict[str, Any]) -> None:
    response = scim.post("Bulk", {"schemas": [BULK_SCHEMA], "Operations": [
        {"method": "PATCH", "path": f"/Users/{disabled_guest['id']}",
         "data": patch_op({"op": "remove", "path": "userType"}, {"op": "remove", "path": "active"})}]})
    assert response.status_code == 200, response.json
    (outcome,) = response.json["Operations"]
    assert outcome["status"] == "400"
    assert outcome["response"]["scimType"] == "mutability"
    assert _state(scim, disabled_guest) == ("Guest", False)


def test_put_without_user_type_and_active_keeps_them(scim: Scim, disabled_guest: dict[str, Any]) -> None:
    # Okta's full replacement leaves out userType (it does not know it) and may leave out active.
    body = {"schemas": [USER_SCHEMA], "id": disabled_guest["id"], "userName": disabled_guest["userName"],
            "displayName": "Gwen Stacy", "emails": [{"value": "gwen@fabrikam.com", "primary": True}]}
    response = scim.put(f"Users/{disabled_guest['id']}", body)
    assert response.status_code == 200, response.json
    assert (response.json["userType"], response.json["active"], response.json["displayName"]) == \
        ("Guest", False, "Gwen Stacy")
    assert _state(scim, disabled_guest) == ("Guest", False)
    assert scim.guest(disabled_guest["id"])["externalUserState"] == "PendingAcceptance"


def test_put_with_null_user_type_keeps_it(scim: Scim, disabled_guest: dict[str, Any]) -> None:
    body = {"schemas": [USER_SCHEMA], "userName": disabled_guest["userName"], "userType": None, "active": None}
    response = scim.put(f"Users/{disabled_guest['id']}", body)
    assert response.status_code == 200, response.json
    assert _state(scim, disabled_guest) == ("Guest", False)


def test_creation_without_user_type_and_active_makes_an_enabled_member(scim: Scim) -> None:
    created = scim.create_user("nora")
    assert (created["userType"], created["active"]) == ("Member", True)


def test_explicit_changes_still_apply(scim: Scim, disabled_guest: dict[str, Any]) -> None:
    body = patch_op({"op": "replace", "path": "active", "value": True},
                    {"op": "replace", "path": "userType", "value": "Member"})
    assert scim.patch(f"Users/{disabled_guest['id']}", body).status_code in (200, 204)
    assert _state(scim, disabled_guest) == ("Member", True)


def test_a_guest_without_any_address_is_an_internal_guest(scim: Scim) -> None:
    # b2b-collaboration.md §3.4: userType Guest with a local account of the tenant ("internal guest").
    created = scim.create_user("kiosk-7", userType="Guest", active=False)
    assert (created["userType"], created["active"], created["userName"]) == ("Guest", False, "kiosk-7")
    assert "externalUserState" not in scim.guest(created["id"])
    assert "creationType" not in scim.guest(created["id"])
    assert _state(scim, created) == ("Guest", False)
    # An address still makes an invited (external) guest, and a foreign domain is no local account.
    invited = scim.create_user("ann@fabrikam.com", userType="Guest")
    assert scim.guest(invited["id"])["creationType"] == "Invitation"
