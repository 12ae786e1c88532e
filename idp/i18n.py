"""Languages: Flask-Babel wiring and the choice of a language from an ordered list of preferences.

A page's language is, in order: ``g.language`` (forced by code), the request's own ``ui_locales``, the
language of the sign-in journey (the ``ui_locales`` of the authorization request it serves, see
:func:`set_journey_language_source`), the browser's ``Accept-Language``, English. Pages of the sign-in journey
set ``<html lang>`` from it (:func:`translated_pages`); other pages (admin center) stay English.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

from babel.support import Translations
from flask import Blueprint, Flask, current_app, g, request
from flask_babel import Babel, get_locale

SUPPORTED_LANGUAGES = ("en", "de")
DEFAULT_LANGUAGE = "en"
TRANSLATIONS_DIR = Path(__file__).parent / "translations"
JOURNEY_LANGUAGE_KEY = "portico.journey_language"


def N_(message: str) -> str:  # noqa: N802  (marks a message for extraction; translated later)
    return message


def _supported(tag: str) -> str | None:
    primary = tag.replace("_", "-").split("-")[0].strip().lower()
    return primary if primary in SUPPORTED_LANGUAGES else None


def pick_language(*preferences: str | None) -> str:
    """The first supported language among ``preferences`` (tags like ``de-DE``), else English."""
    return next((lang for tag in preferences if tag and (lang := _supported(tag))), DEFAULT_LANGUAGE)


def ui_language(ui_locales: str | None) -> str | None:
    """The first supported language of an OIDC ``ui_locales`` value (space-separated BCP47 tags), else None."""
    return next((lang for tag in (ui_locales or "").split()[:20] if (lang := _supported(tag))), None)


@cache
def translations_for(language: str) -> Translations:
    """The message catalog of a language (English: the identity catalog), outside any request."""
    return Translations.load(str(TRANSLATIONS_DIR), [language])


def translate(language: str, message: str, **variables: object) -> str:
    """``gettext`` in a given language, with ``%(name)s`` variables (as Flask-Babel formats them)."""
    text = translations_for(language).gettext(message)
    return text % variables if variables else text


def _request_language() -> str:
    forced = g.get("language")
    if forced:
        return forced
    source: Callable[[], str | None] | None = current_app.extensions.get(JOURNEY_LANGUAGE_KEY)
    accepted = request.accept_languages.best_match(SUPPORTED_LANGUAGES)
    return pick_language(ui_language(request.args.get("ui_locales")), source() if source else None, accepted)


def set_journey_language_source(app: Flask, source: Callable[[], str | None]) -> None:
    """Register where the current request's sign-in journey keeps its language (``None``: no preference)."""
    app.extensions[JOURNEY_LANGUAGE_KEY] = source


def page_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LANGUAGE


def translated_pages(blueprint: Blueprint) -> Blueprint:
    """Mark a blueprint's pages as translated: their templates get ``lang`` (``<html lang>``)."""
    blueprint.context_processor(lambda: {"lang": page_language()})
    return blueprint


def init_babel(app: Flask) -> None:
    Babel(app, default_locale=DEFAULT_LANGUAGE, default_translation_directories=str(TRANSLATIONS_DIR),
          locale_selector=_request_language)
