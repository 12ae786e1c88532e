"""The ``portico`` command. Every subcommand validates its input and writes in one transaction, so a bad
argument ends with a one-line error, exit code 2, and nothing written."""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, NoReturn

import click
from sqlalchemy.orm import Session

from idp import migrate
from idp.config import ConfigError, Settings, load_settings
from idp.db import Database
from idp.directory import applications, groups, roles, tenants, users
from idp.errors import DomainError, NotFound
from idp.keys import KeyStore, KeyStoreError
from idp.models import Group, Tenant, User

EXIT_USAGE = 2


def fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def handles_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (DomainError, ConfigError, KeyStoreError) as exc:
            fail(getattr(exc, "message", None) or str(exc))

    return wrapper


def emit(as_json: bool, data: dict[str, Any] | list[Any], text: str) -> None:
    click.echo(json.dumps(data, indent=2, default=str) if as_json else text)


class Context:
    """Lazily loaded settings and database shared by a command's steps."""

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._database: Database | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    @property
    def database(self) -> Database:
        if self._database is None:
            self._database = Database(self.settings.database_url, sqlite_synchronous=self.settings.sqlite_synchronous)
        return self._database

    def close(self) -> None:
        if self._database is not None:
            self._database.dispose()

    def migrated_database(self) -> Database:
        current = migrate.current_revision(self.database.engine)
        if current != migrate.head_revision():
            fail("the database is not initialised or not up to date; run `portico init` (or `portico db upgrade`)")
        return self.database

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self.migrated_database().transaction() as session:
            yield session


