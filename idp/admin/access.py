"""Cross-tenant access settings (§5: default, partners, resetToSystemDefault) and conditional access (§8),
through ``idp.policy_store``. The Graph JSON of a configuration is edited in a labelled textarea."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response

from idp import policy_store
from idp.admin.auth import current_admin, policy_editors
from idp.admin.forms import ConditionalAccessForm, ConfirmForm, JsonDocumentForm, PartnerForm
from idp.admin.pages import attempt, blueprint, page, parse_json, pretty, refused, require_confirmation
from idp.db import utcnow
from idp.errors import DomainError, ValidationError
from idp.runtime import request_db
from idp.tenancy import current_tenant

CROSS_TENANT = policy_editors("crossTenantAccessPolicy")
CONDITIONAL_ACCESS = policy_editors("conditionalAccessPolicies")
NEW_PARTNER = {"tenantId": "", "b2bCollaborationInbound": None, "b2bCollaborationOutbound": None,
               "inboundTrust": None, "automaticUserConsentSettings": None}
NEW_POLICY = {
    "conditions": {"users": {"includeGuestsOrExternalUsers": {
        "guestOrExternalUserTypes": "b2bCollaborationGuest", "externalTenants": {"membershipKind": "all"}}},
        "applications": {"includeApplications": ["All"]}},
    "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
}


def _object(text: str | None, field: str) -> dict[str, Any]:
    document = parse_json(text, field)
    if not isinstance(document, dict):
        raise ValidationError(f"{field} must be a JSON object", field=field)
    return document


# -- cross-tenant access: default -------------------------------------------------------------------------------
@blueprint.route("/cross-tenant-access", methods=["GET", "POST"])
def cross_tenant() -> tuple[str, int] | Response:
    admin = current_admin(CROSS_TENANT)
    db, tenant = request_db(), current_tenant()
    form = JsonDocumentForm()
    status = 200
    if form.validate_on_submit():
        outcome = attempt(lambda: policy_store.update_cross_tenant_default(
            db, tenant, _object(form.document.data, "document"), roles=admin.roles, actor=admin.actor),
            form, {"": "document"})
        if not isinstance(outcome, DomainError):
            flash("The default cross-tenant access settings were saved.", "status")
            return redirect(url_for("admin.cross_tenant"))
        return refused("admin/cross_tenant.html", outcome, form=form, confirm=ConfirmForm(),
                       partners=policy_store.list_cross_tenant_partners(db, tenant))
    if request.method == "GET":
        form.document.data = pretty(policy_store.cross_tenant_default(db, tenant).to_graph())
    else:
        status = 400
    return page("admin/cross_tenant.html", status, form=form, confirm=ConfirmForm(),
                partners=policy_store.list_cross_tenant_partners(db, tenant))


@blueprint.post("/cross-tenant-access/reset")
def cross_tenant_reset() -> Response:
    admin = current_admin(CROSS_TENANT)
    require_confirmation()
    db = request_db()
    policy_store.reset_cross_tenant_default(db, current_tenant(), roles=admin.roles, actor=admin.actor)
    db.commit()
    flash("The default settings were reset to the system default.", "status")
    return redirect(url_for("admin.cross_tenant"))


# -- cross-tenant access: partners ------------------------------------------------------------------------------
def _partner_document(form: PartnerForm) -> dict[str, Any]:
    document = _object(form.document.data or "{}", "document")
    if form.tenant_id.data:
        document["tenantId"] = form.tenant_id.data.strip()
    return document


def _partner_patch(form: PartnerForm) -> dict[str, Any]:
    document = _object(form.document.data or "{}", "document")
    document.pop("tenantId", None)  # the partner's identity is not editable
    return document


@blueprint.route("/cross-tenant-access/partners/new", methods=["GET", "POST"])
def partner_new() -> tuple[str, int] | Response:
    admin = current_admin(CROSS_TENANT)
    db, tenant = request_db(), current_tenant()
    form = PartnerForm()
    if request.method == "GET":
        form.document.data = pretty(NEW_PARTNER)
    elif form.validate_on_submit():
        created = attempt(lambda: policy_store.create_cross_tenant_partner(
            db, tenant, _partner_document(form), roles=admin.roles, actor=admin.actor),
            form, {"tenantId": "tenant_id", "": "document"})
        if isinstance(created, DomainError):
            return refused("admin/partner.html", created, form=form, partner=None)
        flash(f"Partner {created.tenant_id} was added.", "status")
        return redirect(url_for("admin.partner_edit", id=created.tenant_id))
    return page("admin/partner.html", 400 if form.errors else 200, form=form, partner=None)


@blueprint.route("/cross-tenant-access/partner", methods=["GET", "POST"])
def partner_edit() -> tuple[str, int] | Response:
    admin = current_admin(CROSS_TENANT)
    db, tenant = request_db(), current_tenant()
    partner_id = request.args.get("id", "")
    partner = policy_store.get_cross_tenant_partner(db, tenant, partner_id)
    form = PartnerForm()
    if request.method == "GET":
        form.document.data = pretty(partner.to_graph())
    elif form.validate_on_submit():
        outcome = attempt(lambda: policy_store.update_cross_tenant_partner(
            db, tenant, partner_id, _partner_patch(form), roles=admin.roles, actor=admin.actor), form, {"": "document"})
        if isinstance(outcome, DomainError):
            return refused("admin/partner.html", outcome, form=form, partner=partner, confirm=ConfirmForm())
        flash(f"Partner {partner_id} was saved.", "status")
        return redirect(url_for("admin.partner_edit", id=partner_id))
    return page("admin/partner.html", 400 if form.errors else 200, form=form, partner=partner,
                confirm=ConfirmForm())


@blueprint.post("/cross-tenant-access/partner/delete")
def partner_delete() -> Response:
    admin = current_admin(CROSS_TENANT)
    require_confirmation()
    db = request_db()
    partner_id = request.args.get("id", "")
    policy_store.delete_cross_tenant_partner(db, current_tenant(), partner_id, roles=admin.roles, actor=admin.actor)
    db.commit()
    flash(f"Partner {partner_id} was deleted.", "status")
    return redirect(url_for("admin.cross_tenant"))


# -- conditional access -----------------------------------------------------------------------------------------
@blueprint.get("/conditional-access")
def conditional_access() -> tuple[str, int]:
    current_admin(CONDITIONAL_ACCESS)
    return page("admin/conditional_access.html",
                policies=policy_store.list_conditional_access(request_db(), current_tenant()))


def _policy_document(form: ConditionalAccessForm) -> dict[str, Any]:
    document = _object(form.document.data, "document")
    for key in ("id", "createdDateTime", "modifiedDateTime"):
        document.pop(key, None)
    return document | {"displayName": form.display_name.data, "state": form.state.data}


CA_FIELDS = {"displayName": "display_name", "state": "state", "": "document"}


@blueprint.route("/conditional-access/new", methods=["GET", "POST"])
def ca_new() -> tuple[str, int] | Response:
    admin = current_admin(CONDITIONAL_ACCESS)
    db, tenant = request_db(), current_tenant()
    form = ConditionalAccessForm()
    if request.method == "GET":
        form.state.data = "enabledForReportingButNotEnforced"
        form.document.data = pretty(NEW_POLICY)
    elif form.validate_on_submit():
        now = utcnow().isoformat(timespec="seconds").replace("+00:00", "Z")
        created = attempt(lambda: policy_store.create_conditional_access(
            db, tenant, _policy_document(form), roles=admin.roles, actor=admin.actor, now_iso=now), form, CA_FIELDS)
        if isinstance(created, DomainError):
            return refused("admin/ca_policy.html", created, form=form, policy=None)
        flash(f"Policy {created['displayName']} was created.", "status")
        return redirect(url_for("admin.ca_edit", policy_id=created["id"]))
    return page("admin/ca_policy.html", 400 if form.errors else 200, form=form, policy=None)


@blueprint.route("/conditional-access/<policy_id>", methods=["GET", "POST"])
def ca_edit(policy_id: str) -> tuple[str, int] | Response:
    admin = current_admin(CONDITIONAL_ACCESS)
    db, tenant = request_db(), current_tenant()
    policy = policy_store.get_conditional_access(db, tenant, policy_id)
    form = ConditionalAccessForm()
    if request.method == "GET":
        form.display_name.data = policy["displayName"]
        form.state.data = policy["state"]
        form.document.data = pretty({k: v for k, v in policy.items()
                                     if k not in ("id", "displayName", "state", "createdDateTime",
                                                  "modifiedDateTime")})
    elif form.validate_on_submit():
        outcome = attempt(lambda: policy_store.update_conditional_access(
            db, tenant, policy_id, _policy_document(form), roles=admin.roles, actor=admin.actor), form, CA_FIELDS)
        if isinstance(outcome, DomainError):
            return refused("admin/ca_policy.html", outcome, form=form, policy=policy, confirm=ConfirmForm())
        flash(f"Policy {form.display_name.data} was saved.", "status")
        return redirect(url_for("admin.ca_edit", policy_id=policy_id))
    return page("admin/ca_policy.html", 400 if form.errors else 200, form=form, policy=policy,
                confirm=ConfirmForm())


@blueprint.post("/conditional-access/<policy_id>/delete")
def ca_delete(policy_id: str) -> Response:
    admin = current_admin(CONDITIONAL_ACCESS)
    require_confirmation()
    db = request_db()
    policy_store.delete_conditional_access(db, current_tenant(), policy_id, roles=admin.roles, actor=admin.actor)
    db.commit()
    flash("The policy was deleted.", "status")
    return redirect(url_for("admin.conditional_access"))
