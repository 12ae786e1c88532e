"""Rendering a message's text and HTML parts from ``templates/mail/<name>.txt`` and ``.html``, in a language.

Rendering does not need a Flask app (services compose mail outside requests); HTML is autoescaped. Templates use
the same ``_()`` calls and message catalogs (``idp/translations``) as the pages, which Flask-Babel serves.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from idp.languages import DEFAULT_LANGUAGE, translations_for


@dataclass(frozen=True)
class Composed:
    subject: str
    text: str
    html: str


@cache
def _environment(language: str) -> Environment:
    """One environment per language and process: templates and catalogs ship with the package and never change
    while it runs, so caching their compiled form is safe (it holds no request or tenant state)."""
    env = Environment(
        loader=PackageLoader("idp", "templates/mail"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations_for(language), newstyle=True)  # type: ignore[attr-defined]
    return env


def compose(name: str, *, subject: str, language: str = DEFAULT_LANGUAGE, **context: Any) -> Composed:
    env = _environment(language)
    return Composed(
        subject=subject,
        text=env.get_template(f"{name}.txt").render(subject=subject, lang=language, **context),
        html=env.get_template(f"{name}.html").render(subject=subject, lang=language, **context),
    )
