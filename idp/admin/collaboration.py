"""External collaboration settings (§6) through ``policy_store.update_external_collaboration``."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response

from idp import policy_store
from idp.admin.auth import ANY_ADMIN, current_admin
from idp.admin.forms import ExternalCollaborationForm
from idp.admin.pages import attempt, blueprint, page, refused
from idp.errors import DomainError
from idp.policy import ExternalCollaborationSettings
from idp.runtime import request_db
from idp.tenancy import current_tenant

FIELDS = {
    "allowInvitesFrom": "allow_invites_from",
    "guestUserRole": "guest_user_role",
    "b2bManagementPolicy": "domains",
    "emailOtpForGuests": "email_otp_for_guests",
    "allowExternalIdToUseEmailOtp": "email_otp_for_guests",
    "selfServiceSignUp": "self_service_sign_up",
    "allowExternalUsersToLeave": "allow_leave",
}
POLICY = "authorizationPolicy"  # the whole record is changed as the authorization policy (as the JSON API does)


def _fill(form: ExternalCollaborationForm, settings: ExternalCollaborationSettings) -> None:
    form.allow_invites_from.data = settings.allow_invites_from
    form.guest_user_role.data = settings.guest_user_role
    form.domain_mode.data = settings.domain_list.mode
    form.domains.data = "\n".join(settings.domain_list.domains)
    form.email_otp_for_guests.data = settings.email_otp_for_guests
    form.self_service_sign_up.data = settings.self_service_sign_up_enabled
    form.allow_leave.data = settings.allow_external_users_to_leave


def _patch(form: ExternalCollaborationForm, current: ExternalCollaborationSettings) -> dict:
    domains = [line.strip() for line in (form.domains.data or "").splitlines() if line.strip()]
    lists = {"allow": {"AllowedDomains": domains}, "deny": {"BlockedDomains": domains}}.get(form.domain_mode.data, {})
    patch: dict = {
        "allowInvitesFrom": form.allow_invites_from.data,
        "guestUserRole": form.guest_user_role.data,
        "b2bManagementPolicy": {"InvitationsAllowedAndBlockedDomainsPolicy": lists},
        "selfServiceSignUp": {"isEnabled": form.self_service_sign_up.data},
        "allowExternalUsersToLeave": form.allow_leave.data,
    }
    if form.email_otp_for_guests.data != current.email_otp_for_guests:  # keep "default" unless it is changed
        patch["emailOtpForGuests"] = form.email_otp_for_guests.data
    return patch


@blueprint.route("/external-collaboration", methods=["GET", "POST"])
def external_collaboration() -> tuple[str, int] | Response:
    admin = current_admin(ANY_ADMIN)  # reading is open to administrators; the service decides who may change
    db, tenant = request_db(), current_tenant()
    current = policy_store.external_collaboration(db, tenant)
    form = ExternalCollaborationForm()
    if request.method == "GET":
        _fill(form, current)
        return page("admin/collaboration.html", form=form)
    if not form.validate_on_submit():
        return page("admin/collaboration.html", 400, form=form)
    outcome = attempt(lambda: policy_store.update_external_collaboration(
        db, tenant, _patch(form, current), policy=POLICY, roles=admin.roles, actor=admin.actor), form, FIELDS)
    if isinstance(outcome, DomainError):
        return refused("admin/collaboration.html", outcome, form=form)
    flash("External collaboration settings saved.", "status")
    return redirect(url_for("admin.external_collaboration"))
