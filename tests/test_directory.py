"""Directory service rules: members, guests, email lookup, identities, sponsors, passwords, applications."""

from __future__ import annotations

import pytest

from idp.db import Database
from idp.directory import applications, groups, roles, users
from idp.directory.emails import validate_invitable_address
from idp.directory.passwords import verify_password
from idp.errors import Conflict, ValidationError
from idp.models import AuditEvent, Tenant, User, UserOtherMail


def test_member_password_is_argon2id_and_verifies(database: Database, contoso: Tenant) -> None:
    with database.transaction() as s:
        member = users.create_member(s, contoso, "Bob@Contoso.com", password="correct horse")
    assert member.password_hash.startswith("$argon2id$")
    assert verify_password(member.password_hash, "correct horse")
    assert not verify_password(member.password_hash, "wrong horse")
    assert member.user_principal_name == "bob@contoso.com"
    assert member.user_type == "Member" and member.creation_type is None


def test_member_domain_must_be_verified(database: Database, contoso: Tenant) -> None:
    with pytest.raises(ValidationError, match="not a verified domain"), database.transaction() as s:
        users.create_member(s, contoso, "bob@elsewhere.com", password="long-enough")


def test_short_password_refused_and_nothing_written(database: Database, contoso: Tenant) -> None:
    with pytest.raises(ValidationError, match="at least 8"), database.transaction() as s:
        users.create_member(s, contoso, "bob@contoso.com", password="short")
    with database.sessionmaker() as s:
        assert s.query(User).count() == 0


def test_lookup_by_email_covers_mail_other_mails_and_identities(database: Database, contoso: Tenant) -> None:
    with database.transaction() as s:
        guest = users.create_guest(s, contoso, "carol@partner.com")
        users.add_identity(s, guest, sign_in_type="federated", issuer="mail", issuer_assigned_id="Carol.Alt@other.org")
        guest.other_mails.append(
            UserOtherMail(tenant_id=contoso.id, address="c@third.net", address_normalized="c@third.net",
                                     position=2)
        )
    with database.sessionmaker() as s:
        for address in ("CAROL@partner.com", "c@third.net", "carol.alt@other.org"):
            found = users.find_users_by_email(s, contoso, address)
            assert [u.id for u in found] == [guest.id], address
        assert users.find_users_by_email(s, contoso, "nobody@partner.com") == []


def test_existing_address_cannot_be_invited_twice(database: Database, contoso: Tenant) -> None:
    with database.transaction() as s:
        users.create_guest(s, contoso, "dave@partner.com")
    with pytest.raises(Conflict), database.transaction() as s:
        users.create_guest(s, contoso, "Dave@Partner.com")


def test_identity_is_unique_per_tenant_on_issuer_and_assigned_id(
    database: Database, contoso: Tenant, fabrikam: Tenant
) -> None:
    with database.transaction() as s:
        a = users.create_guest(s, contoso, "a@partner.com")
        users.add_identity(s, a, sign_in_type="federated", issuer="google.com", issuer_assigned_id="123")
    with pytest.raises(Conflict), database.transaction() as s:
        b = users.create_guest(s, contoso, "b@partner.com")
        users.add_identity(s, b, sign_in_type="federated", issuer="google.com", issuer_assigned_id="123")
    with database.transaction() as s:  # the same identity in another tenant is fine
        c = users.create_guest(s, fabrikam, "a@partner.com")
        users.add_identity(s, c, sign_in_type="federated", issuer="google.com", issuer_assigned_id="123")


@pytest.mark.parametrize(
    "address",
    ["a+tag@x.com", "a!b@x.com", ".ab@x.com", "ab-@x.com", "a(b)@x.com", "not-an-address", "a@b@c.com"],
)
def test_invitation_address_rules_refuse(address: str) -> None:
    with pytest.raises(ValidationError):
        validate_invitable_address(address)


@pytest.mark.parametrize("address", ["_a_@x.com", "a.b-c@x.com", "a@sub.x.com"])
def test_invitation_address_rules_accept(address: str) -> None:
    assert validate_invitable_address(address) == address


def test_sponsors_default_to_inviter_and_are_capped(database: Database, contoso: Tenant) -> None:
    with database.transaction() as s:
        inviter = users.create_member(s, contoso, "boss@contoso.com", password="long-enough")
        guest = users.create_guest(s, contoso, "g@partner.com", invited_by=inviter)
        assert [sp.sponsor_user_id for sp in guest.sponsors] == [inviter.id]
        assert guest.invited_by_id == inviter.id
        team = groups.create_group(s, contoso, "Team")
        with pytest.raises(ValidationError, match="at most 5"):
            users.set_sponsors(s, contoso, guest, [inviter, team, inviter, team, inviter, team])


