"""Creating, finding and listing tenants."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from idp import audit
from idp.db import across_tenants
from idp.errors import Conflict, NotFound, ValidationError
from idp.models import Tenant, TenantDomain
from idp.row_cache import RowCache, watch

watch(Tenant, TenantDomain)

SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,61}[a-z0-9]$")
# First path segments that belong to the deployment, not to a tenant.
RESERVED_SLUGS = frozenset(
    {"admin", "api", "demo", "healthz", "readyz", "static", "assets", "well-known", "oauth", "scim", "login", "logout"}
)
DOMAIN_PATTERN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def validate_slug(slug: str) -> str:
    if not SLUG_PATTERN.match(slug or ""):
        raise ValidationError(
            f"tenant slug {slug!r} must be 2-63 characters of a-z, 0-9 and '-', starting with a letter",
            field="slug",
        )
    if slug in RESERVED_SLUGS:
        raise ValidationError(f"tenant slug {slug!r} is reserved", field="slug")
    return slug


def validate_domain(name: str, *, field: str = "domain") -> str:
    domain = (name or "").strip().lower().rstrip(".")
    if not DOMAIN_PATTERN.match(domain):
        raise ValidationError(f"{name!r} is not a valid DNS domain name", field=field)
    return domain


def create_tenant(
    db: Session,
    slug: str,
    display_name: str,
    *,
    domain_suffix: str,
    initial_domain: str | None = None,
    verified_domains: list[str] | None = None,
    privacy_statement_url: str | None = None,
    privacy_contact_email: str | None = None,
    actor: str = "system",
) -> Tenant:
    slug = validate_slug(slug)
    display_name = (display_name or "").strip()
    if not display_name:
        raise ValidationError("a tenant needs a display name", field="name")
    initial = validate_domain(initial_domain or f"{slug}.{domain_suffix}", field="initial_domain")
    if db.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
        raise Conflict(f"a tenant with slug {slug!r} already exists", field="slug")
    domains = [validate_domain(d) for d in (verified_domains or [])]
    # Domains are unique across the deployment: a deliberate cross-tenant read.
    taken = db.scalars(
        across_tenants(TenantDomain)
        .where(TenantDomain.name.in_([initial, *domains]))
        .with_only_columns(TenantDomain.name)
    ).all()
    if taken:
        raise Conflict(f"domain {taken[0]!r} already belongs to another tenant", field="domain")
    tenant = Tenant(
        slug=slug,
        display_name=display_name,
        initial_domain=initial,
        privacy_statement_url=privacy_statement_url,
        privacy_contact_email=privacy_contact_email,
    )
    tenant.domains.append(TenantDomain(name=initial, is_verified=True, is_initial=True))
    for name in dict.fromkeys(domains):
        if name != initial:
            tenant.domains.append(TenantDomain(name=name, is_verified=True))
    db.add(tenant)
    db.flush()
    audit.record(db, tenant_id=tenant.id, actor=actor, activity="Add tenant", target_type="tenant",
                 target_id=tenant.id, details={"slug": slug})
    return tenant


def find_tenant(db: Session, slug: str) -> Tenant | None:
    return db.scalar(select(Tenant).where(Tenant.slug == slug))


def find_tenant_cached(db: Session, rows: RowCache, slug: str) -> Tenant | None:
    """:func:`find_tenant` through the per-process row cache (the request path: every tenant URL reads it).
    ``domains`` is not cached: the few pages that read it load it (most requests never do)."""
    return rows.get(db, ("tenant", slug), lambda own: find_tenant(own, slug))


def get_tenant(db: Session, slug: str) -> Tenant:
    tenant = find_tenant(db, slug)
    if tenant is None:
        raise NotFound(f"no tenant {slug!r}", field="tenant")
    return tenant


def list_tenants(db: Session) -> list[Tenant]:
    return list(db.scalars(select(Tenant).order_by(Tenant.slug)))
