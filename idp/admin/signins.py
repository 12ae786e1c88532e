"""Admin center: the sign-in log (issue 7) and resetting a user's MFA."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response

from idp import signin_log
from idp.admin.auth import GLOBAL_ADMINISTRATOR, USER_ADMINISTRATORS, current_admin
from idp.admin.pages import blueprint, page, require_confirmation
from idp.directory import users
from idp.mfa import service as mfa
from idp.runtime import request_db
from idp.tenancy import current_tenant

LOG_READERS = frozenset({GLOBAL_ADMINISTRATOR, "Security Administrator", "User Administrator"})


@blueprint.get("/sign-ins", endpoint="sign_ins")
def sign_ins() -> tuple[str, int]:
    current_admin(LOG_READERS)
    outcome = request.args.get("outcome") or None
    who = (request.args.get("user") or "").strip()
    clauses = []
    if outcome:
        clauses.append(f"outcome eq '{outcome}'")
    if who:
        clauses.append("userPrincipalName eq '" + who.replace("'", "''") + "'")
    query = signin_log.parse_query(request.args.get("top"), " and ".join(clauses) or None)
    entries = [signin_log.to_graph(e) for e in signin_log.list_sign_ins(request_db(), current_tenant(), query)]
    return page("admin/sign_ins.html", entries=entries, outcome=outcome or "", who=who,
                outcomes=signin_log.OUTCOMES)


@blueprint.post("/users/<user_id>/reset-mfa")
def reset_mfa(user_id: str) -> Response:
    admin = current_admin(USER_ADMINISTRATORS)
    require_confirmation()
    db, tenant = request_db(), current_tenant()
    user = users.get_user(db, tenant, user_id)
    removed = mfa.reset(db, tenant, user, actor=admin.user.user_principal_name)
    db.commit()
    flash("The user's authenticator app and recovery codes were removed; they enrol again at the next sign-in "
          "that needs MFA." if removed else "The user had no authenticator app.", "status")
    return redirect(url_for("admin.user_detail", user_id=user_id))
