"""Members and guests of a tenant's directory: creation, UPNs, identities and email lookups."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from idp import audit
from idp.bulk_insert import insert_rows
from idp.db import FIRST_VERSION, fold_case, new_id, scoped, utcnow, without_bitmap_scans
from idp.directory.emails import normalize_email, validate_address, validate_invitable_address
from idp.directory.passwords import hash_password
from idp.directory.upn import first_free_guest_upn
from idp.errors import Conflict, DomainError, NotFound, ValidationError
from idp.models import Group, GroupMember, Tenant, User, UserIdentity, UserOtherMail, UserSponsor

MAX_SPONSORS = 5


def _upn_taken(db: Session, tenant_id: str, upn: str) -> bool:
    stmt = scoped(User, tenant_id).where(User.user_principal_name == upn).with_only_columns(User.id)
    return db.scalar(stmt) is not None


def _upn_taken_folded(db: Session, tenant_id: str, upn: str) -> bool:
    stmt = (scoped(User, tenant_id).where(User.user_principal_name_normalized == fold_case(upn))
            .with_only_columns(User.id))
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
    """Case-insensitive, through the folded column (guest UPNs carry an upper-case ``#EXT#``)."""
    return db.scalar(scoped(User, tenant.id).where(User.user_principal_name_normalized == fold_case(upn.strip())))


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
        show_in_address_list=False,  # §3.1: guests are hidden from address lists until an administrator shows them
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


# -- Provisioning (SCIM) ------------------------------------------------------------------------------------------

MAX_UPN_LENGTH = 1024
PROFILE_FIELDS = (
    "display_name", "given_name", "surname", "external_id", "title", "nick_name", "employee_number",
    "profile_attributes", "show_in_address_list",
)
FIELD_LIMITS = {"display_name": 256, "given_name": 64, "surname": 64, "external_id": 256, "title": 256,
                "nick_name": 256, "employee_number": 64}


@dataclass(frozen=True)
class EmailEntry:
    """One email of a user as provisioning clients send it: the address, its type and the primary flag."""

    address: str
    type: str | None = None
    primary: bool = False
    display: str | None = None


def validate_user_principal_name(tenant: Tenant, value: str) -> str:
    """A provisioned member's UPN: a login name, or an address in one of the tenant's own domains."""
    upn = (value or "").strip().lower()
    if not upn or len(upn) > MAX_UPN_LENGTH:
        raise ValidationError(f"a userName needs 1-{MAX_UPN_LENGTH} characters", field="userName")
    if any(ch.isspace() or ord(ch) < 32 for ch in upn):
        raise ValidationError("a userName has no spaces or control characters", field="userName")
    if "@" in upn:
        domain = upn.rsplit("@", 1)[1]
        own = {d.name for d in tenant.domains if d.is_verified} | {tenant.initial_domain}
        if domain not in own:
            raise ValidationError(
                f"{domain!r} is not a domain of tenant {tenant.slug!r}; invite external people as guests "
                "(userType Guest)",
                field="userName",
            )
    return upn


def provision_member(
    db: Session,
    tenant: Tenant,
    user_principal_name: str,
    *,
    changes: dict[str, Any] | None = None,
    emails: list[EmailEntry] | None = None,
    actor: str = "system",
) -> User:
    """A local account created by a provisioning client: the UPN is the client's userName, no password. A member,
    or an internal guest (b2b-collaboration.md §3.4) when ``changes`` sets ``user_type`` to ``Guest``.

    ``changes`` and ``emails`` are applied as :func:`update_user` would, in the same single insert.
    """
    upn = validate_user_principal_name(tenant, user_principal_name)
    if _upn_taken_folded(db, tenant.id, upn):
        raise Conflict(f"userName {upn!r} is already taken in {tenant.slug!r}", field="userName")
    user = _new_member(db, tenant, upn, changes or {}, emails or [], actor=actor)
    db.flush()  # one flush for the user, its rows and the audit event
    return user


@dataclass(frozen=True)
class MemberRequest:
    """One member to provision with :func:`provision_members` (the arguments of :func:`provision_member`)."""

    user_principal_name: str
    changes: dict[str, Any]
    emails: list[EmailEntry]


@dataclass(frozen=True)
class NewMember:
    """A member :func:`provision_members` created, as stored: the user, its emails (in order) and its
    identities, as ORM objects or as the inserted rows (the same attribute names either way)."""

    user: Any
    other_mails: list[Any]
    identities: list[Any]

    @property
    def id(self) -> str:
        return str(self.user.id)


def provision_members(
    db: Session, tenant: Tenant, requests: Iterable[MemberRequest], *, actor: str = "system",
    max_errors: int | None = None,
) -> list[NewMember | DomainError]:
    """Many members, each as :func:`provision_member` would create it (same rules, rows and audit event), with
    one uniqueness query and one multi-row insert per table (:func:`idp.bulk_insert.insert_rows`): an import
    (a Bulk request of a migration tool).

    Returns one entry per request, in order: the new member, or the domain error refusing it (a userName
    taken earlier in the same batch is a :class:`Conflict` too). After ``max_errors`` errors the remaining
    requests are left out, and not created. A concurrent insert of the same userName surfaces as an
    ``IntegrityError``; the caller then retries one by one.
    """
    requests = list(requests)
    checked: list[str | DomainError] = []
    for request in requests:
        try:
            checked.append(validate_user_principal_name(tenant, request.user_principal_name))
        except DomainError as exc:
            checked.append(exc)
    candidates = sorted({fold_case(upn) or "" for upn in checked if isinstance(upn, str)})
    taken: set[str] = set()
    with without_bitmap_scans(db):  # the unique b-tree, never the trigram index (see without_bitmap_scans)
        for chunk in range(0, len(candidates), _IN_CHUNK):
            taken.update(db.scalars(
                scoped(User, tenant.id)
                .where(User.user_principal_name_normalized.in_(candidates[chunk:chunk + _IN_CHUNK]))
                .with_only_columns(User.user_principal_name_normalized)
            ))
    results: list[NewMember | DomainError | _Rows] = []
    users: list[dict[str, Any]] = []
    mails: list[dict[str, Any]] = []
    identities: list[dict[str, Any]] = []
    errors = 0
    for request, upn in zip(requests, checked, strict=True):
        if max_errors is not None and errors >= max_errors:
            break
        try:
            if isinstance(upn, DomainError):
                raise upn
            if fold_case(upn) in taken:
                raise Conflict(f"userName {upn!r} is already taken in {tenant.slug!r}", field="userName")
            rows = _member_rows(tenant, upn, request.changes, request.emails, utcnow())
            if rows is None:  # not a plain enabled member: the one-by-one path (same rules, ORM side effects)
                user = _new_member(db, tenant, upn, request.changes, request.emails, actor=actor)
                created: NewMember | _Rows = NewMember(user, user.other_mails, user.identities)
            else:
                users.append(rows[0])
                mails.extend(rows[1])
                identities.append(rows[2])
                created = rows  # a NewMember once inserted (the rows are completed then)
        except DomainError as exc:
            results.append(exc)
            errors += 1
            continue
        taken.add(fold_case(upn) or "")
        results.append(created)
    if users:
        insert_rows(db, User.__table__, users)
        insert_rows(db, UserOtherMail.__table__, mails)
        insert_rows(db, UserIdentity.__table__, identities)
        audit.record_many(db, tenant_id=tenant.id, actor=actor, activity="Add user", target_type="user", targets=[
            (row["id"], {"userPrincipalName": row["user_principal_name"], "via": "provisioning"}) for row in users
        ])
    db.flush()
    return [NewMember(SimpleNamespace(**item[0]), [SimpleNamespace(**m) for m in item[1]], [SimpleNamespace(**item[2])])
            if isinstance(item, tuple) else item for item in results]


_ROW_CHANGES = frozenset(PROFILE_FIELDS) | {"account_enabled", "user_type"}
_Rows = tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]  # a member's users, emails and identity rows


