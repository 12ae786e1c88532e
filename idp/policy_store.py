"""Reading and writing a tenant's stored policy objects; the rules themselves live in ``idp.policy``.

Absent documents mean the system defaults. Writes validate through the policy models' ``from_graph`` (so a bad
field is refused with its name) and check ``may_change`` for the caller's roles.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from idp import audit
from idp.db import across_tenants, scoped
from idp.models import PolicyDocument, Tenant, TenantDomain
from idp.policy import (
    SYSTEM_DEFAULT,
    DefaultConfiguration,
    EffectiveConfiguration,
    ExternalCollaborationSettings,
    PartnerConfiguration,
    may_change,
    resolve,
)
from idp.policy.administration import PolicyObject

EXTERNAL_COLLABORATION = "externalCollaboration"
CROSS_TENANT_DEFAULT = "crossTenantAccessDefault"
CROSS_TENANT_PARTNER = "crossTenantAccessPartner"


def _document(db: Session, tenant_id: str, kind: str, key: str = "") -> PolicyDocument | None:
    return db.scalar(scoped(PolicyDocument, tenant_id).where(PolicyDocument.kind == kind, PolicyDocument.key == key))


def _store(db: Session, tenant: Tenant, kind: str, document: dict, *, actor: str, key: str = "") -> None:
    row = _document(db, tenant.id, kind, key)
    if row is None:
        db.add(PolicyDocument(tenant_id=tenant.id, kind=kind, key=key, document=document, modified_by=actor))
    else:
        row.document = document
        row.modified_by = actor
    db.flush()
    audit.record(db, tenant_id=tenant.id, actor=actor, activity=f"Update {kind}", target_type="policy",
                 details={"key": key, "document": document})


def external_collaboration(db: Session, tenant: Tenant) -> ExternalCollaborationSettings:
    row = _document(db, tenant.id, EXTERNAL_COLLABORATION)
    return ExternalCollaborationSettings() if row is None else ExternalCollaborationSettings.from_graph(row.document)


def update_external_collaboration(
    db: Session, tenant: Tenant, patch: object, *, policy: PolicyObject, roles: Iterable[str] | None, actor: str
) -> ExternalCollaborationSettings:
    """PATCH-style update. ``roles`` None means an app-only caller already authorised by its token's scope."""
    if roles is not None:
        may_change(policy, roles).raise_if_denied()
    updated = ExternalCollaborationSettings.from_graph(patch, base=external_collaboration(db, tenant))
    _store(db, tenant, EXTERNAL_COLLABORATION, updated.to_graph(), actor=actor)
    return updated


def cross_tenant_default(db: Session, tenant: Tenant) -> DefaultConfiguration:
    row = _document(db, tenant.id, CROSS_TENANT_DEFAULT)
    return SYSTEM_DEFAULT if row is None else DefaultConfiguration.from_graph(row.document)


def cross_tenant_partner(db: Session, tenant: Tenant, partner_tenant_id: str) -> PartnerConfiguration | None:
    row = _document(db, tenant.id, CROSS_TENANT_PARTNER, partner_tenant_id)
    if row is None:
        return None
    return PartnerConfiguration.from_graph(row.document, default=cross_tenant_default(db, tenant))


def effective_cross_tenant(db: Session, tenant: Tenant, partner_tenant_id: str | None) -> EffectiveConfiguration:
    """This tenant's settings toward one partner organization (null inherits the default), or the default."""
    default = cross_tenant_default(db, tenant)
    partner = cross_tenant_partner(db, tenant, partner_tenant_id) if partner_tenant_id else None
    return resolve(default, partner)


def home_tenant_of(db: Session, email: str) -> Tenant | None:
    """The tenant of this deployment whose verified domain the address is in: a deliberate cross-tenant read."""
    domain = email.rsplit("@", 1)[-1].strip().lower()
    row = db.scalar(across_tenants(TenantDomain).where(TenantDomain.name == domain,
                                                       TenantDomain.is_verified.is_(True)))
    return db.get(Tenant, row.tenant_id) if row is not None else None
