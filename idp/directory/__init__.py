"""The directory service: tenants, users (members and guests), groups, applications and roles."""
