"""OpenID Connect provider state: authorization codes, refresh tokens, revoked access tokens, SSO sessions,
the relying parties each session signed in to, and remembered consent.

Codes, refresh tokens and session cookies are stored only as SHA-256 digests of 256-bit random values.
Every row that can expire carries ``expires_at``; :func:`idp.oidc.store.is_expired` is the one place that
reads it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, ForeignKeyConstraint, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import Base, new_id, utcnow


def _app_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["tenant_id", "application_id"], ["applications.tenant_id", "applications.id"], ondelete="CASCADE"
    )


def _user_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE")


class SsoSession(Base):
    """A browser's sign-in at one tenant; its id is the ``sid`` claim, its cookie secret is stored hashed."""

    __tablename__ = "sso_sessions"
    __table_args__ = (UniqueConstraint("token_hash"), _user_fk(), Index("ix_sso_sessions_user", "user_id"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("tenants.id", ondelete="CASCADE"), index=True, nullable=False
    )
    user_id: Mapped[str] = mapped_column(String(36), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(80), nullable=False)
    auth_time: Mapped[int] = mapped_column(Integer, nullable=False)
    amr: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    idp: Mapped[str | None] = mapped_column(String(512))  # a guest's home identity issuer (ID token ``idp``)
    # The level the sign-in reached (idp.policy.acr), decided when the session starts: an upstream's ``mfa`` in
    # ``amr`` counts only when inbound trust accepts it, so ``acr`` cannot be derived from ``amr`` later.
    acr: Mapped[str] = mapped_column(String(8), nullable=False, default="1", server_default="1")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column()


class SsoSessionClient(Base):
    """A relying party that received tokens within an SSO session (for back-channel logout)."""

    __tablename__ = "sso_session_clients"
    __table_args__ = (_app_fk(),)

    session_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("sso_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    application_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36), index=True, nullable=False)


class AuthorizationCode(Base):
    __tablename__ = "authorization_codes"
    __table_args__ = (
        UniqueConstraint("code_hash"), _app_fk(), _user_fk(), Index("ix_authorization_codes_user", "user_id"),
        Index("ix_authorization_codes_app_nonce", "application_id", "nonce"),  # nonce replay check
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(36), index=True, nullable=False)
    application_id: Mapped[str] = mapped_column(String(36), nullable=False)
    user_id: Mapped[str] = mapped_column(String(36), nullable=False)
    code_hash: Mapped[str] = mapped_column(String(80), nullable=False)
    redirect_uri: Mapped[str] = mapped_column(String(2048), nullable=False)
    scope: Mapped[str] = mapped_column(String(2048), nullable=False, default="")
    nonce: Mapped[str | None] = mapped_column(String(512))
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(16))
    auth_time: Mapped[int] = mapped_column(Integer, nullable=False)
    acr: Mapped[str | None] = mapped_column(String(256))
    amr: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    sid: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(nullable=False)
    used_at: Mapped[datetime | None] = mapped_column()
    # what the code produced, so a replay can revoke it (RFC 6749 §4.1.2)
    access_token_jti: Mapped[str | None] = mapped_column(String(64))
    refresh_family_id: Mapped[str | None] = mapped_column(String(36))


class RefreshToken(Base):
    """One refresh token of a rotation family; presenting a rotated one revokes the whole family."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (UniqueConstraint("token_hash"), _app_fk(), _user_fk(),
                      Index("ix_refresh_tokens_family", "family_id"), Index("ix_refresh_tokens_user", "user_id"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(36), index=True, nullable=False)
    application_id: Mapped[str] = mapped_column(String(36), nullable=False)
    user_id: Mapped[str] = mapped_column(String(36), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(80), nullable=False)
    family_id: Mapped[str] = mapped_column(String(36), nullable=False)
    scope: Mapped[str] = mapped_column(String(2048), nullable=False, default="")
    sid: Mapped[str | None] = mapped_column(String(36))
    auth_time: Mapped[int] = mapped_column(Integer, nullable=False)
    amr: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    access_token_jti: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(nullable=False)
    rotated_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()


class RevokedAccessToken(Base):
    """A JWT access token revoked before its expiry; kept until then (checked via ``is_revoked``)."""

    __tablename__ = "revoked_access_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("tenants.id", ondelete="CASCADE"), index=True, nullable=False
    )
    expires_at: Mapped[datetime] = mapped_column(nullable=False)
    revoked_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)


class ConsentGrant(Base):
    """Scopes a user agreed to share with an application; revocable from the consents page."""

    __tablename__ = "consent_grants"
    __table_args__ = (UniqueConstraint("user_id", "application_id"), _app_fk(), _user_fk())

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(36), index=True, nullable=False)
    application_id: Mapped[str] = mapped_column(String(36), nullable=False)
    user_id: Mapped[str] = mapped_column(String(36), nullable=False)
    scopes: Mapped[list[Any]] = mapped_column(JSON, nullable=False, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    modified_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, nullable=False)


class UsedClientAssertion(Base):
    """A ``private_key_jwt`` assertion already presented (its ``jti``), refused again until it expires."""

    __tablename__ = "used_client_assertions"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)  # digest of client_id + jti
    tenant_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("tenants.id", ondelete="CASCADE"), index=True, nullable=False
    )
    expires_at: Mapped[datetime] = mapped_column(nullable=False)
