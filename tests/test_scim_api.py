"""The SCIM endpoint end to end: authentication and scopes, tenant isolation, discovery, search parameters,
pagination, ETags, Bulk, delta sync, guests."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from scim_support import BULK_SCHEMA, GROUP_SCHEMA, GUEST, USER_SCHEMA, Scim, access_token, patch_op
from sqlalchemy import text

from idp.db import Database
from idp.directory import users
from idp.models import Tenant


@pytest.fixture
def scim(app: Flask, client: FlaskClient, contoso: Tenant) -> Scim:
    return Scim(client, "contoso", access_token(app, contoso, ["scim.read", "scim.write"]))


# -- authentication, scopes, tenants ------------------------------------------------------------------------------


def test_no_token_is_401_with_a_bearer_challenge(client: FlaskClient, contoso: Tenant) -> None:
    response = Scim(client, "contoso", None).get("Users")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]


@pytest.mark.parametrize("token", ["not-a-jwt", "eyJhbGciOiJub25lIn0.e30."])
def test_invalid_token_is_401(client: FlaskClient, contoso: Tenant, token: str) -> None:
    response = Scim(client, "contoso", token).get("Users")
    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers


def test_service_provider_config_needs_no_token(client: FlaskClient, contoso: Tenant) -> None:
    assert Scim(client, "contoso", None).get("ServiceProviderConfig").status_code == 200


def test_read_scope_reads_but_cannot_write(app: Flask, client: FlaskClient, contoso: Tenant, scim: Scim) -> None:
    user = scim.create_user("reader-target")
    reader = Scim(client, "contoso", access_token(app, contoso, ["scim.read"]))
    assert reader.get(f"Users/{user['id']}").status_code == 200
    assert reader.get("Users").status_code == 200
    for response in (
        reader.post("Users", {"schemas": [USER_SCHEMA], "userName": "x"}),
        reader.patch(f"Users/{user['id']}", patch_op({"op": "replace", "path": "title", "value": "x"})),
        reader.put(f"Users/{user['id']}", {"schemas": [USER_SCHEMA], "userName": "reader-target"}),
        reader.delete(f"Users/{user['id']}"),
    ):
        assert response.status_code == 403, response.json
        assert response.json["status"] == "403"
    bulk = reader.post("Bulk", {"schemas": [BULK_SCHEMA], "Operations": [
        {"method": "POST", "path": "/Users", "bulkId": "a", "data": {"schemas": [USER_SCHEMA], "userName": "y"}}]})
    assert bulk.status_code == 200
    assert bulk.json["Operations"][0]["status"] == "403"
    assert scim.search('userName eq "y"') == []


def test_write_scope_cannot_read(app: Flask, client: FlaskClient, contoso: Tenant) -> None:
    writer = Scim(client, "contoso", access_token(app, contoso, ["scim.write"]))
    created = writer.post("Users", {"schemas": [USER_SCHEMA], "userName": "written"})
    assert created.status_code == 201
    assert writer.get(f"Users/{created.json['id']}").status_code == 403
    assert writer.get("Users").status_code == 403


def test_token_without_scim_scopes_is_403(app: Flask, client: FlaskClient, contoso: Tenant) -> None:
    response = Scim(client, "contoso", access_token(app, contoso, ["openid"])).get("Schemas")
    assert response.status_code == 403


def test_a_token_of_tenant_a_never_reads_tenant_b(app: Flask, client: FlaskClient, contoso: Tenant,
                                                  fabrikam: Tenant, scim: Scim) -> None:
    secret = scim.create_user("secret@contoso.com")
    fabrikam_token = access_token(app, fabrikam, ["scim.read", "scim.write"])
    # Fabrikam's token presented at Contoso's endpoint: wrong issuer and audience.
    assert Scim(client, "contoso", fabrikam_token).get(f"Users/{secret['id']}").status_code == 401
    assert Scim(client, "contoso", fabrikam_token).get("Users").status_code == 401
    # At its own endpoint it only sees Fabrikam: Contoso's ids do not exist there.
    at_fabrikam = Scim(client, "fabrikam", fabrikam_token)
    assert at_fabrikam.get(f"Users/{secret['id']}").status_code == 404
    assert at_fabrikam.get("Users").json["totalResults"] == 0
    assert at_fabrikam.delete(f"Users/{secret['id']}").status_code == 404
    # A token minted with Contoso's issuer but Fabrikam's tenant id is refused too.
    forged = access_token(app, fabrikam, ["scim.read"], issuer_slug="contoso")
    assert Scim(client, "contoso", forged).get("Users").status_code == 401


def test_unknown_tenant_is_a_scim_404(client: FlaskClient, scim: Scim) -> None:
    response = Scim(client, "nowhere", scim.token).get("Users")
    assert response.status_code == 404
    assert response.json["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]


# -- discovery -----------------------------------------------------------------------------------------------------


def test_discovery_announces_what_works(scim: Scim) -> None:
    config = scim.get("ServiceProviderConfig").json
    assert config["patch"]["supported"] and config["sort"]["supported"] and config["etag"]["supported"]
    assert config["filter"] == {"supported": True, "maxResults": 1000}
    assert config["bulk"]["supported"] and config["bulk"]["maxOperations"] == 1000
    assert config["changePassword"]["supported"] is False
    assert config["pagination"]["cursor"] is True and config["pagination"]["index"] is True
    assert config["authenticationSchemes"][0]["type"] == "oauthbearertoken"
    resource_types = {rt["id"]: rt for rt in scim.get("ResourceTypes").json["Resources"]}
    assert set(resource_types) == {"User", "Group"}
    assert {e["schema"] for e in resource_types["User"]["schemaExtensions"]} == {
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", GUEST}
    guest = scim.get(f"Schemas/{GUEST}").json
    published = {a["name"]: (a["mutability"], a["returned"]) for a in guest["attributes"]}
    # Portico's record of the invitation is read-only and returned on request (as Graph returns it on $select);
    # showInAddressList is the provisioning client's.
    assert published == {"showInAddressList": ("readWrite", "default"), **{
        name: ("readOnly", "request") for name in ("externalUserState", "externalUserStateChangeDateTime",
                                                   "creationType", "identities", "sponsors", "invitedBy")}}
    assert scim.get("Schemas", filter='id eq "x"').status_code == 403


# -- search parameters, pagination -------------------------------------------------------------------------------


def test_sort_ascending_and_descending(scim: Scim) -> None:
    for name, display in [("u1", "charlie"), ("u2", "Alpha"), ("u3", "bravo"), ("u4", None)]:
        scim.create_user(name, **({"displayName": display} if display else {}))
    ascending = scim.get("Users", sortBy="displayName").json["Resources"]
    assert [u.get("displayName") for u in ascending] == ["Alpha", "bravo", "charlie", None]
    descending = scim.get("Users", sortBy="displayName", sortOrder="descending").json["Resources"]
    assert [u.get("displayName") for u in descending] == [None, "charlie", "bravo", "Alpha"]


def test_attributes_and_excluded_attributes(scim: Scim) -> None:
    user = scim.create_user("projected", displayName="P", title="T")
    group = scim.create_group("G", [user["id"]])
    only = scim.get(f"Users/{user['id']}", attributes="displayName").json
    assert set(only) == {"schemas", "id", "displayName"}
    without = scim.get("Users", excludedAttributes="title,groups").json["Resources"][0]
    assert "title" not in without and "groups" not in without and without["displayName"] == "P"
    with_groups = scim.get(f"Users/{user['id']}").json
    assert with_groups["groups"][0]["value"] == group["id"]
    no_members = scim.get(f"Groups/{group['id']}", excludedAttributes="members").json
    assert "members" not in no_members and no_members["displayName"] == "G"


def test_cursor_pagination_is_stable_under_concurrent_inserts(scim: Scim) -> None:
    originals = {scim.create_user(f"orig{n}")["id"] for n in range(7)}
    seen: list[str] = []
    page = scim.get("Users", cursor="", count=3).json
    assert page["totalResults"] == 7
    while True:
        seen += [u["id"] for u in page["Resources"]]
        scim.create_user(f"new{len(seen)}")  # another client inserts while we page
        if "nextCursor" not in page:
            break
        page = scim.get("Users", cursor=page["nextCursor"], count=3).json
    assert originals <= set(seen)
    assert len(seen) == len(set(seen))


def test_cursor_pages_hold_their_place_when_rows_are_inserted_before_or_deleted_behind_them(scim: Scim) -> None:
    """A position (keyset), not an offset: a user sorting before the cursor or a deleted seen user shifts nothing."""
    originals = {scim.create_user(f"m{n}")["id"] for n in range(9)}
    seen: list[str] = []
    page = scim.get("Users", cursor="", count=3, sortBy="userName").json
    for _ in range(6):  # three pages; more means the cursor lost its place
        seen += [u["id"] for u in page["Resources"]]
        scim.create_user(f"a{len(seen)}")  # sorts before every page already read
        assert scim.delete(f"Users/{seen[-1]}").status_code == 204
        if "nextCursor" not in page:
            break
        page = scim.get("Users", cursor=page["nextCursor"], count=3, sortBy="userName").json
    assert seen and set(seen) == originals and len(seen) == len(originals)


def test_index_pagination(scim: Scim) -> None:
    for n in range(5):
        scim.create_user(f"p{n}")
    pages = [scim.get("Users", startIndex=i, count=2, sortBy="userName").json for i in (1, 3, 5)]
    assert [[u["userName"] for u in p["Resources"]] for p in pages] == [["p0", "p1"], ["p2", "p3"], ["p4"]]
    assert {p["totalResults"] for p in pages} == {5}


# -- ETags ---------------------------------------------------------------------------------------------------------


def test_stale_if_match_is_412(scim: Scim) -> None:
    user = scim.create_user("etag")
    first = scim.get(f"Users/{user['id']}")
    etag = first.headers["ETag"]
    changed = scim.patch(f"Users/{user['id']}", patch_op({"op": "replace", "path": "title", "value": "A"}),
                         headers={"If-Match": etag})
    assert changed.status_code in (200, 204)
    new_etag = scim.get(f"Users/{user['id']}").headers["ETag"]
    assert new_etag != etag
    stale = {"If-Match": etag}
    assert scim.patch(f"Users/{user['id']}", patch_op({"op": "replace", "path": "title", "value": "B"}),
                      headers=stale).status_code == 412
    assert scim.put(f"Users/{user['id']}", {"schemas": [USER_SCHEMA], "userName": "etag"},
                    headers=stale).status_code == 412
    assert scim.delete(f"Users/{user['id']}", headers=stale).status_code == 412
    assert scim.get(f"Users/{user['id']}").json["title"] == "A"
    assert scim.get(f"Users/{user['id']}", headers={"If-None-Match": new_etag}).status_code == 304


# -- Bulk ----------------------------------------------------------------------------------------------------------


def test_bulk_with_bulk_id_references(scim: Scim) -> None:
    response = scim.post("Bulk", {"schemas": [BULK_SCHEMA], "Operations": [
        {"method": "POST", "path": "/Groups", "bulkId": "g",
         "data": {"schemas": [GROUP_SCHEMA], "displayName": "Team", "members": [{"value": "bulkId:u"}]}},
        {"method": "POST", "path": "/Users", "bulkId": "u", "data": {"schemas": [USER_SCHEMA], "userName": "bulky"}},
    ]})
    assert response.status_code == 200, response.json
    statuses = [op["status"] for op in response.json["Operations"]]
    assert statuses == ["201", "201"]
    group = scim.search('displayName eq "Team"', path="Groups")[0]
    user = scim.search('userName eq "bulky"')[0]
    assert [m["value"] for m in group["members"]] == [user["id"]]


def test_bulk_fail_on_errors_stops_and_keeps_what_succeeded(scim: Scim) -> None:
    scim.create_user("taken")
    response = scim.post("Bulk", {"schemas": [BULK_SCHEMA], "failOnErrors": 1, "Operations": [
        {"method": "POST", "path": "/Users", "bulkId": "a", "data": {"schemas": [USER_SCHEMA], "userName": "ok1"}},
        {"method": "POST", "path": "/Users", "bulkId": "b", "data": {"schemas": [USER_SCHEMA], "userName": "taken"}},
        {"method": "POST", "path": "/Users", "bulkId": "c", "data": {"schemas": [USER_SCHEMA], "userName": "ok2"}},
    ]})
    assert response.status_code == 200
    operations = response.json["Operations"]
    assert [op["status"] for op in operations] == ["201", "409"]
    assert operations[1]["response"]["scimType"] == "uniqueness"
    assert len(scim.search('userName eq "ok1"')) == 1
    assert scim.search('userName eq "ok2"') == []


# -- errors --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["{not json", "[1, 2", '{"schemas": '])
def test_malformed_json_is_400_invalid_syntax(scim: Scim, body: str) -> None:
    response = scim.post("Users", body)
    assert response.status_code == 400
    assert response.json["scimType"] == "invalidSyntax"


def test_taken_user_name_is_409_uniqueness(scim: Scim) -> None:
    scim.create_user("dup")
    for name in ("dup", "DUP"):
        response = scim.post("Users", {"schemas": [USER_SCHEMA], "userName": name})
        assert response.status_code == 409
        assert response.json["scimType"] == "uniqueness"


def test_member_user_name_in_a_foreign_domain_is_refused(scim: Scim) -> None:
    response = scim.post("Users", {"schemas": [USER_SCHEMA], "userName": "eve@fabrikam.com"})
    assert response.status_code == 400
    assert response.json["scimType"] == "invalidValue"


# -- guests --------------------------------------------------------------------------------------------------------


def test_guest_user_is_created_as_a_pending_guest(scim: Scim, database: Database, contoso: Tenant) -> None:
    response = scim.post("Users", {"schemas": [USER_SCHEMA], "userName": "Ann@Fabrikam.com", "userType": "Guest",
                                   "displayName": "Ann", "emails": [{"value": "ann@fabrikam.com", "primary": True}]})
    assert response.status_code == 201, response.json
    guest = response.json
    assert guest["userType"] == "Guest"
    assert guest["userName"] == "ann_fabrikam.com#EXT#@contoso.portico.example"
    assert [u["id"] for u in scim.search(f'userName eq "{guest["userName"].lower()}"')] == [guest["id"]]
    assert guest[GUEST] == {"showInAddressList": False}  # hidden (spec §3.1); the rest only on request
    record = scim.guest(guest["id"])
    assert (record["externalUserState"], record["creationType"]) == ("PendingAcceptance", "Invitation")
    with database.sessionmaker() as s:
        (stored,) = users.find_users_by_email(s, s.merge(contoso), "ann@fabrikam.com")
        assert stored.id == guest["id"] and stored.is_guest
    again = scim.post("Users", {"schemas": [USER_SCHEMA], "userName": "ann@fabrikam.com", "userType": "Guest"})
    assert again.status_code == 409 and again.json["scimType"] == "uniqueness"


def test_guest_address_rules_apply(scim: Scim) -> None:
    response = scim.post("Users", {"schemas": [USER_SCHEMA], "userName": "ann+x@fabrikam.com", "userType": "Guest"})
    assert response.status_code == 400
    assert response.json["scimType"] == "invalidValue"


def test_deactivation_and_group_membership_apply_to_guests(scim: Scim) -> None:
    guest = scim.create_user("gus@fabrikam.com", userType="Guest")
    group = scim.create_group("Partners")
    added = scim.patch(f"Groups/{group['id']}", patch_op({"op": "add", "path": "members",
                                                           "value": [{"value": guest["id"]}]}))
    assert added.status_code in (200, 204)
    assert [g["value"] for g in scim.get(f"Users/{guest['id']}").json["groups"]] == [group["id"]]
    disabled = scim.patch(f"Users/{guest['id']}", patch_op({"op": "replace", "path": "active", "value": False}))
    assert disabled.status_code in (200, 204)
    assert scim.get(f"Users/{guest['id']}").json["active"] is False


# -- delta sync ----------------------------------------------------------------------------------------------------


def test_delta_sync_by_last_modified_and_deleted_users_are_404(scim: Scim) -> None:
    old = scim.create_user("old")
    kept = scim.create_user("kept")
    time.sleep(0.01)
    mark = scim.get(f"Users/{kept['id']}").json["meta"]["lastModified"]
    time.sleep(0.01)
    scim.patch(f"Users/{old['id']}", patch_op({"op": "replace", "path": "title", "value": "changed"}))
    new = scim.create_user("new")
    changed = scim.search(f'meta.lastModified gt "{mark}"')
    assert {u["id"] for u in changed} == {old["id"], new["id"]}
    assert scim.delete(f"Users/{old['id']}").status_code == 204
    assert scim.get(f"Users/{old['id']}").status_code == 404


def test_delta_filter_uses_the_modified_at_index() -> None:
    """On the migrated schema's indexes (SQLite's planner, whatever database the suite runs on)."""
    from scim2_models import ScimFilter
    from sqlalchemy import create_engine

    from idp.db import Base
    from scim.attributes import user_attributes
    from scim.filters import Dialect, compile_filter
    from scim.schema import UserResource

    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    condition = compile_filter(ScimFilter[UserResource]('meta.lastModified gt "2020-01-01T00:00:00Z"'),
                               UserResource, user_attributes(), Dialect("sqlite"))
    where = str(condition.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        plan = " ".join(str(row) for row in conn.execute(
            text(f"EXPLAIN QUERY PLAN SELECT id FROM users WHERE tenant_id = 't' AND {where}")))
    assert "ix_users_tenant_modified_at" in plan


def test_search_at_the_root_lists_users_then_groups(scim: Scim) -> None:
    user = scim.create_user("rooted", displayName="Shared")
    group = scim.create_group("Shared", [user["id"]])
    both = scim.get("", filter='displayName eq "shared"').json
    assert [r["id"] for r in both["Resources"]] == [user["id"], group["id"]]
    only_users = scim.post(".search", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                                       "filter": "userName pr"}).json
    assert [r["id"] for r in only_users["Resources"]] == [user["id"]]
    first = scim.get("", cursor="", count=1).json
    second = scim.get("", cursor=first["nextCursor"], count=1).json
    assert [first["Resources"][0]["id"], second["Resources"][0]["id"]] == [user["id"], group["id"]]
    assert "nextCursor" not in second
    assert scim.get("", sortBy="displayName").status_code == 501
