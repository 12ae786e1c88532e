"""Upstream identity providers of a tenant (b2b-collaboration.md §9) and their routing domains."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, ForeignKeyConstraint, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.db import Base, new_id, utcnow

PROVIDER_TYPES = ("oidc", "google", "microsoft", "facebook", "oauth2")


class IdentityProvider(Base):
    """One upstream IdP. ``client_secret_encrypted`` is AES-GCM ciphertext bound to this row (see
    :mod:`idp.secretbox`); it is decrypted only when a token request needs it."""

    __tablename__ = "identity_providers"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        UniqueConstraint("tenant_id", "id"),
        CheckConstraint("type IN ('oidc', 'google', 'microsoft', 'facebook', 'oauth2')", name="type"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("tenants.id", ondelete="CASCADE"), index=True, nullable=False
    )
    type: Mapped[str] = mapped_column(String(16), nullable=False)
    name: Mapped[str] = mapped_column(String(256), nullable=False)
    issuer: Mapped[str | None] = mapped_column(String(2048))
    client_id: Mapped[str] = mapped_column(String(512), nullable=False)
    client_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    scopes: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    claim_mapping: Mapped[dict[str, str]] = mapped_column(JSON, nullable=False, default=dict)
    authorization_endpoint: Mapped[str | None] = mapped_column(String(2048))
    token_endpoint: Mapped[str | None] = mapped_column(String(2048))
    userinfo_endpoint: Mapped[str | None] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)

    domains: Mapped[list[IdentityProviderDomain]] = relationship(
        back_populates="provider", cascade="all, delete-orphan", order_by="IdentityProviderDomain.domain"
    )

    @property
    def domain_names(self) -> list[str]:
        return sorted(d.domain for d in self.domains)


class IdentityProviderDomain(Base):
    """An email domain routed to an enterprise IdP; a domain routes to at most one IdP per tenant."""

    __tablename__ = "identity_provider_domains"
    __table_args__ = (
        UniqueConstraint("tenant_id", "domain"),
        ForeignKeyConstraint(
            ["tenant_id", "provider_id"], ["identity_providers.tenant_id", "identity_providers.id"],
            ondelete="CASCADE",
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(36), nullable=False)
    provider_id: Mapped[str] = mapped_column(String(36), index=True, nullable=False)
    domain: Mapped[str] = mapped_column(String(255), nullable=False)

    provider: Mapped[IdentityProvider] = relationship(back_populates="domains")
