"""Members and guests of a tenant's directory: creation, UPNs, identities and email lookups."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_
from sqlalchemy.orm import Session

from idp import audit
from idp.db import scoped, utcnow
from idp.directory.emails import normalize_email, validate_address, validate_invitable_address
from idp.directory.passwords import hash_password
from idp.directory.upn import first_free_guest_upn
from idp.errors import Conflict, NotFound, ValidationError
from idp.models import Group, Tenant, User, UserIdentity, UserOtherMail, UserSponsor

MAX_SPONSORS = 5


def _upn_taken(db: Session, tenant_id: str, upn: str) -> bool:
    stmt = scoped(User, tenant_id).where(User.user_principal_name == upn).with_only_columns(User.id)
    return db.scalar(stmt) is not None


def get_user(db: Session, tenant: Tenant, user_id: str) -> User:
    user = db.scalar(scoped(User, tenant.id).where(User.id == user_id))
    if user is None:
        raise NotFound(f"no user {user_id!r} in tenant {tenant.slug!r}", field="user")
    return user


def get_users(db: Session, tenant: Tenant, user_ids: Iterable[str]) -> dict[str, User]:
    """Several users of the tenant by id, in one query."""
    ids = list(user_ids)
    if not ids:
        return {}
    return {u.id: u for u in db.scalars(scoped(User, tenant.id).where(User.id.in_(ids)))}


def find_user_by_upn(db: Session, tenant: Tenant, upn: str) -> User | None:
    return db.scalar(scoped(User, tenant.id).where(User.user_principal_name == upn.strip().lower()))


def find_users_by_email(db: Session, tenant: Tenant, email: str) -> list[User]:
    """Everyone in the tenant known by ``email``: as ``mail``, in ``otherMails``, as UPN or as an identity."""
    address = normalize_email(email)
    in_other_mails = (
        scoped(UserOtherMail, tenant.id)
        .where(UserOtherMail.address_normalized == address)
        .with_only_columns(UserOtherMail.user_id)
    )
    in_identities = (
        scoped(UserIdentity, tenant.id)
        .where(UserIdentity.issuer_assigned_id_normalized == address)
        .with_only_columns(UserIdentity.user_id)
    )
    stmt = (
        scoped(User, tenant.id)
        .where(
            or_(
                User.mail_normalized == address,
                User.user_principal_name == address,
                User.id.in_(in_other_mails),
                User.id.in_(in_identities),
            )
        )
        .order_by(User.created_at)
    )
    return list(db.scalars(stmt))


def _set_other_mails(user: User, addresses: Iterable[str]) -> None:
    user.other_mails.clear()
    seen: set[str] = set()
    for address in addresses:
        normalized = normalize_email(address)
        if normalized in seen:
            continue
        seen.add(normalized)
        user.other_mails.append(
            UserOtherMail(
                tenant_id=user.tenant_id, address=address, address_normalized=normalized, position=len(seen)
            )
        )


def add_other_mail(user: User, address: str) -> None:
    """Append an address to ``otherMails`` (no-op when already there)."""
    checked = validate_address(address, field="otherMails")
    normalized = normalize_email(checked)
    if any(m.address_normalized == normalized for m in user.other_mails):
        return
    user.other_mails.append(
        UserOtherMail(tenant_id=user.tenant_id, address=checked, address_normalized=normalized,
                      position=len(user.other_mails) + 1)
    )


def add_identity(
    db: Session, user: User, *, sign_in_type: str, issuer: str, issuer_assigned_id: str | None
) -> UserIdentity:
    """Bind an identity to a user; ``issuer`` + ``issuerAssignedId`` must be free in the tenant (§3.3)."""
    if not issuer or len(issuer) > 512:
        raise ValidationError("an identity issuer needs 1-512 characters", field="issuer")
    if issuer_assigned_id is not None:
        clash = db.scalar(
            scoped(UserIdentity, user.tenant_id)
            .where(UserIdentity.issuer == issuer, UserIdentity.issuer_assigned_id == issuer_assigned_id)
            .with_only_columns(UserIdentity.user_id)
        )
        if clash is not None:
            raise Conflict(f"identity {issuer}/{issuer_assigned_id} is already bound to a user", field="identities")
    normalized = normalize_email(issuer_assigned_id) if issuer_assigned_id else None
    identity = UserIdentity(
        tenant_id=user.tenant_id,
        sign_in_type=sign_in_type,
        issuer=issuer,
        issuer_assigned_id=issuer_assigned_id,
        issuer_assigned_id_normalized=normalized,
    )
    user.identities.append(identity)
    return identity


def create_member(
    db: Session,
    tenant: Tenant,
    email: str,
    *,
    password: str | None = None,
    display_name: str | None = None,
    given_name: str | None = None,
    surname: str | None = None,
    actor: str = "system",
) -> User:
    """A member whose UPN is their address; the address's domain must be one of the tenant's domains."""
    address = validate_address(email)
    normalized = normalize_email(address)
    domain = normalized.rsplit("@", 1)[1]
    if domain not in {d.name for d in tenant.domains if d.is_verified}:
        raise ValidationError(
            f"{domain!r} is not a verified domain of tenant {tenant.slug!r}; "
            f"members use one of: {', '.join(tenant.verified_domains)}",
            field="email",
        )
    if _upn_taken(db, tenant.id, normalized) or find_users_by_email(db, tenant, normalized):
        raise Conflict(f"a user with address {normalized!r} already exists in {tenant.slug!r}", field="email")
    user = User(
        tenant_id=tenant.id,
        user_principal_name=normalized,
        mail=address,
        mail_normalized=normalized,
        display_name=display_name or address.split("@")[0],
        given_name=given_name,
        surname=surname,
        user_type="Member",
        account_enabled=True,
        password_hash=hash_password(password) if password is not None else None,
    )
    db.add(user)
    db.flush()
    add_identity(db, user, sign_in_type="userPrincipalName", issuer=tenant.initial_domain,
                 issuer_assigned_id=user.user_principal_name)
    db.flush()
    audit.record(db, tenant_id=tenant.id, actor=actor, activity="Add user", target_type="user",
                 target_id=user.id, details={"userPrincipalName": user.user_principal_name})
    return user


def create_guest(
    db: Session,
    tenant: Tenant,
    email: str,
    *,
    display_name: str | None = None,
    user_type: str = "Guest",
    creation_type: str = "Invitation",
    sponsors: Iterable[User | Group] = (),
    invited_by: User | None = None,
    actor: str = "system",
) -> User:
    """A guest created before redemption (§1.6): ``PendingAcceptance``, ``#EXT#`` UPN, mail in ``otherMails``."""
    address = validate_invitable_address(email)
    normalized = normalize_email(address)
    if user_type not in ("Guest", "Member"):
        raise ValidationError("userType must be Guest or Member", field="userType")
    existing = find_users_by_email(db, tenant, normalized)
    if existing:
        raise Conflict(
            f"a user with address {normalized!r} already exists in {tenant.slug!r} ({existing[0].id})",
            field="email",
        )
    upn = first_free_guest_upn(normalized, tenant.initial_domain, lambda c: _upn_taken(db, tenant.id, c))
    now = utcnow()
    user = User(
        tenant_id=tenant.id,
        user_principal_name=upn,
        mail=address,
        mail_normalized=normalized,
        display_name=display_name or address.split("@")[0],
        user_type=user_type,
        account_enabled=True,
        creation_type=creation_type,
        external_user_state="PendingAcceptance",
        external_user_state_change_at=now,
        invited_by_id=invited_by.id if invited_by else None,
    )
    db.add(user)
    db.flush()
    _set_other_mails(user, [address])
    add_identity(db, user, sign_in_type="userPrincipalName", issuer=tenant.initial_domain,
                 issuer_assigned_id=upn)
    chosen = list(sponsors) or ([invited_by] if invited_by else [])
    set_sponsors(db, tenant, user, chosen)
    db.flush()
    audit.record(db, tenant_id=tenant.id, actor=actor, activity="Add guest user", target_type="user",
                 target_id=user.id, details={"userPrincipalName": upn})
    return user


def set_sponsors(db: Session, tenant: Tenant, user: User, sponsors: Iterable[User | Group]) -> None:
    chosen = list(sponsors)
    if len(chosen) > MAX_SPONSORS:
        raise ValidationError(f"a user has at most {MAX_SPONSORS} sponsors", field="sponsors")
    for sponsor in chosen:
        if sponsor.tenant_id != tenant.id:
            raise ValidationError("sponsors must belong to the same tenant", field="sponsors")
    user.sponsors.clear()
    db.flush()
    for sponsor in chosen:
        if isinstance(sponsor, Group):
            user.sponsors.append(UserSponsor(tenant_id=tenant.id, sponsor_group_id=sponsor.id))
        else:
            user.sponsors.append(UserSponsor(tenant_id=tenant.id, sponsor_user_id=sponsor.id))


def list_users(db: Session, tenant: Tenant, *, user_type: str | None = None) -> list[User]:
    stmt = scoped(User, tenant.id)
    if user_type:
        stmt = stmt.where(User.user_type == user_type)
    return list(db.scalars(stmt.order_by(User.user_principal_name)))
