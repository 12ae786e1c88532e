"""Directory rows <-> SCIM resources (as SCIM JSON dicts, so any model of the resource type can read them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from idp.db import weak_etag
from idp.directory.users import EmailEntry
from idp.models import User
from scim.schema import ENTERPRISE_SCHEMA, PORTICO_GUEST_SCHEMA

CORE_USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"

# Attributes stored in their own columns (or derived); everything else a client writes to a User is kept as it
# was sent in ``users.profile_attributes`` and returned as is.
USER_MAPPED = {"schemas", "id", "meta", "externalId", "userName", "displayName", "nickName", "title", "userType",
               "active", "emails", "groups", "password", "name", ENTERPRISE_SCHEMA, PORTICO_GUEST_SCHEMA}
NAME_MAPPED = {"givenName", "familyName"}
ENTERPRISE_MAPPED = {"employeeNumber"}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _meta(resource_type: str, row: Any) -> dict[str, Any]:
    return {"resourceType": resource_type, "created": _iso(row.created_at),
            "lastModified": _iso(row.modified_at), "version": weak_etag(row.version)}


def _drop_empty(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None and (v or not isinstance(v, dict | list))}


def _with_columns(stored: dict[str, Any] | None, columns: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    """``_drop_empty({**stored, **dict(columns)})`` for column values (scalars: only None is empty)."""
    if stored:
        return _drop_empty({**stored, **dict(columns)})
    return {key: value for key, value in columns if value is not None}


def user_emails(user: Any, other_mails: list[Any]) -> list[dict[str, Any]]:
    """``emails`` from ``otherMails`` rows (address, display, type, is_primary), else the bare ``mail``."""
    if other_mails:
        return [_drop_empty({"value": m.address, "display": m.display, "type": m.type, "primary": m.is_primary})
                for m in other_mails]
    if user.mail:
        return [{"value": user.mail, "primary": True}]
    return []


@dataclass
class UserRelations:
    """A user's related rows (ORM objects or result rows with the same column names), loaded per page."""

    other_mails: list[Any] = field(default_factory=list)
    identities: list[Any] = field(default_factory=list)
    sponsors: list[Any] = field(default_factory=list)
    groups: list[tuple[str, str]] | None = None

    @classmethod
    def of(cls, user: User, groups: list[tuple[str, str]] | None) -> UserRelations:
        return cls(list(user.other_mails), list(user.identities), list(user.sponsors), groups)


def user_to_scim(user: Any, related: UserRelations, *, on_request: bool = True) -> dict[str, Any]:
    """A user (ORM object or row) as a SCIM ``User`` with the Enterprise and Portico guest extensions.

    Without ``on_request``, the guest attributes returned only on request are left out: the representation a
    response without ``attributes``/``excludedAttributes`` carries (``related`` then needs no identities nor
    sponsors).
    """
    profile = dict(user.profile_attributes or {})
    # Each part as _drop_empty would leave it; built directly when nothing else is stored beside the columns
    # (most users: a page maps thousands).
    name = _with_columns(profile.pop("name", None), (("givenName", user.given_name), ("familyName", user.surname)))
    enterprise = _with_columns(profile.pop(ENTERPRISE_SCHEMA, None), (("employeeNumber", user.employee_number),))
    guest = (_drop_empty({"showInAddressList": user.show_in_address_list, **_guest_record(user, related)})
             if on_request else _with_columns(None, (("showInAddressList", user.show_in_address_list),)))
    data: dict[str, Any] = {
        **profile,
        "schemas": [CORE_USER_SCHEMA] + ([ENTERPRISE_SCHEMA] if enterprise else [])
        + ([PORTICO_GUEST_SCHEMA] if guest else []),
        "id": user.id,
        "externalId": user.external_id,
        "userName": user.user_principal_name,
        "name": name,
        "displayName": user.display_name,
        "nickName": user.nick_name,
        "title": user.title,
        "userType": user.user_type,
        "active": user.account_enabled,
        "emails": user_emails(user, related.other_mails),
        "groups": [{"value": gid, "display": gname, "$ref": f"Groups/{gid}", "type": "direct"}
                   for gid, gname in related.groups or []],
        ENTERPRISE_SCHEMA: enterprise,
        PORTICO_GUEST_SCHEMA: guest,
        "meta": _meta("User", user),
    }
    return _drop_empty(data)


