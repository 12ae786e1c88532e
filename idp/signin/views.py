"""The member sign-in page: ``/{tenant}/login`` (labels ``Email address``, ``Password``; button ``Sign in``)."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from idp.i18n import N_, translated_pages
from idp.oidc import pending
from idp.runtime import request_db
from idp.signin import engine
from idp.signin.return_to import safe_return_path
from idp.signin.service import authenticate_member
from idp.signin.steps import PASSWORD_ROUTE, choose_route
from idp.tenancy import current_tenant, tenant_blueprint

blueprint = translated_pages(tenant_blueprint("signin", __name__, error_format="html"))

WRONG_PASSWORD = N_("The email address or password is incorrect.")


class SignInForm(FlaskForm):
    request_id = HiddenField()
    return_to = HiddenField()  # a page of this tenant to return to (`?next=`; the admin center sends people here)
    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=320)])
    password = PasswordField(_l("Password"), validators=[Optional(), Length(max=1024)])
    next = SubmitField(_l("Next"))
    submit = SubmitField(_l("Sign in"))


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    tenant = current_tenant()
    form = SignInForm()
    request_id = form.request_id.data or request.args.get("request")
    waiting = pending.load(request_id)
    params = waiting["params"] if waiting else None
    stage = "identify"
    db = request_db()
    if request.method == "GET":
        form.request_id.data = request_id if waiting else ""
        form.return_to.data = safe_return_path(request.args.get("next"), tenant) or ""
        # login_hint pre-fills the address, unless the user asked for another account (prompt=select_account)
        hint = "" if (waiting or {}).get("empty_login_form") else (params or {}).get("login_hint", [""])[0]
        if hint:
            form.email.data = hint
        if hint and "@" in hint and len(hint) <= 320:  # login_hint pre-fills the address and starts discovery
            route = choose_route(db, tenant, hint)
            if route.name != PASSWORD_ROUTE and route.endpoint:
                engine.begin(hint, request_id=request_id if waiting else None,
                             return_to=safe_return_path(request.args.get("next"), tenant))
                return redirect(url_for(route.endpoint))
            stage = "password"
    error = None
    if form.validate_on_submit():
        route = choose_route(db, tenant, form.email.data)
        if route.name != PASSWORD_ROUTE and route.endpoint:
            engine.begin(form.email.data, request_id=request_id if waiting else None,
                         return_to=safe_return_path(form.return_to.data, tenant))
            return redirect(url_for(route.endpoint))
        stage = "password"
        if form.password.data:
            user = authenticate_member(db, tenant, form.email.data, form.password.data)
            if user is not None:  # members walk the same steps (policy, ...) as guests
                engine.begin(form.email.data, request_id=request_id if waiting else None,
                         return_to=safe_return_path(form.return_to.data, tenant))
                return engine.authenticated(user, amr=["pwd"], identity={})
            error = gettext(WRONG_PASSWORD)
            engine.log_failure(WRONG_PASSWORD, typed_name=form.email.data[:320],
                               request_id=request_id if waiting else None)
        elif not form.next.data:
            form.password.errors = [gettext("Enter your password.")]
    elif request.method == "POST" and form.email.data and not form.email.errors:
        stage = "password"
    status = 200 if error is None and not form.errors else 400 if request.method == "POST" else 200
    return render_template("signin/login.html", form=form, tenant=tenant, error=error, stage=stage), status
