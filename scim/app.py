"""The SCIM endpoint of each tenant, ``{issuer}/scim/v2``: a thin Flask adapter around scim2-server.

It authenticates the bearer access token (issued by the tenant's own token endpoint, audience = the tenant
issuer), hands the request to scim2-server's handler over :class:`scim.storage.SqlStorage`, and commits the
request's transaction when the operation succeeded. Scopes: ``scim.read`` for reads and searches,
``scim.write`` for writes (per operation, Bulk included); discovery needs either.
"""

from __future__ import annotations

import json
from functools import cached_property
from http import HTTPStatus
from typing import Any, Union, cast

import orjson
from flask import Blueprint, Response, current_app, g, request
from scim2_models import (
    Bulk,
    BulkOperation,
    BulkRequest,
    Context,
    ForbiddenException,
    PayloadTooLargeException,
    Resource,
    SCIMException,
    SearchRequest,
    UnauthorizedException,
)
from scim2_server.bulk import BulkPlan
from scim2_server.requests import ScimRequest
from scim2_server.responses import ScimResponse
from scim2_server.routing import Operation, Target
from scim2_server.service import BULK_SUCCESS_STATUS, ScimService
from scim2_server.storage import SearchPage
from scim2_server.utils import parametrize

from idp.db import read_without_transaction
from idp.oidc.store import is_access_token_revoked
from idp.runtime import request_db, runtime
from idp.tenancy import issuer, tenant_blueprint
from idp.tokens import InvalidToken, token_scopes, verify_access_token
from scim.bulk import PorticoBulkPlan, PorticoScimHandler, may_reference
from scim.schema import build_provider, keep_address_list_visibility, refuse_unassigned_required
from scim.storage import RawPage, SqlStorage

SCIM_READ, SCIM_WRITE = "scim.read", "scim.write"
READ_OPERATIONS = frozenset({Operation.query, Operation.search, Operation.search_with_body})
MAX_BODY = 1024 * 1024  # any request but Bulk, whose limit the ServiceProviderConfig announces
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
BULK_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
EXTENSION_KEY = "portico.scim"


