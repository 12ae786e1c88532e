"""The admin blueprint (``{issuer}/admin``) and what its views share: sign-in redirect, error pages, JSON fields,
and turning a service's refusal into a message that names the field or setting."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import abort, g, redirect, render_template, url_for
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from werkzeug.wrappers import Response

from idp.admin.auth import (
    ANY_ADMIN,
    INVITERS,
    USER_ADMINISTRATORS,
    SignInRequired,
    current_admin,
    policy_editors,
    return_path,
)
from idp.admin.forms import ConfirmForm
from idp.errors import Conflict, DomainError, Forbidden, NotFound, ValidationError
from idp.runtime import request_db
from idp.tenancy import current_tenant, tenant_blueprint

T = TypeVar("T")
blueprint = tenant_blueprint("admin", __name__, error_format="html", url_prefix="/admin")

STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (ValidationError, 400), (Forbidden, 403), (NotFound, 404), (Conflict, 409),
)


def status_of(exc: DomainError) -> int:
    return next((status for kind, status in STATUS if isinstance(exc, kind)), 400)


def describe(exc: DomainError) -> str:
    """The service's message, naming the field or setting when the message does not already."""
    if exc.field and exc.field not in exc.message:
        return f"{exc.field}: {exc.message}"
    return exc.message


def attach(form: FlaskForm, exc: DomainError, fields: Mapping[str, str]) -> None:
    """Show a service error next to the form field it concerns (``fields``: service field prefix -> form field)."""
    for prefix, name in fields.items():
        if exc.field and (exc.field == prefix or exc.field.startswith(prefix)):
            getattr(form, name).errors = [*getattr(form, name).errors, describe(exc)]
            return


def attempt(change: Callable[[], T], form: FlaskForm, fields: Mapping[str, str]) -> T | DomainError:
    """Run a service change in this request's transaction and commit it. A refusal rolls everything back (nothing
    half-written), is shown next to the form field it concerns, and is returned for :func:`refused`."""
    db = request_db()
    try:
        result = change()
        db.commit()
    except DomainError as exc:
        db.rollback()
        attach(form, exc, fields)
        return exc
    return result


def refused(template: str, exc: DomainError, **context: Any) -> tuple[str, int]:
    """The form page again, with the refusal as an alert and the status that fits it."""
    return page(template, status_of(exc), error=describe(exc), **context)


def parse_json(text: str | None, field: str) -> Any:
    try:
        return json.loads(text or "")
    except ValueError as exc:
        raise ValidationError(f"{field} is not valid JSON: {exc}", field=field) from None


def pretty(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=False)


def require_confirmation() -> None:
    """A state-changing button: its CSRF token must be valid."""
    if not ConfirmForm().validate_on_submit():
        abort(400, description="The form expired or did not come from this site (CSRF check failed). "
                               "Go back, reload the page and try again.")


def page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(template, tenant=current_tenant(), **context), status


@blueprint.errorhandler(SignInRequired)
def _sign_in(_exc: SignInRequired) -> Response:
    return redirect(url_for("signin.login", next=return_path()))


@blueprint.errorhandler(DomainError)
def _refused(exc: DomainError) -> tuple[str, int]:
    request_db().rollback()  # nothing half-written
    return page("error.html", status_of(exc), title="The change was refused", message=describe(exc))


@blueprint.context_processor
def _navigation() -> dict[str, Any]:
    admin = g.get("admin")
    held = admin.roles if admin is not None else frozenset()
    return {
        "admin": admin,
        "csrf_header_token": generate_csrf,  # for scripts calling the JSON API with the session (X-CSRF-Token)
        "may_manage_users": bool(held & USER_ADMINISTRATORS),
        "may_invite": bool(held & INVITERS),
        "may_edit_collaboration": bool(held & policy_editors("authorizationPolicy")),
        "may_edit_access": bool(held & policy_editors("crossTenantAccessPolicy")),
        "may_edit_conditional_access": bool(held & policy_editors("conditionalAccessPolicies")),
        "may_read_sign_ins": bool(held & {"Global Administrator", "Security Administrator", "User Administrator"}),
    }


@blueprint.get("/")
def home() -> Response:
    admin = current_admin(ANY_ADMIN)
    if admin.holds(USER_ADMINISTRATORS):
        return redirect(url_for("admin.users"))
    if admin.holds(INVITERS):
        return redirect(url_for("admin.invite"))
    if admin.holds(policy_editors("crossTenantAccessPolicy")):
        return redirect(url_for("admin.cross_tenant"))
    return redirect(url_for("admin.conditional_access"))


from idp.admin import access as _access  # noqa: E402,F401  (registers the routes)
from idp.admin import collaboration as _collaboration  # noqa: E402,F401
from idp.admin import invite as _invite  # noqa: E402,F401
from idp.admin import signins as _signins  # noqa: E402,F401
from idp.admin import users as _users  # noqa: E402,F401
