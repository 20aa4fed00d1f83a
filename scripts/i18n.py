#!/usr/bin/env python3
"""The message catalogues: extract, update, compile and check them (Babel).

    scripts/i18n.py update    the code's messages into each language's .po (new ones untranslated,
                              gone ones dropped; translations kept), then compile
    scripts/i18n.py compile   every .po to its .mo (both are committed)
    scripts/i18n.py check     exit 1, naming them, when a message of the code has no translation
                              (or a fuzzy one) or a .mo holds other messages than its .po
                              (tests/test_i18n.py; compared message by message: Babel releases
                              write the same messages in different bytes)

One gettext domain per part of the package (``panel_tui.i18n.DOMAINS``), so that the people who
translate the console and the minutes keep to their own file: ``domain_of`` says which file a
source belongs to.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "panel_tui"
LOCALE = PACKAGE / "locale"
DOMAINS = ("core", "console", "minutes")
# Catalogues of another program's messages, kept by hand (not extracted from our code):
# argparse's own words ("usage:", "invalid choice", …), which panel_tui.cli points argparse at.
# Compiled and checked like ours: every entry translated, the .mo compiled from the .po.
FOREIGN = ("argparse",)
TRANSLATED = ("ko",)  # English is the source language
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None}
FIXED_DATE = datetime(2022, 9, 1, tzinfo=UTC)  # the header's dates: a .po changes only with its messages


def domain_of(path: Path) -> str:
    """The catalogue a source file's messages go to."""
    relative = path.relative_to(PACKAGE).as_posix()
    if relative.startswith("tui/"):
        return "console"
    if relative.startswith("minutes"):
        return "minutes"
    return "core"


def sources(domain: str) -> Iterator[Path]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if domain_of(path) == domain:
            yield path


def template(domain: str) -> Catalog:
    """Every message the code of ``domain`` marks, with where it is."""
    catalog = Catalog(project="panel-tui", domain=domain, charset="utf-8")
    for path in sources(domain):
        for lineno, message, comments, context in extract_from_file(
            "python", path, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",), strip_comment_tags=True
        ):
            catalog.add(
                message,
                None,
                [(path.relative_to(ROOT).as_posix(), lineno)],
                auto_comments=comments,
                context=context,
            )
    return catalog


def po_path(language: str, domain: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / f"{domain}.po"


def read(path: Path, language: str, domain: str) -> Catalog:
    if not path.exists():
        return Catalog(locale=language, domain=domain, project="panel-tui", charset="utf-8")
    with path.open("rb") as handle:
        return read_po(handle, locale=language, domain=domain)


def mo_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


def compiled(mo: Path, catalog: Catalog) -> bool:
    """Whether the committed ``mo`` holds exactly the messages ``catalog`` compiles to (each id,
    context and translation; not the bytes, which differ between Babel releases)."""
    if not mo.exists():
        return False

    def plain(text: object) -> object:  # (a plural message's forms come as a list)
        return tuple(text) if isinstance(text, list | tuple) else text

    def messages(data: bytes) -> dict[tuple[object, object], object]:
        return {(plain(m.id), m.context): plain(m.string) for m in read_mo(io.BytesIO(data)) if m.id}

    return messages(mo.read_bytes()) == messages(mo_bytes(catalog))


def po_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(out, catalog, width=100, omit_header=False, sort_output=False, sort_by_file=True, include_lineno=False)
    return out.getvalue()


def update() -> None:
    for domain in DOMAINS:
        pot = template(domain)
        for language in TRANSLATED:
            path = po_path(language, domain)
            catalog = read(path, language, domain)
            catalog.update(pot, no_fuzzy_matching=True, update_header_comment=False)
            catalog.obsolete.clear()
            catalog.fuzzy = False  # (the header: a fuzzy one is left out of the .mo, and its charset with it)
            # (no dates in the header: the files change only when their messages do)
            catalog.creation_date = catalog.revision_date = FIXED_DATE
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(po_bytes(catalog))
    compile_all()


def compile_all() -> None:
    for domain in (*DOMAINS, *FOREIGN):
        for language in TRANSLATED:
            path = po_path(language, domain)
            if path.exists():
                path.with_suffix(".mo").write_bytes(mo_bytes(read(path, language, domain)))


def problems() -> list[str]:
    """What keeps the catalogues from being complete and compiled, one line each."""
    found = []
    for domain in DOMAINS:
        pot = template(domain)
        for language in TRANSLATED:
            path = po_path(language, domain)
            catalog = read(path, language, domain)
            for message in pot:
                if not message.id:
                    continue
                have = catalog.get(message.id, context=message.context)
                where = ", ".join(f"{f}:{n}" for f, n in message.locations)
                if have is None:
                    found.append(f"{path.relative_to(ROOT)}: missing {message.id!r} ({where})")
                elif have.fuzzy or not (all(have.string) if isinstance(have.string, tuple) else have.string):
                    found.append(f"{path.relative_to(ROOT)}: not translated {message.id!r} ({where})")
            mo = path.with_suffix(".mo")
            if path.exists() and not compiled(mo, catalog):
                found.append(f"{mo.relative_to(ROOT)}: not compiled from {path.name} (scripts/i18n.py compile)")
    for domain in FOREIGN:
        for language in TRANSLATED:
            path = po_path(language, domain)
            catalog = read(path, language, domain)
            for message in catalog:
                if message.id and (
                    message.fuzzy or not (all(message.string) if isinstance(message.string, tuple) else message.string)
                ):
                    found.append(f"{path.relative_to(ROOT)}: not translated {message.id!r}")
            mo = path.with_suffix(".mo")
            if not compiled(mo, catalog):
                found.append(f"{mo.relative_to(ROOT)}: not compiled from {path.name} (scripts/i18n.py compile)")
    return found


def main(argv: list[str]) -> int:

    command = argv[1] if len(argv) > 1 else "check"
    if command == "update":
        update()
    elif command == "compile":
        compile_all()
    elif command == "check":
        found = problems()
        print("\n".join(found) or "every message translated, every catalogue compiled")
        return 1 if found else 0
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
