"""Cross-tenant access settings and conditional access pages over ``idp.policy_store`` (Security Administrator or
Global Administrator): the Graph JSON is edited in labelled textareas, refusals name the field or rule."""

from __future__ import annotations

import json
import re

from admin_support import csrf_token, post_form
from flask.testing import FlaskClient

from idp import policy_store
from idp.db import Database
from idp.models import AuditEvent, PolicyDocument, Tenant

CTA = "/contoso/admin/cross-tenant-access"
CA = "/contoso/admin/conditional-access"
BLOCK_ALL = {"usersAndGroups": {"accessType": "blocked", "targets": [{"target": "AllUsers", "targetType": "user"}]},
             "applications": {"accessType": "blocked",
                              "targets": [{"target": "AllApplications", "targetType": "application"}]}}
MFA_FOR_GUESTS = {
    "conditions": {"users": {"includeGuestsOrExternalUsers": {
        "guestOrExternalUserTypes": "b2bCollaborationGuest", "externalTenants": {"membershipKind": "all"}}},
        "applications": {"includeApplications": ["All"]}},
    "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
}


def _error_of(html: str, field: str) -> str:
    match = re.search(rf'id="{field}-error">([^<]+)<', html)
    assert match, f"no error shown for {field}"
    return match.group(1)


def test_default_settings_are_edited_as_json_and_reset(security_admin: FlaskClient, database: Database,
                                                       contoso: Tenant) -> None:
    page = security_admin.get(CTA)
    assert page.status_code == 200
    assert '<label for="document">Configuration (JSON)</label>' in page.text
    assert "&#34;isServiceDefault&#34;: true" in page.text
    saved = post_form(security_admin, CTA, {"document": json.dumps({"inboundTrust": {"isMfaAccepted": True}})},
                      follow_redirects=True)
    assert "The default cross-tenant access settings were saved." in saved.text
    with database.sessionmaker() as s:
        assert policy_store.cross_tenant_default(s, contoso).to_graph()["inboundTrust"]["isMfaAccepted"] is True
    reset = post_form(security_admin, CTA, {}, url=f"{CTA}/reset", follow_redirects=True)
    assert "reset to the system default" in reset.text
    with database.sessionmaker() as s:
        assert policy_store.cross_tenant_default(s, contoso).to_graph()["isServiceDefault"] is True
        assert s.query(AuditEvent).filter_by(activity="Reset cross-tenant access default",
                                             actor="sam@contoso.com").count() == 1


def test_invalid_default_is_refused_naming_the_field(security_admin: FlaskClient, database: Database) -> None:
    not_json = post_form(security_admin, CTA, {"document": "{not json"})
    assert not_json.status_code == 400 and "document is not valid JSON" in _error_of(not_json.text, "document")
    assert "{not json</textarea>" in not_json.text
    bad = post_form(security_admin, CTA, {"document": json.dumps(
        {"b2bCollaborationInbound": {"usersAndGroups": {"accessType": "sometimes"}}})})
    assert bad.status_code == 400 and "accessType" in _error_of(bad.text, "document")
    inconsistent = post_form(security_admin, CTA, {"document": json.dumps(
        {"automaticUserConsentSettings": {"inboundAllowed": True}})})
    assert inconsistent.status_code == 400
    assert "automaticUserConsentSettings" in _error_of(inconsistent.text, "document")
    with database.sessionmaker() as s:
        assert s.query(PolicyDocument).count() == 0


def test_partner_add_edit_delete(security_admin: FlaskClient, database: Database, contoso: Tenant,
                                 fabrikam: Tenant) -> None:
    new = security_admin.get(f"{CTA}/partners/new")
    assert '<label for="tenant_id">Partner tenant ID</label>' in new.text
    assert '<label for="document">Partner configuration (JSON)</label>' in new.text
    added = post_form(security_admin, f"{CTA}/partners/new", {
        "tenant_id": fabrikam.id, "document": json.dumps({"b2bCollaborationInbound": BLOCK_ALL})})
    assert added.headers["Location"] == f"{CTA}/partner?id={fabrikam.id}"
    listing = security_admin.get(CTA).text
    assert f">{fabrikam.id}</a>" in listing and "<td>Customized</td>" in listing
    duplicate = post_form(security_admin, f"{CTA}/partners/new", {"tenant_id": fabrikam.id, "document": "{}"})
    assert duplicate.status_code == 409 and "already exists" in _error_of(duplicate.text, "tenant_id")
    missing_id = post_form(security_admin, f"{CTA}/partners/new", {"tenant_id": "", "document": "{}"})
    assert missing_id.status_code == 400 and "tenantId" in _error_of(missing_id.text, "tenant_id")

    edit_url = f"{CTA}/partner?id={fabrikam.id}"
    assert post_form(security_admin, edit_url, {"document": json.dumps(
        {"b2bCollaborationInbound": None, "inboundTrust": {"isMfaAccepted": True}})}).status_code == 302
    with database.sessionmaker() as s:
        partner = policy_store.get_cross_tenant_partner(s, contoso, fabrikam.id).to_graph()
        assert partner["b2bCollaborationInbound"] is None and partner["inboundTrust"]["isMfaAccepted"] is True
    deleted = post_form(security_admin, edit_url, {}, url=f"{CTA}/partner/delete?id={fabrikam.id}")
    assert deleted.headers["Location"] == CTA
    assert security_admin.get(edit_url).status_code == 404
    with database.sessionmaker() as s:
        assert policy_store.list_cross_tenant_partners(s, contoso) == []