def test_roles_and_groups(database: Database, contoso: Tenant) -> None:
    with database.transaction() as s:
        member = users.create_member(s, contoso, "eve@contoso.com")
        roles.assign_role(s, contoso, member, "guest inviter")
        roles.assign_role(s, contoso, member, "Guest Inviter")  # idempotent
        group = groups.create_group(s, contoso, "Partners")
        groups.add_member(s, contoso, group, member)
        with pytest.raises(Conflict):
            groups.add_member(s, contoso, group, member)
        assert roles.roles_of(s, contoso, member) == {"Guest Inviter"}
        assert groups.member_ids(s, contoso, group) == [member.id]
    with pytest.raises(ValidationError, match="unknown role"):
        roles.validate_role("Emperor")


def _stamps(database: Database, *rows: object) -> list[tuple[object, int]]:
    with database.sessionmaker() as s:
        return [(s.get(type(row), row.id).modified_at, s.get(type(row), row.id).version)  # type: ignore[attr-defined]
                for row in rows]


@pytest.mark.parametrize("change", ["add_member", "set_members", "remove_by_set_members", "delete_group"])
def test_a_membership_change_is_a_change_of_the_group_and_of_its_users(
    database: Database, contoso: Tenant, change: str,
) -> None:
    """What SCIM delta sync (``meta.lastModified gt``) and ETags see, whichever way the membership changes."""
    with database.transaction() as s:
        ann, bob, eve = (users.create_member(s, contoso, f"{n}@contoso.com") for n in ("ann", "bob", "eve"))
        group = groups.create_group(s, contoso, "Partners")
        if change in ("remove_by_set_members", "delete_group"):
            groups.set_members(s, contoso, group, [ann.id, bob.id])
    before = _stamps(database, ann, bob, eve, group)
    with database.transaction() as s:
        group = s.get(type(group), group.id)
        if change == "add_member":
            groups.add_member(s, contoso, group, s.get(User, ann.id))
        elif change == "set_members":
            groups.set_members(s, contoso, group, [ann.id, bob.id])
        elif change == "remove_by_set_members":
            groups.set_members(s, contoso, group, [bob.id])
        else:
            groups.delete_group(s, contoso, group)
    changed = {"add_member": [ann], "set_members": [ann, bob], "remove_by_set_members": [ann],
               "delete_group": [ann, bob]}[change]
    rows = [ann, bob, eve] + ([] if change == "delete_group" else [group])
    for row, (then, version), (now, new_version) in zip(rows, before[:len(rows)], _stamps(database, *rows),
                                                         strict=True):
        touched = row in changed or row is group
        assert (now > then, new_version == version + 1) == (touched, touched), (row, then, now, version, new_version)


def test_application_secret_is_hashed_and_verifiable(database: Database, contoso: Tenant) -> None:
    with database.transaction() as s:
        created = applications.create_application(
            s, contoso, name="Wiki", redirect_uris=["https://wiki.example/cb"],
            grant_types=["authorization_code", "refresh_token"], scopes=["openid"],
        )
    app = created.application
    assert created.client_secret and created.client_secret not in app.secrets[0].secret_hash
    assert applications.verify_client_secret(app, created.client_secret)
    assert not applications.verify_client_secret(app, created.client_secret + "x")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"redirect_uris": ["javascript:alert(1)"]}, "not allowed"),
        ({"redirect_uris": ["https://x.example/cb#frag"]}, "fragment"),
        ({"redirect_uris": []}, "at least one redirect"),
        ({"grant_types": ["password"]}, "unknown grant type"),
        ({"public": True, "grant_types": ["client_credentials"]}, "public client"),
        ({"scopes": ["bad scope"]}, "valid OAuth scope"),
    ],
)
def test_application_validation(database: Database, contoso: Tenant, kwargs: dict, message: str) -> None:
    args = {"name": "App", "redirect_uris": ["https://x.example/cb"], "grant_types": ["authorization_code"],
            "scopes": ["openid"]} | kwargs
    with pytest.raises(ValidationError, match=message), database.transaction() as s:
        applications.create_application(s, contoso, **args)


def test_http_redirect_refused_in_production_but_loopback_allowed(database: Database, contoso: Tenant) -> None:
    with pytest.raises(ValidationError, match="https"), database.transaction() as s:
        applications.create_application(s, contoso, name="A", redirect_uris=["http://app.example/cb"],
                                        grant_types=["authorization_code"], scopes=[], production=True)
    with database.transaction() as s:
        applications.create_application(s, contoso, name="A", redirect_uris=["http://127.0.0.1:8000/cb"],
                                        grant_types=["authorization_code"], scopes=[], production=True)


def test_changes_are_audited(database: Database, contoso: Tenant) -> None:
    with database.transaction() as s:
        users.create_guest(s, contoso, "audited@partner.com", actor="tester")
    with database.sessionmaker() as s:
        activities = {(e.actor, e.activity) for e in s.query(AuditEvent).filter_by(tenant_id=contoso.id)}
    assert ("tester", "Add guest user") in activities

