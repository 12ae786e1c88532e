"""scim2-tester's conformance checks against the running SCIM endpoint (in-process WSGI), discovered as any
client would discover it (``/ServiceProviderConfig``, ``/ResourceTypes``, ``/Schemas``): every check passes.

The PATCH checks treat each extension as one read-write attribute too: they add and replace the Portico guest
extension with a value naming its writable attribute (``showInAddressList``) and expect to read exactly that
back, and they remove it and expect it unassigned. Portico's read-only record of the invitation is returned only
on request, so the default representation is what the client wrote (scim/README.md, "Portico guest extension").
"""

from __future__ import annotations

from flask import Flask
from scim2_client.engines.wsgi import WSGISCIMClient
from scim2_tester import CheckResult, Status, check_server
from scim_support import ENTERPRISE, GUEST, access_token

from idp.models import Tenant
from idp.runtime import runtime

PASSED = (Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE)
PATCH_CHECKS = ("check_add_attribute", "check_replace_attribute", "check_remove_attribute")


def _run(app: Flask, tenant: Tenant) -> list[CheckResult]:
    token = access_token(app, tenant, ["scim.read", "scim.write"])
    base_url = f"{runtime(app).settings.issuer_for(tenant.slug)}/scim/v2"
    client = WSGISCIMClient(app, base_url=base_url, headers={"Authorization": f"Bearer {token}"})
    return check_server(client)


def _patched(results: list[CheckResult], title: str, resource_type: str) -> set[str]:
    return {r.data["urn"] for r in results
            if r.title == title and r.resource_type == resource_type and r.status in PASSED}


def test_scim2_tester_passes_every_check(app: Flask, contoso: Tenant) -> None:
    results = _run(app, contoso)
    failed = [(r.title, r.resource_type, r.status.name, r.reason) for r in results if r.status not in PASSED]
    assert failed == []
    assert len(results) >= 130

    titles = {r.title for r in results}
    assert {"object_creation", "object_query", "object_replacement", "object_deletion", "search_with_attributes",
            "query_all_schemas", "query_all_resource_types", "random_url", *PATCH_CHECKS} <= titles
    # The PATCH checks really ran over the attributes (a silently skipped check would not list them), the
    # extensions as a whole included.
    user_optional = {"displayName", "name", "emails", "title", "externalId", f"{ENTERPRISE}:employeeNumber",
                     f"{ENTERPRISE}:manager", ENTERPRISE, GUEST, f"{GUEST}:showInAddressList"}
    for title in PATCH_CHECKS:
        assert user_optional <= _patched(results, title, "User"), title
        assert {"externalId", "members"} <= _patched(results, title, "Group")
    assert {"userName", "userType", "active"} <= _patched(results, "check_replace_attribute", "User")
    assert "displayName" in _patched(results, "check_replace_attribute", "Group")
    # userType and active are required (every directory user has them): never removed, always replaceable.
    assert not {"userType", "active"} & _patched(results, "check_remove_attribute", "User")
    # Portico's read-only record is no PATCH target.
    assert not any(urn.startswith(f"{GUEST}:") and urn != f"{GUEST}:showInAddressList"
                   for title in PATCH_CHECKS for urn in _patched(results, title, "User"))
