"""Invitee-facing pages that need no sign-in: "Block future invitations"."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SubmitField

from idp.errors import ValidationError
from idp.i18n import translated_pages
from idp.invitations import service
from idp.invitations.links import read_block_token
from idp.runtime import request_db, runtime
from idp.tenancy import current_tenant, tenant_blueprint

blueprint = translated_pages(
    tenant_blueprint("invitation_pages", __name__, error_format="html", url_prefix="/invitations"))


class BlockForm(FlaskForm):
    token = HiddenField()
    submit = SubmitField(_l("Block future invitations"))


@blueprint.route("/block", methods=["GET", "POST"])
def block() -> tuple[str, int] | str:
    tenant = current_tenant()
    form = BlockForm(token=request.args.get("token", ""))
    try:
        email = read_block_token(runtime().settings.secret_key, tenant.id, form.token.data or "")
    except ValidationError:
        message = gettext("This link is not valid. Use the link from the invitation mail you received.")
        return render_template("error.html", title=gettext("Link not valid"), message=message), 400
    if request.method == "POST":
        if not form.validate_on_submit():
            message = gettext("The form expired. Open the link from the mail again.")
            return render_template("error.html", title=gettext("Please try again"), message=message), 400
        db = request_db()
        service.block_future_invitations(db, tenant, email)
        db.commit()
        return render_template("invitations/blocked.html", tenant=tenant, email=email)
    return render_template("invitations/block.html", tenant=tenant, email=email, form=form)
