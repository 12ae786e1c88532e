"""Upstream identity providers: storage and presets (:mod:`.service`, :mod:`.presets`), the OIDC / OAuth 2
client (:mod:`.client`), matching and binding upstream identities (:mod:`.accounts`), and the database side of
home-realm discovery (:mod:`.discovery`; the decision itself is :mod:`idp.policy.home_realm`)."""
