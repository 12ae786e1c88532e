"""A group's member change is a change of each added or removed user (their ``groups``): new ETag and
lastModified, in one statement, and the session's copies of them stay usable."""

from __future__ import annotations

from sqlalchemy import select

from idp.db import Database
from idp.directory import groups, users
from idp.models import Tenant, User


def test_added_and_removed_members_get_a_new_version_and_last_modified(database: Database, contoso: Tenant) -> None:
    with database.transaction() as s:
        tenant = s.merge(contoso)
        ann, bob, cy = (users.provision_member(s, tenant, name) for name in ("ann", "bob", "cy"))
        team = groups.create_group(s, tenant, "Team")
        groups.set_members(s, tenant, team, [ann.id, bob.id])
        ids = {"ann": ann.id, "bob": bob.id, "cy": cy.id}
    with database.sessionmaker() as s:
        before = {u.id: (u.version, u.modified_at) for u in s.scalars(select(User))}
    assert before[ids["ann"]][0] == 2 and before[ids["cy"]][0] == 1  # created (1), then added to Team (2)
    with database.transaction() as s:
        tenant = s.merge(contoso)
        bob = s.get(User, ids["bob"])  # in the session while its row changes
        groups.set_members(s, tenant, groups.get_group(s, tenant, team.id), [ann.id, cy.id])  # bob out, cy in
        assert bob.version == before[ids["bob"]][0] + 1
        bob.title = "changed after"  # the ORM's own version check still passes
        s.flush()
    with database.sessionmaker() as s:
        after = {u.id: (u.version, u.modified_at) for u in s.scalars(select(User))}
    assert after[ids["ann"]] == before[ids["ann"]]  # still a member: unchanged
    assert after[ids["cy"]][0] == before[ids["cy"]][0] + 1 and after[ids["cy"]][1] > before[ids["cy"]][1]
    assert after[ids["bob"]][0] == before[ids["bob"]][0] + 2 and after[ids["bob"]][1] > before[ids["bob"]][1]
