"""SCIM 2.0 service provider (see issue 6)."""