pass_context = click.make_pass_decorator(Context, ensure=True)
json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
tenant_option = click.option("--tenant", "tenant_slug", required=True, help="Slug of the tenant.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def main(ctx: click.Context) -> None:
    """Portico: an identity provider for B2B guest access."""
    ctx.obj = Context()
    ctx.call_on_close(ctx.obj.close)


# -- init, db, serve ----------------------------------------------------------------------------------------
def initialise(ctx: Context) -> dict[str, Any]:
    settings = ctx.settings
    migrate.upgrade(ctx.database.engine)
    keys = KeyStore(settings.keys_dir).ensure()
    return {
        "database": ctx.database.engine.url.render_as_string(hide_password=True),
        "revision": migrate.current_revision(ctx.database.engine),
        "keys_dir": str(settings.keys_dir),
        "keys": [k.as_dict() for k in keys],
        "instance_dir": str(settings.instance_dir),
    }


@main.command()
@json_option
@pass_context
@handles_errors
def init(ctx: Context, as_json: bool) -> None:
    """Apply migrations, generate signing keys and the secret key. Safe to repeat."""
    result = initialise(ctx)
    emit(as_json, result, f"database ready at revision {result['revision']}; keys in {result['keys_dir']}")


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@pass_context
@handles_errors
def db_upgrade(ctx: Context, revision: str) -> None:
    """Apply Alembic migrations."""
    migrate.upgrade(ctx.database.engine, revision)
    click.echo(f"database at revision {migrate.current_revision(ctx.database.engine)}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Python threads per worker (requests served at once by each worker). Two cover the waits on "
                   "the database and upstream IdPs; more cost CPU in GIL hand-offs on the token endpoint (see "
                   "bench/): raise it when upstream identity providers are slow.")
@click.option("--access-log/--no-access-log", default=True, show_default=True, help="One log line per request")
@click.option("--deliver/--no-deliver", default=True, show_default=True,
              help="Also deliver queued mail and back-channel logout tokens (a process beside the web workers).")
@pass_context
@handles_errors
def serve(ctx: Context, host: str, port: int, workers: int, threads: int, access_log: bool, deliver: bool) -> None:
    """Serve Portico with Granian (HTTP/1.1 and HTTP/2, WSGI)."""
    from idp.delivery_worker import start_delivery_process, stop_delivery_process
    from idp.server import run_server

    ctx.migrated_database()
    KeyStore(ctx.settings.keys_dir).ensure()
    click.echo(f"Portico serving on http://{host}:{port} ({ctx.settings.env}); issuer base {ctx.settings.base_url}")
    delivery = start_delivery_process(ctx.settings) if deliver else None
    try:
        run_server(host=host, port=port, workers=workers, threads=threads, access_log=access_log)
    finally:
        if delivery is not None:
            stop_delivery_process(delivery)


# -- demo ---------------------------------------------------------------------------------------------------
@main.command()
@json_option
@pass_context
@handles_errors
def demo(ctx: Context, as_json: bool) -> None:
    """Seed the demo (tenants contoso and fabrikam, an admin in each, a demo app). Safe to repeat."""
    from idp.demo import seed_demo

    initialise(ctx)
    with ctx.transaction() as session:
        result = seed_demo(session, ctx.settings)
    if as_json:
        emit(True, result, "")
        return
    click.echo("Demo ready:")
    for tenant in result["tenants"]:
        click.echo(f"  {tenant['slug']}: issuer {tenant['issuer']}")
        click.echo(f"    admin {tenant['admin_email']} password {tenant['admin_password']}")
    app = result["application"]
    click.echo(f"  demo app in {app['tenant']}: client_id {app['client_id']} redirect {app['redirect_uri']}")


# -- tenants ------------------------------------------------------------------------------------------------
@main.group()
def tenant() -> None:
    """Tenants (organizations)."""


def tenant_dict(t: Tenant, settings: Settings) -> dict[str, Any]:
    return {
        "id": t.id,
        "slug": t.slug,
        "displayName": t.display_name,
        "initialDomain": t.initial_domain,
        "verifiedDomains": t.verified_domains,
        "issuer": settings.issuer_for(t.slug),
        "privacyStatementUrl": t.privacy_statement_url,
    }


@tenant.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="Display name.")
@click.option("--domain", "domains", multiple=True, help="A verified domain (repeatable).")
@click.option("--privacy-url", default=None, help="Link to the privacy statement.")
@click.option("--privacy-contact", default=None, help="Privacy contact email.")
@json_option
@pass_context
@handles_errors
def tenant_create(ctx: Context, slug: str, name: str, domains: tuple[str, ...], privacy_url: str | None,
                  privacy_contact: str | None, as_json: bool) -> None:
    """Create a tenant."""
    from idp.config import check_url_allowed

    if privacy_url:
        try:
            check_url_allowed(privacy_url, "development", "--privacy-url")
        except ConfigError as exc:
            fail(str(exc))
    with ctx.transaction() as session:
        t = tenants.create_tenant(session, slug, name, domain_suffix=ctx.settings.tenant_domain_suffix,
                                  verified_domains=list(domains), privacy_statement_url=privacy_url,
                                  privacy_contact_email=privacy_contact, actor="cli")
        data = tenant_dict(t, ctx.settings)
    emit(as_json, data, f"created tenant {data['slug']} ({data['id']}); issuer {data['issuer']}")


@tenant.command("list")
@json_option
@pass_context
@handles_errors
def tenant_list(ctx: Context, as_json: bool) -> None:
    """List tenants."""
    with ctx.transaction() as session:
        data = [tenant_dict(t, ctx.settings) for t in tenants.list_tenants(session)]
    emit(as_json, data, "\n".join(f"{t['slug']}\t{t['displayName']}\t{t['issuer']}" for t in data) or "no tenants")


# -- users --------------------------------------------------------------------------------------------------
@main.group()
def user() -> None:
    """Members and guests."""


def user_dict(u: User) -> dict[str, Any]:
    return {
        "id": u.id,
        "userPrincipalName": u.user_principal_name,
        "mail": u.mail,
        "displayName": u.display_name,
        "userType": u.user_type,
        "accountEnabled": u.account_enabled,
        "creationType": u.creation_type,
        "externalUserState": u.external_user_state,
        "otherMails": u.other_mail_addresses,
        "identities": [i.as_dict() for i in u.identities],
    }


