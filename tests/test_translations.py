"""The German catalog is complete and shipped compiled: every message the code and templates mark for translation
(extracted with the same keywords as ``make translations``) has a German text that is neither empty nor fuzzy,
keeps the same ``%(name)s`` placeholders, and the committed ``messages.mo`` (what a fresh clone or an installed
package serves; nothing compiles it at install time) says exactly what ``messages.po`` says. A new English string
without German fails here: run ``make translations`` and fill in ``idp/translations/de/LC_MESSAGES/messages.po``."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from babel.messages import extract
from babel.messages.catalog import Catalog
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from idp.languages import SUPPORTED_LANGUAGES, TRANSLATIONS_DIR, Message

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "idp"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _keywords() -> dict:
    """The ``-k`` options of the Makefile's ``pybabel extract`` line, on top of Babel's defaults."""
    line = next(row for row in (ROOT / "Makefile").read_text().splitlines() if "pybabel extract" in row)
    return {**extract.DEFAULT_KEYWORDS, **parse_keywords(re.findall(r"-k (\S+)", line))}


def _in_sources(directory: str) -> bool:
    path = Path(directory).resolve()
    return not path.name.startswith((".", "_")) and (path in (ROOT, SOURCES) or SOURCES in path.parents)


@cache
def extracted() -> dict[str, set[str]]:
    """msgid (the singular of a plural) -> where it is used."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: dict[str, set[str]] = {}
    for filename, lineno, message, _comments, _context in extract.extract_from_dir(
            ROOT, method_map, options_map, keywords=_keywords(), directory_filter=_in_sources):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, set()).add(f"{filename}:{lineno}")
    return found


def _po(language: str) -> Catalog:
    with (TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=language)


def _key(msgid: str | tuple[str, ...]) -> str:
    return msgid[0] if isinstance(msgid, tuple) else msgid


def _forms(text: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return (text,) if isinstance(text, str) else tuple(text)


def test_every_marked_message_is_in_the_german_catalog_and_nothing_stale() -> None:
    catalog = {_key(m.id) for m in _po("de") if m.id}
    missing = {msgid: sorted(where) for msgid, where in extracted().items() if msgid not in catalog}
    assert not missing, f"run `make translations` and translate: {missing}"
    assert not catalog - set(extracted()), "messages no longer used: run `make translations`"
    assert len(catalog) > 200  # the journey's pages, the services' messages, the mails


def test_the_german_catalog_has_no_untranslated_or_fuzzy_entries() -> None:
    problems = []
    for message in _po("de"):
        if not message.id:
            continue
        forms = _forms(message.string)
        if message.fuzzy or not all(forms):
            problems.append(_key(message.id))
        elif any(sorted(set(PLACEHOLDER.findall(form))) != sorted(set(PLACEHOLDER.findall(_key(message.id))))
                 for form in forms):
            problems.append(f"placeholders differ: {_key(message.id)}")
    assert not problems, problems
    assert not list(_po("de").obsolete)


def test_the_shipped_mo_file_matches_the_po_file() -> None:
    for language in SUPPORTED_LANGUAGES[1:]:
        with (TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.mo").open("rb") as f:
            compiled = read_mo(f)
        stale = [_key(m.id) for m in _po(language) if m.id and (
            compiled.get(m.id) is None or _forms(compiled.get(m.id).string) != _forms(m.string))]
        assert not stale, f"run `pybabel compile -d idp/translations` ({len(stale)} stale): {stale[:5]}"


def test_a_plural_message_picks_the_german_form() -> None:
    forms = ("Too many codes were sent to this address. Try again in %(num)d minute.",
             "Too many codes were sent to this address. Try again in %(num)d minutes.")
    assert Message.plural_of(forms, 1).in_language("de").endswith("in 1 Minute erneut.")
    assert Message.plural_of(forms, 15).in_language("de").endswith("in 15 Minuten erneut.")
    assert str(Message.plural_of(forms, 15)).endswith("in 15 minutes.")
