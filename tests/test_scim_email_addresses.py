"""Email addresses in SCIM writes are checked by the directory's rule, whichever way they come in.

``emails.value`` is a plain string in Portico's User model (scim/schema.py ``PorticoEmail``): the directory
(``idp.directory.emails.validate_address``) is the one check, so every write path must apply it.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from scim_support import BULK_SCHEMA, USER_SCHEMA, Scim, access_token, patch_op

from idp.models import Tenant

BAD_ADDRESSES = ["not an address", "ann@", "@contoso.com", "ann@@contoso.com", "ann@contoso..com", "ann@-x.com",
                 "ännchen@contoso.com"]  # the last: no SMTPUTF8 local parts (directory rule)


@pytest.fixture
def scim(app: Flask, client: FlaskClient, contoso: Tenant) -> Scim:
    return Scim(client, "contoso", access_token(app, contoso, ["scim.read", "scim.write"]))


def _refused(response: Any) -> None:
    assert response.status_code == 400, response.json
    assert response.json["scimType"] == "invalidValue"
    assert "not a valid email address" in response.json["detail"]


@pytest.mark.parametrize("address", BAD_ADDRESSES)
def test_a_member_with_a_bad_address_is_refused(scim: Scim, address: str) -> None:
    _refused(scim.post("Users", {"schemas": [USER_SCHEMA], "userName": "ann@contoso.com",
                                 "emails": [{"value": address, "primary": True}]}))
    assert scim.search('userName eq "ann@contoso.com"') == []


def test_a_guest_with_a_bad_address_is_refused(scim: Scim) -> None:
    response = scim.post("Users", {"schemas": [USER_SCHEMA], "userName": "gus", "userType": "Guest",
                                   "emails": [{"value": "gus@partner..example", "primary": True}]})
    assert response.status_code == 400 and response.json["scimType"] == "invalidValue"
    assert scim.get("Users", count=0).json["totalResults"] == 0


def test_put_and_patch_with_a_bad_address_are_refused_and_change_nothing(scim: Scim) -> None:
    user = scim.create_user("ann@contoso.com", emails=[{"value": "ann@contoso.com", "primary": True}])
    _refused(scim.put(f"Users/{user['id']}", {"schemas": [USER_SCHEMA], "userName": "ann@contoso.com",
                                                "emails": [{"value": "ann@", "primary": True}]}))
    _refused(scim.patch(f"Users/{user['id']}", patch_op({"op": "add", "path": "emails",
                                                         "value": [{"value": "not an address"}]})))
    _refused(scim.patch(f"Users/{user['id']}", patch_op({"op": "replace", "path": 'emails[primary eq true].value',
                                                         "value": "x@@contoso.com"})))
    stored = scim.get(f"Users/{user['id']}").json
    assert stored["emails"] == [{"value": "ann@contoso.com", "primary": True}]
    assert stored["meta"]["version"] == user["meta"]["version"]


def test_a_bad_address_fails_its_bulk_operation_alone(scim: Scim) -> None:
    operations = [{"method": "POST", "path": "/Users", "bulkId": name, "data": {
        "schemas": [USER_SCHEMA], "userName": f"{name}@contoso.com", "emails": [{"value": address}]}}
        for name, address in (("a", "a@contoso.com"), ("b", "b@"), ("c", "c@contoso.com"))]
    response = scim.post("Bulk", {"schemas": [BULK_SCHEMA], "Operations": operations})
    results = response.json["Operations"]
    assert [op["status"] for op in results] == ["201", "400", "201"]
    assert results[1]["response"]["scimType"] == "invalidValue"
    assert {u["userName"] for u in scim.get("Users").json["Resources"]} == {"a@contoso.com", "c@contoso.com"}
