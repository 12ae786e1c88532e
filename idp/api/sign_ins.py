"""``{issuer}/api/v1/auditLogs/signIns``: the sign-in log, Graph-shaped (``$top``, ``$filter`` on ``userId``,
``userPrincipalName``, ``appId`` and ``outcome``)."""

from __future__ import annotations

from flask import request

from idp import signin_log
from idp.api import blueprint
from idp.api.auth import authenticate
from idp.runtime import request_db
from idp.tenancy import current_tenant, issuer

READ_SCOPES = ("AuditLog.Read.All",)


@blueprint.get("/auditLogs/signIns")
def list_sign_ins() -> dict:
    authenticate(request_db(), current_tenant(), issuer(), READ_SCOPES)
    query = signin_log.parse_query(request.args.get("$top"), request.args.get("$filter"))
    entries = signin_log.list_sign_ins(request_db(), current_tenant(), query)
    return {"value": [signin_log.to_graph(entry) for entry in entries]}
