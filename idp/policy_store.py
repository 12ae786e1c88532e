"""Reading and writing a tenant's stored policy objects; the rules themselves live in ``idp.policy``.

Absent documents mean the system defaults. Writes validate through the policy models' ``from_graph`` (so a bad
field is refused with its name) and check ``may_change`` for the caller's roles.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from idp import audit
from idp.db import across_tenants, new_id, scoped
from idp.errors import Conflict, NotFound
from idp.models import PolicyDocument, Tenant, TenantDomain
from idp.policy import (
    SYSTEM_DEFAULT,
    ConditionalAccessPolicy,
    CrossTenantAccessPolicy,
    DefaultConfiguration,
    EffectiveConfiguration,
    ExternalCollaborationSettings,
    PartnerConfiguration,
    may_change,
    may_delete_partner,
    reset_to_system_default,
    resolve,
)
from idp.policy.administration import PolicyObject

EXTERNAL_COLLABORATION = "externalCollaboration"
CROSS_TENANT_DEFAULT = "crossTenantAccessDefault"
CROSS_TENANT_PARTNER = "crossTenantAccessPartner"
CROSS_TENANT_POLICY = "crossTenantAccessPolicy"
CONDITIONAL_ACCESS = "conditionalAccess"


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


# -- cross-tenant access settings (§5): writes ------------------------------------------------------------------
def _authorise(roles: Iterable[str] | None) -> None:
    if roles is not None:
        may_change("crossTenantAccessPolicy", roles).raise_if_denied()


def cross_tenant_policy(db: Session, tenant: Tenant) -> CrossTenantAccessPolicy:
    row = _document(db, tenant.id, CROSS_TENANT_POLICY)
    return CrossTenantAccessPolicy() if row is None else CrossTenantAccessPolicy.from_graph(row.document)


def update_cross_tenant_policy(db: Session, tenant: Tenant, patch: object, *, roles: Iterable[str] | None,
                               actor: str) -> CrossTenantAccessPolicy:
    _authorise(roles)
    updated = CrossTenantAccessPolicy.from_graph(patch, base=cross_tenant_policy(db, tenant))
    _store(db, tenant, CROSS_TENANT_POLICY, updated.to_graph(), actor=actor)
    return updated


def update_cross_tenant_default(db: Session, tenant: Tenant, patch: object, *, roles: Iterable[str] | None,
                                actor: str) -> DefaultConfiguration:
    _authorise(roles)
    updated = DefaultConfiguration.from_graph(patch, base=cross_tenant_default(db, tenant))
    for partner in list_cross_tenant_partners(db, tenant):  # partners inherit: they must stay consistent
        PartnerConfiguration.from_graph({}, default=updated, base=partner)
    _store(db, tenant, CROSS_TENANT_DEFAULT, updated.to_graph(), actor=actor)
    return updated


def reset_cross_tenant_default(db: Session, tenant: Tenant, *, roles: Iterable[str] | None, actor: str) -> None:
    """``resetToSystemDefault``: the §5.2 values, ``isServiceDefault`` true again."""
    _authorise(roles)
    restored = reset_to_system_default()
    for partner in list_cross_tenant_partners(db, tenant):
        PartnerConfiguration.from_graph({}, default=restored, base=partner)
    row = _document(db, tenant.id, CROSS_TENANT_DEFAULT)
    if row is not None:
        db.delete(row)
        db.flush()
    audit.record(db, tenant_id=tenant.id, actor=actor, activity="Reset cross-tenant access default",
                 target_type="policy")


def list_cross_tenant_partners(db: Session, tenant: Tenant) -> list[PartnerConfiguration]:
    rows = db.scalars(scoped(PolicyDocument, tenant.id).where(PolicyDocument.kind == CROSS_TENANT_PARTNER)
                      .order_by(PolicyDocument.key))
    default = cross_tenant_default(db, tenant)
    return [PartnerConfiguration.from_graph(row.document, default=default) for row in rows]


def get_cross_tenant_partner(db: Session, tenant: Tenant, partner_tenant_id: str) -> PartnerConfiguration:
    partner = cross_tenant_partner(db, tenant, partner_tenant_id)
    if partner is None:
        raise NotFound(f"no partner configuration for {partner_tenant_id!r}", field="tenantId")
    return partner


def create_cross_tenant_partner(db: Session, tenant: Tenant, document: object, *, roles: Iterable[str] | None,
                                actor: str) -> PartnerConfiguration:
    _authorise(roles)
    partner = PartnerConfiguration.from_graph(document, default=cross_tenant_default(db, tenant))
    if _document(db, tenant.id, CROSS_TENANT_PARTNER, partner.tenant_id) is not None:
        raise Conflict(f"a partner configuration for {partner.tenant_id!r} already exists", field="tenantId")
    _store(db, tenant, CROSS_TENANT_PARTNER, partner.to_graph(), actor=actor, key=partner.tenant_id)
    return partner


def update_cross_tenant_partner(db: Session, tenant: Tenant, partner_tenant_id: str, patch: object, *,
                                roles: Iterable[str] | None, actor: str) -> PartnerConfiguration:
    _authorise(roles)
    current = get_cross_tenant_partner(db, tenant, partner_tenant_id)
    updated = PartnerConfiguration.from_graph(patch, default=cross_tenant_default(db, tenant), base=current)
    _store(db, tenant, CROSS_TENANT_PARTNER, updated.to_graph(), actor=actor, key=partner_tenant_id)
    return updated


def delete_cross_tenant_partner(db: Session, tenant: Tenant, partner_tenant_id: str, *,
                                roles: Iterable[str] | None, actor: str) -> None:
    _authorise(roles)
    partner = get_cross_tenant_partner(db, tenant, partner_tenant_id)
    may_delete_partner(partner).raise_if_denied()
    row = _document(db, tenant.id, CROSS_TENANT_PARTNER, partner_tenant_id)
    db.delete(row)
    db.flush()
    audit.record(db, tenant_id=tenant.id, actor=actor, activity="Delete cross-tenant access partner",
                 target_type="policy", details={"tenantId": partner_tenant_id})


# -- conditional access policies (§8) ---------------------------------------------------------------------------
def _ca_authorise(roles: Iterable[str] | None) -> None:
    if roles is not None:
        may_change("conditionalAccessPolicies", roles).raise_if_denied()


def _ca_graph(row: PolicyDocument) -> dict:
    created = row.document.get("createdDateTime")
    return row.document | {"createdDateTime": created,
                           "modifiedDateTime": row.modified_at.isoformat().replace("+00:00", "Z")}


def conditional_access_policies(db: Session, tenant: Tenant) -> list[ConditionalAccessPolicy]:
    """Every stored policy, enabled, disabled and report-only, for the sign-in decision."""
    rows = db.scalars(scoped(PolicyDocument, tenant.id).where(PolicyDocument.kind == CONDITIONAL_ACCESS)
                      .order_by(PolicyDocument.key))
    return [ConditionalAccessPolicy.from_graph(_strip(row.document), id=row.key) for row in rows]


def _strip(document: dict) -> dict:
    return {k: v for k, v in document.items() if k not in ("createdDateTime", "modifiedDateTime")}


def list_conditional_access(db: Session, tenant: Tenant) -> list[dict]:
    rows = db.scalars(scoped(PolicyDocument, tenant.id).where(PolicyDocument.kind == CONDITIONAL_ACCESS)
                      .order_by(PolicyDocument.key))
    return [_ca_graph(row) for row in rows]


def _ca_row(db: Session, tenant: Tenant, policy_id: str) -> PolicyDocument:
    row = _document(db, tenant.id, CONDITIONAL_ACCESS, policy_id)
    if row is None:
        raise NotFound(f"no conditional access policy {policy_id!r}", field="id")
    return row


def get_conditional_access(db: Session, tenant: Tenant, policy_id: str) -> dict:
    return _ca_graph(_ca_row(db, tenant, policy_id))


def create_conditional_access(db: Session, tenant: Tenant, document: object, *, roles: Iterable[str] | None,
                              actor: str, now_iso: str) -> dict:
    _ca_authorise(roles)
    policy = ConditionalAccessPolicy.from_graph(document, id=new_id())
    _store(db, tenant, CONDITIONAL_ACCESS, policy.to_graph() | {"createdDateTime": now_iso}, actor=actor,
           key=policy.id)
    return get_conditional_access(db, tenant, policy.id)


def update_conditional_access(db: Session, tenant: Tenant, policy_id: str, patch: object, *,
                              roles: Iterable[str] | None, actor: str) -> None:
    _ca_authorise(roles)
    row = _ca_row(db, tenant, policy_id)
    current = ConditionalAccessPolicy.from_graph(_strip(row.document), id=policy_id)
    updated = ConditionalAccessPolicy.from_graph(patch, base=current)
    _store(db, tenant, CONDITIONAL_ACCESS, updated.to_graph() | {"createdDateTime": row.document.get(
        "createdDateTime")}, actor=actor, key=policy_id)


def delete_conditional_access(db: Session, tenant: Tenant, policy_id: str, *, roles: Iterable[str] | None,
                              actor: str) -> None:
    _ca_authorise(roles)
    db.delete(_ca_row(db, tenant, policy_id))
    db.flush()
    audit.record(db, tenant_id=tenant.id, actor=actor, activity="Delete conditional access policy",
                 target_type="policy", details={"id": policy_id})
