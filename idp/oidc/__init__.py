"""The OpenID Connect provider: one OP per tenant, issuer ``{PORTICO_BASE_URL}/{tenant}``.

Modules:

* ``provider`` - Authlib wiring, the only place that subclasses Authlib (grants, PKCE S256-only, OpenIDCode,
  private_key_jwt, introspection, revocation, the UserInfo bearer validator);
* ``views``    - the endpoints under ``/{tenant}``: ``.well-known/openid-configuration`` (and RFC 8414 metadata
  both at ``/.well-known/oauth-authorization-server/{tenant}``, the RFC's path-insertion form, and at
  ``/{tenant}/.well-known/oauth-authorization-server``), ``authorize``, ``token``, ``userinfo``, ``introspect``,
  ``revoke``, ``logout`` (end_session_endpoint), ``consent`` and ``consents`` (the user's remembered grants);
* ``store``    - the rules for codes, refresh-token families, revoked access tokens, SSO sessions, consent;
* ``prompt``   - the pure decision whether a request needs a fresh sign-in (``prompt``, ``max_age``);
* ``pending``  - authorization requests waiting for sign-in/consent; ``sso`` - the SSO session cookie;
* ``claims``   - claims by scope; ``logout`` - back-channel logout tokens.

Resource servers (SCIM, the JSON API) verify Portico access tokens with :func:`idp.tokens.verify_access_token`
and should pass ``is_revoked=lambda jti: idp.oidc.store.is_access_token_revoked(db, jti)`` so revocations
(RFC 7009, replayed codes, refresh-token reuse, logout) take effect before expiry.
"""