def _member_rows(
    tenant: Tenant, upn: str, changes: dict[str, Any], emails: list[EmailEntry], now: Any
) -> _Rows | None:
    """The ``users``, ``user_other_mails`` and ``user_identities`` rows :func:`_new_member` would insert for
    an enabled member, validated the same way; None for anything else (created disabled, other keys)."""
    if (changes.get("account_enabled", True) is not True or changes.get("user_type", "Member") != "Member"
            or not set(changes) <= _ROW_CHANGES):
        return None
    user_id = new_id()
    user: dict[str, Any] = {
        "id": user_id, "tenant_id": tenant.id, "user_principal_name": upn, "user_principal_name_normalized":
        fold_case(upn), "user_type": "Member", "account_enabled": True, "version": FIRST_VERSION, "created_at": now,
        "modified_at": now,
    }
    for key in PROFILE_FIELDS:
        user[key] = _checked_profile_field(key, changes.get(key))
    user["display_name_normalized"] = fold_case(user["display_name"])
    mails, main = _email_rows(tenant.id, _chosen_emails(emails))
    for mail in mails:
        mail.update(id=new_id(), user_id=user_id)
    user["mail"] = main.address if main else None
    user["mail_normalized"] = normalize_email(main.address) if main else None
    identity = {"id": new_id(), "tenant_id": tenant.id, "user_id": user_id, "sign_in_type": "userPrincipalName",
                "issuer": tenant.initial_domain, "issuer_assigned_id": upn, "issuer_assigned_id_normalized": upn,
                "created_at": now}
    return user, mails, identity


