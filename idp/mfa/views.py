"""MFA pages under ``/{tenant}/mfa``: enrolment (QR code, manual key, ``Code``, recovery codes) and verification.

The pages serve only the user a sign-in journey handed over with :func:`idp.mfa.step.start`."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

from idp.db import scoped, utcnow
from idp.i18n import N_, localize, translated_pages
from idp.mfa import service, step
from idp.models import Tenant, User
from idp.runtime import request_db, runtime
from idp.tenancy import current_tenant, tenant_blueprint

blueprint = translated_pages(tenant_blueprint("mfa", __name__, error_format="html", url_prefix="/mfa"))
EXPIRED = N_("This sign-in has expired or was not started here. Go back to the application and sign in again.")


class CodeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(message=_l("Enter the code.")), Length(max=32)])
    submit = SubmitField(_l("Verify"))


def _expired() -> tuple[str, int]:
    return render_template("error.html", title=gettext("Sign-in expired"), message=gettext(EXPIRED)), 400


def _handoff_user(tenant: Tenant) -> tuple[dict, User] | None:
    data = step.handoff(tenant)
    if data is None:
        return None
    user = request_db().scalar(scoped(User, tenant.id).where(User.id == data["user"]))
    if user is None or not user.account_enabled:
        return None
    return data, user


@blueprint.get("")
def challenge() -> Response | tuple[str, int]:
    tenant = current_tenant()
    found = _handoff_user(tenant)
    if found is None:
        return _expired()
    enrolled = service.is_enrolled(request_db(), tenant, found[1])
    return redirect(url_for("mfa.verify" if enrolled else "mfa.enrol"))


@blueprint.route("/enrol", methods=["GET", "POST"])
def enrol() -> Response | tuple[str, int] | str:
    tenant = current_tenant()
    found = _handoff_user(tenant)
    if found is None:
        return _expired()
    _data, user = found
    db, secret_key = request_db(), runtime().settings.secret_key
    if service.is_enrolled(db, tenant, user):
        return redirect(url_for("mfa.verify"))
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        result, codes = service.confirm_enrolment(db, tenant, user, form.code.data, secret_key=secret_key,
                                                  now=utcnow())
        db.commit()
        if result.ok:
            next_url = step.mark_done(tenant, "totp")
            return render_template("mfa/recovery_codes.html", tenant=tenant, codes=codes, next_url=next_url)
        error = localize(result.text)
    enrolment = service.begin_enrolment(db, tenant, user, secret_key=secret_key)
    db.commit()
    status = 400 if error or form.errors else 200
    return render_template("mfa/enrol.html", tenant=tenant, form=form, enrolment=enrolment, error=error,
                           account=service.account_name(user)), status


@blueprint.route("/verify", methods=["GET", "POST"])
def verify() -> Response | tuple[str, int] | str:
    tenant = current_tenant()
    found = _handoff_user(tenant)
    if found is None:
        return _expired()
    _data, user = found
    db = request_db()
    if not service.is_enrolled(db, tenant, user):
        return redirect(url_for("mfa.enrol"))
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        result = service.verify(db, tenant, user, form.code.data, secret_key=runtime().settings.secret_key,
                                now=utcnow())
        db.commit()
        if result.ok:
            return redirect(step.mark_done(tenant, result.method or "totp"))
        error = localize(result.text)
    status = 400 if error or form.errors else 200
    return render_template("mfa/verify.html", tenant=tenant, form=form, error=error), status
