"""Users: members and guests with their invitation state; resend, reset redemption, disable, delete."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response

from idp.admin.auth import USER_ADMINISTRATORS, current_admin
from idp.admin.forms import ConfirmForm, ResetRedemptionForm, UserFilterForm
from idp.admin.pages import attempt, blueprint, page, refused, require_confirmation
from idp.directory import user_admin, users
from idp.directory.roles import roles_of
from idp.errors import Conflict, DomainError
from idp.invitations import service
from idp.invitations.model import InvitationRequest
from idp.runtime import request_db, runtime
from idp.tenancy import current_tenant, issuer

RESET_FIELDS = {"invitedUserEmailAddress": "email", "inviteRedirectUrl": "redirect_url"}


@blueprint.get("/users", endpoint="users")
def users_list() -> tuple[str, int]:
    current_admin(USER_ADMINISTRATORS)
    form = UserFilterForm(request.args)
    if not form.validate():
        return page("admin/users.html", 400, form=form, users=[])
    found = user_admin.search_users(request_db(), current_tenant(), user_type=form.type.data or None,
                                    state=form.state.data or None, text=form.q.data)
    return page("admin/users.html", form=form, users=found)


@blueprint.get("/users/<user_id>")
def user_detail(user_id: str) -> tuple[str, int]:
    admin = current_admin(USER_ADMINISTRATORS)
    db, tenant = request_db(), current_tenant()
    user = users.get_user(db, tenant, user_id)
    return page("admin/user.html", user=user, roles=sorted(roles_of(db, tenant, user)), confirm=ConfirmForm(),
                invitations=service.invitations_of(db, tenant, user.id), is_self=user.id == admin.user.id)


def _back(user_id: str) -> Response:
    return redirect(url_for("admin.user_detail", user_id=user_id))


@blueprint.post("/users/<user_id>/resend")
def resend(user_id: str) -> Response:
    admin = current_admin(USER_ADMINISTRATORS)
    require_confirmation()
    db, settings = request_db(), runtime().settings
    result = service.resend_invitation(db, current_tenant(), user_id, admin.inviter, issuer=issuer(),
                                       env=settings.env, secret_key=settings.secret_key)
    db.commit()
    flash(f"The invitation was sent again to {result.invitation.invited_user_email_address}. "
          f"Redeem URL: {result.redeem_url}", "status")
    for warning in result.warnings:
        flash(warning, "warning")
    return _back(user_id)


@blueprint.post("/users/<user_id>/disable")
def disable(user_id: str) -> Response:
    return _set_enabled(user_id, False)


@blueprint.post("/users/<user_id>/enable")
def enable(user_id: str) -> Response:
    return _set_enabled(user_id, True)


def _set_enabled(user_id: str, enabled: bool) -> Response:
    admin = current_admin(USER_ADMINISTRATORS)
    require_confirmation()
    db, tenant = request_db(), current_tenant()
    user = users.get_user(db, tenant, user_id)
    user_admin.set_account_enabled(db, tenant, user, enabled, actor=admin.actor, acting_user_id=admin.user.id)
    db.commit()
    flash(f"{user.user_principal_name} is {'enabled' if enabled else 'disabled'}.", "status")
    return _back(user_id)


@blueprint.post("/users/<user_id>/delete")
def delete(user_id: str) -> Response:
    admin = current_admin(USER_ADMINISTRATORS)
    require_confirmation()
    db, tenant = request_db(), current_tenant()
    user = users.get_user(db, tenant, user_id)
    upn = user.user_principal_name
    user_admin.delete_user(db, tenant, user, actor=admin.actor, acting_user_id=admin.user.id)
    db.commit()
    flash(f"{upn} was deleted.", "status")
    return redirect(url_for("admin.users"))


@blueprint.route("/users/<user_id>/reset-redemption", methods=["GET", "POST"])
def reset_redemption(user_id: str) -> tuple[str, int] | Response:
    admin = current_admin(USER_ADMINISTRATORS)
    db, tenant, settings = request_db(), current_tenant(), runtime().settings
    user = users.get_user(db, tenant, user_id)
    if user.id == admin.user.id:  # resetting discards the sign-in identity: it would lock the admin out
        raise Conflict("you cannot reset the redemption of your own account", field="user")
    form = ResetRedemptionForm()
    if request.method == "GET":
        last = service.latest_invitation(db, tenant, user.id)
        form.email.data = user.mail
        form.redirect_url.data = last.invite_redirect_url if last else None
    if form.validate_on_submit():
        result = attempt(lambda: service.invite(db, tenant, InvitationRequest(
            invited_user_email_address=form.email.data, invite_redirect_url=form.redirect_url.data,
            send_invitation_message=form.send_message.data, reset_redemption=True, invited_user_id=user.id,
        ), admin.inviter, issuer=issuer(), env=settings.env, secret_key=settings.secret_key), form, RESET_FIELDS)
        if isinstance(result, DomainError):
            return refused("admin/reset_redemption.html", result, form=form, user=user)
        flash(f"Redemption was reset; {user.user_principal_name} is pending acceptance again. "
              f"Redeem URL: {result.redeem_url}", "status")
        for warning in result.warnings:
            flash(warning, "warning")
        return _back(user_id)
    status = 400 if request.method == "POST" else 200
    return page("admin/reset_redemption.html", status, form=form, user=user)
