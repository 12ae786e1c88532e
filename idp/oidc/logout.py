"""OpenID Back-Channel Logout 1.0: a signed logout token POSTed to each relying party of an ended session."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

import requests
from joserfc import jwt

from idp.keys import KeyStore
from idp.models import Application, SsoSession

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_LIFETIME = 120
log = logging.getLogger(__name__)


def logout_token(keys: KeyStore, issuer: str, application: Application, session: SsoSession) -> str:
    now = int(time.time())
    claims = {
        "iss": issuer, "aud": application.client_id, "iat": now, "exp": now + LOGOUT_TOKEN_LIFETIME,
        "jti": uuid.uuid4().hex, "sub": session.user_id, "sid": session.id, "tid": session.tenant_id,
        "events": {BACKCHANNEL_EVENT: {}},
    }
    alg = application.id_token_signed_response_alg or "RS256"
    key = keys.signing_key(alg)
    return jwt.encode({"alg": alg, "kid": key.kid, "typ": "logout+jwt"}, claims, key)


def notify_relying_parties(
    keys: KeyStore, issuer: str, applications: list[Application], session: SsoSession,
    post: Callable[..., Any] = requests.post,
) -> dict[str, bool]:
    """POST a logout token to every application with a ``backchannel_logout_uri``; returns client_id -> ok.

    Best effort and synchronous (short timeout): a failed RP is logged, never blocks the user's sign-out."""
    results: dict[str, bool] = {}
    for app in applications:
        if not app.backchannel_logout_uri:
            continue
        token = logout_token(keys, issuer, app, session)
        try:
            response = post(app.backchannel_logout_uri, data={"logout_token": token}, timeout=3,
                            headers={"Cache-Control": "no-store"})
            results[app.client_id] = 200 <= response.status_code < 300
        except requests.RequestException as exc:
            log.warning("back-channel logout to %s failed: %s", app.backchannel_logout_uri, exc)
            results[app.client_id] = False
    return results
