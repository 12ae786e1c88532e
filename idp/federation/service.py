"""Managing a tenant's upstream identity providers: validated writes, encrypted client secrets, lookups."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from idp import audit
from idp.config import ConfigError, check_url_allowed
from idp.db import new_id, scoped
from idp.directory.tenants import validate_domain
from idp.errors import Conflict, NotFound, ValidationError
from idp.federation.presets import GOOGLE_DOMAINS, MAPPABLE_CLAIMS, PRESETS, Preset
from idp.models import IdentityProvider, IdentityProviderDomain, Tenant
from idp.secretbox import SecretBox

SECRET_PURPOSE = "identity-provider-client-secret"
MASKED_SECRET = "****"


@dataclass(frozen=True)
class ProviderInput:
    """What an administrator supplies (CLI flags or, later, the JSON API body)."""

    type: str
    client_id: str
    client_secret: str
    name: str | None = None
    issuer: str | None = None
    domains: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    claim_mapping: Mapping[str, str] = field(default_factory=dict)
    authorization_endpoint: str | None = None
    token_endpoint: str | None = None
    userinfo_endpoint: str | None = None


def preset_of(provider: IdentityProvider) -> Preset:
    return PRESETS[provider.type]


def identity_issuer(provider: IdentityProvider) -> str:
    """The ``issuer`` written to a guest's ``{federated, issuer, sub}`` identity after signing in here."""
    preset = preset_of(provider)
    if preset.identity_issuer:
        return preset.identity_issuer
    if provider.issuer:
        return provider.issuer
    parts = urlsplit(provider.authorization_endpoint or "")
    return f"{parts.scheme}://{parts.netloc}"


def _url(value: str | None, what: str, *, production: bool) -> str | None:
    if value is None or not value.strip():
        return None
    try:
        return check_url_allowed(value.strip(), "production" if production else "development", what)
    except ConfigError as exc:
        raise ValidationError(str(exc), field=what) from None


def _scopes(given: Iterable[str], preset: Preset) -> list[str]:
    scopes: list[str] = []
    for item in given:
        for scope in item.split():
            if not scope.isprintable() or '"' in scope or "\\" in scope:
                raise ValidationError(f"{scope!r} is not a valid OAuth scope", field="scope")
            if scope not in scopes:
                scopes.append(scope)
    if not scopes:
        return list(preset.scopes)
    if preset.protocol == "oidc" and "openid" not in scopes:
        raise ValidationError(f"an OpenID Connect provider ({preset.type}) needs the 'openid' scope", field="scope")
    return scopes


def _mapping(given: Mapping[str, str], preset: Preset) -> dict[str, str]:
    mapping = dict(preset.claim_mapping)
    for claim, source in given.items():
        if claim not in MAPPABLE_CLAIMS:
            raise ValidationError(
                f"cannot map claim {claim!r}; mappable claims are {', '.join(sorted(MAPPABLE_CLAIMS))}",
                field="claim",
            )
        source = (source or "").strip()
        if not source or any(c.isspace() for c in source):
            raise ValidationError(f"claim {claim!r} needs an upstream claim name to map from", field="claim")
        mapping[claim] = source
    if "sub" not in mapping:
        raise ValidationError("the claim mapping must say where 'sub' comes from", field="claim")
    return mapping


def _domains(db: Session, tenant: Tenant, given: Iterable[str], preset: Preset) -> list[str]:
    domains: list[str] = []
    for raw in given:
        if "*" in raw:
            raise ValidationError(f"{raw!r}: domains match exactly; list each subdomain explicitly", field="domain")
        domain = validate_domain(raw)
        if domain not in domains:
            domains.append(domain)
    if domains and not preset.accepts_domains:
        note = f" ({preset.type} always routes {', '.join(preset.fixed_domains)})" if preset.fixed_domains else ""
        raise ValidationError(f"a {preset.type} provider takes no --domain{note}", field="domain")
    for domain in domains:
        if domain in GOOGLE_DOMAINS:
            raise ValidationError(f"{domain} is routed to the Google provider; add a google provider", field="domain")
        if domain in {d.name for d in tenant.domains}:
            raise ValidationError(f"{domain} is a domain of this tenant; its users are members", field="domain")
    taken = db.execute(
        scoped(IdentityProviderDomain, tenant.id)
        .where(IdentityProviderDomain.domain.in_(domains))
        .with_only_columns(IdentityProviderDomain.domain, IdentityProviderDomain.provider_id)
    ).first()
    if taken is not None:
        other = db.get(IdentityProvider, taken.provider_id)
        raise Conflict(f"domain {taken.domain} already routes to identity provider "
                       f"{other.name if other else taken.provider_id}", field="domain")
    return domains


