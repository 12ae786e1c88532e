"""Portico: an identity provider for B2B guest access. ``create_app`` wires the pieces; nothing more."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext
from werkzeug.exceptions import HTTPException

from idp.config import Settings, load_settings
from idp.db import Database
from idp.i18n import N_, init_babel, page_language, set_journey_language_source
from idp.keys import KeyStore
from idp.runtime import EXTENSION_KEY, Runtime, close_request_db


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" or request.path.startswith(("/api", "/healthz", "/readyz"))


# Pages for HTTP errors, in the browser's language (werkzeug's own texts are English; JSON answers keep them).
HTTP_ERROR_PAGES = {
    400: (N_("The request cannot be used"),
          N_("Your browser sent a request this page cannot use. Go back and try again.")),
    403: (N_("Access denied"), N_("You are not allowed to open this page.")),
    404: (N_("Page not found"),
          N_("There is no page at this address. Check the address, or go back to the application.")),
    405: (N_("This page cannot be used this way"), N_("Go back to the previous page and try again.")),
    413: (N_("The request is too large"), N_("Go back and send less data.")),
    429: (N_("Too many requests"), N_("Wait a moment and try again.")),
}
UNEXPECTED_ERROR = N_("Something went wrong on our side. Try again in a moment.")


def _register_error_pages(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        if _wants_json():
            return jsonify(error=exc.name.lower().replace(" ", "_"), error_description=exc.description), exc.code
        title, message = exc.name, exc.description
        if exc.code in HTTP_ERROR_PAGES and exc.description == type(exc).description:  # werkzeug's default text
            title, message = (gettext(text) for text in HTTP_ERROR_PAGES[exc.code])
        return render_template("error.html", title=title, message=message, lang=page_language()), exc.code

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if _wants_json():
            return jsonify(error="server_error", error_description=UNEXPECTED_ERROR), 500
        return render_template("error.html", title=gettext("Unexpected error"), message=gettext(UNEXPECTED_ERROR),
                               lang=page_language()), 500


def create_app(settings: Settings | None = None, *, ensure_keys: bool = True) -> Flask:
    settings = settings or load_settings()
    app = Flask(__name__, instance_path=str(settings.instance_dir), instance_relative_config=False)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_production,
        PREFERRED_URL_SCHEME="https" if settings.is_production else "http",
    )
    keys = KeyStore(settings.keys_dir)
    if ensure_keys:
        keys.ensure()
    database = Database(settings.database_url, cache_seconds=settings.cache_seconds,
                        sqlite_synchronous=settings.sqlite_synchronous)
    app.extensions[EXTENSION_KEY] = Runtime(settings=settings, database=database, keys=keys)
    app.teardown_appcontext(close_request_db)
    init_babel(app)
    from idp.signin.context import language as journey_language

    set_journey_language_source(app, journey_language)

    from idp.admin.pages import blueprint as admin_blueprint
    from idp.api import blueprint as api_blueprint
    from idp.demo_rp import init_demo
    from idp.health import blueprint as health_blueprint
    from idp.invitations.views import blueprint as invitation_pages_blueprint
    from idp.mfa.views import blueprint as mfa_blueprint
    from idp.oidc.provider import init_provider
    from idp.oidc.views import blueprint as oidc_blueprint
    from idp.oidc.views import metadata_blueprint as oauth_metadata_blueprint
    from idp.oidc.views import pages as oidc_pages_blueprint
    from idp.signin.guest_views import blueprint as journey_blueprint
    from idp.signin.guest_views import init_guest_journey
    from idp.signin.steps import init_routes as init_signin_routes
    from idp.signin.views import blueprint as signin_blueprint
    from idp.wellknown import jwks_blueprint, pages_blueprint

    app.register_blueprint(health_blueprint)
    app.register_blueprint(jwks_blueprint)
    app.register_blueprint(pages_blueprint)
    app.register_blueprint(api_blueprint)
    app.register_blueprint(invitation_pages_blueprint)
    if not settings.is_production:
        from idp.mail.views import blueprint as dev_mail_blueprint

        app.register_blueprint(dev_mail_blueprint)
    init_provider(app)
    init_signin_routes(app)
    init_guest_journey(app)
    app.register_blueprint(oidc_blueprint)
    app.register_blueprint(oidc_pages_blueprint)
    app.register_blueprint(oauth_metadata_blueprint)
    app.register_blueprint(signin_blueprint)
    app.register_blueprint(mfa_blueprint)
    app.register_blueprint(admin_blueprint)
    app.register_blueprint(journey_blueprint)
    init_demo(app)

    from scim.app import blueprint as scim_blueprint

    app.register_blueprint(scim_blueprint)
    _register_error_pages(app)
    return app
