"""Languages: Flask-Babel wiring and the choice of a language from an ordered list of preferences."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path

from babel.support import Translations
from flask import Flask, g, request
from flask_babel import Babel

SUPPORTED_LANGUAGES = ("en", "de")
DEFAULT_LANGUAGE = "en"
TRANSLATIONS_DIR = Path(__file__).parent / "translations"


def pick_language(*preferences: str | None) -> str:
    """The first supported language among ``preferences`` (tags like ``de-DE``), else English."""
    for tag in preferences:
        if not tag:
            continue
        primary = tag.replace("_", "-").split("-")[0].strip().lower()
        if primary in SUPPORTED_LANGUAGES:
            return primary
    return DEFAULT_LANGUAGE


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
    ui_locales: Iterable[str] = (request.args.get("ui_locales") or "").split()
    accepted = request.accept_languages.best_match(SUPPORTED_LANGUAGES)
    return pick_language(*ui_locales, accepted)


def init_babel(app: Flask) -> None:
    Babel(app, default_locale=DEFAULT_LANGUAGE, default_translation_directories=str(TRANSLATIONS_DIR),
          locale_selector=_request_language)
