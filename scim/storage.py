"""scim2-server's ``ScimStorage`` over Portico's directory tables, for one tenant and one database session.

Reads are SQL (filter, sort and page in the database; related rows loaded per page, never per row); writes go
through the directory services (:mod:`idp.directory.users`, :mod:`idp.directory.groups`), whose domain errors
become SCIM errors here. Each SCIM operation runs in a savepoint (:meth:`SqlStorage.operation`), so a failed
operation of a Bulk request leaves the others; the interface commits the request.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, NamedTuple

from scim2_models import ForbiddenException as ScimForbidden
from scim2_models import (
    InvalidCursorException,
    InvalidValueException,
    NotFoundException,
    NotImplementedException,
    PreconditionFailedException,
    Resource,
    ResourceType,
    ResponseParameters,
    ScimProvider,
    SearchRequest,
    UniquenessException,
)
from scim2_server.storage import ScimStorage, SearchPage
from sqlalchemy import ColumnElement, Select, and_, bindparam, func, literal_column, or_, select, true, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from idp.bounded_cache import BoundedCache
from idp.db import scoped, weak_etag
from idp.directory import groups as group_service
from idp.directory import users as user_service
from idp.errors import Conflict, DomainError, Forbidden, NotFound
from idp.invitations import service as invitations
from idp.invitations.model import InvitationRequest, Inviter
from idp.models import Group, Tenant, User
from scim.attributes import group_attributes, user_attributes
from scim.filters import AttributeMap, Dialect, filter_condition, plan_filter, sort_expression
from scim.related import (
    GROUP_MEMBERS,
    IDENTITIES,
    OTHER_MAILS,
    PAGE,
    SPONSORS,
    USER_GROUPS,
    Relation,
    page_columns,
    unpack,
)
from scim.resources import UserRelations, group_to_scim, user_changes, user_emails, user_to_scim

USER, GROUP = "User", "Group"

_WITH_MEMBERS = (GROUP_MEMBERS,)
_ON_REQUEST = ("identities", "sponsors")  # the guest attributes returned on request that are related rows
_ATTRIBUTES = {USER: user_attributes(), GROUP: group_attributes()}
_ORM = {USER: User, GROUP: Group}
TENANT, IDS = "tenant", "ids"  # bound parameters of the cached statements: the tenant's id, the ids to load

# Statements built once per shape and reused, values passed as bound parameters: building a statement and
# computing its SQLAlchemy cache key cost more CPU than running an ``eq`` lookup on its index (a reused statement
# keeps its cache key). A race builds a statement twice, which is harmless.
_STATEMENTS: BoundedCache[Hashable, Any] = BoundedCache(512)


class _Query(NamedTuple):
    """A search on one resource type: its ``condition`` and ``base`` statement (the tenant's rows matching
    the filter) with bound parameters (``params``: the tenant, the filter's values); ``key`` identifies
    them in ``_STATEMENTS``."""

    orm: Any
    condition: ColumnElement[bool]
    base: Select[Any]
    params: dict[str, Any]
    key: tuple[Any, ...]


def _scim_error(exc: DomainError) -> Exception:
    if isinstance(exc, Conflict):
        return UniquenessException(detail=exc.message)
    if isinstance(exc, NotFound):
        return NotFoundException(detail=exc.message)
    if isinstance(exc, Forbidden):
        return ScimForbidden(detail=exc.message)
    return InvalidValueException(detail=exc.message)


@contextmanager
def _domain_errors() -> Iterator[None]:
    try:
        yield
    except DomainError as exc:
        raise _scim_error(exc) from exc
    except IntegrityError as exc:  # a concurrent write took a unique value between check and insert
        raise UniquenessException(detail="a unique value is already taken") from exc
    except StaleDataError as exc:  # a concurrent write changed the row (version_id_col)
        raise PreconditionFailedException(detail="the resource changed meanwhile") from exc


def _attribute_name(path: Any) -> str:
    """The top-level attribute an ``attributes`` entry names: ``groups`` for ``groups.value`` and for
    ``urn:ietf:params:scim:schemas:core:2.0:User:groups`` (whose URN has a dot of its own)."""
    return str(path).lower().rsplit(":", 1)[-1].split(".")[0]


def _wants(response_parameters: ResponseParameters[Any] | None, attribute: str) -> bool:
    """Whether a response keeps ``attribute`` (so related rows are loaded only when returned)."""
    if response_parameters is None:
        return True
    name = attribute.lower()
    if response_parameters.attributes:
        return any(_attribute_name(p) == name for p in response_parameters.attributes)
    if response_parameters.excluded_attributes:
        return not any(str(p).lower().rsplit(":", 1)[-1] == name for p in response_parameters.excluded_attributes)
    return True


def _requested(response_parameters: ResponseParameters[Any] | None, *attributes: str) -> bool:
    """Whether a response carries one of these attributes ``returned: request`` (RFC 7643 §7): only when
    ``attributes`` names it. Reads without response parameters (scim2-server's PATCH and PUT) load everything."""
    if response_parameters is None:
        return True
    names = {a.lower() for a in attributes}
    return any(_attribute_name(p) in names for p in response_parameters.attributes or ())


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        try:
            return datetime.fromisoformat(value["datetime"])
        except (KeyError, TypeError, ValueError):
            raise InvalidCursorException from None
    return value


def _never_null(key: Any) -> bool:
    """Whether a sort key is a NOT NULL column (creation time): ordered without the missing-value terms."""
    columns = getattr(getattr(key, "property", None), "columns", None)
    return bool(columns) and not columns[0].nullable


def _order(key: Any, ident: Any, never_null: bool, descending: bool) -> list[Any]:
    """The order of ``SearchRequest.sort``: missing values last (first when descending), then by id."""
    if key is None:
        return [ident.desc() if descending else ident]
    if never_null:  # the plain index order (creation time, id)
        return [key.desc(), ident.desc()] if descending else [key, ident]
    if descending:
        return [key.is_(None).desc(), key.desc(), ident.desc()]
    return [key.is_(None), key, ident]


class RawPage(list):  # type: ignore[type-arg]
    """A page of resources as SCIM JSON dicts, for :class:`scim.app.PorticoScimService`'s fast list responses."""


class SqlStorage(ScimStorage):
    """The SCIM resources of ``tenant``: ``User`` and ``Group`` over the directory tables.

    With ``raw_pages``, a search without ``attributes``/``excludedAttributes`` returns its resources as the
    SCIM JSON the mapping produced (a :class:`RawPage`) instead of validated models: list responses are then
    serialised without a pydantic round trip per resource (``tests/test_scim_fast_pages.py`` proves both equal).
    """

    supports_cursors = True

    def __init__(
        self, session: Session, tenant: Tenant, provider: ScimProvider, *, actor: str = "scim",
        raw_pages: bool = False, issuer: str = "", env: str = "development",
    ) -> None:
        self.db = session
        self.tenant = tenant
        self.provider = provider
        self.actor = actor
        self.issuer = issuer
        self.env = env
        self.raw_pages = raw_pages
        self._in_operation = False
        self.read_only = False
        self.sql_dialect = session.get_bind().dialect
        self.dialect = Dialect(self.sql_dialect.name)

    # -- helpers ---------------------------------------------------------------------------------------------------

    def _kind(self, resource_type: ResourceType) -> str:
        if resource_type.name not in _ORM:
            raise NotFoundException(detail=f"no resource type {resource_type.name!r}")
        return str(resource_type.name)

    def _model(self, resource_type: ResourceType) -> type[Resource[Any]]:
        return self.provider.model_for(resource_type)  # type: ignore[return-value]

    def _row(self, kind: str, resource_id: str | None) -> User | Group:
        orm = _ORM[kind]
        row = self.db.scalar(scoped(orm, self.tenant.id).where(orm.id == (resource_id or "")))  # type: ignore[attr-defined]
        if row is None:
            raise NotFoundException(detail=f"{kind} {resource_id!r} not found")
        return row

    def _rows(self, stmt: Any, params: dict[str, Any] | None = None) -> Any:
        """Plain rows of a read, executed on the session's connection: no ORM result processing (pages are
        serialised, never changed). Pending changes are flushed first, as the session's autoflush would."""
        self.db.flush()
        return self.db.connection().execute(stmt, params)

    @staticmethod
    def _relations(kind: str, wanted: bool, *, on_request: bool = True) -> tuple[Relation, ...]:
        """The related rows of a page (``scim.related``); a user's groups and a group's members only when
        ``wanted`` (returned), a user's identities and sponsors only ``on_request``: for the guest attributes
        returned on request, which a raw page (a response without ``attributes``) never carries."""
        if kind == USER:
            return ((OTHER_MAILS,) + ((IDENTITIES, SPONSORS) if on_request else ())
                    + ((USER_GROUPS,) if wanted else ()))
        return _WITH_MEMBERS if wanted else ()

    def _page(
        self, stmt: Select[Any], key: Any, orm: Any, descending: bool, relations: tuple[Relation, ...],
        params: dict[str, Any], *, offset: int = 0, limit: int | None = None, cache_key: Hashable = None,
    ) -> list[Any]:
        """The rows of ``stmt`` (its bound ``params``) in the order of :func:`_order` (from ``offset``, at most
        ``limit``), each with its ``relations`` (:meth:`_relations`) and, when ordered by a key, that key as
        ``sort_key``: one statement (``scim.related``), kept in ``_STATEMENTS`` under ``cache_key`` if given.
        The filtered, ordered, limited rows are a derived table, so related rows are read for the page only."""
        def build() -> Select[Any]:
            return self._page_statement(stmt, key, orm, descending, relations, offset=offset, limit=limit)

        outer = build() if cache_key is None else _STATEMENTS.get_or_build(cache_key, build)
        return self._rows(outer, params).all()  # fetchall: the driver reads the rows at once

    def _page_statement(
        self, stmt: Select[Any], key: Any, orm: Any, descending: bool, relations: tuple[Relation, ...], *,
        offset: int = 0, limit: int | None = None,
    ) -> Select[Any]:
        """The statement of :meth:`_page`."""
        never_null = _never_null(key)
        if key is not None:
            stmt = stmt.add_columns(key.label("sort_key"))
        stmt = stmt.order_by(*_order(key, orm.id, never_null, descending))
        if offset:
            stmt = stmt.offset(offset)
        if limit is not None:
            stmt = stmt.limit(limit)
        columns = page_columns(self.sql_dialect, orm.__table__, relations)
        sort_key = literal_column(f"{PAGE}.sort_key", key.type) if key is not None else None
        outer = select(*columns, *([sort_key.label("sort_key")] if sort_key is not None else []))
        outer = outer.select_from(stmt.subquery(PAGE))
        return outer.order_by(*_order(sort_key, literal_column(f"{PAGE}.id"), never_null, descending))

    def _load(self, kind: str, ids: list[str], relations: tuple[Relation, ...]) -> list[Any]:
        """The rows of these ids (in id order) with their ``relations``, in one (cached) statement."""
        orm = _ORM[kind]

        def build() -> Select[Any]:
            stmt = (scoped(orm, bindparam(TENANT)).where(orm.id.in_(bindparam(IDS, expanding=True)))
                    .with_only_columns(orm.__table__))
            return self._page_statement(stmt, None, orm, False, relations)

        stmt = _STATEMENTS.get_or_build(("load", self.sql_dialect, kind, relations), build)
        return self._rows(stmt, {TENANT: self.tenant.id, IDS: ids}).all()

    def _resources(
        self, kind: str, rows: list[Any], model: type[Resource[Any]], relations: tuple[Relation, ...], *,
        raw: bool = False,
    ) -> list[Resource[Any]]:
        """Rows of :meth:`_page` with these ``relations`` (or a just-created ORM user) as resources, or as a
        :class:`RawPage`."""
        if kind == USER:
            # A raw page is what a response without attributes/excludedAttributes carries: no guest attribute
            # returned only on request. Validated resources carry them all (scim2-server applies ``returned``).
            data = [user_to_scim(row, self._user_relations(row, relations), on_request=not raw) for row in rows]
        else:
            data = [group_to_scim(row, unpack(relations, row).get("members")) for row in rows]
        return self._output(data, model, raw=raw)

    def _output(self, data: list[dict[str, Any]], model: type[Resource[Any]], *, raw: bool) -> list[Resource[Any]]:
        if raw:
            return RawPage(data)
        with self.provider:
            return [model.model_validate(item) for item in data]

    @staticmethod
    def _user_relations(row: Any, relations: tuple[Relation, ...]) -> UserRelations:
        if isinstance(row, User):  # just created: its collections are in memory, it is in no group yet
            return UserRelations.of(row, None)
        related = unpack(relations, row)
        return UserRelations(related["other_mails"], related.get("identities", []), related.get("sponsors", []),
                             related.get("groups"))

    def _check_version(self, row: User | Group, expected_version: str | None) -> None:
        if expected_version is not None and row.etag != expected_version:
            raise PreconditionFailedException(detail="the resource changed since the given version")

    def _dump(self, resource: Resource[Any]) -> dict[str, Any]:
        with self.provider:
            return resource.model_dump(mode="json", exclude_none=True)

    # -- ScimStorage -----------------------------------------------------------------------------------------------

    @contextmanager
    def operation(self) -> Iterator[None]:
        """One SCIM operation in a savepoint (none for reads: ``read_only`` is set by the interface for GETs)."""
        if self._in_operation or self.read_only:
            yield
            return
        self._in_operation = True
        try:
            with self.db.begin_nested():
                yield
        finally:
            self._in_operation = False

    def get(
        self,
        resource_type: ResourceType,
        resource_id: str,
        *,
        response_parameters: ResponseParameters[Any] | None = None,
    ) -> Resource[Any]:
        kind = self._kind(resource_type)
        relations = self._relations(kind, _wants(response_parameters, "groups" if kind == USER else "members"),
                                    on_request=_requested(response_parameters, *_ON_REQUEST))
        rows = self._load(kind, [resource_id or ""], relations)
        if not rows:
            raise NotFoundException(detail=f"{kind} {resource_id!r} not found")
        return self._resources(kind, rows, self._model(resource_type), relations)[0]

    def create(self, resource_type: ResourceType, resource: Resource[Any]) -> Resource[Any]:
        kind = self._kind(resource_type)
        data = self._dump(resource)
        with _domain_errors(), self.operation():
            row = self._create_user(data) if kind == USER else self._create_group(data)
        relations = self._relations(kind, True)
        rows = [row] if kind == USER else self._load(kind, [row.id], relations)
        return self._resources(kind, rows, self._model(resource_type), relations)[0]

    def create_many(
        self, resource_type: ResourceType, resources: list[Resource[Any]], *, max_errors: int | None = None
    ) -> list[Resource[Any] | Exception]:
        """Create ``resources`` in order, each with the outcome :meth:`create` would give it (a Bulk run of POSTs).

        Consecutive members are provisioned together (:func:`idp.directory.users.provision_members`: one
        uniqueness query, one insert per table, in one savepoint); guests and groups go one by one through
        :meth:`create`. After ``max_errors`` failures (Bulk ``failOnErrors``) the rest is not created and not
        in the result. A failure is returned as the exception :meth:`create` would raise; with ``raw_pages``,
        provisioned members are returned as dicts of their ``id`` and ``meta.version`` only.
        """
        kind = self._kind(resource_type)
        results: list[Resource[Any] | Exception] = []
        members: list[tuple[Resource[Any], dict[str, Any], list[user_service.EmailEntry]]] = []

        def room() -> int | None:
            return None if max_errors is None else max_errors - sum(isinstance(r, Exception) for r in results)

        def provision_pending() -> None:
            if members and room() != 0:
                results.extend(self._create_members(resource_type, members, room()))
            members.clear()

        for resource in resources:
            if kind == USER:
                changes, emails = user_changes(self._dump(resource))
                if changes.get("user_type") != "Guest":
                    members.append((resource, changes, emails))
                    continue
            provision_pending()
            if room() == 0:
                break
            try:
                with self.operation():
                    results.append(self.create(resource_type, resource))
            except Exception as exc:  # the Bulk handler reports it as this operation's outcome
                results.append(exc)
        provision_pending()
        return results

    def _create_members(
        self, resource_type: ResourceType,
        members: list[tuple[Resource[Any], dict[str, Any], list[user_service.EmailEntry]]], max_errors: int | None,
    ) -> list[Resource[Any] | Exception]:
        requests = [user_service.MemberRequest(changes.pop("user_principal_name") or "", changes, emails)
                    for _, changes, emails in members]
        try:
            with self.db.begin_nested():
                outcome = user_service.provision_members(self.db, self.tenant, requests, actor=self.actor,
                                                         max_errors=max_errors)
        except IntegrityError:  # a unique value the batch does not check (or a concurrent write): one by one
            results: list[Resource[Any] | Exception] = []
            for resource, _, _ in members:
                if max_errors is not None and sum(isinstance(r, Exception) for r in results) >= max_errors:
                    break
                try:
                    with self.operation():
                        results.append(self.create(resource_type, resource))
                except Exception as exc:
                    results.append(exc)
            return results
        # The new members as stored (insert_rows completed their rows): no read back. New: in no group yet.
        members = [item for item in outcome if not isinstance(item, DomainError)]
        if self.raw_pages:  # all a Bulk outcome reads of a created resource (scim/bulk.py)
            created: Iterator[Any] = iter({"id": item.id, "meta": {"version": weak_etag(item.user.version)}}
                                          for item in members)
        else:
            created = iter(self._output([user_to_scim(item.user, UserRelations(item.other_mails, item.identities))
                                         for item in members], self._model(resource_type), raw=False))
        return [_scim_error(item) if isinstance(item, DomainError) else next(created) for item in outcome]

    def update(
        self,
        resource_type: ResourceType,
        resource: Resource[Any],
        *,
        expected_version: str | None = None,
    ) -> Resource[Any]:
        kind = self._kind(resource_type)
        row = self._row(kind, resource.id)
        self._check_version(row, expected_version)
        data = self._dump(resource)
        with _domain_errors(), self.operation():
            if kind == USER:
                self._update_user(row, data)  # type: ignore[arg-type]
            else:
                self._update_group(row, data)  # type: ignore[arg-type]
        relations = self._relations(kind, True)
        return self._resources(kind, self._load(kind, [row.id], relations), self._model(resource_type), relations)[0]

    def delete(self, resource_type: ResourceType, resource_id: str, *, expected_version: str | None = None) -> None:
        kind = self._kind(resource_type)
        row = self._row(kind, resource_id)
        self._check_version(row, expected_version)
        with _domain_errors(), self.operation():
            if kind == USER:
                user_service.delete_user(self.db, self.tenant, row, actor=self.actor)  # type: ignore[arg-type]
            else:
                group_service.delete_group(self.db, self.tenant, row, actor=self.actor)  # type: ignore[arg-type]

    def search(
        self,
        resource_types: list[ResourceType],
        search_request: SearchRequest[Any],
        *,
        position: Any = None,
    ) -> SearchPage:
        if len(resource_types) != 1:
            return self._root_search(resource_types, search_request, position)
        resource_type = resource_types[0]
        kind = self._kind(resource_type)
        model = self._model(resource_type)
        query = self._query(kind, model, search_request)
        raw = self._raw(search_request)
        key = self._sort_key(search_request, model, _ATTRIBUTES[kind], query.orm)
        descending = search_request.sort_by is not None and \
            search_request.sort_order == SearchRequest.SortOrder.descending
        if search_request.cursor is None:
            start, count = search_request.start_index_0 or 0, search_request.count
            if count == 0:
                return SearchPage(self._count(query), [])
            relations = self._search_relations(kind, search_request, raw)
            # First pages only (lookups): a client paging by index would fill the cache with one page each.
            cache_key = ("page", *query.key, search_request.sort_by, descending, relations, count) if not start \
                else None
            rows = self._page(query.base, key, query.orm, descending, relations, query.params, offset=start,
                              limit=count, cache_key=cache_key)
            # A page that ends before its count ends the result: its total is known without counting (an eq
            # lookup). Else a separate count (a window count would make the database sort every match).
            last = (count is None or len(rows) < count) and (rows or start == 0)
            total = start + len(rows) if last else self._count(query)
            return SearchPage(total, self._resources(kind, rows, model, relations, raw=raw))
        return self._cursor_page(kind, model, query, key, descending, search_request, position, raw)

    def _search_relations(self, kind: str, search_request: SearchRequest[Any], raw: bool) -> tuple[Relation, ...]:
        """The related rows a search returns: a user's groups and a group's members unless left out, a user's
        identities and sponsors only when ``attributes`` names them (never in a raw page)."""
        wanted = _wants(search_request, "groups" if kind == USER else "members")  # type: ignore[arg-type]
        return self._relations(kind, wanted,
                               on_request=not raw and _requested(search_request, *_ON_REQUEST))  # type: ignore[arg-type]

    def _raw(self, search_request: SearchRequest[Any]) -> bool:
        return self.raw_pages and not search_request.attributes and not search_request.excluded_attributes

    def _query(self, kind: str, model: Any, search_request: SearchRequest[Any]) -> _Query:
        """A search on one resource type: the filter checked and planned (``invalidFilter`` otherwise), its
        condition and base statement built once per filter shape."""
        orm, attributes = _ORM[kind], _ATTRIBUTES[kind]
        plan = None
        if search_request.filter is not None:
            plan = plan_filter(search_request.filter, model, attributes, self.dialect)
        key = (self.sql_dialect, kind, model, None if plan is None else plan.key)

        def build() -> tuple[ColumnElement[bool], Select[Any]]:
            condition = true() if plan is None else filter_condition(plan.key, model, attributes, self.dialect,
                                                                     tenant=bindparam(TENANT))
            # Plain rows, not ORM objects: a page is serialised, never changed (related rows: _page).
            return condition, scoped(orm, bindparam(TENANT)).where(condition).with_only_columns(orm.__table__)

        condition, base = _STATEMENTS.get_or_build(("query", *key), build)
        params = {TENANT: self.tenant.id, **({} if plan is None else plan.params)}
        return _Query(orm, condition, base, params, key)

    def _root_search(
        self, resource_types: list[ResourceType], search_request: SearchRequest[Any], position: Any
    ) -> SearchPage:
        """A search at the root: the resources of each type in turn (Users, then Groups), each in creation order.

        Cursors page forward across types; a ``previous`` cursor is only given within one type.
        """
        if search_request.sort_by is not None:
            raise NotImplementedException(detail="sorting a search at the SCIM root is not supported")
        parts = [(self._kind(rt), self._model(rt)) for rt in resource_types]
        queries = [self._query(kind, model, search_request) for kind, model in parts]
        raw = self._raw(search_request)
        count = search_request.count
        found: list[Any] = []
        if search_request.cursor is None:
            total, skip = 0, search_request.start_index_0 or 0
            for (kind, model), query in zip(parts, queries, strict=True):
                size = self._count(query)
                total += size
                remaining = None if count is None else count - len(found)
                if remaining == 0 or skip >= size:
                    skip = max(0, skip - size)
                    continue
                relations = self._search_relations(kind, search_request, raw)
                rows = self._page(query.base, query.orm.created_at, query.orm, False, relations, query.params,
                                  offset=skip, limit=remaining)
                skip = 0
                found += self._resources(kind, rows, model, relations, raw=raw)
            return SearchPage(total, RawPage(found) if raw else found)
        first, inner = 0, None
        if position is not None:
            try:
                first, inner = int(position["t"]), position["p"]
            except (TypeError, KeyError, ValueError):
                raise InvalidCursorException from None
            if not 0 <= first < len(parts):
                raise InvalidCursorException
        total = sum(self._count(query) for query in queries) if position is None else None
        if count == 0:
            return SearchPage(total, [])
        page = SearchPage(total, [])
        for index in range(first, len(parts)):
            kind, model = parts[index]
            query = queries[index]
            remaining = None if count is None else count - len(found)
            if remaining == 0:
                if self._count(query):
                    page.next = {"t": index, "p": None}
                    break
                continue
            sub = search_request.model_copy(update={"count": remaining})
            part = self._cursor_page(kind, model, query, query.orm.created_at, False, sub,
                                     inner if index == first else None, raw)
            if index == first and part.previous is not None:
                page.previous = {"t": index, "p": part.previous}
            found += part.resources
            if part.next is not None:
                page.next = {"t": index, "p": part.next}
                break
        page.resources = RawPage(found) if raw else found
        return page

    # -- searching -------------------------------------------------------------------------------------------------

    def _sort_key(self, search_request: SearchRequest[Any], model: Any, attributes: AttributeMap, orm: Any) -> Any:
        if search_request.sort_by is None:
            return orm.created_at
        binding = search_request.sort_binding(model)
        if binding is None:
            return None
        return sort_expression(binding, attributes, self.dialect)

    def _count(self, query: _Query) -> int:
        def build() -> Select[Any]:
            return select(func.count()).select_from(query.orm).where(query.orm.tenant_id == bindparam(TENANT),
                                                                     query.condition)

        return int(self._rows(_STATEMENTS.get_or_build(("count", *query.key), build), query.params).scalar() or 0)

    @staticmethod
    def _after(key: Any, orm: Any, anchor: dict[str, Any], descending: bool) -> Any:
        """Rows strictly after ``anchor`` in the order of :func:`_order` (keyset pagination)."""
        ident = anchor["i"]
        if key is None:
            return orm.id < ident if descending else orm.id > ident
        if _never_null(key) and not anchor["n"]:  # a row-value comparison: an index range scan
            after = tuple_(key, orm.id)
            return after < tuple_(anchor["k"], ident) if descending else after > tuple_(anchor["k"], ident)
        if anchor["n"]:  # anchor has no value
            if descending:
                return or_(key.is_not(None), and_(key.is_(None), orm.id < ident))
            return and_(key.is_(None), orm.id > ident)
        value = anchor["k"]
        if descending:
            return and_(key.is_not(None), or_(key < value, and_(key == value, orm.id < ident)))
        return or_(key.is_(None), key > value, and_(key == value, orm.id > ident))

    def _cursor_page(
        self, kind: str, model: Any, query: _Query, key: Any, descending: bool,
        search_request: SearchRequest[Any], position: Any, raw: bool,
    ) -> SearchPage:
        orm, base = query.orm, query.base
        count = search_request.count
        if count == 0:
            return SearchPage(self._count(query) if position is None else None, [])
        direction, anchor = "next", None
        if position is not None:
            try:
                direction = position["d"]
                anchor = {"n": bool(position["n"]), "k": _decode(position["k"]), "i": str(position["i"])}
            except (TypeError, KeyError):
                raise InvalidCursorException from None
            if direction not in ("next", "previous"):
                raise InvalidCursorException
        limit = None if count is None else count + 1
        relations = self._search_relations(kind, search_request, raw)
        if direction == "next":
            stmt = base if anchor is None else base.where(self._after(key, orm, anchor, descending))
            rows = self._page(stmt, key, orm, descending, relations, query.params, limit=limit)
            more_after = count is not None and len(rows) > count
            rows = rows[:count] if count is not None else rows
            more_before = anchor is not None
        else:
            assert anchor is not None
            stmt = base.where(self._after(key, orm, anchor, not descending))
            rows = self._page(stmt, key, orm, not descending, relations, query.params, limit=limit)
            more_before = count is not None and len(rows) > count
            rows = list(reversed(rows[:count] if count is not None else rows))
            more_after = True
        total = None
        if position is None:  # the first page: the whole result when nothing follows, else counted
            total = len(rows) if not more_after else self._count(query)
        page = SearchPage(total, self._resources(kind, rows, model, relations, raw=raw))
        if rows and more_after:
            page.next = self._position("next", rows[-1], key)
        if rows and more_before:
            page.previous = self._position("previous", rows[0], key)
        return page

    @staticmethod
    def _position(direction: str, row: Any, key: Any) -> dict[str, Any]:
        value = row.sort_key if key is not None else None
        return {"d": direction, "n": value is None, "k": _encode(value), "i": row.id}

    # -- writes ----------------------------------------------------------------------------------------------------

    def _create_user(self, data: dict[str, Any]) -> User:
        changes, emails = user_changes(data)
        if changes["show_in_address_list"] is None:  # not sent: the directory's default (invited guests hidden)
            del changes["show_in_address_list"]
        # A guest with an address (the primary, else first, email; else an address as userName) is invited; one
        # without any is an internal guest (b2b-collaboration.md §3.4): a local account, created like a member.
        address = next((e.address for e in emails if e.primary), emails[0].address if emails else None)
        upn = changes["user_principal_name"] or ""
        address = address or (upn if "@" in upn else None)
        if changes.get("user_type") == "Guest" and address:
            # A pending guest, as an invitation without email creates it (b2b-collaboration.md §1.6).
            # Through the invitation service, so the same policy checks apply (allowInvitesFrom for apps, domain
            # lists, cross-tenant access); no mail: the provisioning client distributes access itself.
            result = invitations.invite(
                self.db, self.tenant,
                InvitationRequest(invited_user_email_address=address, invite_redirect_url=f"{self.issuer}/",
                                  invited_user_display_name=changes["display_name"]),
                Inviter(client_id=self.actor.removeprefix("scim:")), issuer=self.issuer, env=self.env,
            )
            if result.reused_existing_user:
                raise Conflict(f"a user with the address {address} already exists", field="emails")
            user = result.user
            changes.pop("user_principal_name")  # a guest's UPN is the #EXT# form Portico derives
            user_service.update_user(self.db, self.tenant, user, changes=changes, emails=emails or None,
                                     actor=self.actor)
            user.modified_at = user.created_at  # one creation, not a creation and an update
            self.db.flush()
            return user
        changes.pop("user_principal_name")
        return user_service.provision_member(self.db, self.tenant, upn, changes=changes, emails=emails,
                                             actor=self.actor)

    def _update_user(self, user: User, data: dict[str, Any]) -> None:
        changes, emails = user_changes(data)
        current = [(e["value"], e.get("type"), bool(e.get("primary")), e.get("display"))
                   for e in user_emails(user, user.other_mails)]
        wanted = [(e.address, e.type, e.primary, e.display) for e in emails]
        user_service.update_user(self.db, self.tenant, user, changes=changes,
                                 emails=None if current == wanted else emails, actor=self.actor)

    def _member_ids(self, data: dict[str, Any]) -> list[str]:
        ids = []
        for member in data.get("members") or []:
            if (member.get("type") or "User") != "User":
                raise InvalidValueException(detail="Portico groups have users as members, not groups")
            if not member.get("value"):
                raise InvalidValueException(detail="a member needs a value (the user id)")
            ids.append(str(member["value"]))
        return ids

    def _create_group(self, data: dict[str, Any]) -> Group:
        group = group_service.create_group(self.db, self.tenant, data.get("displayName") or "", actor=self.actor)
        if data.get("externalId") is not None:
            group_service.update_group(self.db, self.tenant, group, changes={"external_id": data["externalId"]},
                                       actor=self.actor)
        group_service.set_members(self.db, self.tenant, group, self._member_ids(data), actor=self.actor)
        return group

    def _update_group(self, group: Group, data: dict[str, Any]) -> None:
        group_service.set_members(self.db, self.tenant, group, self._member_ids(data), actor=self.actor)
        group_service.update_group(
            self.db, self.tenant, group,
            changes={"display_name": data.get("displayName") or "", "external_id": data.get("externalId")},
            actor=self.actor,
        )
