"""The admin center: server-rendered pages under ``{issuer}/admin/`` over the directory, invitation and policy
services. Views parse a form, call a service and render; every rule lives in the services."""
