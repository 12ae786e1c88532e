"""The ``"mfa"`` step of the browser sign-in journey (for guests and members alike).

The handoff between the journey and the MFA pages; :mod:`idp.signin.mfa_step` adapts it to the journey's
``Step`` protocol (registered after ``policy``). The handoff:

1. After the *policy* step the journey knows whether conditional access asks for MFA that no trusted claim
   satisfies (``sign_in_decision(...).outcome == "requireMfa"``; an upstream ``amr`` ``mfa`` counts only with
   ``inboundTrust.isMfaAccepted``, decision 9 — :func:`idp.policy.authentication.assess_sign_in` tells
   ``needs_second_factor``). It asks :func:`applies` with its state, an object with the attributes of
   :class:`MfaStepState` (``tenant_id``, ``user_id`` — the directory user whose first factor is done —,
   ``mfa_required`` and ``mfa_completed``).
2. If it applies, the journey calls :func:`start` (inside its request) with the tenant, the user id and the URL
   to come back to (a path on this host, e.g. its own step URL), and redirects the browser to the URL it returns
   (the :data:`ENDPOINT` page ``/{tenant}/mfa``). That page sends the browser to enrolment (QR code, manual key,
   field ``Code``, recovery codes shown once) when the user has no authenticator yet, else to verification
   (field ``Code``, accepting a TOTP or a recovery code).
3. On success the browser is redirected to ``next``; the journey then calls :func:`completed` (tenant, user id):
   ``True`` means the second factor was done in this browser within :data:`HANDOFF_LIFETIME`. It records
   ``mfa_completed=True`` in ``SignInContext`` and ``second_factor_amr="otp"`` in ``SignInFacts`` (so the ID token
   ``amr`` gets ``otp`` and ``mfa``), then :func:`clear` once the sign-in finishes.

The handoff lives in the signed Flask session cookie (like :mod:`idp.oidc.pending`): the MFA pages serve only
the user the journey named, and only after the journey's server side started them.
"""

from __future__ import annotations

import time
from typing import Any, Protocol
from urllib.parse import urlsplit

from flask import session, url_for

from idp.models import Tenant

STEP_NAME = "mfa"
ENDPOINT = "mfa.challenge"
SESSION_KEY = "mfa_handoff"
HANDOFF_LIFETIME = 600  # seconds between start() and the code being entered, and between success and completed()


class MfaStepState(Protocol):
    tenant_id: str
    user_id: str | None
    mfa_required: bool
    mfa_completed: bool


def applies(state: MfaStepState) -> bool:
    """MFA is asked for when conditional access requires it, a first factor named the user, and no second factor
    (Portico's own, or a trusted upstream one) satisfied it yet."""
    return state.user_id is not None and state.mfa_required and not state.mfa_completed


def is_local_path(url: str) -> bool:
    parts = urlsplit(url)
    return url.startswith("/") and not url.startswith("//") and not parts.scheme and not parts.netloc \
        and "\\" not in url


def start(tenant: Tenant, user_id: str, next_url: str) -> str:
    """Hand the browser to the MFA pages for ``user_id``; returns the URL to redirect to."""
    if not is_local_path(next_url):
        raise ValueError("next must be a path on this host")
    session[SESSION_KEY] = {"tenant": tenant.id, "user": user_id, "next": next_url, "started": int(time.time()),
                            "done": None, "method": None}
    return url_for(ENDPOINT, tenant=tenant.slug)


def handoff(tenant: Tenant) -> dict[str, Any] | None:
    """The pending handoff for this tenant, if it is still fresh."""
    data = session.get(SESSION_KEY)
    if not isinstance(data, dict) or data.get("tenant") != tenant.id:
        return None
    if int(time.time()) - int(data.get("started", 0)) > HANDOFF_LIFETIME and not data.get("done"):
        return None
    return data


def mark_done(tenant: Tenant, method: str) -> str:
    """Record success in the handoff; returns the ``next`` URL."""
    data = dict(session[SESSION_KEY])
    data.update(done=int(time.time()), method=method)
    session[SESSION_KEY] = data
    return str(data["next"])


def completed(tenant: Tenant, user_id: str) -> bool:
    """Did this browser complete MFA for ``user_id`` in this tenant within the last :data:`HANDOFF_LIFETIME`?"""
    data = session.get(SESSION_KEY)
    return (isinstance(data, dict) and data.get("tenant") == tenant.id and data.get("user") == user_id
            and bool(data.get("done")) and int(time.time()) - int(data["done"]) <= HANDOFF_LIFETIME)


def clear() -> None:
    session.pop(SESSION_KEY, None)
