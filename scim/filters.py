"""Translating SCIM filters and sorts into SQL over the directory tables.

A :class:`SqlFilter` walks the filter tree that scim2-models parsed (a ``FilterVisitor``) and returns one
SQLAlchemy boolean expression; the storage adds it to its ``WHERE`` clause, so the database does the filtering,
sorting and paging. Each resource type has an :class:`AttributeMap` from attribute URN to where it is stored:

* :class:`Column` - a single-valued attribute in a column of the resource's table. Case-insensitive strings are
  compared on a stored folded column when there is one (indexed), else on ``lower(column)``;
* :class:`Children` - a multi-valued complex attribute in a child table, filtered with ``EXISTS``.

Semantics follow ``ScimFilter.match`` exactly (``ScimStorageContract`` checks it): comparisons are null-safe so
``not (...)`` keeps rows without a value, ``ne`` on a multi-valued attribute means "no value equals", string
operators on non-strings match nothing, and ``LIKE`` patterns are escaped. An attribute Portico does not map is
refused with ``invalidFilter`` instead of being filtered in Python.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, NamedTuple

from scim2_models import InvalidFilterException, InvalidPathException, ScimFilter
from scim2_models.path import (
    AttributeBinding,
    AttrPath,
    CompareOperator,
    Comparison,
    FilterVisitor,
    LogicalExpr,
    LogicalOperator,
    Not,
    Present,
    ValuePath,
    coerce_value,
)
from scim2_models.path.resolution import _validate_operator  # the library's own operator/type rules
from sqlalchemy import ColumnElement, and_, bindparam, exists, false, func, literal, not_, or_, select, true, union_all
from sqlalchemy.sql.util import ClauseAdapter

STRING, BOOLEAN, DATETIME = "string", "boolean", "datetime"
LIKE_ESCAPE = "\\"


def escape_like(value: str) -> str:
    """``value`` as a literal inside a LIKE pattern (``%``, ``_`` and the escape character escaped)."""
    return (
        value.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")
    )


@dataclass(frozen=True)
class Column:
    """A single-valued attribute stored in ``expr``; ``folded`` is its stored case-folded twin, if any."""

    expr: Any
    kind: str = STRING
    folded: Any = None


@dataclass(frozen=True)
class Children:
    """A multi-valued complex attribute stored as rows of a child table.

    ``link`` correlates the child rows with the parent row; ``sub`` maps sub-attribute names (lower-case) to
    columns of the child table; ``order`` orders the entries (primary first, then position) for sorting;
    ``fallback`` is an extra parent column that also holds a ``value`` (a user's ``mail``); ``owner`` is the
    child table's column holding the parent's id (see :meth:`SqlFilter._or_fallback`).
    """

    table: Any
    link: Callable[[], ColumnElement[bool]]
    sub: dict[str, Column]
    order: tuple[Any, ...] = ()
    fallback: Column | None = None
    owner: Any = None


@dataclass(frozen=True)
class Presence:
    """A single-valued complex attribute, present when any of ``parts`` holds a value."""

    parts: tuple[Any, ...]


Spec = Column | Children | Presence


@dataclass
class AttributeMap:
    """Where each attribute of one resource type lives, by lower-cased full URN (``urn:...:User:emails.value``)."""

    id_column: Any
    specs: dict[str, Spec] = field(default_factory=dict)

    def get(self, urn: str) -> Spec | None:
        return self.specs.get(urn.lower())


@dataclass(frozen=True)
class Dialect:
    """The few dialect differences that matter: PostgreSQL orders text by locale unless told ``COLLATE "C"``."""

    name: str

    def ordered(self, expr: Any) -> Any:
        return expr.collate("C") if self.name == "postgresql" else expr


def _nonempty(expr: Any, kind: str) -> ColumnElement[bool]:
    if kind == STRING:
        return and_(expr.is_not(None), expr != "")
    return expr.is_not(None)


# How one comparison reads once its value is known (:func:`_classify`). The SQL of a filter depends only on its
# shape (the tree without its values) and on these outcomes, so it is built once per shape and outcomes
# (:func:`filter_condition`) and each filter only supplies its values (:func:`plan_filter`).
IS_NULL, NOT_NULL, NEVER, ALWAYS, COMPARE = "is null", "is not null", "never", "always", "compare"
_SUBSTRING = {CompareOperator.co: "%{}%", CompareOperator.sw: "{}%", CompareOperator.ew: "%{}"}


def _classify(column: Column, binding: AttributeBinding, op: CompareOperator, raw: Any) -> tuple[str, Any]:
    """``column op raw`` as ``ScimFilter.match`` reads it: an outcome and, for ``COMPARE``, the operand the
    column is compared with (case-folded when the attribute is case-insensitive, a LIKE pattern for
    ``co``/``sw``/``ew``). Raises ``invalidFilter`` for a value the attribute cannot hold."""
    value = coerce_value(binding, raw, op)
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # an xsd:dateTime without an offset (RFC 7643 §2.3.5) is read as UTC
    if value is None:
        return (IS_NULL if op is CompareOperator.eq else NOT_NULL if op is CompareOperator.ne else NEVER), None
    if column.kind == STRING:
        if not isinstance(value, str):
            return NEVER, None
        try:
            operand = binding.comparable(value)
        except ValueError:
            return (ALWAYS if op is CompareOperator.ne else NEVER), None
    else:
        if op in _SUBSTRING:
            return NEVER, None
        operand = value
    if op in _SUBSTRING:
        operand = _SUBSTRING[op].format(escape_like(operand))
    return COMPARE, operand


def _comparison_sql(column: Column, binding: AttributeBinding, op: CompareOperator, outcome: str, name: str,
                    dialect: Dialect) -> ColumnElement[bool]:
    """The SQL of a comparison of this ``outcome``, its operand the bound parameter ``name``; never NULL (so
    that ``not`` stays exact)."""
    if outcome == IS_NULL:
        return column.expr.is_(None)
    if outcome == NOT_NULL:
        return column.expr.is_not(None)
    if outcome in (NEVER, ALWAYS):
        return true() if outcome == ALWAYS else false()
    expr = column.expr
    if column.kind == STRING and not binding.case_exact:
        expr = column.folded if column.folded is not None else func.lower(column.expr)
    operand = bindparam(name, type_=column.expr.type)  # lower(column) has no type of its own
    guard = column.expr.is_not(None)
    if op is CompareOperator.eq:
        return and_(guard, expr == operand)
    if op is CompareOperator.ne:
        return or_(column.expr.is_(None), expr != operand)
    if op in _SUBSTRING:
        return and_(guard, expr.like(operand, escape=LIKE_ESCAPE))
    ordered = dialect.ordered(expr) if column.kind == STRING else expr
    comparisons = {
        CompareOperator.gt: ordered > operand,
        CompareOperator.ge: ordered >= operand,
        CompareOperator.lt: ordered < operand,
        CompareOperator.le: ordered <= operand,
    }
    return and_(guard, comparisons[op])


class _BooleanVisitor(FilterVisitor[Any]):
    """``not``, ``and`` and ``or``, shared by the resource filter and the filter inside ``attr[...]``.
    ``build`` is False while planning: nodes are resolved and checked, but no SQL is made (they return None)."""

    build: bool

    def visit_not(self, node: Not) -> Any:
        inner = self.visit(node.expr)
        return not_(inner) if self.build else None

    def visit_logical_expr(self, node: LogicalExpr) -> Any:
        terms = [self.visit(term) for term in node.terms]
        if not self.build:
            return None
        return and_(*terms) if node.op == LogicalOperator.and_ else or_(*terms)


class SqlFilter(_BooleanVisitor):
    """Compile a filter bound to one resource model into a boolean SQL expression over its table, in two passes.

    Planning (``outcomes`` None) resolves and checks every node and classifies each comparison's value
    (:func:`_classify`) into ``self.outcomes`` and ``self.params``, building no SQL. Building (``outcomes``
    given, the planning's) makes the SQL, each operand a bound parameter named ``filter_<n>``, so the same SQL
    serves every filter of that shape and outcomes; the values never reach it.
    """

    def __init__(self, scim_filter: ScimFilter[Any], attributes: AttributeMap, dialect: Dialect,
                 outcomes: tuple[str, ...] | None = None, tenant: Any = None) -> None:
        self.filter = scim_filter
        self.attributes = attributes
        self.dialect = dialect
        self.tenant = tenant  # the tenant's id as SQL (a bound parameter), when the statement is the tenant's
        self.build = outcomes is not None
        self._given = iter(outcomes or ())
        self.outcomes: list[str] = []
        self.params: dict[str, Any] = {}
        self._operands = 0

    def compile(self) -> Any:
        return self.visit(self.filter.ast)

    # -- resolution ------------------------------------------------------------------------------------------

    def _binding(self, attr_path: AttrPath, *, comparison: bool) -> AttributeBinding | None:
        resolve = self.filter.resolve_comparison if comparison else self.filter.resolve
        return resolve(attr_path, strict=False)

    def _spec(self, binding: AttributeBinding) -> Spec:
        spec = self.attributes.get(binding.urn)
        if spec is None and binding.sub_field_name is not None:
            head = self.attributes.get(binding.urn.rsplit(".", 1)[0])
            if isinstance(head, Children):
                return head
        if spec is None:
            raise InvalidFilterException(detail=f"Portico does not filter on {binding.urn!r}")
        return spec

    @staticmethod
    def _sub_name(binding: AttributeBinding) -> str:
        return (binding.sub_field_name and binding.urn.rsplit(".", 1)[1] or "value").lower()

    # -- comparisons ---------------------------------------------------------------------------------------------

    def _compare(self, column: Column, binding: AttributeBinding, op: CompareOperator, raw: Any) -> Any:
        """``column op raw``: classified while planning, SQL while building (see the class)."""
        if self.build:
            outcome = next(self._given)
        else:
            outcome, operand = _classify(column, binding, op, raw)
            self.outcomes.append(outcome)
        name = ""
        if outcome == COMPARE:
            name = f"filter_{self._operands}"
            self._operands += 1
            if not self.build:
                self.params[name] = operand
        return _comparison_sql(column, binding, op, outcome, name, self.dialect) if self.build else None

    def _children_match(self, spec: Children, condition: Any) -> Any:
        if not self.build:
            return None
        return exists(select(literal(1)).select_from(spec.table).where(spec.link(), condition))

    def _or_fallback(self, spec: Children, child: Any, fallback: Any) -> Any:
        """Parents with a child row matching ``child`` or whose fallback column matches ``fallback``. With the
        tenant known, as ``id IN (owners of matching child rows UNION ALL matching parents)``: two index lookups.
        As an ``OR`` of the two PostgreSQL scans the tenant's parents (~90 ms at 100,000 users)."""
        if not self.build:
            return None
        if self.tenant is None or spec.owner is None:
            return or_(self._children_match(spec, child), fallback)
        parent_id = self.attributes.id_column
        owners = parent_id.expression.table.alias("fallback_owner")
        children = select(spec.owner).where(spec.table.tenant_id == self.tenant, child)
        parents = select(owners.c.id).where(owners.c.tenant_id == self.tenant,
                                            ClauseAdapter(owners).traverse(fallback))
        return parent_id.in_(union_all(children, parents))

    def visit_comparison(self, node: Comparison) -> Any:
        binding = self._binding(node.attr_path, comparison=True)
        if binding is None:
            return false() if self.build else None
        _validate_operator(binding, node.op)
        spec = self._spec(binding)
        if isinstance(spec, Column):
            return self._compare(spec, binding, node.op, node.value)
        if isinstance(spec, Presence):
            raise InvalidFilterException(detail=f"{binding.urn!r} is complex: compare one of its sub-attributes")
        sub = spec.sub.get(self._sub_name(binding))
        if sub is None:
            raise InvalidFilterException(detail=f"Portico does not filter on {binding.urn!r}")
        use_fallback = spec.fallback is not None and self._sub_name(binding) == "value"
        # "no value equals": ScimFilter.match reads ne on a multi-valued attribute universally.
        op = CompareOperator.eq if node.op is CompareOperator.ne else node.op
        child = self._compare(sub, binding, op, node.value)
        if use_fallback:
            matched = self._or_fallback(spec, child, self._compare(spec.fallback, binding, op, node.value))
        else:
            matched = self._children_match(spec, child)
        if node.op is CompareOperator.ne:
            return not_(matched) if self.build else None
        return matched

    def visit_present(self, node: Present) -> Any:
        binding = self._binding(node.attr_path, comparison=False)
        if binding is None:
            return false() if self.build else None
        spec = self._spec(binding)
        if isinstance(spec, Children) and binding.sub_field_name is not None:
            sub = spec.sub.get(self._sub_name(binding))
            if sub is None:
                raise InvalidFilterException(detail=f"Portico does not filter on {binding.urn!r}")
        if not self.build:
            return None
        if isinstance(spec, Column):
            return _nonempty(spec.expr, spec.kind)
        if isinstance(spec, Presence):
            return or_(*(_nonempty(part, STRING) for part in spec.parts))
        if binding.sub_field_name is None:
            present = or_(*(_nonempty(c.expr, c.kind) for c in spec.sub.values()))
            matched = self._children_match(spec, present)
            if spec.fallback is not None:
                matched = or_(matched, _nonempty(spec.fallback.expr, STRING))
            return matched
        matched = self._children_match(spec, _nonempty(sub.expr, sub.kind))
        if spec.fallback is not None and self._sub_name(binding) == "value":
            matched = or_(matched, _nonempty(spec.fallback.expr, STRING))
        return matched

    def visit_value_path(self, node: ValuePath) -> Any:
        binding = self._binding(node.attr_path, comparison=False)
        if binding is None:
            return false() if self.build else None
        spec = self._spec(binding)
        if not isinstance(spec, Children):
            raise InvalidFilterException(detail=f"{binding.urn!r} is not a multi-valued complex attribute")
        inner = _EntryFilter(self, spec, node.attr_path).visit(node.val_filter)
        return self._children_match(spec, inner)


class _EntryFilter(_BooleanVisitor):
    """The filter inside ``attr[...]``: conditions on one row of the child table."""

    def __init__(self, outer: SqlFilter, spec: Children, attr_path: AttrPath) -> None:
        self.outer, self.spec, self.attr_path = outer, spec, attr_path
        self.build = outer.build

    def _sub(self, path: AttrPath, *, comparison: bool) -> tuple[Column, AttributeBinding] | None:
        if path.sub_attr is not None or path.uri is not None:
            raise InvalidFilterException(detail=f"{path} cannot be used inside a value filter")
        full = AttrPath(self.attr_path.attr, path.attr, self.attr_path.uri)
        binding = self.outer._binding(full, comparison=comparison)
        if binding is None:
            return None
        column = self.spec.sub.get(path.attr.lower())
        if column is None:
            raise InvalidFilterException(detail=f"Portico does not filter on {binding.urn!r}")
        return column, binding

    def visit_comparison(self, node: Comparison) -> Any:
        found = self._sub(node.attr_path, comparison=True)
        if found is None:
            return false() if self.build else None
        _validate_operator(found[1], node.op)
        return self.outer._compare(found[0], found[1], node.op, node.value)

    def visit_present(self, node: Present) -> Any:
        found = self._sub(node.attr_path, comparison=False)
        if not self.build:
            return None
        return false() if found is None else _nonempty(found[0].expr, found[0].kind)

    def visit_value_path(self, node: ValuePath) -> Any:
        raise InvalidFilterException(detail="value filters cannot be nested")


def _shape(node: Any) -> Any:
    """The filter tree without its values: what, with the comparisons' outcomes, decides its SQL."""
    if isinstance(node, Comparison):
        return replace(node, value=None)
    if isinstance(node, Not):
        return replace(node, expr=_shape(node.expr))
    if isinstance(node, LogicalExpr):
        return replace(node, terms=tuple(_shape(term) for term in node.terms))
    if isinstance(node, ValuePath):
        return replace(node, val_filter=_shape(node.val_filter))
    return node


class FilterPlan(NamedTuple):
    """A checked filter: ``key`` (hashable: its shape and outcomes) picks its SQL, ``params`` are its values."""

    key: Hashable
    params: dict[str, Any]


def plan_filter(scim_filter: ScimFilter[Any], model: type, attributes: AttributeMap, dialect: Dialect) -> FilterPlan:
    """Resolve, check and classify ``scim_filter`` for resources of ``model`` (raises ``invalidFilter`` as
    compiling would), without building SQL: :func:`filter_condition` builds it from the plan's key."""
    planner = SqlFilter(ScimFilter[model](scim_filter.ast), attributes, dialect)  # type: ignore[valid-type]
    planner.compile()
    return FilterPlan((_shape(scim_filter.ast), tuple(planner.outcomes)), planner.params)


def filter_condition(key: Hashable, model: type, attributes: AttributeMap, dialect: Dialect, *,
                     tenant: Any = None) -> ColumnElement[bool]:
    """The SQL condition of every filter planned with ``key`` (:func:`plan_filter`), its values bound
    parameters named as the plan's ``params``; ``tenant`` (SQL: a bound parameter) when it is one tenant's."""
    shape, outcomes = key  # type: ignore[misc]
    built = SqlFilter(ScimFilter[model](shape), attributes, dialect, outcomes, tenant)  # type: ignore[valid-type]
    condition: ColumnElement[bool] = built.compile()
    return condition


def compile_filter(
    scim_filter: ScimFilter[Any], model: type, attributes: AttributeMap, dialect: Dialect
) -> ColumnElement[bool]:
    """The SQL condition of ``scim_filter`` for resources of ``model`` stored as ``attributes`` describes, its
    values bound."""
    plan = plan_filter(scim_filter, model, attributes, dialect)
    condition = filter_condition(plan.key, model, attributes, dialect)
    return condition.params(plan.params) if plan.params else condition  # true()/false() cannot be copied


def sort_expression(binding: AttributeBinding, attributes: AttributeMap, dialect: Dialect) -> Any:
    """The SQL expression ordering resources by ``binding`` as ``SearchRequest.sort`` does (NULL = no value)."""
    spec = attributes.get(binding.urn)
    if spec is None and binding.sub_field_name is not None:
        spec = attributes.get(binding.urn.rsplit(".", 1)[0])
    if isinstance(spec, Column):
        return _sortable(spec, binding, dialect)
    if isinstance(spec, Children) and spec.order:
        name = (binding.sub_field_name and binding.urn.rsplit(".", 1)[1] or "value").lower()
        sub = spec.sub.get(name)
        if sub is not None:
            # A multi-valued attribute sorts on its primary entry, or else its first one.
            first = (
                select(_sortable(sub, binding, dialect)).select_from(spec.table).where(spec.link())
                .order_by(*spec.order).limit(1).scalar_subquery()
            )
            if spec.fallback is not None and name == "value":
                return func.coalesce(first, _sortable(spec.fallback, binding, dialect))
            return first
    raise InvalidPathException(detail=f"Portico does not sort on {binding.urn!r}")


def _sortable(column: Column, binding: AttributeBinding, dialect: Dialect) -> Any:
    if column.kind != STRING:
        return column.expr
    if binding.case_exact:
        return dialect.ordered(column.expr)
    folded = column.folded if column.folded is not None else func.lower(column.expr)
    return dialect.ordered(folded)


__all__ = [
    "AttributeMap",
    "Children",
    "Column",
    "Dialect",
    "FilterPlan",
    "Presence",
    "SqlFilter",
    "compile_filter",
    "escape_like",
    "filter_condition",
    "plan_filter",
    "sort_expression",
]