def resolve_user(session: Session, t: Tenant, ref: str) -> User:
    try:
        return users.get_user(session, t, ref)
    except NotFound:
        pass
    found = users.find_user_by_upn(session, t, ref) or next(iter(users.find_users_by_email(session, t, ref)), None)
    if found is None:
        raise NotFound(f"no user {ref!r} in tenant {t.slug!r}")
    return found


def resolve_group(session: Session, t: Tenant, ref: str) -> Group:
    try:
        return groups.get_group(session, t, ref)
    except NotFound:
        pass
    matches = groups.find_groups_by_name(session, t, ref)
    if len(matches) != 1:
        raise NotFound(f"no single group named {ref!r} in tenant {t.slug!r}; use its id")
    return matches[0]


@user.command("create")
@tenant_option
@click.option("--email", required=True)
@click.option("--password", default=None, help="Member password (prompted for nothing; omit for none).")
@click.option("--display-name", default=None)
@click.option("--role", "role_names", multiple=True, help="Directory role (repeatable).")
@click.option("--guest", is_flag=True, help="Create a pending guest (no password) instead of a member.")
@json_option
@pass_context
@handles_errors
def user_create(ctx: Context, tenant_slug: str, email: str, password: str | None, display_name: str | None,
                role_names: tuple[str, ...], guest: bool, as_json: bool) -> None:
    """Create a member (or, with --guest, a pending guest)."""
    if guest and password:
        fail("guests never have a password in Portico; drop --password")
    for name in role_names:
        roles.validate_role(name)
    with ctx.transaction() as session:
        t = tenants.get_tenant(session, tenant_slug)
        if guest:
            u = users.create_guest(session, t, email, display_name=display_name, actor="cli")
        else:
            u = users.create_member(session, t, email, password=password, display_name=display_name, actor="cli")
        for name in role_names:
            roles.assign_role(session, t, u, name, actor="cli")
        data = user_dict(u) | {"roles": sorted(roles.roles_of(session, t, u))}
    emit(as_json, data, f"created {data['userType'].lower()} {data['userPrincipalName']} ({data['id']})")


@user.command("list")
@tenant_option
@json_option
@pass_context
@handles_errors
def user_list(ctx: Context, tenant_slug: str, as_json: bool) -> None:
    """List a tenant's users."""
    with ctx.transaction() as session:
        t = tenants.get_tenant(session, tenant_slug)
        data = [user_dict(u) for u in users.list_users(session, t)]
    emit(as_json, data, "\n".join(f"{u['userType']}\t{u['userPrincipalName']}\t{u['id']}" for u in data) or "no users")


# -- groups -------------------------------------------------------------------------------------------------
@main.group()
def group() -> None:
    """Groups."""


@group.command("create")
@tenant_option
@click.option("--name", required=True, help="Display name.")
@click.option("--description", default=None)
@json_option
@pass_context
@handles_errors
def group_create(ctx: Context, tenant_slug: str, name: str, description: str | None, as_json: bool) -> None:
    """Create a group."""
    with ctx.transaction() as session:
        t = tenants.get_tenant(session, tenant_slug)
        g = groups.create_group(session, t, name, description=description, actor="cli")
        data = {"id": g.id, "displayName": g.display_name, "description": g.description}
    emit(as_json, data, f"created group {data['displayName']} ({data['id']})")


@group.command("add-member")
@tenant_option
@click.option("--group", "group_ref", required=True, help="Group id or display name.")
@click.option("--user", "user_ref", required=True, help="User id, UPN or email.")
@json_option
@pass_context
@handles_errors
def group_add_member(ctx: Context, tenant_slug: str, group_ref: str, user_ref: str, as_json: bool) -> None:
    """Add a user to a group."""
    with ctx.transaction() as session:
        t = tenants.get_tenant(session, tenant_slug)
        g = resolve_group(session, t, group_ref)
        u = resolve_user(session, t, user_ref)
        groups.add_member(session, t, g, u, actor="cli")
        data = {"groupId": g.id, "userId": u.id}
    emit(as_json, data, f"added {u.user_principal_name} to {g.display_name}")


# -- clients ------------------------------------------------------------------------------------------------
@main.group()
def client() -> None:
    """Applications (OAuth clients)."""


