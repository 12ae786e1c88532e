"""The browser sign-in journey.

identify (``/login``: ``Email address`` + ``Next``) -> route (:mod:`steps` route registry: the member password
route, or the guest route with home-realm discovery) -> authenticate (password; email one-time passcode at
``/signin/otp``; an upstream IdP or the home tenant via ``/signin/callback``) -> the registered steps
(``policy`` -> [``mfa``] -> ``consent`` = "Review permissions" for a pending guest) -> finish (SSO session, back to
the authorization request or the invitation's redirect URL). The redeem link ``/redeem`` enters at *route*.

Modules: ``journey`` (state rows, no Flask), ``context`` (the cookie and the current row), ``steps`` (the two
registries and the :class:`~idp.signin.steps.Step` protocol), ``engine`` (walk/finish, built-in steps, sign-in log),
``mfa_step`` (the ``mfa`` step),
``guests`` (guest rules, no Flask), ``home_tenant`` (the automatic federation client), ``views`` (member page),
``guest_views`` (guest pages).
"""
