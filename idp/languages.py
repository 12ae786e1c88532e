"""Languages without Flask: the supported languages, the message catalogs and translatable messages.

Services (no Flask) mark the sentences people see with :func:`N_` (or :func:`NP_` for a plural) and hand them
over as :class:`Message` values (a message id plus its ``%(name)s`` values); a page translates them in its
language (:func:`idp.i18n.localize`), a log line or an API error uses ``str(message)`` (English). Pages keep the
Flask wiring in :mod:`idp.i18n`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from babel.support import Translations

SUPPORTED_LANGUAGES = ("en", "de")
DEFAULT_LANGUAGE = "en"
TRANSLATIONS_DIR = Path(__file__).parent / "translations"


def N_(message: str) -> str:  # noqa: N802  (marks a message for extraction; translated later)
    return message


def NP_(singular: str, plural: str) -> tuple[str, str]:  # noqa: N802  (marks a plural message for extraction)
    return singular, plural


@dataclass(frozen=True)
class Message:
    """A sentence for people, translated where it is shown. ``msgid`` is the English text marked with
    :func:`N_`; ``plural`` (marked with :func:`NP_`) is chosen by ``count`` as gettext's ``ngettext`` does."""

    msgid: str
    values: Mapping[str, object] = field(default_factory=dict)
    plural: str | None = None
    count: int | None = None

    @classmethod
    def plural_of(cls, forms: tuple[str, str], count: int, **values: object) -> Message:
        return cls(forms[0], {"num": count, **values}, plural=forms[1], count=count)

    def in_language(self, language: str) -> str:
        catalog = translations_for(language)
        if self.plural is not None:
            text = catalog.ngettext(self.msgid, self.plural, self.count or 0)
        else:
            text = catalog.gettext(self.msgid)
        return text % dict(self.values) if self.values else text

    def __str__(self) -> str:
        return self.in_language(DEFAULT_LANGUAGE)


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