@client.command("create")
@tenant_option
@click.option("--name", required=True)
@click.option("--redirect-uri", "redirect_uris", multiple=True)
@click.option("--post-logout-redirect-uri", "logout_uris", multiple=True)
@click.option("--grant-type", "grant_types", multiple=True,
              type=click.Choice(applications.GRANT_TYPES), help="Repeatable; default authorization_code.")
@click.option("--scope", "scopes", multiple=True)
@click.option("--public", is_flag=True, help="A public client (PKCE, no secret).")
@click.option("--first-party", is_flag=True, help="Skip the consent page for this application.")
@click.option("--assignment-required", is_flag=True)
@click.option("--id-token-alg", default="RS256", type=click.Choice(applications.ID_TOKEN_ALGS))
@click.option("--access-token-alg", default="RS256", type=click.Choice(applications.ID_TOKEN_ALGS),
              help="Signature algorithm of the application's access tokens (resource servers must accept it).")
@click.option("--jwks-uri", default=None,
              help="Authenticate with private_key_jwt using the keys published here (no client secret).")
@json_option
@pass_context
@handles_errors
def client_create(ctx: Context, tenant_slug: str, name: str, redirect_uris: tuple[str, ...],
                  logout_uris: tuple[str, ...], grant_types: tuple[str, ...], scopes: tuple[str, ...], public: bool,
                  first_party: bool, assignment_required: bool, id_token_alg: str, access_token_alg: str,
                  jwks_uri: str | None, as_json: bool) -> None:
    """Register an application; prints its client_id and, once, its client_secret (none with --jwks-uri)."""
    with ctx.transaction() as session:
        t = tenants.get_tenant(session, tenant_slug)
        created = applications.create_application(
            session, t, name=name, redirect_uris=list(redirect_uris), grant_types=list(grant_types),
            scopes=list(scopes), public=public, first_party=first_party, assignment_required=assignment_required,
            post_logout_redirect_uris=list(logout_uris), id_token_signed_response_alg=id_token_alg,
            access_token_signed_response_alg=access_token_alg,
            production=ctx.settings.is_production, actor="cli", jwks_uri=jwks_uri,
        )
        a = created.application
        data = {
            "id": a.id,
            "client_id": a.client_id,
            "client_secret": created.client_secret,
            "name": a.display_name,
            "redirect_uris": a.redirect_uris,
            "grant_types": a.grant_types,
            "scopes": a.scopes,
            "token_endpoint_auth_method": a.token_endpoint_auth_method,
            "id_token_signed_response_alg": a.id_token_signed_response_alg,
            "access_token_signed_response_alg": a.access_token_signed_response_alg,
            "jwks_uri": a.jwks_uri,
        }
    text = f"client_id: {data['client_id']}"
    if data["client_secret"]:
        text += f"\nclient_secret: {data['client_secret']}\n(the secret is shown only once)"
    emit(as_json, data, text)


# -- invitations ------------------------------------------------------------------------------------------
@main.command()
@tenant_option
@click.option("--email", required=True, help="The invitee's email address.")
@click.option("--redirect-url", required=True, help="Where the guest lands after redemption.")
@click.option("--send", is_flag=True, help="Send the invitation mail.")
@click.option("--display-name", default=None)
@click.option("--message", default=None, help="Custom message for the mail (plain text).")
@click.option("--language", default=None, help="Mail language, e.g. en-US.")
@json_option
@pass_context
@handles_errors
def invite(ctx: Context, tenant_slug: str, email: str, redirect_url: str, send: bool, display_name: str | None,
           message: str | None, language: str | None, as_json: bool) -> None:
    """Invite an external user; prints the Graph-shaped invitation."""
    from idp.invitations import service
    from idp.invitations.graph import invitation_to_graph
    from idp.invitations.model import InvitationRequest, Inviter, MessageInfo

    request = InvitationRequest(
        invited_user_email_address=email, invite_redirect_url=redirect_url, invited_user_display_name=display_name,
        send_invitation_message=send,
        message_info=MessageInfo(message_language=language, customized_message_body=message),
    )
    with ctx.transaction() as session:
        t = tenants.get_tenant(session, tenant_slug)
        # The operator at the console acts with the tenant's full authority (like a Global Administrator).
        inviter = Inviter(operator=True)
        result = service.invite(session, t, request, inviter, issuer=ctx.settings.issuer_for(t.slug),
                                env=ctx.settings.env, secret_key=ctx.settings.secret_key)
        data = invitation_to_graph(result.invitation, result.user, result.redeem_url) | {"warnings": result.warnings}
    text = f"invited {data['invitedUser']['userPrincipalName']}\nredeem URL: {data['inviteRedeemUrl']}"
    for warning in data["warnings"]:
        text += f"\nwarning: {warning}"
    emit(as_json, data, text)

