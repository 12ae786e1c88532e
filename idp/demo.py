"""The demo that ``make run`` seeds: tenants contoso and fabrikam, an admin in each, a demo relying party.

Idempotent: existing rows are kept. Generated passwords and the demo client secret are kept in
``{instance}/demo-credentials.json`` (mode 0600) so a second run can print them again.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from idp.config import Settings
from idp.directory import applications, roles, tenants, users
from idp.directory.passwords import hash_password
from idp.models import Tenant

DEMO_TENANTS = (("contoso", "Contoso"), ("fabrikam", "Fabrikam"))
DEMO_APP_NAME = "Portico demo app"
DEMO_APP_TENANT = "contoso"
CREDENTIALS_FILE = "demo-credentials.json"


def demo_redirect_uri(settings: Settings) -> str:
    return f"{settings.base_url}/demo/callback"


def _load_credentials(settings: Settings) -> dict[str, Any]:
    path = settings.instance_dir / CREDENTIALS_FILE
    if path.exists():
        try:
            return json.loads(path.read_text())
        except ValueError:
            return {}
    return {}


def _ensure_admin(session: Session, tenant: Tenant, creds: dict[str, Any]) -> dict[str, str]:
    from idp.cli import generate_password

    email = f"admin@{tenant.initial_domain}"
    saved = creds.get(tenant.slug, {})
    existing = users.find_user_by_upn(session, tenant, email)
    if existing is None:
        password = generate_password()
        admin = users.create_member(session, tenant, email, password=password,
                                    display_name=f"{tenant.display_name} Admin", actor="demo")
    else:
        admin = existing
        password = saved.get("admin_password") or ""
        if not password:  # the credentials file was lost: issue a fresh password
            password = generate_password()
            admin.password_hash = hash_password(password)
    roles.assign_role(session, tenant, admin, "Global Administrator", actor="demo")
    return {"admin_email": email, "admin_password": password}


def seed_demo(session: Session, settings: Settings) -> dict[str, Any]:
    from idp.cli import write_private_json

    creds = _load_credentials(settings)
    result: dict[str, Any] = {"tenants": []}
    by_slug: dict[str, Tenant] = {}
    for slug, name in DEMO_TENANTS:
        tenant = tenants.find_tenant(session, slug) or tenants.create_tenant(
            session, slug, name, domain_suffix=settings.tenant_domain_suffix,
            privacy_statement_url=f"{settings.base_url}/{slug}/", actor="demo",
        )
        by_slug[slug] = tenant
        admin = _ensure_admin(session, tenant, creds)
        creds[slug] = admin
        result["tenants"].append({"slug": slug, "issuer": settings.issuer_for(slug), **admin})

    tenant = by_slug[DEMO_APP_TENANT]
    saved_app = creds.get("application", {})
    app = None
    if saved_app.get("client_id"):
        app = applications.find_application_by_client_id(session, tenant, saved_app["client_id"])
    if app is None or not saved_app.get("client_secret"):
        created = applications.create_application(
            session, tenant, name=DEMO_APP_NAME, redirect_uris=[demo_redirect_uri(settings)],
            post_logout_redirect_uris=[f"{settings.base_url}/demo/"],
            grant_types=["authorization_code", "refresh_token"],
            scopes=["openid", "profile", "email", "offline_access"],
            production=settings.is_production, actor="demo",
        )
        app = created.application
        saved_app = {"client_id": app.client_id, "client_secret": created.client_secret}
    creds["application"] = saved_app
    write_private_json(settings.instance_dir / CREDENTIALS_FILE, creds)
    result["application"] = {
        "tenant": DEMO_APP_TENANT,
        "client_id": app.client_id,
        "redirect_uri": demo_redirect_uri(settings),
    }
    return result
