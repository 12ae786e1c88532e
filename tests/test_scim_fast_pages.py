"""List responses serialised straight from the mapping's JSON equal what scim2-server's pydantic path gives."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from scim_support import ENTERPRISE, USER_SCHEMA, Scim, access_token

from idp.db import Database
from idp.directory import groups, users
from idp.models import Tenant
from idp.runtime import runtime
from scim.app import EXTENSION_KEY, ScimEndpoint


@pytest.mark.parametrize("query", [
    {}, {"sortBy": "userName", "count": 2, "startIndex": 2}, {"cursor": "", "count": 2},
    {"filter": 'userType eq "Guest"'},
])
def test_fast_and_pydantic_list_responses_are_equal(app: Flask, client: FlaskClient, contoso: Tenant,
                                                     database: Database, query: dict[str, object]) -> None:
    scim = Scim(client, "contoso", access_token(app, contoso, ["scim.read", "scim.write"]))
    sponsor = scim.create_user("sponsor@contoso.com", displayName="Sponsor", title="Boss", nickName="S",
                               name={"givenName": "Spo", "familyName": "Nsor", "middleName": "M"},
                               emails=[{"value": "sponsor@contoso.com", "type": "work", "primary": True},
                                       {"value": "s@home.example", "type": "home"}],
                               phoneNumbers=[{"value": "+1 555", "type": "work"}], locale="en-US",
                               **{"schemas": [USER_SCHEMA, ENTERPRISE],
                                  ENTERPRISE: {"employeeNumber": "1", "department": "Sales"}})
    with database.transaction() as s:
        tenant = s.merge(contoso)
        inviter = users.get_user(s, tenant, sponsor["id"])
        team = groups.create_group(s, tenant, "Team")
        guest = users.create_guest(s, tenant, "gina@fabrikam.com", sponsors=[inviter, team], invited_by=inviter)
        groups.add_member(s, tenant, team, guest)
    fast = scim.get("Users", **query).json
    app.extensions[EXTENSION_KEY] = ScimEndpoint(runtime(app).settings.secret_key, raw_pages=False)
    slow = scim.get("Users", **query).json
    for body in (fast, slow):
        body.pop("nextCursor", None)
        body.pop("previousCursor", None)
    assert fast == slow
    assert fast["Resources"]
    fast_groups = scim.get("Groups").json
    app.extensions[EXTENSION_KEY] = ScimEndpoint(runtime(app).settings.secret_key, raw_pages=True)
    assert scim.get("Groups").json == fast_groups


def test_responses_are_json_whatever_a_client_stored() -> None:
    """orjson writes SCIM responses; what it refuses (an integer beyond 64 bits) goes through the json module."""
    import json

    from scim.app import response_json

    body = {"schemas": [USER_SCHEMA], "displayName": "Zoë \u2603", "x": [1, 2.5, True, None]}
    assert json.loads(response_json(body)) == body
    huge = {"schemas": [USER_SCHEMA], "x": 2**70, "y": -(2**64)}
    assert json.loads(response_json(huge)) == huge
