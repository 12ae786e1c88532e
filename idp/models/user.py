"""Users of a tenant's directory: members and guests (b2b-collaboration.md §3)."""

from __future__ import annotations

from datetime import datetime

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
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from idp.db import FIRST_VERSION, Base, fold_case, new_id, utcnow, weak_etag

USER_TYPES = ("Member", "Guest")
CREATION_TYPES = ("Invitation", "SelfServiceSignUp", "LocalAccount", "EmailVerified")
EXTERNAL_USER_STATES = ("PendingAcceptance", "Accepted")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_principal_name"),
        UniqueConstraint("tenant_id", "user_principal_name_normalized"),
        UniqueConstraint("tenant_id", "id"),
        Index("ix_users_tenant_mail", "tenant_id", "mail_normalized"),
        Index("ix_users_tenant_external_id", "tenant_id", "external_id"),
        Index("ix_users_tenant_display_name_normalized", "tenant_id", "display_name_normalized"),
        Index("ix_users_tenant_modified_at", "tenant_id", "modified_at"),
        Index("ix_users_tenant_created_at", "tenant_id", "created_at", "id"),  # SCIM's default order (keyset pages)
        CheckConstraint("user_type IN ('Member', 'Guest')", name="user_type"),
        CheckConstraint(
            "external_user_state IS NULL OR external_user_state IN ('PendingAcceptance', 'Accepted')",
            name="external_user_state",
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    # Not indexed alone: every index below starts with it (migration 0018 dropped the duplicate).
    tenant_id: Mapped[str] = mapped_column(String(36), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False)
    user_principal_name: Mapped[str] = mapped_column(String(1024), nullable=False)
    # Case-folded UPN (guest UPNs keep their upper-case ``#EXT#``): case-insensitive lookups and uniqueness.
    user_principal_name_normalized: Mapped[str | None] = mapped_column(String(1024))
    mail: Mapped[str | None] = mapped_column(String(320))
    mail_normalized: Mapped[str | None] = mapped_column(String(320))
    display_name: Mapped[str | None] = mapped_column(String(256))
    display_name_normalized: Mapped[str | None] = mapped_column(String(256))
    given_name: Mapped[str | None] = mapped_column(String(64))
    surname: Mapped[str | None] = mapped_column(String(64))
    user_type: Mapped[str] = mapped_column(String(16), nullable=False, default="Member")
    account_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # Graph's showInAddressList: whether address lists (people pickers of the apps that sync the directory) show
    # the user. None = not set, which means shown; invited guests start hidden (b2b-collaboration.md §3.1).
    show_in_address_list: Mapped[bool | None] = mapped_column(Boolean)
    creation_type: Mapped[str | None] = mapped_column(String(32))
    external_user_state: Mapped[str | None] = mapped_column(String(32))
    external_user_state_change_at: Mapped[datetime | None] = mapped_column()
    external_id: Mapped[str | None] = mapped_column(String(256))
    password_hash: Mapped[str | None] = mapped_column(String(256))
    title: Mapped[str | None] = mapped_column(String(256))
    nick_name: Mapped[str | None] = mapped_column(String(256))
    employee_number: Mapped[str | None] = mapped_column(String(64))
    # Provisioning attributes Portico keeps but does not interpret (phone numbers, addresses, department...):
    # returned as they were written, not filterable (scim/README.md).
    profile_attributes: Mapped[dict | None] = mapped_column(JSON)
    invited_by_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=FIRST_VERSION)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    modified_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    other_mails: Mapped[list[UserOtherMail]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="UserOtherMail.position"
    )
    identities: Mapped[list[UserIdentity]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="UserIdentity.created_at"
    )
    sponsors: Mapped[list[UserSponsor]] = relationship(
        back_populates="user", cascade="all, delete-orphan", foreign_keys="UserSponsor.user_id"
    )

    @validates("display_name")
    def _fold_display_name(self, _key: str, value: str | None) -> str | None:
        self.display_name_normalized = fold_case(value)
        return value

    @validates("user_principal_name")
    def _fold_user_principal_name(self, _key: str, value: str) -> str:
        self.user_principal_name_normalized = fold_case(value)
        return value

    @property
    def is_guest(self) -> bool:
        return self.user_type == "Guest"

    @property
    def other_mail_addresses(self) -> list[str]:
        return [m.address for m in self.other_mails]

    @property
    def etag(self) -> str:
        return weak_etag(self.version)


class UserOtherMail(Base):
    """One entry of ``otherMails``; a table (not a JSON list) so email lookups use an index."""

    __tablename__ = "user_other_mails"
    __table_args__ = (
        UniqueConstraint("user_id", "address_normalized"),
        Index("ix_user_other_mails_tenant_address", "tenant_id", "address_normalized"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(36), nullable=False)
    # Indexed by uq_user_other_mails_user_id_address_normalized, which starts with it.
    user_id: Mapped[str] = mapped_column(String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    address: Mapped[str] = mapped_column(String(320), nullable=False)
    address_normalized: Mapped[str] = mapped_column(String(320), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    type: Mapped[str | None] = mapped_column(String(32))
    display: Mapped[str | None] = mapped_column(String(256))
    is_primary: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    user: Mapped[User] = relationship(back_populates="other_mails")


class UserIdentity(Base):
    """An ``objectIdentity`` (§3.3); ``issuer`` + ``issuerAssignedId`` is unique inside a tenant."""

    __tablename__ = "user_identities"
    __table_args__ = (
        UniqueConstraint("tenant_id", "issuer", "issuer_assigned_id"),
        Index("ix_user_identities_tenant_assigned_id", "tenant_id", "issuer_assigned_id_normalized"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(36), nullable=False)
    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=False
    )
    sign_in_type: Mapped[str] = mapped_column(String(64), nullable=False)
    issuer: Mapped[str] = mapped_column(String(512), nullable=False)
    issuer_assigned_id: Mapped[str | None] = mapped_column(String(1024))
    issuer_assigned_id_normalized: Mapped[str | None] = mapped_column(String(1024))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    user: Mapped[User] = relationship(back_populates="identities")

    def as_dict(self) -> dict[str, str | None]:
        return {
            "signInType": self.sign_in_type,
            "issuer": self.issuer,
            "issuerAssignedId": self.issuer_assigned_id,
        }


class UserSponsor(Base):
    """A sponsor of a user: another user or a group of the same tenant (at most five per user)."""

    __tablename__ = "user_sponsors"
    __table_args__ = (
        CheckConstraint(
            "(sponsor_user_id IS NULL) <> (sponsor_group_id IS NULL)", name="exactly_one_sponsor"
        ),
        UniqueConstraint("user_id", "sponsor_user_id", "sponsor_group_id"),
        ForeignKeyConstraint(
            ["tenant_id", "sponsor_user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(36), nullable=False)
    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=False
    )
    sponsor_user_id: Mapped[str | None] = mapped_column(String(36), index=True)
    sponsor_group_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("groups.id", ondelete="CASCADE"), index=True
    )

    user: Mapped[User] = relationship(back_populates="sponsors", foreign_keys=[user_id])
