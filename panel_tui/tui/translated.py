"""The console's words that are made before the language is known: key descriptions, Textual's own
palette commands; the panel's roles, the candidates' statuses and the exclusion codes as a screen
writes them (the words themselves are the core's, ``panel_tui.vocabulary``).

A class's ``BINDINGS`` are read when the class is made (at import), before ``--lang`` is; the
words are marked there with ``N_`` and translated here when a widget is made. Textual 8.2 copies
a class's merged bindings into each instance's ``_bindings`` (a ``BindingsMap`` whose
``key_to_bindings`` maps a key to its ``Binding``s) in ``DOMNode.__init__``; ``TranslatedBindings``
replaces each binding there with its description and tooltip translated. That is a private
attribute (Textual is pinned to 8.2 for it and for the leaderboard's, listed in
``table_internals``); ``missing()`` names it when an upgrade removed it, and a test calls it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from textual.app import SystemCommand
from textual.dom import DOMNode

from panel_tui.i18n import N_, _
from panel_tui.vocabulary import exclusion_words, role_words, status_words

ATTRIBUTES = ("_bindings", "_bindings.key_to_bindings")

# Textual's own words on our screens: the palette's key in the footer and its system commands.
TEXTUAL_WORDS = (
    N_("palette"),
    N_("Open the command palette"),
    N_("Theme"),
    N_("Change the current theme"),
    N_("Quit"),
    N_("Quit the application as soon as possible"),
    N_("Keys"),
    N_("Hide the keys and widget help panel"),
    N_("Show help for the focused widget and a summary of available keys"),
    N_("Minimize"),
    N_("Minimize the widget and restore to normal size"),
    N_("Maximize"),
    N_("Maximize the focused widget"),
    N_("Screenshot"),
    N_("Save an SVG 'screenshot' of the current screen"),
)


def role_word(role: str) -> str:
    """A role in the panel's language (secretary: 간사): ``vocabulary.role_words``."""
    return role_words(role)


def status_word(status: str) -> str:
    """A candidate's status in the panel's language (certified: 인증), as a screen writes it:
    ``vocabulary.status_words`` without the identifier's underscore ("not certified")."""
    return status_words(status).replace("_", " ")


def translate_bindings(node: DOMNode) -> None:
    """``node``'s key descriptions (and tooltips) in the panel's language."""
    # HACK (Textual 8.2, DOMNode._bindings): the instance's own copy of its class's bindings.
    bindings = node._bindings.key_to_bindings
    for key, found in bindings.items():
        bindings[key] = [
            dataclasses.replace(
                binding,
                description=_(binding.description) if binding.description else "",
                tooltip=_(binding.tooltip) if binding.tooltip else "",
            )
            for binding in found
        ]


class TranslatedBindings:
    """A widget, screen or app whose key descriptions are translated when it is made."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assert isinstance(self, DOMNode)
        translate_bindings(self)


def system_command(command: SystemCommand) -> SystemCommand:
    """One of Textual's own palette commands, its title and help in the panel's language."""
    return command._replace(title=_(command.title), help=_(command.help))


def missing(node: DOMNode) -> list[str]:
    """The internals this module relies on that ``node`` lacks (an upgraded Textual)."""
    bindings = getattr(node, "_bindings", None)
    if bindings is None:
        return ["_bindings"]
    return [] if isinstance(getattr(bindings, "key_to_bindings", None), dict) else ["_bindings.key_to_bindings"]


def exclusion_word(code: str) -> str:
    """An exclusion's reason code in the panel's language, the code beside it: "철회 (withdrawn)"."""
    word = exclusion_words(code)
    return code if word == code else f"{word} ({code})"
