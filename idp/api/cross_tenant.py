"""``{issuer}/api/v1/policies/crossTenantAccessPolicy/...`` in the Graph shapes (§5.1): the singleton, the
default configuration (with ``resetToSystemDefault``) and partner configurations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import request
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from idp import policy_store
from idp.api import blueprint
from idp.api.auth import authenticate
from idp.invitations.model import Inviter
from idp.runtime import request_db
from idp.tenancy import current_tenant, issuer

READ_SCOPES = ("Policy.Read.All", "Policy.ReadWrite.CrossTenantAccess")
WRITE_SCOPES = ("Policy.ReadWrite.CrossTenantAccess",)
BASE = "/policies/crossTenantAccessPolicy"


def _read() -> None:
    authenticate(request_db(), current_tenant(), issuer(), READ_SCOPES)


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest()
    return body


def _write(change: Callable[[Inviter], object], status: int = 204) -> Response | tuple[dict, int]:
    caller = authenticate(request_db(), current_tenant(), issuer(), WRITE_SCOPES)
    result = change(caller)
    request_db().commit()
    if status == 204:
        return Response(status=204)
    return result, status  # type: ignore[return-value]


def _roles(caller: Inviter) -> frozenset[str] | None:
    return None if caller.is_app_only else caller.roles


@blueprint.get(BASE)
def get_cross_tenant_policy() -> dict:
    _read()
    policy = policy_store.cross_tenant_policy(request_db(), current_tenant())
    return {"id": "crossTenantAccessPolicy"} | policy.to_graph()


@blueprint.patch(BASE)
def patch_cross_tenant_policy() -> Response | tuple[dict, int]:
    body = _body()
    return _write(lambda c: policy_store.update_cross_tenant_policy(
        request_db(), current_tenant(), body, roles=_roles(c), actor=c.actor))


@blueprint.get(f"{BASE}/default")
def get_default() -> dict:
    _read()
    return policy_store.cross_tenant_default(request_db(), current_tenant()).to_graph()


@blueprint.patch(f"{BASE}/default")
def patch_default() -> Response | tuple[dict, int]:
    body = _body()
    return _write(lambda c: policy_store.update_cross_tenant_default(
        request_db(), current_tenant(), body, roles=_roles(c), actor=c.actor))


@blueprint.post(f"{BASE}/default/resetToSystemDefault")
def reset_default() -> Response | tuple[dict, int]:
    return _write(lambda c: policy_store.reset_cross_tenant_default(
        request_db(), current_tenant(), roles=_roles(c), actor=c.actor))


@blueprint.get(f"{BASE}/partners")
def list_partners() -> dict:
    _read()
    return {"value": [p.to_graph() for p in policy_store.list_cross_tenant_partners(request_db(), current_tenant())]}


@blueprint.post(f"{BASE}/partners")
def create_partner() -> Response | tuple[dict, int]:
    body = _body()
    return _write(lambda c: policy_store.create_cross_tenant_partner(
        request_db(), current_tenant(), body, roles=_roles(c), actor=c.actor).to_graph(), status=201)


@blueprint.get(f"{BASE}/partners/<partner_id>")
def get_partner(partner_id: str) -> dict:
    _read()
    return policy_store.get_cross_tenant_partner(request_db(), current_tenant(), partner_id).to_graph()


@blueprint.patch(f"{BASE}/partners/<partner_id>")
def patch_partner(partner_id: str) -> Response | tuple[dict, int]:
    body = _body()
    return _write(lambda c: policy_store.update_cross_tenant_partner(
        request_db(), current_tenant(), partner_id, body, roles=_roles(c), actor=c.actor))


@blueprint.delete(f"{BASE}/partners/<partner_id>")
def delete_partner(partner_id: str) -> Response | tuple[dict, int]:
    return _write(lambda c: policy_store.delete_cross_tenant_partner(
        request_db(), current_tenant(), partner_id, roles=_roles(c), actor=c.actor))
