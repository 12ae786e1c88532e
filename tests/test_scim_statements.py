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
from scim_support import GUEST_ATTRIBUTES, Scim, access_token
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