class PorticoScimService(ScimService):
    """scim2-server's protocol core, with Portico's scope checks."""

    def authorize(self, scim_request: ScimRequest, target: Target, resource_type: Any) -> None:
        needed = SCIM_READ if target.operation in READ_OPERATIONS else SCIM_WRITE
        if needed not in scim_request.subject["scopes"]:
            raise ForbiddenException(detail=f"this operation needs an access token with the scope {needed}")

    def apply_patch(self, current: Any, patch_op: Any, conditions: Any) -> Any:
        """scim2-server's PATCH (Bulk included), refusing one that leaves ``userType`` or ``active`` unassigned."""
        patched = super().apply_patch(current, patch_op, conditions)
        if patched is not None:
            refuse_unassigned_required(patched)
        return patched

    def apply_replacement(self, current: Any, replacement: Any, conditions: Any) -> Any:
        """scim2-server's PUT (Bulk included); a replacement that leaves ``showInAddressList`` out keeps it."""
        keep_address_list_visibility(current, replacement)
        return super().apply_replacement(current, replacement, conditions)

    def www_authenticate(self, exception: SCIMException) -> str | None:
        return f'Bearer realm="SCIM", scope="{SCIM_READ} {SCIM_WRITE}"'

    def search_response(
        self, base_url: str, resource_types: list[Any], page: SearchPage, search_request: SearchRequest[Any]
    ) -> ScimResponse:
        """Serialise a :class:`RawPage` directly; anything else the way scim2-server does, but for the resources
        of a search naming ``attributes``: scim2-server dumps them with the request's ``attributes`` and then once
        more, inside its ListResponse, without them, which drops the attributes returned only on request (the
        guest attributes, RFC 7643 §7). They are its first dump."""
        if not isinstance(page.resources, RawPage):
            response = super().search_response(base_url, resource_types, page, search_request)
            if search_request.attributes and response.body is not None and "Resources" in response.body:
                response.body["Resources"] = [
                    self.publish(base_url, resource).model_dump(
                        scim_ctx=Context.RESOURCE_QUERY_RESPONSE, response_parameters=search_request)
                    for resource in page.resources
                ]
            return response
        by_cursor = search_request.cursor is not None
        body: dict[str, Any] = {"schemas": [LIST_RESPONSE], "totalResults": page.total,
                                "itemsPerPage": len(page.resources)}
        if not by_cursor:
            body["startIndex"] = search_request.start_index or 1
        elif search_request.count != 0:
            for key, position in (("nextCursor", page.next), ("previousCursor", page.previous)):
                cursor = self._seal(resource_types, search_request, position)
                if cursor is not None:
                    body[key] = cursor
        if body["totalResults"] is None:
            del body["totalResults"]
        body["Resources"] = [self._publish_raw(base_url, item) for item in page.resources]
        return ScimResponse(HTTPStatus.OK, body)

    def read_bulk(self, body: bytes, content_type: str | None) -> BulkPlan:
        """scim2-server's (limits, validation), planned by :class:`scim.bulk.PorticoBulkPlan`."""
        self.ensure_supported(self.config.bulk, "Bulk")
        self.ensure_bulk_payload_size(len(body))
        bulk_request = self.read_body(parametrize(BulkRequest, Union[tuple(self.get_models())]),  # noqa: UP007
                                      body, content_type, Context.BULK_REQUEST)
        operations = bulk_request.operations or []
        max_operations = cast(Bulk, self.config.bulk).max_operations
        if max_operations is not None and len(operations) > max_operations:
            raise PayloadTooLargeException(detail=f"The number of operations exceeds the maxOperations "
                                                  f"({max_operations})")
        return PorticoBulkPlan(cast(list[BulkOperation[Resource[Any]]], operations), bulk_request.fail_on_errors,
                               referencing=may_reference(body))

    def bulk_success(
        self, base_url: str, operation: BulkOperation[Any], outcome: dict[str, Any], resource: Resource[Any] | None
    ) -> dict[str, Any]:
        """scim2-server's outcome (status, location, version), without publishing a copy of the resource."""
        if resource is None or resource.meta is None or resource.id is None:
            return super().bulk_success(base_url, operation, outcome, resource)
        assert operation.method is not None
        outcome["status"] = BULK_SUCCESS_STATUS[operation.method]
        outcome["location"] = self.resource_location(base_url, self.get_resource_type_of(resource), resource.id)
        outcome["version"] = resource.meta.version if self.etag_supported else None
        return outcome

    def bulk_response(self, plan: BulkPlan) -> ScimResponse:
        """When every operation succeeded (an import), the BulkResponse written directly, as scim2-server's
        model would dump it (``tests/test_scim_bulk_import.py`` compares both); else scim2-server's."""
        outcomes = plan.outcomes()
        if any("response" in outcome or outcome["status"] >= 400 for outcome in outcomes):
            return super().bulk_response(plan)
        operations = []
        for outcome in outcomes:
            operation = {"method": BulkOperation.Method(outcome["method"]).value, "bulkId": outcome.get("bulk_id"),
                         "version": outcome.get("version"), "location": outcome.get("location"),
                         "status": str(int(outcome["status"]))}
            operations.append({key: value for key, value in operation.items() if value is not None})
        return ScimResponse(HTTPStatus.OK, {"schemas": [BULK_RESPONSE], "Operations": operations})

    def _publish_raw(self, base_url: str, item: dict[str, Any]) -> dict[str, Any]:
        """What :meth:`publish` does to a resource, on its JSON: its location and absolute references."""
        endpoint = "Users" if item["meta"]["resourceType"] == "User" else "Groups"
        item["meta"]["location"] = f"{base_url.rstrip('/')}/{endpoint}/{item['id']}"
        for attribute in ("groups", "members"):
            for entry in item.get(attribute, ()):
                if "$ref" in entry:
                    entry["$ref"] = self.reference_location(base_url, entry["$ref"])
        return item


