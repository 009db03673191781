"""Regenerate csdomain's gettext catalogs: extract, update and compile in one go.

Usage (from anywhere; paths are relative to the repository root)::

    .venv/bin/python scripts/update_catalogs.py          # rewrite what is out of date
    .venv/bin/python scripts/update_catalogs.py --check  # exit 1 if anything is out of date

1. *extract*: the messages marked in ``src/csdomain`` (see ``babel.cfg``) into the
   template ``src/csdomain/i18n/locale/csdomain.pot``;
2. *update*: each ``src/csdomain/i18n/locale/<locale>/LC_MESSAGES/csdomain.po`` from the
   template (new messages arrive untranslated, removed ones are dropped, a changed
   message id may arrive as a ``fuzzy`` guess that a translator must check);
3. *compile*: each ``.po`` into the ``.mo`` next to it (fuzzy entries are left out).

Output is stable: no source locations, sorted messages, and the template's
creation date only moves when its messages change, so running the script on an
unchanged tree rewrites nothing. Untranslated or fuzzy messages are listed at
the end; ``tests/test_i18n.py`` fails while any remain.
"""

from __future__ import annotations

import argparse
import configparser
import datetime
import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
MAPPING = ROOT / "babel.cfg"
LOCALE_DIR = ROOT / "src" / "csdomain" / "i18n" / "locale"
DOMAIN = "csdomain"
TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"
#: Catalogs kept in the repository (English is the source language: no catalog).
LOCALES = ("zh_Hans", "zh_Hant")

_HEADER = """\
# Translations for csdomain.
# This file is distributed under the same license as the csdomain project.
#"""
_META: dict[str, Any] = {
    "domain": DOMAIN,
    "header_comment": _HEADER,
    "project": "csdomain",
    "version": "0",
    "copyright_holder": "csdomain developers",
    "msgid_bugs_address": "https://github.com/csdomain/csdomain/issues",
    "charset": "utf-8",
    "fuzzy": False,
}
_WRITE_OPTIONS: dict[str, Any] = {
    "width": 100,
    "no_location": True,
    "sort_output": True,
    "ignore_obsolete": True,
    "include_previous": False,
}


def po_path(locale: str) -> Path:
    """The ``.po`` catalog of ``locale``."""
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(locale: str) -> Path:
    """The compiled ``.mo`` catalog of ``locale``."""
    return po_path(locale).with_suffix(".mo")


def _mapping_keywords() -> tuple[dict[str, Any], list[str]]:
    """Keywords and comment tags declared in babel.cfg, for any Babel version."""
    parser = configparser.RawConfigParser()
    parser.read(MAPPING, encoding="utf-8")
    keywords: dict[str, Any] = dict(DEFAULT_KEYWORDS)
    tags: list[str] = []
    for section in parser.sections():
        if section == "extractors":
            continue
        keywords.update(parse_keywords(parser.get(section, "keywords", fallback="").split()))
        tags.extend(parser.get(section, "add_comments", fallback="").split(","))
    return keywords, [t.strip() for t in tags if t.strip()]


def extract_template(creation_date: datetime.datetime | str | None = None) -> Catalog:
    """The template catalog: every message marked in the sources, as of now."""
    with MAPPING.open(encoding="utf-8") as fp:
        method_map, options_map = parse_mapping_cfg(fp, str(MAPPING))  # type: ignore[no-untyped-call]
    keywords, comment_tags = _mapping_keywords()
    template = Catalog(creation_date=creation_date, **_META)
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT),
        method_map,
        options_map,
        keywords=keywords,
        comment_tags=comment_tags,
        strip_comment_tags=True,
    ):
        template.add(
            message,
            None,
            [(Path(filename).as_posix(), lineno)],
            auto_comments=comments,
            context=context,
        )
    return template


def render(catalog: Catalog, *, omit_header: bool = False) -> bytes:
    """``catalog`` serialized as the repository keeps it."""
    out = io.BytesIO()
    write_po(out, catalog, omit_header=omit_header, **_WRITE_OPTIONS)
    return out.getvalue()


def compile_catalog(catalog: Catalog) -> bytes:
    """``catalog`` compiled to the GNU ``.mo`` format, leaving fuzzy entries out."""
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def _read(path: Path, locale: str | None = None) -> Catalog | None:
    if not path.exists():
        return None
    with path.open("rb") as fp:
        return read_po(fp, locale=locale, domain=DOMAIN)


def _template() -> Catalog:
    """The fresh template, keeping the committed creation date if nothing changed."""
    existing = _read(TEMPLATE)
    if existing is not None:
        same_date = extract_template(creation_date=existing.creation_date)
        if render(same_date) == TEMPLATE.read_bytes():
            return same_date
    return extract_template()


def _updated(locale: str, template: Catalog) -> Catalog:
    catalog = _read(po_path(locale), locale)
    if catalog is None:
        catalog = Catalog(
            locale=locale,
            creation_date=template.creation_date,
            revision_date=template.creation_date,
            last_translator="csdomain developers",
            language_team="csdomain developers",
            **_META,
        )
    catalog.update(template)
    catalog.fuzzy = False
    return catalog


def problems(locale: str, catalog: Catalog) -> Iterator[str]:
    """The messages of ``catalog`` that are untranslated or marked fuzzy."""
    for message in catalog:
        if not message.id:
            continue
        name = f"{message.context + ' | ' if message.context else ''}{message.id!s}"
        if message.fuzzy:
            yield f"{locale}: fuzzy: {name}"
        elif not message.string or (isinstance(message.string, tuple) and not all(message.string)):
            yield f"{locale}: untranslated: {name}"


def main(argv: list[str] | None = None) -> int:
    """Run extract -> update -> compile; return the process exit status."""
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit with status 1 if any catalog file is out of date",
    )
    args = parser.parse_args(argv)

    outputs: dict[Path, bytes] = {}
    template = _template()
    outputs[TEMPLATE] = render(template)
    todo: list[str] = []
    for locale in LOCALES:
        catalog = _updated(locale, template)
        outputs[po_path(locale)] = render(catalog)
        # Compile what the .po file will hold, exactly as a reader sees it.
        compiled = read_po(io.BytesIO(outputs[po_path(locale)]), locale=locale, domain=DOMAIN)
        outputs[mo_path(locale)] = compile_catalog(compiled)
        todo.extend(problems(locale, compiled))

    stale = [p for p, data in outputs.items() if not p.exists() or p.read_bytes() != data]
    for path in stale:
        relative = path.relative_to(ROOT)
        if args.check:
            print(f"out of date: {relative}")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(outputs[path])
            print(f"wrote {relative}")
    if not stale:
        print("catalogs are up to date")
    for line in todo:
        print(f"needs translation: {line}", file=sys.stderr)
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
