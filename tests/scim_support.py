"""Helpers for the SCIM tests: bearer tokens as the tenant's token endpoint issues them, and a small client."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from idp.models import Tenant
from idp.runtime import runtime
from idp.tokens import issue_access_token

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
BULK_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GUEST = "urn:portico:params:scim:schemas:extension:guest:2.0:User"
# Every guest attribute, for ``attributes=``: all but showInAddressList are returned only when named.
GUEST_ATTRIBUTES = ",".join(f"{GUEST}:{name}" for name in (
    "showInAddressList", "externalUserState", "externalUserStateChangeDateTime", "creationType", "identities",
    "sponsors", "invitedBy"))


def access_token(app: Flask, tenant: Tenant, scopes: Iterable[str], *, issuer_slug: str | None = None) -> str:
    """A client-credentials access token of ``tenant`` (the exact contract of the token endpoint)."""
    rt = runtime(app)
    issuer = rt.settings.issuer_for(issuer_slug or tenant.slug)
    token, _ = issue_access_token(rt.keys, issuer=issuer, tenant_id=tenant.id, subject="scim-client",
                                  client_id="scim-client", audience=issuer, scopes=list(scopes))
    return token


class Scim:
    """Requests to one tenant's SCIM endpoint with one token."""

    def __init__(self, client: FlaskClient, slug: str, token: str | None) -> None:
        self.client, self.slug, self.token = client, slug, token

    def url(self, path: str, **query: Any) -> str:
        base = f"/{self.slug}/scim/v2/{path.lstrip('/')}"
        return f"{base}?{urlencode(query)}" if query else base

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Content-Type": "application/scim+json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return {**headers, **(extra or {})}

    def get(self, path: str, headers: dict[str, str] | None = None, **query: Any) -> TestResponse:
        return self.client.get(self.url(path, **query), headers=self.headers(headers))

    def send(self, method: str, path: str, body: Any, headers: dict[str, str] | None = None) -> TestResponse:
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return self.client.open(self.url(path), method=method, data=data, headers=self.headers(headers))

    def post(self, path: str, body: Any, **kw: Any) -> TestResponse:
        return self.send("POST", path, body, **kw)

    def put(self, path: str, body: Any, **kw: Any) -> TestResponse:
        return self.send("PUT", path, body, **kw)

    def patch(self, path: str, body: Any, **kw: Any) -> TestResponse:
        return self.send("PATCH", path, body, **kw)

    def delete(self, path: str, headers: dict[str, str] | None = None) -> TestResponse:
        return self.client.delete(self.url(path), headers=self.headers(headers))

    def create_user(self, user_name: str, **attributes: Any) -> dict[str, Any]:
        response = self.post("Users", {"schemas": [USER_SCHEMA], "userName": user_name, **attributes})
        assert response.status_code == 201, response.json
        return response.json

    def create_group(self, name: str, members: Iterable[str] = (), **attributes: Any) -> dict[str, Any]:
        body = {"schemas": [GROUP_SCHEMA], "displayName": name, "members": [{"value": m} for m in members],
                **attributes}
        response = self.post("Groups", body)
        assert response.status_code == 201, response.json
        return response.json

    def guest(self, user_id: str) -> dict[str, Any]:
        """A user's whole Portico guest extension (the attributes returned only on request included)."""
        response = self.get(f"Users/{user_id}", attributes=GUEST_ATTRIBUTES)
        assert response.status_code == 200, response.json
        return response.json.get(GUEST, {})

    def search(self, filter: str, path: str = "Users", **query: Any) -> list[dict[str, Any]]:
        response = self.get(path, filter=filter, **query)
        assert response.status_code == 200, response.json
        return response.json.get("Resources", [])


def patch_op(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_SCHEMA], "Operations": list(operations)}