# -- delivery workers (mail outbox, back-channel logout) ---------------------------------------------------
def delivery_options(default_interval: float, what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--once``, ``--interval``, ``--limit`` and ``--json`` of a queue worker command."""
    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed([
            click.option("--once", is_flag=True, help="Deliver what is due now, then exit."),
            click.option("--interval", default=default_interval, show_default=True,
                         type=click.FloatRange(0.1, 3600), help="Seconds between polls of the queue."),
            click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000),
                         help=f"{what} claimed per round."),
            json_option,
        ]):
            command = option(command)
        return command
    return decorate


def run_worker(*, once: bool, as_json: bool, what: str, deliver_once: Callable[[], Any],
               deliver_forever: Callable[[Callable[[Any], None]], None]) -> None:
    """One round (``--once``, prints the report) or poll until Ctrl+C (prints each round's summary)."""
    if once:
        report = deliver_once()
        emit(as_json, {"sent": report.sent, "retrying": report.retrying, "failed": report.failed},
             report.summary())
        return
    click.echo(f"delivering {what}; Ctrl+C stops", err=True)
    try:
        deliver_forever(lambda r: click.echo(r.summary(), err=True))
    except KeyboardInterrupt:
        click.echo("stopped", err=True)


@main.group()
def mail() -> None:
    """The mail outbox."""


@mail.command("deliver")
@delivery_options(5.0, "Messages")
@pass_context
@handles_errors
def mail_deliver(ctx: Context, once: bool, interval: float, limit: int, as_json: bool) -> None:
    """Send due outbox messages over SMTP (PORTICO_SMTP_*), or print them when no SMTP host is set."""
    from idp.mail import deliver_due, deliver_forever, transport_for

    database = ctx.migrated_database()
    smtp = ctx.settings.smtp
    transport = transport_for(smtp)
    run_worker(once=once, as_json=as_json, what=f"mail via {smtp.host or 'the console'}",
               deliver_once=lambda: deliver_due(database, transport, mail_from=smtp.mail_from, limit=limit),
               deliver_forever=lambda report: deliver_forever(database, transport, mail_from=smtp.mail_from,
                                                              interval=interval, limit=limit, on_report=report))


@main.group()
def logout() -> None:
    """Back-channel logout tokens queued by sign-outs."""


@logout.command("deliver")
@delivery_options(2.0, "Logout tokens")
@pass_context
@handles_errors
def logout_deliver(ctx: Context, once: bool, interval: float, limit: int, as_json: bool) -> None:
    """POST queued logout tokens to the relying parties' backchannel_logout_uri (retries with backoff)."""
    from idp.oidc.logout import deliver_due, deliver_forever

    database, keys = ctx.migrated_database(), KeyStore(ctx.settings.keys_dir)
    run_worker(once=once, as_json=as_json, what="back-channel logout tokens",
               deliver_once=lambda: deliver_due(database, keys, limit=limit),
               deliver_forever=lambda report: deliver_forever(database, keys, interval=interval, limit=limit,
                                                              on_report=report))


# -- identity providers -------------------------------------------------------------------------------------
@main.group()
def idp() -> None:
    """Upstream identity providers (federation)."""


def _claim_mapping(pairs: tuple[str, ...]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in pairs:
        claim, sep, source = pair.partition("=")
        if not sep or not claim.strip() or not source.strip():
            fail(f"--claim takes CLAIM=UPSTREAM_CLAIM, got {pair!r}")
        mapping[claim.strip()] = source.strip()
    return mapping


@idp.command("add")
@tenant_option
@click.option("--type", "provider_type", required=True,
              type=click.Choice(["oidc", "google", "microsoft", "facebook", "oauth2"]))
@click.option("--name", default=None, help="Display name (presets default to Google, Microsoft, Facebook).")
@click.option("--issuer", default=None, help="Issuer / discovery base URL (oidc).")
@click.option("--client-id", required=True)
@click.option("--client-secret", required=True, help="Stored encrypted; never shown again.")
@click.option("--domain", "domains", multiple=True, help="Email domain routed here (repeatable; oidc, oauth2).")
@click.option("--scope", "scopes", multiple=True, help="Scope to request (repeatable; default per type).")
@click.option("--claim", "claims", multiple=True, help="Claim mapping CLAIM=UPSTREAM_CLAIM (repeatable).")
@click.option("--authorization-url", default=None, help="oauth2: authorization endpoint.")
@click.option("--token-url", default=None, help="oauth2: token endpoint.")
@click.option("--userinfo-url", default=None, help="oauth2: userinfo endpoint.")
@json_option
@pass_context
@handles_errors
def idp_add(ctx: Context, tenant_slug: str, provider_type: str, name: str | None, issuer: str | None,
            client_id: str, client_secret: str, domains: tuple[str, ...], scopes: tuple[str, ...],
            claims: tuple[str, ...], authorization_url: str | None, token_url: str | None,
            userinfo_url: str | None, as_json: bool) -> None:
    """Add an upstream identity provider to a tenant."""
    from idp.federation import service as federation

    data = federation.ProviderInput(
        type=provider_type, name=name, issuer=issuer, client_id=client_id, client_secret=client_secret,
        domains=domains, scopes=scopes, claim_mapping=_claim_mapping(claims),
        authorization_endpoint=authorization_url, token_endpoint=token_url, userinfo_endpoint=userinfo_url,
    )
    with ctx.transaction() as session:
        t = tenants.get_tenant(session, tenant_slug)
        provider = federation.add_provider(session, t, data, secret_key=ctx.settings.secret_key,
                                           production=ctx.settings.is_production, actor="cli")
        result = federation.provider_dict(provider)
    emit(as_json, result, f"added {result['type']} identity provider {result['name']} ({result['id']})")


@idp.command("list")
@tenant_option
@json_option
@pass_context
@handles_errors
def idp_list(ctx: Context, tenant_slug: str, as_json: bool) -> None:
    """List a tenant's identity providers (client secrets are never shown)."""
    from idp.federation import service as federation

    with ctx.transaction() as session:
        t = tenants.get_tenant(session, tenant_slug)
        data = [federation.provider_dict(p) for p in federation.list_providers(session, t)]
    text = "\n".join(f"{p['type']}\t{p['name']}\t{p['issuer'] or p['authorizationEndpoint']}\t"
                     f"{','.join(p['domains'])}\t{p['id']}" for p in data)
    emit(as_json, data, text or "no identity providers")


@idp.command("remove")
@tenant_option
@click.option("--name", "ref", required=True, help="Name or id of the provider.")
@json_option
@pass_context
@handles_errors
def idp_remove(ctx: Context, tenant_slug: str, ref: str, as_json: bool) -> None:
    """Remove an identity provider; guests bound to it cannot sign in until their redemption is reset."""
    from idp.federation import service as federation

    with ctx.transaction() as session:
        t = tenants.get_tenant(session, tenant_slug)
        removed = federation.remove_provider(session, t, ref, actor="cli")
        data = {"id": removed.id, "name": removed.name, "type": removed.type, "removed": True}
    emit(as_json, data, f"removed identity provider {data['name']} ({data['id']})")


# -- keys ---------------------------------------------------------------------------------------------------
@main.group()
def keys() -> None:
    """Signing keys."""


def _store(ctx: Context) -> KeyStore:
    return KeyStore(ctx.settings.keys_dir)


def _print_keys(as_json: bool, infos: list[Any]) -> None:
    data = [k.as_dict() for k in infos]
    emit(as_json, data, "\n".join(f"{k['alg']}\t{k['status']}\t{k['kid']}\t{k['created_at']}" for k in data))


@keys.command("list")
@json_option
@pass_context
@handles_errors
def keys_list(ctx: Context, as_json: bool) -> None:
    """List keys with their status (active, next, previous)."""
    _print_keys(as_json, _store(ctx).list())


@keys.command("rotate")
@click.option("--alg", default=None, type=click.Choice(["RS256", "ES256"]), help="Only this algorithm.")
@json_option
@pass_context
@handles_errors
def keys_rotate(ctx: Context, alg: str | None, as_json: bool) -> None:
    """Next key starts signing; the active one stays published as previous."""
    store = _store(ctx)
    store.ensure()
    _print_keys(as_json, store.rotate(alg))


@keys.command("retire")
@click.option("--kid", default=None, help="Retire only this previous key.")
@json_option
@pass_context
@handles_errors
def keys_retire(ctx: Context, kid: str | None, as_json: bool) -> None:
    """Unpublish and delete previous keys."""
    _print_keys(as_json, _store(ctx).retire(kid))


# -- oidc -------------------------------------------------------------------------------------------------
@main.group()
def oidc() -> None:
    """OpenID provider housekeeping."""


@oidc.command("purge")
@json_option
@pass_context
@handles_errors
def oidc_purge(ctx: Context, as_json: bool) -> None:
    """Delete expired codes, refresh tokens, sessions and revocation entries (safe to run from cron)."""
    from idp.oidc.store import purge_expired

    with ctx.transaction() as session:
        counts = purge_expired(session)
    emit(as_json, counts, ", ".join(f"{name}: {count}" for name, count in counts.items()))


@oidc.command("revoke-sessions")
@tenant_option
@click.option("--user", "user_ref", required=True, help="User id, UPN or email address.")
@json_option
@pass_context
@handles_errors
def oidc_revoke_sessions(ctx: Context, tenant_slug: str, user_ref: str, as_json: bool) -> None:
    """Sign a user out everywhere: end their SSO sessions, revoke their refresh tokens, queue the apps'
    back-channel logout tokens (``portico logout deliver`` sends them)."""
    from idp.oidc.logout import enqueue_logouts
    from idp.oidc.store import end_user_sessions

    issuer = ctx.settings.issuer_for(tenant_slug)
    with ctx.transaction() as session:
        t = tenants.get_tenant(session, tenant_slug)
        ended = end_user_sessions(session, t.id, resolve_user(session, t, user_ref).id)
        queued = {sso.id: [row.claims["aud"] for row in enqueue_logouts(session, issuer, apps, sso)]
                  for sso, apps in ended}
    emit(as_json, {"sessions": len(ended), "backchannel": queued}, f"ended {len(ended)} session(s)")


# -- MFA ----------------------------------------------------------------------------------------------------
@main.group("mfa")
def mfa_group() -> None:
    """Second factors (TOTP authenticator apps and recovery codes)."""


@mfa_group.command("reset")
@tenant_option
@click.option("--user", "user_ref", required=True, help="User id, UPN or email address.")
@json_option
@pass_context
@handles_errors
def mfa_reset(ctx: Context, tenant_slug: str, user_ref: str, as_json: bool) -> None:
    """Delete a user's authenticator app and recovery codes; they enrol again at their next MFA sign-in."""
    from idp.mfa import service as mfa

    with ctx.transaction() as session:
        t = tenants.get_tenant(session, tenant_slug)
        u = resolve_user(session, t, user_ref)
        removed = mfa.reset(session, t, u, actor="cli")
        data = {"userId": u.id, "userPrincipalName": u.user_principal_name, "reset": removed}
    emit(as_json, data, f"MFA reset for {data['userPrincipalName']}" if removed
         else f"{data['userPrincipalName']} had no MFA registered")


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def write_private_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2)


if __name__ == "__main__":  # pragma: no cover
    main()
