"""Tenant isolation: nothing of contoso is reachable through any fabrikam lookup; unknown tenants are 404s."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from idp.db import Database
from idp.directory import applications, groups, tenants, users
from idp.errors import Conflict, NotFound, ValidationError
from idp.models import Tenant


@pytest.fixture
def contoso_objects(database: Database, contoso: Tenant) -> dict[str, str]:
    with database.transaction() as s:
        member = users.create_member(s, contoso, "bob@contoso.com", password="long-enough")
        guest = users.create_guest(s, contoso, "alice@partner.com")
        group = groups.create_group(s, contoso, "Partners")
        app = applications.create_application(s, contoso, name="Wiki", redirect_uris=["https://wiki.example/cb"],
                                              grant_types=["authorization_code"], scopes=["openid"]).application
        return {"member": member.id, "guest": guest.id, "group": group.id, "app": app.id, "client_id": app.client_id,
                "member_upn": member.user_principal_name, "guest_upn": guest.user_principal_name}


def test_contoso_objects_are_invisible_from_fabrikam(
    database: Database, contoso: Tenant, fabrikam: Tenant, contoso_objects: dict[str, str]
) -> None:
    with database.sessionmaker() as s:
        for user_id in (contoso_objects["member"], contoso_objects["guest"]):
            with pytest.raises(NotFound):
                users.get_user(s, fabrikam, user_id)
            assert users.get_user(s, contoso, user_id).id == user_id  # the positive control
        for upn in (contoso_objects["member_upn"], contoso_objects["guest_upn"]):
            assert users.find_user_by_upn(s, fabrikam, upn) is None
        for address in ("bob@contoso.com", "alice@partner.com"):
            assert users.find_users_by_email(s, fabrikam, address) == []
            assert len(users.find_users_by_email(s, contoso, address)) == 1
        assert users.list_users(s, fabrikam) == []
        with pytest.raises(NotFound):
            groups.get_group(s, fabrikam, contoso_objects["group"])
        assert groups.find_groups_by_name(s, fabrikam, "Partners") == []
        assert groups.list_groups(s, fabrikam) == []
        with pytest.raises(NotFound):
            applications.get_application(s, fabrikam, contoso_objects["app"])
        assert applications.find_application_by_client_id(s, fabrikam, contoso_objects["client_id"]) is None
        assert applications.list_applications(s, fabrikam) == []


def test_cross_tenant_membership_is_refused(
    database: Database, contoso: Tenant, fabrikam: Tenant, contoso_objects: dict[str, str]
) -> None:
    with database.transaction() as s:
        outsider = users.create_member(s, fabrikam, "eve@fabrikam.com")
    with pytest.raises(NotFound), database.transaction() as s:
        group = groups.get_group(s, contoso, contoso_objects["group"])
        groups.add_member(s, contoso, group, outsider)


def test_slug_rules(database: Database) -> None:
    for bad in ("A", "x", "has space", "-lead", "trail-", "api", "healthz", "demo"):
        with pytest.raises(ValidationError), database.transaction() as s:
            tenants.create_tenant(s, bad, "Name", domain_suffix="portico.example")


def test_duplicate_slug_and_domain_conflict(database: Database, contoso: Tenant) -> None:
    with pytest.raises(Conflict, match="slug"), database.transaction() as s:
        tenants.create_tenant(s, "contoso", "Again", domain_suffix="portico.example")
    with pytest.raises(Conflict, match="contoso.com"), database.transaction() as s:
        tenants.create_tenant(s, "other", "Other", domain_suffix="portico.example", verified_domains=["contoso.com"])


def test_tenant_properties(contoso: Tenant) -> None:
    assert contoso.initial_domain == "contoso.portico.example"
    assert sorted(contoso.verified_domains) == ["contoso.com", "contoso.portico.example"]


def test_unknown_tenant_is_a_json_404_on_json_endpoints(client: FlaskClient) -> None:
    response = client.get("/nowhere/.well-known/jwks.json")
    assert response.status_code == 404
    assert response.json == {"error": "invalid_request", "error_description": "unknown tenant 'nowhere'"}


def test_unknown_tenant_is_a_readable_page_on_pages(client: FlaskClient, contoso: Tenant) -> None:
    response = client.get("/nowhere/")
    assert response.status_code == 404
    assert "text/html" in response.content_type
    assert "Organization not found" in response.get_data(as_text=True)
    ok = client.get("/contoso/")
    assert ok.status_code == 200 and "Contoso" in ok.get_data(as_text=True)
    assert "http://127.0.0.1:5000/contoso" in ok.get_data(as_text=True)
