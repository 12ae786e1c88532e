"""``{issuer}/api/v1/policies/...``: external collaboration settings in the Graph shapes (§6).

``authorizationPolicy`` and ``b2bManagementPolicy`` follow Graph; ``externalCollaboration`` is a Portico
extension holding the whole record (email OTP, self-service sign-up, leave setting included). PATCH returns 204.
"""

from __future__ import annotations

from flask import request
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from idp import policy_store
from idp.api import blueprint
from idp.api.auth import authenticate
from idp.invitations.model import Inviter
from idp.policy import ExternalCollaborationSettings
from idp.policy.administration import PolicyObject
from idp.runtime import request_db
from idp.tenancy import current_tenant, issuer

READ_SCOPES = ("Policy.Read.All", "Policy.ReadWrite.Authorization")
WRITE_SCOPES = ("Policy.ReadWrite.Authorization",)


def _caller(scopes: tuple[str, ...]) -> Inviter:
    return authenticate(request_db(), current_tenant(), issuer(), scopes)


def _current() -> ExternalCollaborationSettings:
    _caller(READ_SCOPES)
    return policy_store.external_collaboration(request_db(), current_tenant())


def _patch(document: object, policy: PolicyObject) -> Response:
    caller = _caller(WRITE_SCOPES)
    if not isinstance(document, dict):
        raise BadRequest()
    db = request_db()
    roles = None if caller.is_app_only else caller.roles
    policy_store.update_external_collaboration(db, current_tenant(), document, policy=policy, roles=roles,
                                               actor=caller.actor)
    db.commit()
    return Response(status=204)


def b2b_management_resource(settings: ExternalCollaborationSettings) -> dict:
    return {
        "id": "b2bManagementPolicy",
        "displayName": "B2B management policy",
        "type": "B2BManagementPolicy",
        "isOrganizationDefault": True,
        "definition": {"B2BManagementPolicy": settings.b2b_management_policy()},
    }


@blueprint.get("/policies/authorizationPolicy")
def get_authorization_policy() -> dict:
    return _current().authorization_policy()


@blueprint.patch("/policies/authorizationPolicy")
def patch_authorization_policy() -> Response:
    return _patch(request.get_json(silent=True), "authorizationPolicy")


@blueprint.get("/policies/b2bManagementPolicy")
def get_b2b_management_policy() -> dict:
    return b2b_management_resource(_current())


@blueprint.patch("/policies/b2bManagementPolicy")
def patch_b2b_management_policy() -> Response:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest()
    definition = body.get("definition", body)
    return _patch({"b2bManagementPolicy": definition}, "b2bManagementPolicy")


@blueprint.get("/policies/externalCollaboration")
def get_external_collaboration() -> dict:
    return _current().to_graph()


@blueprint.patch("/policies/externalCollaboration")
def patch_external_collaboration() -> Response:
    return _patch(request.get_json(silent=True), "authorizationPolicy")
