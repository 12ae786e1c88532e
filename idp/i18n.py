"""Languages: Flask-Babel wiring and the choice of a language from an ordered list of preferences.

A page's language is, in order: ``g.language`` (forced by code), the request's own ``ui_locales``, the
language of the sign-in journey (the ``ui_locales`` of the authorization request it serves, see
:func:`set_journey_language_source`), the browser's ``Accept-Language``, English. Pages of the sign-in journey
set ``<html lang>`` from it (:func:`translated_pages`); other pages (admin center) stay English.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Flask, current_app, g, request
from flask_babel import Babel, get_locale, gettext, ngettext

from idp.languages import (  # noqa: F401  (re-exported: pages import the language helpers from here)
    DEFAULT_LANGUAGE,
    N_,
    NP_,
    SUPPORTED_LANGUAGES,
    TRANSLATIONS_DIR,
    Message,
    pick_language,
    translate,
    translations_for,
    ui_language,
)

JOURNEY_LANGUAGE_KEY = "portico.journey_language"


def _request_language() -> str:
    forced = g.get("language")
    if forced:
        return forced
    source: Callable[[], str | None] | None = current_app.extensions.get(JOURNEY_LANGUAGE_KEY)
    accepted = request.accept_languages.best_match(SUPPORTED_LANGUAGES)
    own = request.values.get("ui_locales")  # the authorization endpoint takes POST too (OIDC Core §3.1.2.1)
    return pick_language(ui_language(own), source() if source else None, accepted)


def set_journey_language_source(app: Flask, source: Callable[[], str | None]) -> None:
    """Register where the current request's sign-in journey keeps its language (``None``: no preference)."""
    app.extensions[JOURNEY_LANGUAGE_KEY] = source


def page_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LANGUAGE


def localize(message: Message | str) -> str:
    """A service's :class:`~idp.languages.Message` (or a message id marked with ``N_``) in the page's language."""
    if isinstance(message, str):
        return gettext(message) if message else ""
    values = dict(message.values)
    if message.plural is not None:
        values.pop("num", None)  # ngettext sets it from the count
        return ngettext(message.msgid, message.plural, message.count or 0, **values)
    return gettext(message.msgid, **values)


def translated_pages(blueprint: Blueprint) -> Blueprint:
    """Mark a blueprint's pages as translated: their templates get ``lang`` (``<html lang>``)."""
    blueprint.context_processor(lambda: {"lang": page_language()})
    return blueprint


def init_babel(app: Flask) -> None:
    Babel(app, default_locale=DEFAULT_LANGUAGE, default_translation_directories=str(TRANSLATIONS_DIR),
          locale_selector=_request_language)
