"""A small, real OpenID provider built with Authlib's server (not Portico's code), run on loopback for tests.

It auto-approves the configured user (its login page is not what the tests are about) and can be told to
misbehave: sign ID tokens with an unpublished key, put another audience or nonce in them, deny consent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, jsonify, request
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server


@dataclass
class Client:
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    scope: str = "openid email profile"

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        allowed = set(self.scope.split())
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return client_secret == self.client_secret

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class AuthorizationCode:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    user: dict[str, Any]
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str | None:
        return None

    def get_amr(self) -> list[str]:
        return ["pwd", "mfa"]


@dataclass
class LoopbackOP:
    """State the tests steer: who signs in, which faults to inject, what was issued."""

    issuer: str = ""
    user: dict[str, Any] = field(default_factory=lambda: {
        "sub": "op-user-1", "email": "bob@partner.com", "email_verified": True, "name": "Bob Partner"})
    # bad_signature | wrong_audience | wrong_nonce | expired | deny | alg_none | extra_audience | extra_audience_azp
    # | tenant_mismatch (multi-tenant issuer whose tid does not match)
    fault: str | None = None
    multi_tenant: bool = False  # Microsoft-style: discovery names {tenantid}, tokens carry the account's tid
    clients: dict[str, Client] = field(default_factory=dict)
    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    signing_key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "op-key"}))
    rogue_key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "op-key"}))

    def reset(self) -> None:
        """Back to a well-behaved provider with no clients, codes or tokens (between tests)."""
        self.user = {
            "sub": "op-user-1", "email": "bob@partner.com", "email_verified": True, "name": "Bob Partner"}
        self.fault = None
        self.multi_tenant = False
        self.clients.clear()
        self.codes.clear()
        self.tokens.clear()

    def add_client(self, client_id: str, client_secret: str, redirect_uri: str, scope: str = "openid email profile"):
        self.clients[client_id] = Client(client_id, client_secret, [redirect_uri], scope)


def create_op_app(op: LoopbackOP) -> Flask:
    app = Flask("test_op")

    class CodeGrant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

        def save_authorization_code(self, code: str, req: Any) -> None:
            data = req.payload.data
            op.codes[code] = AuthorizationCode(
                code=code, client_id=req.client.client_id, redirect_uri=req.payload.redirect_uri,
                scope=req.payload.scope, nonce=data.get("nonce"), code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"), user=dict(req.user))

        def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
            item = op.codes.get(code)
            return item if item and item.client_id == client.client_id else None

        def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
            op.codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code: AuthorizationCode) -> dict[str, Any]:
            return authorization_code.user

    class IdToken(OpenIDCode):
        def exists_nonce(self, nonce: str, req: Any) -> bool:
            return any(c.nonce == nonce for c in op.codes.values())

        def resolve_client_private_key(self, client: Client) -> Any:
            return op.rogue_key if op.fault == "bad_signature" else op.signing_key

        def get_client_algorithm(self, client: Client) -> str:
            return "none" if op.fault == "alg_none" else "RS256"

        def get_encode_header(self, client: Client) -> dict[str, str]:
            return {"alg": self.get_client_algorithm(client), "kid": "op-key"}

        def get_client_claims(self, client: Client) -> dict[str, Any]:
            now = int(time.time())
            issuer = op.issuer
            if op.multi_tenant:
                issuer = f"{op.issuer}/{'some-other-tid' if op.fault == 'tenant_mismatch' else 'tid-123'}/v2.0"
            return {"iss": issuer, "aud": [client.client_id], "iat": now, "exp": now + 300}

        def generate_user_info(self, user: dict[str, Any], scope: str) -> dict[str, Any]:
            info = {k: v for k, v in user.items() if k == "sub" or "email" in scope.split() or k == "name"}
            if op.multi_tenant:
                info["tid"] = "tid-123"
            if op.fault == "wrong_audience":
                info["aud"] = ["another-client"]
            if op.fault in ("extra_audience", "extra_audience_azp"):
                info["aud"] = ["portico", "another-client"]
                if op.fault == "extra_audience_azp":
                    info["azp"] = "portico"
            if op.fault == "wrong_nonce":
                info["nonce"] = "not-the-nonce-that-was-sent"
            if op.fault == "expired":
                info["iat"] = int(time.time()) - 7200
                info["exp"] = int(time.time()) - 3600
            return info

    def query_client(client_id: str) -> Client | None:
        return op.clients.get(client_id)

    def save_token(token: dict[str, Any], req: Any) -> None:
        op.tokens[token["access_token"]] = dict(req.user)

    server = AuthorizationServer(app, query_client=query_client, save_token=save_token)
    server.register_grant(CodeGrant, [IdToken(require_nonce=True), CodeChallenge(required=True)])

    @app.get("/.well-known/openid-configuration")
    @app.get("/common/v2.0/.well-known/openid-configuration")
    def discovery():  # type: ignore[no-untyped-def]
        return jsonify(
            issuer=f"{op.issuer}/{{tenantid}}/v2.0" if op.multi_tenant else op.issuer,
            authorization_endpoint=f"{op.issuer}/authorize", token_endpoint=f"{op.issuer}/token",
            userinfo_endpoint=f"{op.issuer}/userinfo", jwks_uri=f"{op.issuer}/jwks",
            response_types_supported=["code"], subject_types_supported=["public"],
            id_token_signing_alg_values_supported=["RS256"],
            token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
            code_challenge_methods_supported=["S256"],
        )

    @app.get("/jwks")
    def jwks():  # type: ignore[no-untyped-def]
        return jsonify(keys=[op.signing_key.as_dict(private=False)])

    @app.get("/authorize")
    def authorize():  # type: ignore[no-untyped-def]
        user = None if op.fault == "deny" else op.user
        try:
            grant = server.get_consent_grant(end_user=user)
        except OAuth2Error as error:
            return server.handle_error_response(None, error)
        return server.create_authorization_response(grant=grant, grant_user=user)

    @app.post("/token")
    def token():  # type: ignore[no-untyped-def]
        return server.create_token_response()

    @app.get("/userinfo")
    def userinfo():  # type: ignore[no-untyped-def]
        auth = request.headers.get("Authorization", "")
        user = op.tokens.get(auth.removeprefix("Bearer ").strip()) if auth.startswith("Bearer ") else None
        if user is None:
            return jsonify(error="invalid_token"), 401
        return jsonify(user)

    return app


@contextmanager
def running_op() -> Iterator[LoopbackOP]:
    op = LoopbackOP()
    httpd = make_server("127.0.0.1", 0, create_op_app(op), threaded=True)
    op.issuer = f"http://127.0.0.1:{httpd.server_port}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield op
    finally:
        httpd.shutdown()
        thread.join(timeout=5)
