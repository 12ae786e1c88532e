"""Input checks shared by the ``from_graph`` readers: each raises ValidationError naming the bad field."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from idp.errors import ValidationError

# Keys a client may send back unchanged from a GET; they are read-only and ignored on input.
IGNORED_KEYS = frozenset({"@odata.context", "@odata.type", "@odata.etag"})


def join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def obj(value: Any, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationError(f"{field or 'the body'} must be a JSON object", field=field or None)
    return value


def only_keys(value: Mapping[str, Any], known: Collection[str], prefix: str) -> None:
    for key in value:
        if key not in known and key not in IGNORED_KEYS:
            field = join(prefix, str(key))
            raise ValidationError(f"unknown or unsupported property {field!r}", field=field)


def boolean(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(f"{field} must be true or false", field=field)
    return value


def enum(value: Any, field: str, allowed: Collection[str]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ValidationError(f"{field} must be one of: {', '.join(allowed)} (got {value!r})", field=field)
    return value


def string(value: Any, field: str, *, max_length: int = 256) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{field} must be a non-empty string", field=field)
    if len(value) > max_length:
        raise ValidationError(f"{field} is longer than {max_length} characters", field=field)
    return value.strip()


def strings(value: Any, field: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValidationError(f"{field} must be a list of strings", field=field)
    return tuple(string(item, f"{field}[{i}]") for i, item in enumerate(value))


def unique(items: tuple[str, ...]) -> tuple[str, ...]:
    """Drop duplicates, keeping the first occurrence and the order."""
    return tuple(dict.fromkeys(items))