def add_provider(
    db: Session, tenant: Tenant, data: ProviderInput, *, secret_key: str, production: bool = False,
    actor: str = "system",
) -> IdentityProvider:
    """Validate everything, then write the provider, its domains and an audit event (caller's transaction)."""
    preset = PRESETS.get(data.type)
    if preset is None:
        raise ValidationError(f"unknown provider type {data.type!r}; use one of {', '.join(PRESETS)}", field="type")
    name = " ".join((data.name or preset.default_name or "").split())
    if not name:
        raise ValidationError(f"a {data.type} provider needs a --name", field="name")
    client_id = (data.client_id or "").strip()
    if not client_id:
        raise ValidationError("--client-id is required", field="client_id")
    if not data.client_secret:
        raise ValidationError("--client-secret is required", field="client_secret")
    issuer = _url(data.issuer, "issuer", production=production)
    if preset.issuer:
        if issuer and issuer.rstrip("/") != preset.issuer:
            raise ValidationError(f"the {data.type} issuer is fixed to {preset.issuer}", field="issuer")
        issuer = preset.issuer
    elif preset.protocol == "oidc" and not issuer:
        raise ValidationError(f"a {data.type} provider needs --issuer (its discovery base URL)", field="issuer")
    endpoints = {
        "authorization_endpoint": _url(data.authorization_endpoint, "authorization-url", production=production),
        "token_endpoint": _url(data.token_endpoint, "token-url", production=production),
        "userinfo_endpoint": _url(data.userinfo_endpoint, "userinfo-url", production=production),
    }
    if preset.protocol == "oidc" and any(endpoints.values()):
        raise ValidationError(f"a {data.type} provider finds its endpoints by discovery; drop the endpoint URLs",
                              field="authorization-url")
    if preset.type == "oauth2":
        missing = [k.split("_")[0] for k, v in endpoints.items() if not v]
        if missing:
            raise ValidationError(f"an oauth2 provider needs --{missing[0]}-url", field=f"{missing[0]}-url")
    elif preset.protocol == "oauth2":
        if any(endpoints.values()):
            raise ValidationError(f"the {data.type} endpoints are fixed", field="authorization-url")
        endpoints = {"authorization_endpoint": preset.authorization_endpoint,
                     "token_endpoint": preset.token_endpoint, "userinfo_endpoint": preset.userinfo_endpoint}
    scopes = _scopes(data.scopes, preset)
    mapping = _mapping(data.claim_mapping, preset)
    domains = _domains(db, tenant, data.domains, preset)
    existing = scoped(IdentityProvider, tenant.id)
    if db.scalar(existing.where(IdentityProvider.name == name)) is not None:
        raise Conflict(f"tenant {tenant.slug!r} already has an identity provider named {name!r}", field="name")
    if preset.singleton and db.scalar(existing.where(IdentityProvider.type == preset.type)) is not None:
        raise Conflict(f"tenant {tenant.slug!r} already has a {preset.type} provider", field="type")

    provider = IdentityProvider(id=new_id(), tenant_id=tenant.id, type=preset.type, name=name, issuer=issuer,
                                client_id=client_id, scopes=scopes, claim_mapping=mapping, **endpoints)
    provider.client_secret_encrypted = _box(secret_key).seal(data.client_secret, context=_secret_context(provider))
    provider.domains = [IdentityProviderDomain(tenant_id=tenant.id, domain=d) for d in domains]
    db.add(provider)
    db.flush()
    audit.record(db, tenant_id=tenant.id, actor=actor, activity="Add identity provider",
                 target_type="identityProvider", target_id=provider.id,
                 details={"type": provider.type, "name": name, "domains": domains})
    return provider


def _box(secret_key: str) -> SecretBox:
    return SecretBox(secret_key, SECRET_PURPOSE)


def _secret_context(provider: IdentityProvider) -> str:
    return f"{provider.tenant_id}/{provider.id}"


def client_secret(provider: IdentityProvider, *, secret_key: str) -> str:
    """Decrypt the client secret; call this only right before a token request."""
    if provider.client_secret_encrypted is None:
        raise NotFound(f"identity provider {provider.name!r} has no client secret", field="client_secret")
    return _box(secret_key).open(provider.client_secret_encrypted, context=_secret_context(provider))


def list_providers(db: Session, tenant: Tenant) -> list[IdentityProvider]:
    return list(db.scalars(scoped(IdentityProvider, tenant.id).order_by(IdentityProvider.name)))


def get_provider(db: Session, tenant: Tenant, ref: str) -> IdentityProvider:
    """By id or by name."""
    stmt = scoped(IdentityProvider, tenant.id)
    provider = db.scalar(stmt.where(IdentityProvider.id == ref)) or db.scalar(stmt.where(IdentityProvider.name == ref))
    if provider is None:
        raise NotFound(f"no identity provider {ref!r} in tenant {tenant.slug!r}", field="name")
    return provider


def remove_provider(db: Session, tenant: Tenant, ref: str, *, actor: str = "system") -> IdentityProvider:
    """Delete a provider. Guests bound to it can no longer sign in until their redemption is reset (§2.3)."""
    provider = get_provider(db, tenant, ref)
    db.delete(provider)
    db.flush()
    audit.record(db, tenant_id=tenant.id, actor=actor, activity="Delete identity provider",
                 target_type="identityProvider", target_id=provider.id,
                 details={"type": provider.type, "name": provider.name})
    return provider


def provider_dict(provider: IdentityProvider) -> dict[str, Any]:
    """The public shape (CLI --json, JSON API): the client secret is write-only."""
    preset = preset_of(provider)
    return {
        "id": provider.id,
        "type": provider.type,
        "name": provider.name,
        "issuer": provider.issuer,
        "identityIssuer": identity_issuer(provider),
        "clientId": provider.client_id,
        "clientSecret": MASKED_SECRET,
        "scopes": list(provider.scopes),
        "claimMapping": dict(provider.claim_mapping),
        "authorizationEndpoint": provider.authorization_endpoint,
        "tokenEndpoint": provider.token_endpoint,
        "userinfoEndpoint": provider.userinfo_endpoint,
        "domains": list(preset.fixed_domains) or provider.domain_names,
        "routing": preset.routing.value,
        "usedForRedemption": preset.used_for_redemption,
    }


def find_provider_for_domain(db: Session, tenant: Tenant, domain: str) -> IdentityProvider | None:
    row = db.scalar(
        scoped(IdentityProviderDomain, tenant.id).where(IdentityProviderDomain.domain == domain.strip().lower())
    )
    return row.provider if row else None
