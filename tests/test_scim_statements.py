"""How many SQL statements SCIM reads take: a guard against round trips creeping back (not a timing test).

A page is one statement whatever its size: its rows and their related rows (emails, identities, sponsors,
groups; a group's members) aggregated in the same statement (``scim/related.py``). Besides it a request reads
the token's revocation (and the tenant, unless the row cache has it: left out of the counts below).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from scim_support import GUEST, GUEST_ATTRIBUTES, USER_SCHEMA, Scim, access_token
from sqlalchemy import event

from idp.db import Database
from idp.directory import groups, users
from idp.models import Tenant
from idp.runtime import runtime


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """The SQL statements run meanwhile, without the tenant lookup (the row cache's business)."""
    found: list[str] = []

    def capture(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().startswith("SELECT tenants."):
            found.append(statement)

    engine = runtime(app).database.engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", capture)


@pytest.fixture
def scim(app: Flask, client: FlaskClient, contoso: Tenant) -> Scim:
    return Scim(client, "contoso", access_token(app, contoso, ["scim.read", "scim.write"]))


@pytest.fixture
def guest(scim: Scim, contoso: Tenant, database: Database) -> dict[str, str]:
    """A guest with every kind of related row: emails, an identity, two sponsors, two groups."""
    sponsor = scim.create_user("sponsor@contoso.com", emails=[{"value": "sponsor@contoso.com", "primary": True},
                                                               {"value": "s@home.example", "type": "home"}])
    with database.transaction() as s:
        tenant = s.merge(contoso)
        inviter = users.get_user(s, tenant, sponsor["id"])
        team, other = groups.create_group(s, tenant, "Team"), groups.create_group(s, tenant, "Another team")
        user = users.create_guest(s, tenant, "gina@fabrikam.com", sponsors=[inviter, team], invited_by=inviter)
        for group in (team, other):
            groups.add_member(s, tenant, group, user)
            groups.add_member(s, tenant, group, inviter)
        return {"id": user.id, "userName": user.user_principal_name, "sponsor": inviter.id, "team": team.id}


def test_a_username_eq_lookup_is_one_statement_and_the_token_check(app: Flask, scim: Scim,
                                                                   guest: dict[str, str]) -> None:
    scim.get("Users", filter='userName eq "nobody"')  # the tenant is cached from here on
    with statements(app) as run:
        response = scim.get("Users", filter=f'userName eq "{guest["userName"].upper()}"',
                            attributes=f"userName,groups,emails,{GUEST_ATTRIBUTES}")
    assert response.status_code == 200
    [found] = response.json["Resources"]
    assert found["id"] == guest["id"]
    assert [g["display"] for g in found["groups"]] == ["Another team", "Team"]
    assert [e["value"] for e in found["emails"]] == ["gina@fabrikam.com"]
    extension = found["urn:portico:params:scim:schemas:extension:guest:2.0:User"]
    assert extension["identities"] and {s["value"] for s in extension["sponsors"]} == {guest["sponsor"],
                                                                                         guest["team"]}
    assert len(run) <= 2, run  # the token's revocation, the page with its related rows


def test_a_page_is_one_statement_whatever_its_size(app: Flask, scim: Scim, guest: dict[str, str]) -> None:
    for n in range(6):
        scim.create_user(f"user{n}@contoso.com", emails=[{"value": f"user{n}@contoso.com"}])
    for query in ({"count": 1}, {"count": 100}, {"cursor": "", "count": 100}, {"sortBy": "userName"}):
        with statements(app) as run:
            response = scim.get("Users", **query)
        assert response.status_code == 200
        pages = [s for s in run if "user_other_mails" in s]
        assert len(pages) == 1, run
        assert len(run) <= 3, run  # and the token's revocation, a count when more pages follow


def test_groups_and_single_resources_are_one_statement(app: Flask, scim: Scim, guest: dict[str, str]) -> None:
    scim.get("Users", filter='userName eq "nobody"')
    for path, query in ((f"Users/{guest['id']}", {}), (f"Groups/{guest['team']}", {}), ("Groups", {"count": 10})):
        with statements(app) as run:
            response = scim.get(path, **query)
        assert response.status_code == 200
        assert len(run) <= 2, (path, run)
    assert len(scim.get(f"Groups/{guest['team']}").json["members"]) == 2


def _aggregates(statement: str) -> set[str]:
    """The related tables a page statement aggregates."""
    return {table for table in ("user_other_mails", "user_identities", "user_sponsors", "group_members")
            if f"FROM {table}" in statement}


def test_pages_without_the_guest_record_do_not_aggregate_identities_nor_sponsors(
        app: Flask, scim: Scim, guest: dict[str, str]) -> None:
    """Identities and sponsors are returned only on request: a response that cannot carry them does not read them."""
    scim.get("Users", filter='userName eq "nobody"')
    for path, query in (("Users", {}), ("Users", {"cursor": "", "count": 10}),
                        ("Users", {"filter": f'userName eq "{guest["userName"]}"'}),
                        ("Users", {"excludedAttributes": "emails"}), ("Users", {"attributes": "userName,groups"}),
                        (f"Users/{guest['id']}", {}), (f"Users/{guest['id']}", {"attributes": f"{GUEST}"})):
        with statements(app) as run:
            response = scim.get(path, **query)
        assert response.status_code == 200, response.json
        [page] = [s for s in run if "user_other_mails" in s]
        assert not _aggregates(page) & {"user_identities", "user_sponsors"}, (path, query)
    found = response.json
    assert GUEST not in found or "identities" not in found[GUEST]


@pytest.mark.parametrize("attribute", ["identities", "sponsors"])
def test_naming_identities_or_sponsors_reads_and_returns_them(app: Flask, scim: Scim, guest: dict[str, str],
                                                              attribute: str) -> None:
    for path, query in (("Users", {"filter": f'id eq "{guest["id"]}"'}), (f"Users/{guest['id']}", {})):
        with statements(app) as run:
            response = scim.get(path, attributes=f"{GUEST}:{attribute}", **query)
        assert response.status_code == 200, response.json
        found = response.json["Resources"][0] if path == "Users" else response.json
        assert found[GUEST][attribute], (path, found)
        [page] = [s for s in run if "user_other_mails" in s]
        assert {"user_identities", "user_sponsors"} <= _aggregates(page)


def test_fully_qualified_attribute_names_return_groups(scim: Scim, guest: dict[str, str]) -> None:
    """``urn:...:2.0:User:groups`` names ``groups`` (the dot in the schema URN is no sub-attribute)."""
    for query in ({"attributes": f"{USER_SCHEMA}:groups"}, {"attributes": f"{USER_SCHEMA}:groups.value"}):
        response = scim.get(f"Users/{guest['id']}", **query)
        assert guest["team"] in [g["value"] for g in response.json.get("groups", [])], query
        assert len(response.json["groups"]) == 2, query
        [found] = scim.search(f'id eq "{guest["id"]}"', **query)
        assert len(found["groups"]) == 2, query


def test_reads_run_without_a_transaction_and_writes_within_one(app: Flask, scim: Scim, guest: dict[str, str]) -> None:
    """A read-only request needs no BEGIN nor ROLLBACK (two PostgreSQL round trips); a write keeps its
    transaction, also on a pooled connection a read used before."""
    outside: list[tuple[str, bool]] = []

    def capture(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        dbapi = conn.connection.dbapi_connection
        autocommit = dbapi.autocommit if conn.dialect.name == "postgresql" else not dbapi.in_transaction
        if not statement.lstrip().startswith("SELECT tenants."):  # the row cache's own session
            outside.append((statement.split()[0], bool(autocommit)))

    engine = runtime(app).database.engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        for path, query in (("Users", {"filter": f'userName eq "{guest["userName"]}"'}), ("Users", {"count": 2}),
                            (f"Users/{guest['id']}", {}), ("Groups", {})):
            assert scim.get(path, **query).status_code == 200
        assert outside and all(free for _, free in outside), outside
        outside.clear()
        scim.create_user("writer@contoso.com")
        assert ("INSERT", False) in outside, outside
    finally:
        event.remove(engine, "before_cursor_execute", capture)
