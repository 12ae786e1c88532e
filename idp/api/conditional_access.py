"""``{issuer}/api/v1/identity/conditionalAccess/policies`` (the Graph path) for conditional access (§8)."""

from __future__ import annotations

from flask import request
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from idp import policy_store
from idp.api import blueprint
from idp.api.auth import authenticate
from idp.db import utcnow
from idp.runtime import request_db
from idp.tenancy import current_tenant, issuer

READ_SCOPES = ("Policy.Read.All", "Policy.ReadWrite.ConditionalAccess")
WRITE_SCOPES = ("Policy.ReadWrite.ConditionalAccess",)
BASE = "/identity/conditionalAccess/policies"


def _caller(scopes: tuple[str, ...]):  # type: ignore[no-untyped-def]
    caller = authenticate(request_db(), current_tenant(), issuer(), scopes)
    return caller, (None if caller.is_app_only else caller.roles)


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest()
    return body


@blueprint.get(BASE)
def list_ca_policies() -> dict:
    _caller(READ_SCOPES)
    return {"value": policy_store.list_conditional_access(request_db(), current_tenant())}


@blueprint.post(BASE)
def create_ca_policy() -> tuple[dict, int]:
    caller, roles = _caller(WRITE_SCOPES)
    now = utcnow().isoformat(timespec="seconds").replace("+00:00", "Z")
    created = policy_store.create_conditional_access(request_db(), current_tenant(), _body(), roles=roles,
                                                     actor=caller.actor, now_iso=now)
    request_db().commit()
    return created, 201


@blueprint.get(f"{BASE}/<policy_id>")
def get_ca_policy(policy_id: str) -> dict:
    _caller(READ_SCOPES)
    return policy_store.get_conditional_access(request_db(), current_tenant(), policy_id)


@blueprint.patch(f"{BASE}/<policy_id>")
def patch_ca_policy(policy_id: str) -> Response:
    caller, roles = _caller(WRITE_SCOPES)
    policy_store.update_conditional_access(request_db(), current_tenant(), policy_id, _body(), roles=roles,
                                           actor=caller.actor)
    request_db().commit()
    return Response(status=204)


@blueprint.delete(f"{BASE}/<policy_id>")
def delete_ca_policy(policy_id: str) -> Response:
    caller, roles = _caller(WRITE_SCOPES)
    policy_store.delete_conditional_access(request_db(), current_tenant(), policy_id, roles=roles,
                                           actor=caller.actor)
    request_db().commit()
    return Response(status=204)
