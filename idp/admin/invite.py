"""``Invite external user`` and bulk invitation by CSV upload, over ``idp.invitations``."""

from __future__ import annotations

import base64

from flask import request
from werkzeug.wrappers import Response

from idp.admin.auth import INVITERS, current_admin
from idp.admin.forms import BulkInviteForm, InviteForm
from idp.admin.pages import attempt, blueprint, page, refused
from idp.errors import DomainError
from idp.invitations import bulk, service
from idp.invitations.model import InvitationRequest, MessageInfo
from idp.runtime import request_db, runtime
from idp.tenancy import current_tenant, issuer

INVITE_FIELDS = {
    "invitedUserEmailAddress": "email",
    "inviteRedirectUrl": "redirect_url",
    "invitedUserDisplayName": "display_name",
    "invitedUserMessageInfo.customizedMessageBody": "custom_message",
    "invitedUserMessageInfo.messageLanguage": "language",
}


@blueprint.route("/invite", methods=["GET", "POST"])
def invite() -> tuple[str, int] | Response:
    admin = current_admin(INVITERS)
    form = InviteForm()
    if not form.validate_on_submit():
        return page("admin/invite.html", 400 if request.method == "POST" else 200, form=form)
    db, settings = request_db(), runtime().settings
    invitation = InvitationRequest(
        invited_user_email_address=form.email.data,
        invite_redirect_url=form.redirect_url.data,
        invited_user_display_name=form.display_name.data or None,
        send_invitation_message=form.send_message.data,
        message_info=MessageInfo(message_language=form.language.data or None,
                                 customized_message_body=form.custom_message.data or None),
    )
    result = attempt(lambda: service.invite(db, current_tenant(), invitation, admin.inviter, issuer=issuer(),
                                            env=settings.env, secret_key=settings.secret_key), form, INVITE_FIELDS)
    if isinstance(result, DomainError):
        return refused("admin/invite.html", result, form=form)
    return page("admin/invite.html", form=InviteForm(formdata=None), result=result)


@blueprint.route("/invite/bulk", methods=["GET", "POST"])
def bulk_invite() -> tuple[str, int]:
    admin = current_admin(INVITERS)
    form = BulkInviteForm()
    if not form.validate_on_submit():
        return page("admin/bulk.html", 400 if request.method == "POST" else 200, form=form, columns=_columns())
    db, tenant, settings = request_db(), current_tenant(), runtime().settings
    results = attempt(lambda: bulk.bulk_invite(
        db, tenant, bulk.parse_csv(form.file.data.read(bulk.MAX_BYTES + 1)), admin.inviter, issuer=issuer(),
        env=settings.env, secret_key=settings.secret_key, default_redirect_url=form.default_redirect_url.data or None,
    ), form, {"file": "file"})
    if isinstance(results, DomainError):
        return refused("admin/bulk.html", results, form=form, columns=_columns())
    download = "data:text/csv;charset=utf-8;base64," + base64.b64encode(
        bulk.results_csv(results).encode()).decode()
    counts = {status: sum(1 for r in results if r.status == status)
              for status in ("invited", "reinvited", "failed", "duplicate")}
    return page("admin/bulk.html", form=BulkInviteForm(formdata=None), results=results, download=download,
                counts=counts, columns=_columns())


def _columns() -> list[str]:
    return ["email", "display name", "redirect URL", "send message", "custom message"]