_IN_CHUNK = 500  # values per IN list (SQLite's default limit of bound parameters is far above)


def _new_member(
    db: Session, tenant: Tenant, upn: str, changes: dict[str, Any], emails: list[EmailEntry], *, actor: str,
) -> User:
    """A new member with its emails, its UPN identity and its audit event, validated and added; not flushed."""
    now = utcnow()
    user = User(id=new_id(), tenant_id=tenant.id, user_principal_name=upn, user_type="Member", account_enabled=True,
                created_at=now, modified_at=now)
    user.other_mails, user.identities, user.sponsors = [], [], []  # new collections: nothing to lazy-load
    _apply_changes(db, tenant, user, changes)
    if emails:
        _append_emails(user, emails)
    user.identities.append(UserIdentity(tenant_id=tenant.id, sign_in_type="userPrincipalName",
                                        issuer=tenant.initial_domain, issuer_assigned_id=upn,
                                        issuer_assigned_id_normalized=upn))
    db.add(user)
    audit.record(db, tenant_id=tenant.id, actor=actor, activity="Add user", target_type="user",
                 target_id=user.id, details={"userPrincipalName": upn, "via": "provisioning"})
    return user


def _chosen_emails(entries: Iterable[EmailEntry]) -> list[EmailEntry]:
    """The emails a user keeps: valid addresses, each once, at most one primary."""
    chosen: list[EmailEntry] = []
    seen: set[str] = set()
    for entry in entries:
        address = validate_address(entry.address, field="emails")
        normalized = normalize_email(address)
        if normalized in seen:
            continue
        seen.add(normalized)
        if entry.display is not None and len(entry.display) > 256:
            raise ValidationError("an email's display has at most 256 characters", field="emails")
        chosen.append(EmailEntry(address, entry.type, entry.primary, entry.display))
    if sum(1 for e in chosen if e.primary) > 1:
        raise ValidationError("at most one email is primary", field="emails")
    return chosen


def _email_rows(tenant_id: str, chosen: list[EmailEntry]) -> tuple[list[dict[str, Any]], EmailEntry | None]:
    """The ``user_other_mails`` columns of the chosen emails, and the one that becomes ``mail``."""
    rows = [
        {"tenant_id": tenant_id, "address": entry.address, "address_normalized": normalize_email(entry.address),
         "position": position, "type": entry.type or None, "is_primary": entry.primary, "display": entry.display}
        for position, entry in enumerate(chosen, start=1)
    ]
    return rows, next((e for e in chosen if e.primary), chosen[0] if chosen else None)


def _append_emails(user: User, entries: Iterable[EmailEntry]) -> None:
    rows, main = _email_rows(user.tenant_id, _chosen_emails(entries))
    for row in rows:
        user.other_mails.append(UserOtherMail(**row))
    user.mail = main.address if main else None
    user.mail_normalized = normalize_email(main.address) if main else None


