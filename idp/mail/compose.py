"""Rendering a message's text and HTML parts from ``templates/mail/<name>.txt`` and ``.html``.

Rendering does not need a Flask app (services compose mail outside requests); HTML is autoescaped.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


@dataclass(frozen=True)
class Composed:
    subject: str
    text: str
    html: str


@cache
def _environment() -> Environment:
    """One environment per process: templates ship with the package and never change while it runs, so
    caching their compiled form is safe (it holds no request or tenant state)."""
    return Environment(
        loader=PackageLoader("idp", "templates/mail"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def compose(name: str, *, subject: str, **context: Any) -> Composed:
    env = _environment()
    return Composed(
        subject=subject,
        text=env.get_template(f"{name}.txt").render(subject=subject, **context),
        html=env.get_template(f"{name}.html").render(subject=subject, **context),
    )