def _guest_record(user: Any, related: UserRelations) -> dict[str, Any]:
    """The read-only guest attributes (``returned: request``)."""
    return {
        "externalUserState": user.external_user_state,
        "externalUserStateChangeDateTime": _iso(user.external_user_state_change_at),
        "creationType": user.creation_type,
        "identities": [_drop_empty({"signInType": i.sign_in_type, "issuer": i.issuer,
                                    "issuerAssignedId": i.issuer_assigned_id}) for i in related.identities],
        "sponsors": [
            {"value": s.sponsor_user_id, "type": "User"} if s.sponsor_user_id
            else {"value": s.sponsor_group_id, "type": "Group"}
            for s in related.sponsors
        ],
        "invitedBy": {"value": user.invited_by_id} if user.invited_by_id else None,
    }


def group_to_scim(group: Any, members: list[str] | None) -> dict[str, Any]:
    """A group as a SCIM ``Group``; ``members`` as user ids, or None when not wanted."""
    return _drop_empty({
        "schemas": [CORE_GROUP_SCHEMA],
        "id": group.id,
        "externalId": group.external_id,
        "displayName": group.display_name,
        "members": [{"value": uid, "$ref": f"Users/{uid}", "type": "User"} for uid in members or []],
        "meta": _meta("Group", group),
    })


def user_changes(data: dict[str, Any]) -> tuple[dict[str, Any], list[EmailEntry]]:
    """The directory fields (for :func:`idp.directory.users.update_user`) a full SCIM ``User`` state sets."""
    name = dict(data.get("name") or {})
    enterprise = dict(data.get(ENTERPRISE_SCHEMA) or {})
    guest = dict(data.get(PORTICO_GUEST_SCHEMA) or {})
    profile = {k: v for k, v in data.items() if k not in USER_MAPPED}
    extra_name = {k: v for k, v in name.items() if k not in NAME_MAPPED}
    extra_enterprise = {k: v for k, v in enterprise.items() if k not in ENTERPRISE_MAPPED}
    if extra_name:
        profile["name"] = extra_name
    if extra_enterprise:
        profile[ENTERPRISE_SCHEMA] = extra_enterprise
    changes: dict[str, Any] = {
        "user_principal_name": data.get("userName"),
        "external_id": data.get("externalId"),
        "display_name": data.get("displayName"),
        "nick_name": data.get("nickName"),
        "title": data.get("title"),
        "given_name": name.get("givenName"),
        "surname": name.get("familyName"),
        "employee_number": enterprise.get("employeeNumber"),
        "profile_attributes": profile or None,
        # Unassigned clears it (a PATCH removal; a PUT that leaves it out keeps it: scim.schema); a creation
        # without it keeps the directory's default (scim.storage).
        "show_in_address_list": guest.get("showInAddressList"),
    }
    # Left out when unassigned (a POST or PUT that does not send them): a creation gets the directory's defaults
    # (Member, enabled), a replacement keeps the stored values. A PATCH cannot unassign them (scim.schema).
    if data.get("active") is not None:
        changes["account_enabled"] = bool(data["active"])
    if data.get("userType") is not None:
        changes["user_type"] = data["userType"]
    emails = [
        EmailEntry(address=str(e.get("value")), type=e.get("type"), primary=bool(e.get("primary")),
                   display=e.get("display"))
        for e in data.get("emails") or []
        if e.get("value")
    ]
    return changes, emails
