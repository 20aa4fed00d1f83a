"""The panel's language: how it is chosen, and catalogues that hold every message of the code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from panel_tui import i18n
from panel_tui.config import configured_language, load_config
from panel_tui.errors import InputError

ROOT = Path(__file__).resolve().parent.parent


def test_every_message_of_the_code_is_translated_and_every_catalogue_compiled():
    """scripts/i18n.py check: a message marked in the code and missing from (or fuzzy in) a
    Korean catalogue, or a .mo that is not its .po compiled, fails here, named."""
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "i18n.py"), "check"], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize(
    ("asked", "configured", "environ", "expected"),
    [
        (None, None, {}, "en"),
        (None, None, {"LANG": "ko_KR.UTF-8"}, "ko"),
        (None, None, {"LANG": "ko_KR.UTF-8", "LC_ALL": "C.UTF-8"}, "en"),  # LC_ALL first, and not ours
        (None, None, {"LANGUAGE": "ko:en", "LANG": "C"}, "ko"),
        (None, None, {"LANG": "fr_FR.UTF-8"}, "en"),
        (None, "ko", {"LANG": "en_US.UTF-8"}, "ko"),  # the contest's over the locale
        ("en", "ko", {"LANG": "ko_KR.UTF-8"}, "en"),  # --lang over both
        ("ko", None, {}, "ko"),
    ],
)
def test_the_language_is_lang_else_the_contests_else_the_locales(asked, configured, environ, expected):
    assert i18n.choose(asked, configured, environ) == expected


def test_set_language_looks_messages_up_in_the_korean_catalogues():
    message = "the language of the screens, messages and exports (default: [contest] language, else the locale)"
    try:
        i18n.set_language("ko")
        assert i18n.language() == "ko" and i18n._(message) != message and "언어" in i18n._(message)
        assert i18n._("a message no catalogue has") == "a message no catalogue has"
        i18n.set_language("en")
        assert i18n._(message) == message
        with pytest.raises(ValueError, match="unknown language"):
            i18n.set_language("fr")
    finally:
        i18n.set_language("en")


def test_the_contest_names_its_language_in_config_toml(contest):
    text = contest.config.read_text(encoding="utf-8")
    contest.config.write_text(text.replace("[contest]\n", '[contest]\nlanguage = "ko"\n', 1), encoding="utf-8")
    assert load_config(contest.config).contest.language == "ko" and configured_language(contest.config) == "ko"
    contest.config.write_text(text.replace("[contest]\n", '[contest]\nlanguage = "fr"\n', 1), encoding="utf-8")
    with pytest.raises(InputError, match=r"\[contest\] language.*must be one of: en, ko, not 'fr'"):
        load_config(contest.config)
    assert configured_language(contest.config) is None  # (load_config says what is wrong)
    assert load_config(ROOT / "panel_tui" / "demo" / "config.toml").contest.language is None


def test_lang_and_the_locale_reach_the_command_line(tmp_path):
    def help_of(*args: str, lang: str = "C.UTF-8") -> str:
        env = {"PATH": "/usr/bin:/bin", "LANG": lang, "HOME": str(tmp_path)}
        return subprocess.run(
            [sys.executable, "-m", "panel_tui", *args, "--help"],
            capture_output=True,
            text=True,
            check=True,
            env=env,
            cwd=tmp_path,
        ).stdout

    assert "언어" not in help_of()
    assert "언어" in help_of("--lang", "ko")
    assert "언어" in help_of(lang="ko_KR.UTF-8")
    assert "언어" not in help_of("--lang", "en", lang="ko_KR.UTF-8")


def test_every_translation_keeps_its_messages_placeholders():
    """A translation that drops, renames or adds a placeholder (``{name}`` for ``str.format``,
    ``$name`` for a markup template, ``%(name)s``) would fail, or show a hole, only when that
    message is shown: each catalogue's translations name exactly their message's placeholders."""
    import re

    from babel.messages.pofile import read_po

    names = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}|\$[A-Za-z_][A-Za-z0-9_]*|%\([A-Za-z_]+\)[sd]")
    wrong = []
    for path in sorted((ROOT / "panel_tui" / "locale").glob("*/LC_MESSAGES/*.po")):
        with path.open("rb") as handle:
            catalog = read_po(handle)
        for message in catalog:
            if not message.id or not message.string:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            wanted = set(names.findall(ids[-1]))  # (the plural names them all)
            wrong += [
                f"{path.relative_to(ROOT)}: {ids[0]!r} -> {s!r}"
                for s in strings
                if s and set(names.findall(s)) != wanted
            ]
    assert not wrong, "\n".join(wrong)