def set_emails(db: Session, user: User, entries: Iterable[EmailEntry]) -> None:
    """Replace a user's addresses: all go to ``otherMails`` (with type and primary), the primary one to ``mail``."""
    entries = list(entries)
    user.other_mails.clear()
    db.flush()  # the old rows go before the new ones arrive (unique per user and address)
    _append_emails(user, entries)


def touch(user: User) -> None:
    """Mark a user changed (new ETag, new ``lastModified``) when only its related rows changed."""
    user.modified_at = utcnow()


def _apply_changes(db: Session, tenant: Tenant, user: User, changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        if key == "user_principal_name":
            if value is None:
                raise ValidationError("userName is required", field="userName")
            upn = value.strip() if user.is_guest else validate_user_principal_name(tenant, value)
            if not upn or len(upn) > MAX_UPN_LENGTH:
                raise ValidationError(f"a userName needs 1-{MAX_UPN_LENGTH} characters", field="userName")
            if fold_case(upn) != user.user_principal_name_normalized:
                if _upn_taken_folded(db, tenant.id, upn):
                    raise Conflict(f"userName {upn!r} is already taken in {tenant.slug!r}", field="userName")
                for identity in user.identities:  # the UPN sign-in identity follows the UPN
                    if identity.sign_in_type == "userPrincipalName" and \
                            identity.issuer_assigned_id == user.user_principal_name:
                        identity.issuer_assigned_id = upn
                        identity.issuer_assigned_id_normalized = fold_case(upn)
                user.user_principal_name = upn
        elif key == "account_enabled":
            if user.id is not None and user.account_enabled and not value:
                from idp.directory.user_admin import set_account_enabled  # disabling also ends sessions

                set_account_enabled(db, tenant, user, False, actor="system")
            else:
                user.account_enabled = bool(value)
        elif key == "user_type":
            if value not in ("Member", "Guest"):
                raise ValidationError("userType must be Guest or Member", field="userType")
            user.user_type = value
        elif key in PROFILE_FIELDS:
            setattr(user, key, _checked_profile_field(key, value))
        else:
            raise ValidationError(f"{key} cannot be changed", field=key)


def _checked_profile_field(key: str, value: Any) -> Any:
    if key == "show_in_address_list" and value is not None and not isinstance(value, bool):
        raise ValidationError("showInAddressList is true or false", field="showInAddressList")
    limit = FIELD_LIMITS.get(key)
    if limit is not None and value is not None and len(value) > limit:
        raise ValidationError(f"{key} has at most {limit} characters", field=key)
    return value


def update_user(
    db: Session,
    tenant: Tenant,
    user: User,
    *,
    changes: dict[str, Any],
    emails: list[EmailEntry] | None = None,
    actor: str = "system",
) -> User:
    """Apply profile changes (keys of :data:`PROFILE_FIELDS`, ``user_principal_name``, ``account_enabled``,
    ``user_type``) and, when given, the full list of emails. Always bumps the version."""
    _apply_changes(db, tenant, user, changes)
    if emails is not None:
        set_emails(db, user, emails)
    touch(user)
    db.flush()
    audit.record(db, tenant_id=tenant.id, actor=actor, activity="Update user", target_type="user",
                 target_id=user.id, details={"changed": sorted(changes) + (["emails"] if emails is not None else [])})
    return user


def delete_user(db: Session, tenant: Tenant, user: User, *, actor: str = "system") -> None:
    if user.tenant_id != tenant.id:
        raise NotFound(f"no user {user.id!r} in tenant {tenant.slug!r}", field="user")
    member_of = select(GroupMember.group_id).where(GroupMember.tenant_id == tenant.id, GroupMember.user_id == user.id)
    for group in db.scalars(scoped(Group, tenant.id).where(Group.id.in_(member_of))):
        group.modified_at = utcnow()  # its members changed: new ETag and lastModified
    audit.record(db, tenant_id=tenant.id, actor=actor, activity="Delete user", target_type="user",
                 target_id=user.id, details={"userPrincipalName": user.user_principal_name})
    db.delete(user)
    db.flush()
