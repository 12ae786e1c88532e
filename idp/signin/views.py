"""The member sign-in page: ``/{tenant}/login`` (labels ``Email address``, ``Password``; button ``Sign in``)."""

from __future__ import annotations

import time

from flask import redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import EmailField, HiddenField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Length

from idp import audit
from idp.oidc import pending, store
from idp.oidc.sso import set_cookie
from idp.runtime import request_db
from idp.signin.return_to import safe_return_path
from idp.signin.service import authenticate_member
from idp.signin.steps import PASSWORD_ROUTE, choose_route
from idp.tenancy import current_tenant, tenant_blueprint

blueprint = tenant_blueprint("signin", __name__, error_format="html")
SUPPORTED_LOCALES = ("en",)


class SignInForm(FlaskForm):
    request_id = HiddenField()
    next = HiddenField()  # a page of this tenant to return to (the admin center sends people here)
    email = EmailField("Email address", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    submit = SubmitField("Sign in")


def _locale(params: dict[str, list[str]] | None) -> str:
    for tag in ((params or {}).get("ui_locales", [""])[0] or "").split():
        if tag.split("-")[0].lower() in SUPPORTED_LOCALES:
            return tag.split("-")[0].lower()
    return "en"


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int] | str:
    tenant = current_tenant()
    form = SignInForm()
    request_id = form.request_id.data or request.args.get("request")
    waiting = pending.load(request_id)
    params = waiting["params"] if waiting else None
    if request.method == "GET":
        form.request_id.data = request_id if waiting else ""
        form.next.data = safe_return_path(request.args.get("next"), tenant) or ""
        hint = (params or {}).get("login_hint", [""])[0]
        if hint:
            form.email.data = hint
    error = None
    if form.validate_on_submit():
        db = request_db()
        route = choose_route(db, tenant, form.email.data)
        if route.name != PASSWORD_ROUTE and route.endpoint:
            return redirect(url_for(route.endpoint, request=request_id or "", email=form.email.data))
        user = authenticate_member(db, tenant, form.email.data, form.password.data)
        if user is not None:
            cookie, _ = store.start_session(db, tenant, user.id, amr=["pwd"], auth_time=int(time.time()))
            audit.record(db, tenant_id=tenant.id, actor=user.id, activity="Sign-in", target_type="user",
                         target_id=user.id, details={"method": "password"})
            db.commit()
            target = (url_for("oidc_pages.authorize", resume=request_id) if waiting
                      else safe_return_path(form.next.data, tenant) or url_for("tenant_pages.landing"))
            response = redirect(target)
            set_cookie(response, tenant, cookie)
            return response
        error = "The email address or password is incorrect."
    status = 200 if error is None and not form.errors else 400 if request.method == "POST" else 200
    return render_template("signin/login.html", form=form, tenant=tenant, error=error,
                           lang=_locale(params)), status
