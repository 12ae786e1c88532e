"""scim2-models' request checks (RFC 7643 §7 mutability, §2.5 necessity, §2.4 one primary), planned once per class.

scim2-models 0.12 runs ``_enforce_scim_context`` after validating any resource: for *every* field of the model it
reads the field's annotations, asks whether it is multi-valued (``typing.get_origin`` each time) and probes a
``value`` attribute through pydantic's ``__getattr__`` (an exception per field of a model without one). For a
Portico User that is ~30 fields per payload, and it was 29% of the CPU of a Bulk import (py-spy, 10,000 users).

:func:`enforce_request_context` does the same checks by calling the library's own check methods, in the same
field order and with the same values, but only for the fields a check can apply to, listed once per class: a
field with ``readOnly``/``writeOnly`` mutability, a required field, a multi-valued field whose elements have a
``primary``. Responses (and the default context) take the library's path unchanged.
``tests/test_scim_request_checks.py`` compares both on the same payloads, so a library upgrade that changes the
rules fails there. Upstream would be the right home for this; until then it is installed on Portico's own
resource classes (:mod:`scim.schema`).
"""

from __future__ import annotations

from dataclasses import dataclass
from inspect import isclass
from typing import Any

from pydantic import BaseModel as PydanticModel
from pydantic import ValidationInfo, model_validator
from scim2_models import Context, Mutability, Required
from scim2_models.base import BaseModel as ScimModel

_CREATE_OR_REPLACE = frozenset({Context.RESOURCE_CREATION_REQUEST, Context.RESOURCE_REPLACEMENT_REQUEST,
                                Context.BULK_REQUEST})
_CHECKED_MUTABILITY = frozenset({Mutability.read_only, Mutability.write_only})


@dataclass(frozen=True, slots=True)
class FieldRule:
    """What the request checks can do to one field."""

    name: str
    mutability_checked: bool  # readOnly or writeOnly: _check_mutability may act when the payload sets it
    required: bool  # Required.true: _check_necessity may refuse it in a creation or replacement
    one_primary: bool  # multi-valued with a ``primary`` sub-attribute: _check_primary_uniqueness applies


_RULES: dict[type[Any], tuple[FieldRule, ...]] = {}


def field_rules(model: type[ScimModel]) -> tuple[FieldRule, ...]:
    """The fields of ``model`` some request check applies to, in field order (computed once per class)."""
    rules = _RULES.get(model)
    if rules is None:
        planned = []
        for name in model.model_fields:
            element = model.get_field_root_type(name)
            rule = FieldRule(
                name=name,
                mutability_checked=model.get_field_annotation(name, Mutability) in _CHECKED_MUTABILITY,
                required=model.get_field_annotation(name, Required) == Required.true,
                one_primary=model.get_field_multiplicity(name) and isclass(element)
                and issubclass(element, PydanticModel) and "primary" in element.model_fields,
            )
            if rule.mutability_checked or rule.required or rule.one_primary:
                planned.append(rule)
        rules = _RULES[model] = tuple(planned)
    return rules


def enforce_request_context(self: ScimModel, info: ValidationInfo) -> ScimModel:
    """scim2-models' ``_enforce_scim_context``, visiting only the fields a request check applies to."""
    context = info.context.get("scim") if info.context else None
    if not context or context == Context.DEFAULT or not Context.is_request(context):
        return ScimModel._enforce_scim_context(self, info)
    create_or_replace = context in _CREATE_OR_REPLACE
    in_bulk = bool(info.context.get("scim_bulk"))
    fields_set = self.model_fields_set
    for rule in field_rules(type(self)):
        value = getattr(self, rule.name)  # read before _check_mutability may unset it, as the library does
        if rule.mutability_checked and rule.name in fields_set:
            self._check_mutability(rule.name, context)
        if rule.required and create_or_replace and not self._is_unresolved_bulk_reference(rule.name, in_bulk):
            self._check_necessity(rule.name, value)
        if rule.one_primary and value is not None:
            self._check_primary_uniqueness(rule.name, value)
    return self


def request_checks() -> Any:
    """The validator to assign to ``_enforce_scim_context`` in a resource class body (replacing the library's)."""
    return model_validator(mode="after")(enforce_request_context)