class ScimEndpoint:
    """What every SCIM request of an app shares: the provider, the service (with its cursor secret)."""

    def __init__(self, secret: str, *, raw_pages: bool = True) -> None:
        self.raw_pages = raw_pages
        self.provider = build_provider()
        self.service = PorticoScimService(self.provider, secret=secret)

    @cached_property
    def log(self) -> Any:
        return current_app.logger

    def authenticate(self, scim_request: ScimRequest) -> dict[str, Any]:
        """The verified claims of the request's bearer token; 401 without a valid one, 403 without SCIM scopes."""
        scheme, _, token = (scim_request.header("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise UnauthorizedException(detail="a bearer access token is required")
        tenant_issuer = issuer()
        try:
            db = request_db()
            claims = verify_access_token(runtime().keys, token.strip(), issuer=tenant_issuer, audience=tenant_issuer,
                                         is_revoked=lambda jti: is_access_token_revoked(db, jti))
        except InvalidToken as exc:
            raise UnauthorizedException(detail=str(exc)) from None
        if claims.get("tid") not in (None, g.tenant.id):
            raise UnauthorizedException(detail="the token belongs to another tenant")
        scopes = token_scopes(claims) & {SCIM_READ, SCIM_WRITE}
        if not scopes:
            raise ForbiddenException(detail="the token has neither scim.read nor scim.write")
        return {"claims": claims, "scopes": scopes}

    def read_request(self, path: str) -> ScimRequest:
        scim_request = ScimRequest(
            method=request.method,
            base_url=f"{issuer()}/scim/v2",
            path=f"/{path}",
            query=request.args.to_dict(),
            headers=list(request.headers.items()),
        )
        limit = self.service.max_body_size(scim_request)
        scim_request.body = request.stream.read((MAX_BODY if limit is None else limit) + 1)
        return scim_request

    def serve(self, path: str) -> ScimResponse:
        scim_request = self.read_request(path)
        db = request_db()
        try:
            operation = self.service.match(scim_request).operation
            read_only = operation in READ_OPERATIONS or scim_request.method == "GET"
            if read_only:  # no BEGIN/ROLLBACK round trips for reads (PostgreSQL)
                read_without_transaction(db)
            if operation is not Operation.service_provider_config:
                scim_request.subject = self.authenticate(scim_request)
            limit = self.service.max_body_size(scim_request)
            if limit is None and len(scim_request.body) > MAX_BODY:
                raise PayloadTooLargeException(detail=f"request bodies are limited to {MAX_BODY} bytes")
            client = (scim_request.subject or {}).get("claims", {}).get("client_id", "anonymous")
            settings = runtime().settings
            storage = SqlStorage(db, g.tenant, self.provider, actor=f"scim:{client}", raw_pages=self.raw_pages,
                                 issuer=settings.issuer_for(g.tenant.slug), env=settings.env)
            storage.read_only = read_only
            response = PorticoScimHandler(self.service, storage).handle(scim_request)
            if storage.read_only or (response.status >= 400 and operation is not Operation.bulk):
                db.rollback()
            else:
                db.commit()
        except Exception as exc:  # every failure is a SCIM Error; unexpected ones are logged as bugs
            db.rollback()
            if not isinstance(exc, SCIMException):
                self.log.exception("SCIM %s %s failed", scim_request.method, scim_request.path)
            response = self.service.error_response(exc)
        response.headers.setdefault("Cache-Control", "no-cache")
        return response


def response_json(body: Any) -> bytes:
    """``body`` as JSON: with orjson (a page of 1,000 users took 7% of its CPU in the json module), or with the
    json module for what orjson refuses (an integer beyond 64 bits a client stored in an attribute)."""
    try:
        return orjson.dumps(body)
    except orjson.JSONEncodeError:
        return json.dumps(body).encode()


def endpoint() -> ScimEndpoint:
    app = current_app
    if EXTENSION_KEY not in app.extensions:
        app.extensions[EXTENSION_KEY] = ScimEndpoint(runtime().settings.secret_key)
    return app.extensions[EXTENSION_KEY]


blueprint: Blueprint = tenant_blueprint("scim", __name__, error_format="scim", url_prefix="/scim/v2")


@blueprint.route("", defaults={"path": ""}, methods=METHODS, strict_slashes=False)
@blueprint.route("/<path:path>", methods=METHODS)
def scim(path: str) -> Response:
    response = endpoint().serve(path)
    body = None if response.body is None else response_json(response.body)
    return Response(body, status=int(response.status), headers=response.headers)
