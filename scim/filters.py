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

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

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
from sqlalchemy import ColumnElement, and_, exists, false, func, literal, not_, or_, select, true

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
    ``fallback`` is an extra parent column that also holds a ``value`` (a user's ``mail``).
    """

    table: Any
    link: Callable[[], ColumnElement[bool]]
    sub: dict[str, Column]
    order: tuple[Any, ...] = ()
    fallback: Column | None = None


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


class _BooleanVisitor(FilterVisitor[ColumnElement[bool]]):
    """``not``, ``and`` and ``or``, shared by the resource filter and the filter inside ``attr[...]``."""

    def visit_not(self, node: Not) -> ColumnElement[bool]:
        return not_(self.visit(node.expr))

    def visit_logical_expr(self, node: LogicalExpr) -> ColumnElement[bool]:
        terms = [self.visit(term) for term in node.terms]
        return and_(*terms) if node.op == LogicalOperator.and_ else or_(*terms)


class SqlFilter(_BooleanVisitor):
    """Compile a filter bound to one resource model into a boolean SQL expression over its table."""

    def __init__(self, scim_filter: ScimFilter[Any], attributes: AttributeMap, dialect: Dialect) -> None:
        self.filter = scim_filter
        self.attributes = attributes
        self.dialect = dialect

    def compile(self) -> ColumnElement[bool]:
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

    def _compare(self, column: Column, binding: AttributeBinding, op: CompareOperator, raw: Any) -> ColumnElement[bool]:
        """``column op value`` as ``ScimFilter.match`` reads it, never NULL (so that ``not`` stays exact)."""
        value = coerce_value(binding, raw, op)
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)  # an xsd:dateTime without an offset (RFC 7643 §2.3.5) is read as UTC
        if value is None:
            if op is CompareOperator.eq:
                return column.expr.is_(None)
            if op is CompareOperator.ne:
                return column.expr.is_not(None)
            return false()
        if column.kind == STRING:
            if not isinstance(value, str):
                return false()
            try:
                operand = binding.comparable(value)
            except ValueError:
                return true() if op is CompareOperator.ne else false()
            expr = column.expr
            if not binding.case_exact:
                expr = column.folded if column.folded is not None else func.lower(column.expr)
        else:
            if op in (CompareOperator.co, CompareOperator.sw, CompareOperator.ew):
                return false()
            operand, expr = value, column.expr
        guard = column.expr.is_not(None)
        if op is CompareOperator.eq:
            return and_(guard, expr == operand)
        if op is CompareOperator.ne:
            return or_(column.expr.is_(None), expr != operand)
        if op is CompareOperator.co:
            return and_(guard, expr.like(f"%{escape_like(operand)}%", escape=LIKE_ESCAPE))
        if op is CompareOperator.sw:
            return and_(guard, expr.like(f"{escape_like(operand)}%", escape=LIKE_ESCAPE))
        if op is CompareOperator.ew:
            return and_(guard, expr.like(f"%{escape_like(operand)}", escape=LIKE_ESCAPE))
        ordered = self.dialect.ordered(expr) if column.kind == STRING else expr
        comparisons = {
            CompareOperator.gt: ordered > operand,
            CompareOperator.ge: ordered >= operand,
            CompareOperator.lt: ordered < operand,
            CompareOperator.le: ordered <= operand,
        }
        return and_(guard, comparisons[op])

    def _children_match(self, spec: Children, condition: ColumnElement[bool]) -> ColumnElement[bool]:
        return exists(select(literal(1)).select_from(spec.table).where(spec.link(), condition))

    def visit_comparison(self, node: Comparison) -> ColumnElement[bool]:
        binding = self._binding(node.attr_path, comparison=True)
        if binding is None:
            return false()
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
        if node.op is CompareOperator.ne:
            # "no value equals": ScimFilter.match reads ne on a multi-valued attribute universally.
            equal = self._children_match(spec, self._compare(sub, binding, CompareOperator.eq, node.value))
            if use_fallback:
                equal = or_(equal, self._compare(spec.fallback, binding, CompareOperator.eq, node.value))
            return not_(equal)
        matched = self._children_match(spec, self._compare(sub, binding, node.op, node.value))
        if use_fallback:
            matched = or_(matched, self._compare(spec.fallback, binding, node.op, node.value))
        return matched

    def visit_present(self, node: Present) -> ColumnElement[bool]:
        binding = self._binding(node.attr_path, comparison=False)
        if binding is None:
            return false()
        spec = self._spec(binding)
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
        sub = spec.sub.get(self._sub_name(binding))
        if sub is None:
            raise InvalidFilterException(detail=f"Portico does not filter on {binding.urn!r}")
        matched = self._children_match(spec, _nonempty(sub.expr, sub.kind))
        if spec.fallback is not None and self._sub_name(binding) == "value":
            matched = or_(matched, _nonempty(spec.fallback.expr, STRING))
        return matched

    def visit_value_path(self, node: ValuePath) -> ColumnElement[bool]:
        binding = self._binding(node.attr_path, comparison=False)
        if binding is None:
            return false()
        spec = self._spec(binding)
        if not isinstance(spec, Children):
            raise InvalidFilterException(detail=f"{binding.urn!r} is not a multi-valued complex attribute")
        inner = _EntryFilter(self, spec, node.attr_path).visit(node.val_filter)
        return self._children_match(spec, inner)


class _EntryFilter(_BooleanVisitor):
    """The filter inside ``attr[...]``: conditions on one row of the child table."""

    def __init__(self, outer: SqlFilter, spec: Children, attr_path: AttrPath) -> None:
        self.outer, self.spec, self.attr_path = outer, spec, attr_path

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

    def visit_comparison(self, node: Comparison) -> ColumnElement[bool]:
        found = self._sub(node.attr_path, comparison=True)
        if found is None:
            return false()
        _validate_operator(found[1], node.op)
        return self.outer._compare(found[0], found[1], node.op, node.value)

    def visit_present(self, node: Present) -> ColumnElement[bool]:
        found = self._sub(node.attr_path, comparison=False)
        return false() if found is None else _nonempty(found[0].expr, found[0].kind)

    def visit_value_path(self, node: ValuePath) -> ColumnElement[bool]:
        raise InvalidFilterException(detail="value filters cannot be nested")


def compile_filter(
    scim_filter: ScimFilter[Any], model: type, attributes: AttributeMap, dialect: Dialect
) -> ColumnElement[bool]:
    """The SQL condition of ``scim_filter`` for resources of ``model`` stored as ``attributes`` describes."""
    bound = ScimFilter[model](scim_filter.ast)  # type: ignore[valid-type]
    return SqlFilter(bound, attributes, dialect).compile()


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
    "Presence",
    "SqlFilter",
    "compile_filter",
    "escape_like",
    "sort_expression",
]