def test_conditional_access_create_edit_states_delete(security_admin: FlaskClient, database: Database,
                                                      contoso: Tenant) -> None:
    new = security_admin.get(f"{CA}/new")
    for name, label in (("display_name", "Name"), ("state", "State"), ("document", "Policy (JSON)")):
        assert f'<label for="{name}">{label}</label>' in new.text
    created = post_form(security_admin, f"{CA}/new", {"display_name": "MFA for guests", "state": "enabled",
                                                      "document": json.dumps(MFA_FOR_GUESTS)})
    assert created.status_code == 302, created.text
    policy_id = created.headers["Location"].rsplit("/", 1)[1]
    listing = security_admin.get(CA).text
    assert ">MFA for guests</a>" in listing and "<td>enabled</td>" in listing and "<td>mfa</td>" in listing
    for state in ("enabledForReportingButNotEnforced", "disabled"):
        page = security_admin.get(f"{CA}/{policy_id}")
        assert f'<option selected value="{"enabled" if state != "disabled" else "enabledForReportingButNotEnforced"}"' \
            in page.text
        response = security_admin.post(f"{CA}/{policy_id}", data={
            "csrf_token": csrf_token(page.text), "display_name": "MFA for guests", "state": state,
            "document": re.search(r'<textarea[^>]*id="document"[^>]*>\n?(.*?)</textarea>', page.text, re.S).group(1)
            .replace("&#34;", '"')})
        assert response.status_code == 302, response.text
        with database.sessionmaker() as s:
            [stored] = policy_store.conditional_access_policies(s, contoso)
            assert stored.state == state and stored.display_name == "MFA for guests"
    deleted = post_form(security_admin, f"{CA}/{policy_id}", {}, url=f"{CA}/{policy_id}/delete")
    assert deleted.headers["Location"] == CA
    with database.sessionmaker() as s:
        assert policy_store.list_conditional_access(s, contoso) == []


def test_conditional_access_refusals_name_the_field(security_admin: FlaskClient, database: Database) -> None:
    bad_control = post_form(security_admin, f"{CA}/new", {"display_name": "x", "state": "enabled",
                                                          "document": json.dumps(MFA_FOR_GUESTS | {"grantControls": {
                                                              "operator": "XOR", "builtInControls": ["mfa"]}})})
    assert bad_control.status_code == 400 and "grantControls.operator" in _error_of(bad_control.text, "document")
    bad_state = post_form(security_admin, f"{CA}/new", {"display_name": "x", "state": "sometimes",
                                                        "document": json.dumps(MFA_FOR_GUESTS)})
    assert bad_state.status_code == 400 and _error_of(bad_state.text, "state")
    no_name = post_form(security_admin, f"{CA}/new", {"display_name": "", "state": "enabled",
                                                      "document": json.dumps(MFA_FOR_GUESTS)})
    assert no_name.status_code == 400 and _error_of(no_name.text, "display_name")
    with database.sessionmaker() as s:
        assert s.query(PolicyDocument).count() == 0


def test_policy_pages_need_a_security_or_global_administrator(user_admin: FlaskClient, global_admin: FlaskClient,
                                                              database: Database) -> None:
    for path in (CTA, f"{CTA}/partners/new", CA, f"{CA}/new"):
        assert user_admin.get(path).status_code == 403, path
        assert global_admin.get(path).status_code == 200, path
    token = csrf_token(user_admin.get("/contoso/admin/users").text)
    assert user_admin.post(f"{CTA}/reset", data={"csrf_token": token}).status_code == 403
    assert user_admin.post(f"{CA}/new", data={"csrf_token": token, "display_name": "x", "state": "enabled",
                                              "document": json.dumps(MFA_FOR_GUESTS)}).status_code == 403
    with database.sessionmaker() as s:
        assert s.query(PolicyDocument).count() == 0
