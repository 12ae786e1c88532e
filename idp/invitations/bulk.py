"""Bulk invitation from a CSV upload: every row is invited on its own savepoint, so good rows are invited, bad
and duplicate rows are reported, and no row is ever half-done.

Columns (header names are matched case-insensitively, spaces and underscores ignored): ``email`` (required),
``display name``, ``redirect url`` (required unless a default is given), ``send message`` (true/false, yes/no,
1/0; default false), ``custom message``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sqlalchemy.orm import Session

from idp.directory.emails import normalize_email
from idp.errors import DomainError, ValidationError
from idp.invitations import service
from idp.invitations.model import InvitationRequest, Inviter, MessageInfo
from idp.models import Tenant

MAX_ROWS = 1000
MAX_BYTES = 2_000_000
COLUMNS = {
    "email": "email",
    "emailaddress": "email",
    "emailaddresstoinvite": "email",
    "displayname": "display_name",
    "name": "display_name",
    "redirecturl": "redirect_url",
    "inviteredirecturl": "redirect_url",
    "sendmessage": "send_message",
    "sendinvitationmessage": "send_message",
    "custommessage": "custom_message",
    "customizedmessagebody": "custom_message",
}
TRUE = {"true", "yes", "y", "1"}
FALSE = {"false", "no", "n", "0", ""}
RESULT_COLUMNS = ("row", "email", "status", "userId", "userPrincipalName", "inviteRedeemUrl", "error")


@dataclass(frozen=True)
class RowResult:
    row: int
    email: str
    status: str  # invited | reinvited | failed | duplicate
    user_id: str | None = None
    user_principal_name: str | None = None
    redeem_url: str | None = None
    error: str | None = None

    def as_csv_row(self) -> list[str]:
        return [str(self.row), self.email, self.status, self.user_id or "", self.user_principal_name or "",
                self.redeem_url or "", self.error or ""]


def _column_map(header: list[str]) -> dict[int, str]:
    mapping: dict[int, str] = {}
    for index, name in enumerate(header):
        key = "".join(ch for ch in name.lower() if ch.isalnum())
        if key in COLUMNS:
            mapping[index] = COLUMNS[key]
    if "email" not in mapping.values():
        raise ValidationError("the CSV needs an 'email' column in its header row", field="file")
    return mapping


def parse_csv(content: bytes) -> list[dict[str, str]]:
    """Rows as dicts of the known columns; refuses files that are not UTF-8 CSV with a header."""
    if len(content) > MAX_BYTES:
        raise ValidationError(f"the file is larger than {MAX_BYTES // 1_000_000} MB", field="file")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError("the file must be UTF-8 encoded CSV", field="file") from None
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationError("the file is empty", field="file") from None
    except csv.Error as exc:
        raise ValidationError(f"the file is not valid CSV: {exc}", field="file") from None
    mapping = _column_map(header)
    rows: list[dict[str, str]] = []
    try:
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            rows.append({mapping[i]: v.strip() for i, v in enumerate(values) if i in mapping})
    except csv.Error as exc:
        raise ValidationError(f"the file is not valid CSV: {exc}", field="file") from None
    if len(rows) > MAX_ROWS:
        raise ValidationError(f"at most {MAX_ROWS} rows per file", field="file")
    return rows


def _flag(value: str, row: int) -> bool:
    lowered = value.strip().lower()
    if lowered in TRUE:
        return True
    if lowered in FALSE:
        return False
    raise ValidationError(f"row {row}: 'send message' must be true or false, got {value!r}", field="send_message")


def bulk_invite(
    db: Session,
    tenant: Tenant,
    rows: list[dict[str, str]],
    inviter: Inviter,
    *,
    issuer: str,
    env: str,
    secret_key: str,
    default_redirect_url: str | None = None,
) -> list[RowResult]:
    results: list[RowResult] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        email = row.get("email", "")
        key = normalize_email(email)
        if key and key in seen:
            results.append(RowResult(number, email, "duplicate", error=f"same address as row {seen[key]}"))
            continue
        if key:
            seen[key] = number
        try:
            request = InvitationRequest(
                invited_user_email_address=email,
                invite_redirect_url=row.get("redirect_url") or default_redirect_url or "",
                invited_user_display_name=row.get("display_name") or None,
                send_invitation_message=_flag(row.get("send_message", ""), number),
                message_info=MessageInfo(customized_message_body=row.get("custom_message") or None),
            )
            with db.begin_nested():
                result = service.invite(db, tenant, request, inviter, issuer=issuer, env=env, secret_key=secret_key)
        except DomainError as exc:
            results.append(RowResult(number, email, "failed", error=exc.message))
            continue
        results.append(RowResult(
            number, email, "reinvited" if result.reused_existing_user else "invited", user_id=result.user.id,
            user_principal_name=result.user.user_principal_name, redeem_url=result.redeem_url,
            error="; ".join(result.warnings) or None,
        ))
    return results


def results_csv(results: list[RowResult]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(RESULT_COLUMNS)
    for result in results:
        writer.writerow(result.as_csv_row())
    return buffer.getvalue()
