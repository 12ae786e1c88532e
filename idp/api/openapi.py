"""The OpenAPI 3.1 document of the JSON API, generated from the pydantic models in ``idp.api.schemas``.

pydantic generates every schema; this module only lists the operations. (spectree and flask-openapi3 were
considered: both want a module-level app/spec object, which the house rules forbid.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from idp.api import schemas
from idp.api.auth import CSRF_HEADER
from idp.oidc.sso import COOKIE_NAME as SSO_COOKIE


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    scopes: tuple[str, ...]
    request: type[BaseModel] | None = None
    responses: dict[int, type[BaseModel] | None] = field(default_factory=dict)
    query: tuple[tuple[str, str], ...] = ()  # (name, description) of optional query parameters


OPERATIONS: tuple[Operation, ...] = (
    Operation("post", "/invitations", "Invite an external user (Graph invitation)", ("User.Invite.All",),
              schemas.InvitationCreate,
              {201: schemas.InvitationCreated, 400: schemas.ErrorResponse, 401: schemas.ErrorResponse,
               403: schemas.ErrorResponse, 404: schemas.ErrorResponse, 409: schemas.ErrorResponse}),
    Operation("get", "/invitations", "List invitations (Portico extension)", ("User.Invite.All",), None,
              {200: schemas.InvitationList, 401: schemas.ErrorResponse, 403: schemas.ErrorResponse}),
    Operation("get", "/invitations/{id}", "Read one invitation (Portico extension)", ("User.Invite.All",), None,
              {200: schemas.InvitationResource, 404: schemas.ErrorResponse}),
    Operation("get", "/policies/authorizationPolicy", "Read the authorization policy", ("Policy.Read.All",), None,
              {200: schemas.AuthorizationPolicy, 401: schemas.ErrorResponse, 403: schemas.ErrorResponse}),
    Operation("patch", "/policies/authorizationPolicy", "Update the authorization policy",
              ("Policy.ReadWrite.Authorization",), schemas.AuthorizationPolicy,
              {204: None, 400: schemas.ErrorResponse, 403: schemas.ErrorResponse}),
    Operation("get", "/policies/b2bManagementPolicy", "Read the invitation domain allow/deny list",
              ("Policy.Read.All",), None, {200: schemas.B2BManagementPolicy, 403: schemas.ErrorResponse}),
    Operation("patch", "/policies/b2bManagementPolicy", "Replace the invitation domain allow/deny list",
              ("Policy.ReadWrite.Authorization",), schemas.B2BManagementPolicy,
              {204: None, 400: schemas.ErrorResponse, 403: schemas.ErrorResponse}),
    Operation("get", "/policies/externalCollaboration", "Read all external collaboration settings (extension)",
              ("Policy.Read.All",), None, {200: schemas.ExternalCollaborationSettings, 403: schemas.ErrorResponse}),
    *(Operation(method, f"/policies/crossTenantAccessPolicy{suffix}", summary, scopes, request, responses)
      for method, suffix, summary, scopes, request, responses in (
          ("get", "", "Read the cross-tenant access policy", ("Policy.Read.All",), None,
           {200: schemas.PolicyDocumentShape}),
          ("patch", "", "Update allowedCloudEndpoints", ("Policy.ReadWrite.CrossTenantAccess",),
           schemas.PolicyDocumentShape, {204: None, 400: schemas.ErrorResponse}),
          ("get", "/default", "Read the default configuration", ("Policy.Read.All",), None,
           {200: schemas.PolicyDocumentShape}),
          ("patch", "/default", "Update the default configuration", ("Policy.ReadWrite.CrossTenantAccess",),
           schemas.PolicyDocumentShape, {204: None, 400: schemas.ErrorResponse, 403: schemas.ErrorResponse}),
          ("post", "/default/resetToSystemDefault", "Restore the system defaults",
           ("Policy.ReadWrite.CrossTenantAccess",), None, {204: None, 403: schemas.ErrorResponse}),
          ("get", "/partners", "List partner configurations", ("Policy.Read.All",), None,
           {200: schemas.PolicyList}),
          ("post", "/partners", "Create a partner configuration", ("Policy.ReadWrite.CrossTenantAccess",),
           schemas.PolicyDocumentShape,
           {201: schemas.PolicyDocumentShape, 400: schemas.ErrorResponse, 409: schemas.ErrorResponse}),
          ("get", "/partners/{id}", "Read a partner configuration", ("Policy.Read.All",), None,
           {200: schemas.PolicyDocumentShape, 404: schemas.ErrorResponse}),
          ("patch", "/partners/{id}", "Update a partner configuration (null inherits the default)",
           ("Policy.ReadWrite.CrossTenantAccess",), schemas.PolicyDocumentShape,
           {204: None, 400: schemas.ErrorResponse, 404: schemas.ErrorResponse}),
          ("delete", "/partners/{id}", "Delete a partner configuration", ("Policy.ReadWrite.CrossTenantAccess",),
           None, {204: None, 403: schemas.ErrorResponse, 404: schemas.ErrorResponse}),
      )),
    *(Operation(method, f"/identity/conditionalAccess/policies{suffix}", summary, scopes, request, responses)
      for method, suffix, summary, scopes, request, responses in (
          ("get", "", "List conditional access policies", ("Policy.Read.All",), None,
           {200: schemas.PolicyList}),
          ("post", "", "Create a conditional access policy", ("Policy.ReadWrite.ConditionalAccess",),
           schemas.PolicyDocumentShape,
           {201: schemas.PolicyDocumentShape, 400: schemas.ErrorResponse, 403: schemas.ErrorResponse}),
          ("get", "/{id}", "Read a conditional access policy", ("Policy.Read.All",), None,
           {200: schemas.PolicyDocumentShape, 404: schemas.ErrorResponse}),
          ("patch", "/{id}", "Update a conditional access policy", ("Policy.ReadWrite.ConditionalAccess",),
           schemas.PolicyDocumentShape, {204: None, 400: schemas.ErrorResponse, 404: schemas.ErrorResponse}),
          ("delete", "/{id}", "Delete a conditional access policy", ("Policy.ReadWrite.ConditionalAccess",),
           None, {204: None, 404: schemas.ErrorResponse}),
      )),
    Operation("patch", "/policies/externalCollaboration", "Update external collaboration settings (extension)",
              ("Policy.ReadWrite.Authorization",), schemas.ExternalCollaborationSettings,
              {204: None, 400: schemas.ErrorResponse, 403: schemas.ErrorResponse}),
    Operation("get", "/auditLogs/signIns", "List sign-in log entries, newest first ($top, $filter on userId, "
              "userPrincipalName, appId, outcome)", ("AuditLog.Read.All",), None,
              {200: schemas.SignInList, 400: schemas.ErrorResponse, 401: schemas.ErrorResponse,
               403: schemas.ErrorResponse},
              query=(("$top", "How many entries, 1 to 1000 (default 100)"),
                     ("$filter", "field eq 'value' clauses joined by and; fields userId, userPrincipalName, appId, "
                                 "outcome (success | failure | interrupted)"))),
)


def build_openapi(server_url: str, operations: tuple[Operation, ...] = OPERATIONS) -> dict[str, Any]:
    models = {m for op in operations for m in [op.request, *op.responses.values()] if m is not None}
    keyed = sorted(((m, "validation") for m in models), key=lambda pair: pair[0].__name__)
    refs, definitions = models_json_schema(keyed, ref_template="#/components/schemas/{model}")
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        entry: dict[str, Any] = {
            "summary": op.summary,
            "security": [{"oauth2": list(op.scopes)},
                         {"adminSession": []} if op.method == "get" else {"adminSession": [], "csrfHeader": []}],
            "responses": {
                str(status): {
                    "description": model.__name__ if model else "No content",
                    **({"content": {"application/json": {"schema": refs[(model, "validation")]}}} if model else {}),
                }
                for status, model in op.responses.items()
            },
        }
        parameters = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}] \
            if "{id}" in op.path else []
        parameters += [{"name": name, "in": "query", "required": False, "description": text,
                        "schema": {"type": "string"}} for name, text in op.query]
        if parameters:
            entry["parameters"] = parameters
        if op.request is not None:
            entry["requestBody"] = {"required": True,
                                    "content": {"application/json": {"schema": refs[(op.request, "validation")]}}}
        paths.setdefault(op.path, {})[op.method] = entry
    issuer = server_url.removesuffix("/api/v1")
    return {
        "openapi": "3.1.0",
        "info": {"title": "Portico management API", "version": "1.0.0"},
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {
                "oauth2": {
                    "type": "oauth2",
                    "flows": {"clientCredentials": {"tokenUrl": f"{issuer}/token", "scopes": {
                        "User.Invite.All": "Invite external users",
                        "Policy.Read.All": "Read policies",
                        "Policy.ReadWrite.Authorization": "Change external collaboration settings",
                        "Policy.ReadWrite.CrossTenantAccess": "Change cross-tenant access settings",
                        "Policy.ReadWrite.ConditionalAccess": "Change conditional access policies",
                        "AuditLog.Read.All": "Read the sign-in log",
                    }}},
                },
                "adminSession": {"type": "apiKey", "in": "cookie", "name": SSO_COOKIE,
                                 "description": "An administrator signed in to the admin center; their directory "
                                                "roles decide what they may do"},
                "csrfHeader": {"type": "apiKey", "in": "header", "name": CSRF_HEADER,
                               "description": "With the session cookie, writes carry the CSRF token of an admin "
                                              "page (its <meta name=\"csrf-token\">)"},
            },
        },
    }
