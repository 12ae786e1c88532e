"""The sign-in log: every sign-in attempt and token refresh, with the policies evaluated and the outcome.

Interfaces call :func:`record_sign_in` in the transaction of the attempt (or, for a refused attempt whose request
is rolled back, in a transaction of its own: see :func:`idp.oidc.provider.revoke_out_of_band` for the pattern).
The entries are read back Graph-shaped (``signIn`` of ``/auditLogs/signIns``) by :func:`list_sign_ins`.

Outcomes: ``success``; ``interrupted`` (the attempt needs another step, e.g. conditional access asks for MFA);
``failure`` (refused: wrong credentials, cross-tenant access or conditional access blocked, ...). Report-only
conditional access results are logged with every entry (``AccessEvaluation.as_log``), never enforced.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Select
from sqlalchemy.orm import Session

from idp.db import scoped, utcnow
from idp.errors import ValidationError
from idp.models import SignInLogEntry, Tenant, User
from idp.policy import SignInDecision

Outcome = Literal["success", "failure", "interrupted"]
Kind = Literal["interactive", "refreshToken"]
OUTCOMES: tuple[Outcome, ...] = ("success", "failure", "interrupted")
KINDS: tuple[Kind, ...] = ("interactive", "refreshToken")
DEFAULT_TOP = 100
MAX_TOP = 1000

#: Entra-like error codes for the ``status.errorCode`` of an entry.
ERROR_CODES = {
    "success": 0,
    "mfaRequired": 50076,
    "blockedByConditionalAccess": 53003,
    "outboundPolicy": 500212,
    "inboundPolicy": 500213,
    "other": 50000,
}


def outcome_of(decision: SignInDecision) -> Outcome:
    """``allow`` -> success, ``requireMfa`` -> interrupted, ``block`` -> failure."""
    return {"allow": "success", "requireMfa": "interrupted", "block": "failure"}[decision.outcome]  # type: ignore[return-value]


def refused_setting(decision: SignInDecision) -> str | None:
    """The fully qualified setting that refused (cross-tenant access first, then the first blocking CA policy)."""
    if decision.cross_tenant is not None and decision.cross_tenant.denied:
        return decision.cross_tenant.refused_by
    evaluation = decision.conditional_access
    if evaluation is not None and not evaluation.allowed:
        refusals = [r for r in evaluation.reasons if not r.allowed]
        return refusals[0].name if refusals else None
    return None


def _error_code(outcome: str, refused_by: str | None) -> int:
    if outcome == "success":
        return ERROR_CODES["success"]
    if outcome == "interrupted":
        return ERROR_CODES["mfaRequired"]
    if refused_by and "b2bCollaborationOutbound" in refused_by:
        return ERROR_CODES["outboundPolicy"]
    if refused_by and "b2bCollaborationInbound" in refused_by:
        return ERROR_CODES["inboundPolicy"]
    if refused_by and refused_by.startswith("conditionalAccessPolicies/"):
        return ERROR_CODES["blockedByConditionalAccess"]
    return ERROR_CODES["other"]


def record_sign_in(
    db: Session,
    tenant: Tenant,
    *,
    outcome: Outcome,
    reason: str,
    kind: Kind = "interactive",
    user: User | None = None,
    user_principal_name: str | None = None,
    client_id: str | None = None,
    app_display_name: str | None = None,
    upstream_idp: str | None = None,
    home_tenant_id: str | None = None,
    client_ip: str | None = None,
    decision: SignInDecision | None = None,
    refused_by: str | None = None,
    amr: Iterable[str] = (),
    now: datetime | None = None,
) -> SignInLogEntry:
    """Add one entry in the caller's transaction.

    ``user`` is the directory user when known (a failed attempt for an unknown address passes only
    ``user_principal_name``, the name that was typed); ``client_id`` the application's client id; ``upstream_idp``
    the issuer the user authenticated at (``mail`` for email OTP, an OIDC issuer, ``None`` for a local password);
    ``decision`` the policy verdict (cross-tenant access reasons and conditional access results, report-only ones
    included, are stored as they were evaluated); ``refused_by`` defaults to the setting the decision names.
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown sign-in outcome {outcome!r}")
    if kind not in KINDS:
        raise ValueError(f"unknown sign-in kind {kind!r}")
    if refused_by is None and decision is not None:
        refused_by = refused_setting(decision)
    entry = SignInLogEntry(
        tenant_id=tenant.id,
        created_at=now or utcnow(),
        kind=kind,
        user_id=user.id if user is not None else None,
        user_principal_name=(user.user_principal_name if user is not None else user_principal_name),
        user_display_name=user.display_name if user is not None else None,
        user_type=user.user_type if user is not None else None,
        home_tenant_id=home_tenant_id,
        app_id=client_id,
        app_display_name=app_display_name,
        upstream_idp=upstream_idp,
        client_ip=(client_ip or None) and client_ip[:45],
        outcome=outcome,
        reason=reason[:2000],
        refused_by=refused_by,
        cross_tenant=decision.cross_tenant.as_dict() if decision and decision.cross_tenant else None,
        conditional_access=(decision.conditional_access.as_log()
                            if decision and decision.conditional_access else None),
        amr=list(dict.fromkeys(amr)),
    )
    db.add(entry)
    db.flush()
    return entry


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def to_graph(entry: SignInLogEntry) -> dict[str, Any]:
    """The Graph ``signIn`` shape; Portico extensions: ``outcome``, ``refusedBy``, ``upstreamIdentityProvider``,
    ``crossTenantAccessPolicies`` (every cross-tenant reason consulted) and ``authenticationMethodsReferences``."""
    ca = entry.conditional_access or {}
    external = bool(entry.home_tenant_id) or entry.user_type == "Guest"
    return {
        "id": entry.id,
        "createdDateTime": _iso(entry.created_at),
        "userId": entry.user_id,
        "userPrincipalName": entry.user_principal_name,
        "userDisplayName": entry.user_display_name,
        "userType": (entry.user_type or "").lower() or None,
        "homeTenantId": entry.home_tenant_id or entry.tenant_id,
        "resourceTenantId": entry.tenant_id,
        "appId": entry.app_id,
        "appDisplayName": entry.app_display_name,
        "ipAddress": entry.client_ip,
        "isInteractive": entry.kind == "interactive",
        "incomingTokenType": "refreshToken" if entry.kind == "refreshToken" else "none",
        "crossTenantAccessType": "b2bCollaboration" if external else "none",
        "status": {
            "errorCode": _error_code(entry.outcome, entry.refused_by),
            "failureReason": None if entry.outcome == "success" else entry.reason,
            "additionalDetails": entry.refused_by or (entry.reason if entry.outcome == "success" else None),
        },
        "conditionalAccessStatus": ca.get("conditionalAccessStatus", "notApplied"),
        "appliedConditionalAccessPolicies": ca.get("appliedConditionalAccessPolicies", []),
        "outcome": entry.outcome,
        "refusedBy": entry.refused_by,
        "upstreamIdentityProvider": entry.upstream_idp,
        "crossTenantAccessPolicies": (entry.cross_tenant or {}).get("reasons", []),
        "authenticationMethodsReferences": list(entry.amr),
    }


