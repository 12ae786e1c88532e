"""The related rows of a page of users or groups, aggregated into the page's own statement.

A page (an ``eq`` lookup is a page of one) is one SQL statement: the filtered, ordered, limited rows as a
derived table, and for each of them a correlated subquery per relation returning its rows as one JSON array of
``[column, ...]`` arrays, in the relation's order. That is one round trip per page instead of one per relation,
and no list of ids sent back to the database. The JSON is built by SQL functions both databases have:
``json_agg(json_build_array(...) ORDER BY ...)`` on PostgreSQL; on SQLite, whose aggregates take no ORDER BY
before 3.44, ``json_group_array`` over an ordered derived table (SQLite never flattens a subquery with ORDER BY
into an aggregate, so the rows reach the aggregate in that order). No rows: NULL (PostgreSQL) or ``[]``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

import orjson
from sqlalchemy import JSON, Table, Text, column, func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from idp.models import Group, GroupMember, UserIdentity, UserOtherMail, UserSponsor


class Mail(NamedTuple):
    address: str
    display: str | None
    type: str | None
    is_primary: bool


class Identity(NamedTuple):
    sign_in_type: str
    issuer: str
    issuer_assigned_id: str | None


class Sponsor(NamedTuple):
    sponsor_user_id: str | None
    sponsor_group_id: str | None


PAGE = "page"  # the derived table of a page's rows


@dataclass(frozen=True, eq=False)
class Relation:
    """Rows of another table belonging to a page's row, as a JSON array of arrays (see :func:`page_columns`)."""

    name: str
    table: Any  # the related rows' table
    columns: tuple[Any, ...]
    link: Callable[[Any], Any]  # the page's id column -> the join condition
    order: tuple[Any, ...]
    joined: tuple[Any, Any] | None = None  # a table joined to the related rows, and how
    row: Callable[[list[Any]], Any] = tuple

    def subquery(self, dialect: str, ident: Any) -> Any:
        """The correlated subquery for the page row whose id is ``ident``."""
        def source(stmt: Any) -> Any:
            stmt = stmt.select_from(self.table)
            return (stmt.join(*self.joined) if self.joined is not None else stmt).where(self.link(ident))

        if dialect == "postgresql":
            aggregate = func.json_agg(aggregate_order_by(func.json_build_array(*self.columns), *self.order),
                                      type_=JSON)
            return source(select(aggregate)).scalar_subquery()
        rows = source(select(func.json_array(*self.columns).label("item"))).order_by(*self.order).subquery()
        return select(func.json_group_array(func.json(rows.c.item), type_=JSON)).scalar_subquery()

    def rows(self, value: list[list[Any]] | None) -> list[Any]:
        return [self.row(item) for item in value or ()]


OTHER_MAILS = Relation(
    "other_mails", UserOtherMail, (UserOtherMail.address, UserOtherMail.display, UserOtherMail.type,
                                   UserOtherMail.is_primary),
    lambda ident: UserOtherMail.user_id == ident, (UserOtherMail.position,),
    row=lambda item: Mail(item[0], item[1], item[2], bool(item[3])))  # SQLite's JSON has 0/1
# A guest's identities and sponsors: only for the guest attributes returned on request (RFC 7643 §7).
IDENTITIES = Relation("identities", UserIdentity,
                      (UserIdentity.sign_in_type, UserIdentity.issuer, UserIdentity.issuer_assigned_id),
                      lambda ident: UserIdentity.user_id == ident, (UserIdentity.created_at, UserIdentity.id),
                      row=lambda item: Identity(*item))
SPONSORS = Relation("sponsors", UserSponsor, (UserSponsor.sponsor_user_id, UserSponsor.sponsor_group_id),
                    lambda ident: UserSponsor.user_id == ident, (UserSponsor.id,), row=lambda item: Sponsor(*item))
# A user's groups: (id, displayName) in name order.
USER_GROUPS = Relation("groups", GroupMember, (Group.id, Group.display_name),
                       lambda ident: GroupMember.user_id == ident, (Group.display_name_normalized, Group.id),
                       joined=(Group, Group.id == GroupMember.group_id), row=tuple)
# A group's member ids, in the order they were added.
GROUP_MEMBERS = Relation("members", GroupMember, (GroupMember.user_id,), lambda ident: GroupMember.group_id == ident,
                         (GroupMember.created_at, GroupMember.user_id), row=lambda item: item[0])


class StoredJSON(TypeDecorator[Any]):
    """A JSON column read as text and parsed here: a JSON ``null`` (what most users' ``profile_attributes``
    hold) costs no parser call (the drivers call one for every value). Parsed with the json module as the
    drivers do: values clients stored come back exactly as before."""

    impl = Text
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None or value == "null" else json.loads(value)


def _page_column(table_column: Any) -> Any:
    if isinstance(table_column.type, JSON):
        name = table_column.name
        return literal_column(f"CAST({name} AS TEXT)", StoredJSON()).label(name)
    return column(table_column.name, table_column.type)


# Columns no SCIM resource shows (the tenant, comparison forms, the password hash): not read into pages.
UNPUBLISHED = frozenset({"tenant_id", "password_hash", "user_principal_name_normalized", "mail_normalized",
                         "display_name_normalized"})
RELATED = "related"  # the page's column holding every relation's JSON array, in the order asked for


class RelatedJSON(TypeDecorator[Any]):
    """The ``related`` column: JSON text parsed with orjson (several times faster than the json module the
    drivers use, a sixth of a page's CPU). Safe here, unlike for any JSON column: ``related`` holds only the
    relations' strings, nulls and booleans (SQLite's 0/1), never a number orjson would read differently."""

    impl = Text
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else orjson.loads(value)


@lru_cache(maxsize=64)
def page_columns(dialect: Dialect, table: Table, relations: tuple[Relation, ...]) -> tuple[Any, ...]:
    """The columns of ``SELECT ... FROM (<the page>) AS page``: the table's columns (but UNPUBLISHED), and the
    relations' JSON arrays as one JSON array named ``related`` (one value to decode per row), built and
    compiled once per dialect (building these and computing their cache key for every page cost more CPU than
    running it)."""
    # unqualified: the page is the only FROM
    columns = [_page_column(c) for c in table.columns if c.name not in UNPUBLISHED]
    if relations:
        ident = literal_column(f"{PAGE}.{dialect.identifier_preparer.quote('id')}")
        parts = [f"({r.subquery(dialect.name, ident).compile(dialect=dialect)})" for r in relations]
        if dialect.name == "postgresql":  # as text: parsed by RelatedJSON, not by psycopg
            related = f"CAST(json_build_array({', '.join(parts)}) AS TEXT)"
        else:  # a subquery's value is text to SQLite's JSON functions: json() makes it JSON again
            related = f"json_array({', '.join(f'json({part})' for part in parts)})"
        columns.append(literal_column(related, RelatedJSON()).label(RELATED))
    return tuple(columns)


def unpack(relations: tuple[Relation, ...], row: Any) -> dict[str, list[Any]]:
    """The related rows of a page's row, by name, for the ``relations`` its page asked for (exactly those, in
    that order: the JSON array is read by position); a relation not asked for is left out."""
    values = getattr(row, RELATED, None) or []
    return {relation.name: relation.rows(value) for relation, value in zip(relations, values, strict=True)}
