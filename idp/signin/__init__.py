"""The browser sign-in journey. Today: members with email + password; the guest journey adds routes."""
