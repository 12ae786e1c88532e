"""Email address normalisation and the invitation address rules of b2b-collaboration.md §1.4."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from idp.errors import ValidationError

FORBIDDEN_LOCAL_CHARACTERS = set('~!#$%^&*()+=[]{}\\/|;:"<>?,')


def normalize_email(address: str) -> str:
    """The comparison form of an address: trimmed and lower-cased (lookups are case-insensitive)."""
    return address.strip().lower()


def validate_address(address: str, *, field: str = "email") -> str:
    """Check the syntax of an address and return it trimmed, with the domain lower-cased."""
    candidate = (address or "").strip()
    try:
        result = validate_email(
            candidate, check_deliverability=False, allow_smtputf8=False, globally_deliverable=False
        )
    except EmailNotValidError as exc:
        raise ValidationError(f"{candidate!r} is not a valid email address: {exc}", field=field) from None
    return f"{result.local_part}@{result.domain.lower()}"


def validate_invitable_address(address: str, *, field: str = "email") -> str:
    """§1.4: the stricter rules for addresses of guests (no plus-addressing, no forbidden characters)."""
    checked = validate_address(address, field=field)
    local = checked.rsplit("@", 1)[0]
    bad = sorted(set(local) & FORBIDDEN_LOCAL_CHARACTERS)
    if "+" in local:
        raise ValidationError(f"plus-addressing is not supported: {checked!r}", field=field)
    if bad:
        raise ValidationError(
            f"the local part of {checked!r} contains forbidden characters: {' '.join(bad)}", field=field
        )
    if local[0] in ".-" or local[-1] in ".-":
        raise ValidationError(
            f"the local part of {checked!r} must not start or end with '.' or '-'", field=field
        )
    return checked
