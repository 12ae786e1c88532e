"""Applications (OAuth clients) of a tenant, their secrets, owners and user/group assignments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.db import Base, new_id, utcnow

TOKEN_ENDPOINT_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")


class Application(Base):
    __tablename__ = "applications"
    __table_args__ = (
        UniqueConstraint("client_id"),
        UniqueConstraint("tenant_id", "id"),
        CheckConstraint(
            "token_endpoint_auth_method IN "
            "('client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none')",
            name="token_endpoint_auth_method",
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("tenants.id", ondelete="CASCADE"), index=True, nullable=False
    )
    client_id: Mapped[str] = mapped_column(String(64), nullable=False)
    display_name: Mapped[str] = mapped_column(String(256), nullable=False)
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    grant_types: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    response_types: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    scopes: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    token_endpoint_auth_method: Mapped[str] = mapped_column(
        String(32), nullable=False, default="client_secret_basic"
    )
    is_public: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    is_first_party: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    assignment_required: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    access_token_audience: Mapped[str | None] = mapped_column(String(2048))
    id_token_signed_response_alg: Mapped[str] = mapped_column(String(16), nullable=False, default="RS256")
    # RFC 9068 requires resource servers to support RS256, the default; ES256 signs ~25x faster (Keycloak's
    # per-client "access token signature algorithm")
    access_token_signed_response_alg: Mapped[str] = mapped_column(
        String(16), nullable=False, default="RS256", server_default="RS256"
    )
    jwks_uri: Mapped[str | None] = mapped_column(String(2048))
    jwks: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    backchannel_logout_uri: Mapped[str | None] = mapped_column(String(2048))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    modified_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    secrets: Mapped[list[ApplicationSecret]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="ApplicationSecret.created_at"
    )
    owners: Mapped[list[ApplicationOwner]] = relationship(
        back_populates="application", cascade="all, delete-orphan"
    )


class ApplicationSecret(Base):
    """A client secret, stored only as a hash; ``hint`` is its first characters for recognition."""

    __tablename__ = "application_secrets"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    application_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("applications.id", ondelete="CASCADE"), index=True, nullable=False
    )
    secret_hash: Mapped[str] = mapped_column(String(128), nullable=False)
    hint: Mapped[str] = mapped_column(String(8), nullable=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    expires_at: Mapped[datetime | None] = mapped_column()

    application: Mapped[Application] = relationship(back_populates="secrets")


class ApplicationOwner(Base):
    __tablename__ = "application_owners"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "application_id"], ["applications.tenant_id", "applications.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"),
        Index("ix_application_owners_user", "user_id"),
    )

    tenant_id: Mapped[str] = mapped_column(String(36), nullable=False)
    application_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)

    application: Mapped[Application] = relationship(back_populates="owners")


class AppAssignment(Base):
    """Grants a user or a group access to an application (checked when assignment is required)."""

    __tablename__ = "app_assignments"
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (group_id IS NULL)", name="exactly_one_principal"),
        UniqueConstraint("application_id", "user_id", "group_id"),
        ForeignKeyConstraint(
            ["tenant_id", "application_id"], ["applications.tenant_id", "applications.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "group_id"], ["groups.tenant_id", "groups.id"], ondelete="CASCADE"),
        Index("ix_app_assignments_user", "user_id"),
        Index("ix_app_assignments_group", "group_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(36), index=True, nullable=False)
    application_id: Mapped[str] = mapped_column(String(36), nullable=False)
    user_id: Mapped[str | None] = mapped_column(String(36))
    group_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
