"""Recording audit events in the same transaction as the change they describe."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from idp.bulk_insert import insert_rows
from idp.models import AuditEvent


def record(
    db: Session,
    *,
    tenant_id: str | None,
    actor: str,
    activity: str,
    target_type: str | None = None,
    target_id: str | None = None,
    result: str = "success",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        tenant_id=tenant_id,
        actor=actor,
        activity=activity,
        target_type=target_type,
        target_id=target_id,
        result=result,
        details=details or {},
    )
    db.add(event)
    return event


def record_many(
    db: Session,
    *,
    tenant_id: str | None,
    actor: str,
    activity: str,
    target_type: str | None,
    targets: list[tuple[str, dict[str, Any]]],
) -> None:
    """One successful ``activity`` event per ``(target_id, details)``, inserted at once (batch imports)."""
    if targets:
        insert_rows(db, AuditEvent.__table__, [
            {"tenant_id": tenant_id, "actor": actor, "activity": activity, "target_type": target_type,
             "target_id": target_id, "result": "success", "details": details}
            for target_id, details in targets
        ])
