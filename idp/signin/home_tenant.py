"""Cross-tenant sign-in inside one deployment as ordinary OIDC federation (no Flask).

A member of tenant B invited into tenant A signs in *at B*: A federates to B's issuer exactly as it federates to a
partner Portico deployment or any OIDC provider (``idp.federation.client.UpstreamClient``), so both cases share
one code path. What a partner deployment's administrator sets up by hand is set up here automatically, once per
(resource tenant, home tenant) pair:

* the **federation client** — an ordinary confidential, first-party application *in the home tenant B* named
  ``Portico federation: <A>``, whose only redirect URI is ``{A's issuer}/signin/callback`` (scopes
  ``openid profile email``); it is tenant-scoped, shows in B's application list and can be deleted there;
* an ``oidc`` identity provider *in the resource tenant A* named ``<B> (home organization)`` with B's issuer and
  that client's id and secret (encrypted at rest like every upstream secret) and no routing domains (home-realm
  discovery reaches it through the ``azureActiveDirectory`` step, and afterwards through the bound identity).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from idp.db import scoped
from idp.directory import applications
from idp.directory.tenants import find_tenant
from idp.federation import service as federation
from idp.models import IdentityProvider, Tenant

SCOPES = ["openid", "profile", "email"]


def federation_client_name(resource: Tenant) -> str:
    return f"Portico federation: {resource.display_name}"


def tenant_of_issuer(db: Session, issuer: str, *, issuer_for: Callable[[str], str]) -> Tenant | None:
    """The tenant of this deployment whose issuer is ``issuer`` (``None`` for any other issuer)."""
    slug = issuer.rstrip("/").rsplit("/", 1)[-1]
    tenant = find_tenant(db, slug)
    return tenant if tenant is not None and issuer_for(tenant.slug) == issuer.rstrip("/") else None


def federation_provider(db: Session, resource: Tenant, home: Tenant, *, issuer_for: Callable[[str], str],
                        secret_key: str, production: bool = False) -> IdentityProvider:
    """The identity provider in ``resource`` that federates to ``home`` (created with its client on first use)."""
    home_issuer = issuer_for(home.slug)
    existing = db.scalar(scoped(IdentityProvider, resource.id).where(IdentityProvider.issuer == home_issuer))
    if existing is not None:
        return existing
    created = applications.create_application(
        db, home, name=federation_client_name(resource),
        redirect_uris=[f"{issuer_for(resource.slug)}/signin/callback"],
        grant_types=["authorization_code"], scopes=SCOPES, public=False, first_party=True,
    )
    assert created.client_secret is not None
    return federation.add_provider(
        db, resource,
        federation.ProviderInput(type="oidc", name=f"{home.display_name} (home organization)", issuer=home_issuer,
                                 client_id=created.application.client_id, client_secret=created.client_secret,
                                 scopes=tuple(SCOPES)),
        secret_key=secret_key, production=production, actor="federation",
    )
