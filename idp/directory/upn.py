"""Guest user principal names (b2b-collaboration.md §3.2) and the collision rule (spec decision 4).

Rule: the whole invited address, lower-cased, with ``@`` replaced by ``_``, then ``#EXT#@`` and the tenant's
initial domain. When that UPN is already taken in the tenant (the same address re-invited after a deletion, or
two addresses mapping to one string), the n-th candidate (n = 2, 3, ...) appends ``_n`` before ``#EXT#``:
``john_contoso.com_2#EXT#@fabrikam.portico.example``.
"""

from __future__ import annotations

from collections.abc import Callable

EXT_MARKER = "#EXT#"
MAX_COLLISION_ATTEMPTS = 1000


def guest_upn(email: str, initial_domain: str, attempt: int = 1) -> str:
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    local = email.strip().lower().replace("@", "_")
    suffix = "" if attempt == 1 else f"_{attempt}"
    return f"{local}{suffix}{EXT_MARKER}@{initial_domain.lower()}"


def first_free_guest_upn(email: str, initial_domain: str, is_taken: Callable[[str], bool]) -> str:
    """The first candidate of the collision rule that ``is_taken`` reports free."""
    for attempt in range(1, MAX_COLLISION_ATTEMPTS + 1):
        candidate = guest_upn(email, initial_domain, attempt)
        if not is_taken(candidate):
            return candidate
    raise RuntimeError(f"no free guest UPN for {email!r} after {MAX_COLLISION_ATTEMPTS} attempts")
