"""The words a person reads, in the panel's language: Korean or English.

Every message is written in English in the code, marked for extraction (``_``, ``ngettext``;
``N_`` where it is defined before the language is known and translated where it is shown), and
looked up in the Korean catalogues under ``locale/ko/LC_MESSAGES`` (stdlib ``gettext``; the
``.po`` sources are compiled to ``.mo`` by ``scripts/i18n compile`` and both are committed; a test
checks that they agree and that no message of the code is missing from them).

The catalogues are split by who writes them, one gettext domain each (``DOMAINS``): the core
(command line, errors, views, exports), the console and the minutes. A message is looked up in
each in turn.

The language: ``--lang``, else ``[contest] language`` of config.toml, else the locale
(``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``: ``ko_KR.UTF-8`` gives Korean), else
English. JSON keys, identifiers from the files and exit codes never change with it.
"""

from __future__ import annotations

import gettext
import os
from pathlib import Path

LANGUAGES = ("en", "ko")
DOMAINS = ("core", "console", "minutes")  # panel_tui/locale/<lang>/LC_MESSAGES/<domain>.po
LOCALE_DIR = Path(__file__).with_name("locale")

_translations: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"


def set_language(language: str) -> None:
    """Every message from now on in ``language`` (one of ``LANGUAGES``)."""
    global _translations, _language
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r} (expected one of: {', '.join(LANGUAGES)})")
    chain: gettext.NullTranslations = gettext.NullTranslations()
    if language != "en":
        found = [gettext.translation(domain, LOCALE_DIR, languages=[language], fallback=True) for domain in DOMAINS]
        chain = found[0]
        for more in found[1:]:
            chain.add_fallback(more)
    _translations, _language = chain, language


def language() -> str:
    """The language messages are in now: "en" or "ko"."""
    return _language


def from_environment(environ: dict[str, str] | None = None) -> str | None:
    """The language the locale asks for, as gettext reads it (the first of ``LANGUAGE``,
    ``LC_ALL``, ``LC_MESSAGES``, ``LANG`` that is set), if it is one of ours."""
    env = os.environ if environ is None else environ
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name)
        if value:
            first = value.split(":")[0].split(".")[0].split("_")[0].lower()
            return first if first in LANGUAGES else None
    return None


def choose(asked: str | None, configured: str | None, environ: dict[str, str] | None = None) -> str:
    """The language to use: ``--lang`` (``asked``), else the contest's (``configured``), else
    the locale's, else English."""
    return asked or configured or from_environment(environ) or "en"


def translation_of(name: str) -> tuple[str, str]:
    """A name of the contest's files split as a translation: ("region", "ko") for
    ``region_ko``; (``name``, "") when it does not end in one of our languages."""
    base, _sep, lang = name.rpartition("_")
    return (base, lang) if base and lang in LANGUAGES else (name, "")


def _(message: str) -> str:
    """``message`` in the current language."""
    return _translations.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural of a message for ``n``, in the current language."""
    return _translations.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks ``message`` for the catalogue where it cannot be translated yet (a constant made
    at import); ``_`` translates it where it is shown."""
    return message
