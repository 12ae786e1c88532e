"""Upstream identity providers: storage and presets (:mod:`.service`, :mod:`.presets`), the linking rule
(:mod:`.linking`) and the OIDC / OAuth 2 client (:mod:`.client`)."""
