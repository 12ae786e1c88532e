"""Guest UPN construction (spec §3.2) and the documented collision rule (decision 4)."""

from __future__ import annotations

import pytest

from idp.db import Database
from idp.directory import users
from idp.directory.upn import first_free_guest_upn, guest_upn
from idp.models import Tenant, User


@pytest.mark.parametrize(
    ("email", "initial_domain", "attempt", "expected"),
    [
        # the spec's two examples
        ("john@contoso.com", "fabrikam.onmicrosoft.com", 1, "john_contoso.com#EXT#@fabrikam.onmicrosoft.com"),
        ("admin@fabrikam.com", "doc.onmicrosoft.com", 1, "admin_fabrikam.com#EXT#@doc.onmicrosoft.com"),
        # Portico's initial domains, case folding, and the collision suffix before #EXT#
        ("Alice@Fabrikam.com", "contoso.portico.example", 1, "alice_fabrikam.com#EXT#@contoso.portico.example"),
        ("alice@fabrikam.com", "contoso.portico.example", 2, "alice_fabrikam.com_2#EXT#@contoso.portico.example"),
        ("alice@fabrikam.com", "contoso.portico.example", 10, "alice_fabrikam.com_10#EXT#@contoso.portico.example"),
        ("first.last_x@sub.example.org", "t.example", 1, "first.last_x_sub.example.org#EXT#@t.example"),
    ],
)
def test_guest_upn_table(email: str, initial_domain: str, attempt: int, expected: str) -> None:
    assert guest_upn(email, initial_domain, attempt) == expected


def test_first_free_skips_taken_candidates() -> None:
    taken = {"a_b.com#EXT#@t.example", "a_b.com_2#EXT#@t.example"}
    assert first_free_guest_upn("a@b.com", "t.example", taken.__contains__) == "a_b.com_3#EXT#@t.example"


def test_create_guest_uses_the_collision_suffix(database: Database, contoso: Tenant) -> None:
    with database.transaction() as s:
        # a member whose UPN happens to equal the guest UPN the address would get
        squatter = users.create_member(s, contoso, "x@contoso.com", password="long-enough-pw")
        squatter.user_principal_name = "alice_fabrikam.com#EXT#@contoso.portico.example"
    with database.transaction() as s:
        guest = users.create_guest(s, contoso, "alice@fabrikam.com")
        assert guest.user_principal_name == "alice_fabrikam.com_2#EXT#@contoso.portico.example"
        assert guest.user_type == "Guest"
        assert guest.creation_type == "Invitation"
        assert guest.external_user_state == "PendingAcceptance"
        assert guest.external_user_state_change_at is not None
        assert guest.other_mail_addresses == ["alice@fabrikam.com"]
        assert [i.as_dict() for i in guest.identities] == [
            {"signInType": "userPrincipalName", "issuer": "contoso.portico.example",
             "issuerAssignedId": "alice_fabrikam.com_2#EXT#@contoso.portico.example"}
        ]
    with database.sessionmaker() as s:
        assert s.query(User).filter_by(tenant_id=contoso.id).count() == 2