# -- reading: $top and a small $filter --------------------------------------------------------------------------
FILTER_FIELDS = {
    "userId": SignInLogEntry.user_id,
    "userPrincipalName": SignInLogEntry.user_principal_name,
    "appId": SignInLogEntry.app_id,
    "outcome": SignInLogEntry.outcome,
}
_CLAUSE = re.compile(r"^\s*(?P<field>[A-Za-z]+)\s+eq\s+'(?P<value>(?:[^']|'')*)'\s*$")


@dataclass(frozen=True)
class SignInQuery:
    top: int = DEFAULT_TOP
    equals: tuple[tuple[str, str], ...] = ()


def parse_query(top: str | None, filter_: str | None) -> SignInQuery:
    """``$top`` (1..1000) and ``$filter``: ``field eq 'value'`` clauses joined by ``and`` over ``userId``,
    ``userPrincipalName``, ``appId`` and ``outcome``. Anything else is a :class:`ValidationError`."""
    count = DEFAULT_TOP
    if top is not None:
        if not top.isdigit() or not 1 <= int(top) <= MAX_TOP:
            raise ValidationError(f"$top must be an integer from 1 to {MAX_TOP}", field="$top")
        count = int(top)
    equals: list[tuple[str, str]] = []
    if filter_ is not None and filter_.strip():
        for clause in re.split(r"\s+and\s+", filter_.strip()):
            match = _CLAUSE.match(clause)
            if match is None or match["field"] not in FILTER_FIELDS:
                raise ValidationError(
                    f"$filter: {clause.strip()!r} is not supported; use field eq 'value' with one of "
                    f"{', '.join(FILTER_FIELDS)}, joined by and", field="$filter")
            value = match["value"].replace("''", "'")
            if match["field"] == "outcome" and value not in OUTCOMES:
                raise ValidationError(f"$filter: outcome must be one of {', '.join(OUTCOMES)}", field="$filter")
            equals.append((match["field"], value))
    return SignInQuery(count, tuple(equals))


def list_sign_ins(db: Session, tenant: Tenant, query: SignInQuery = SignInQuery()) -> list[SignInLogEntry]:
    """The newest entries first."""
    stmt: Select[tuple[SignInLogEntry]] = scoped(SignInLogEntry, tenant.id)
    for name, value in query.equals:
        stmt = stmt.where(FILTER_FIELDS[name] == value)
    stmt = stmt.order_by(SignInLogEntry.created_at.desc(), SignInLogEntry.id).limit(query.top)
    return list(db.scalars(stmt))
