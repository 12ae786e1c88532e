"""Bulk invitation by CSV: good rows invited, bad and duplicate rows reported, nothing half-done."""

from __future__ import annotations

import csv
import io

import pytest

from idp.db import Database
from idp.errors import ValidationError
from idp.invitations.bulk import bulk_invite, parse_csv, results_csv
from idp.invitations.model import Inviter
from idp.models import Invitation, OutboxMessage, Tenant, User

ISSUER = "http://127.0.0.1:5000/contoso"

CSV = (
    "Email,Display name,Redirect URL,Send message,Custom message\n"
    "ann@fabrikam.com,Ann,https://wiki.example/,true,Welcome Ann\n"
    "bad+tag@fabrikam.com,Bad,https://wiki.example/,false,\n"
    "ANN@fabrikam.com,Ann again,https://wiki.example/,false,\n"
    "bob@woodgrove.com,Bob,not a url,false,\n"
    "carol@woodgrove.com,Carol,,maybe,\n"
    "dave@woodgrove.com,Dave,,no,\n"
)


def test_good_rows_invited_bad_rows_reported(database: Database, contoso: Tenant) -> None:
    rows = parse_csv(CSV.encode())
    with database.transaction() as s:
        results = bulk_invite(s, contoso, rows, Inviter(operator=True), issuer=ISSUER, env="development",
                              secret_key="k" * 32, default_redirect_url="https://portal.example/")
    assert [(r.row, r.status) for r in results] == [
        (2, "invited"), (3, "failed"), (4, "duplicate"), (5, "failed"), (6, "failed"), (7, "invited")]
    assert "plus-addressing" in results[1].error and "row 2" in results[2].error
    assert "inviteRedirectUrl" in results[3].error and "send message" in results[4].error
    with database.sessionmaker() as s:
        guests = sorted(u.mail for u in s.query(User).filter_by(user_type="Guest"))
        assert guests == ["ann@fabrikam.com", "dave@woodgrove.com"]
        assert s.query(Invitation).count() == 2
        assert [m.to_address for m in s.query(OutboxMessage)] == ["ann@fabrikam.com"]  # only Ann asked for mail
        dave = s.query(Invitation).filter_by(invited_user_email_address="dave@woodgrove.com").one()
        assert dave.invite_redirect_url == "https://portal.example/"

    report = list(csv.reader(io.StringIO(results_csv(results))))
    assert report[0] == ["row", "email", "status", "userId", "userPrincipalName", "inviteRedeemUrl", "error"]
    assert report[1][2] == "invited" and report[1][4] == "ann_fabrikam.com#EXT#@contoso.portico.example"
    assert report[1][5].startswith(f"{ISSUER}/redeem?")


def test_a_row_failing_late_leaves_nothing_of_itself(database: Database, contoso: Tenant,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The mail step fails after the row's guest and invitation were written: its savepoint removes them."""
    from idp import mail

    real_enqueue = mail.enqueue

    def flaky_enqueue(db, **kwargs):
        if kwargs["to"] == "x@fabrikam.com":
            raise ValidationError("mail system refused the message", field="to")
        return real_enqueue(db, **kwargs)

    monkeypatch.setattr(mail, "enqueue", flaky_enqueue)
    rows = [{"email": "ok@fabrikam.com", "redirect_url": "https://w.example/", "send_message": "yes"},
            {"email": "x@fabrikam.com", "redirect_url": "https://w.example/", "send_message": "yes"}]
    with database.transaction() as s:
        results = bulk_invite(s, contoso, rows, Inviter(operator=True), issuer=ISSUER, env="development",
                              secret_key="k" * 32)
    assert [r.status for r in results] == ["invited", "failed"]
    with database.sessionmaker() as s:
        assert [u.mail for u in s.query(User).filter_by(user_type="Guest")] == ["ok@fabrikam.com"]
        assert [i.invited_user_email_address for i in s.query(Invitation)] == ["ok@fabrikam.com"]
        assert [m.to_address for m in s.query(OutboxMessage)] == ["ok@fabrikam.com"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"name,redirect\nAnn,https://x\n", "'email' column"),
        ("email\n" + "a@x.com\n" * 1001, "at most 1000"),
        (b"\xff\xfe\x00", "UTF-8"),
    ],
)
def test_unusable_files_are_refused(content: bytes | str, message: str) -> None:
    data = content.encode() if isinstance(content, str) else content
    with pytest.raises(ValidationError, match=message):
        parse_csv(data)
