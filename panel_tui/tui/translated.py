"""The console's words that are made before the language is known: key descriptions, Textual's own
palette commands; the panel's roles and the candidates' statuses as a screen
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
from panel_tui.vocabulary import role_words, status_words

ATTRIBUTES = ("_bindings", "_bindings.key_to_bindings")
# CommandPalette's own, for its "No matches found" (``Palette``).
PALETTE_ATTRIBUTES = (
    "_start_no_matches_countdown",
    "_stop_no_matches_countdown",
    "_NO_MATCHES",
    "_NO_MATCHES_COUNTDOWN",
    "_list_visible",
)

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

# The key descriptions of Textual's own widgets on our screens (the tables, the forms' text
# fields, the tabs, the palette), as its keys panel lists them; ``test_console_korean`` fails
# when a widget we use has one this list lacks.
TEXTUAL_KEYS = (
    N_("Bottom"),
    N_("Copy"),
    N_("Copy selected text"),
    N_("Cursor down"),
    N_("Cursor down select"),
    N_("Cursor left"),
    N_("Cursor left select"),
    N_("Cursor left word select"),
    N_("Cursor line end"),
    N_("Cursor line end select"),
    N_("Cursor line start"),
    N_("Cursor line start select"),
    N_("Cursor page down"),
    N_("Cursor page up"),
    N_("Cursor right"),
    N_("Cursor right select"),
    N_("Cursor right word select"),
    N_("Cursor up"),
    N_("Cursor up select"),
    N_("Cursor word left"),
    N_("Cursor word right"),
    N_("Cut"),
    N_("Cut selected text"),
    N_("Delete all to the left"),
    N_("Delete all to the right"),
    N_("Delete character left"),
    N_("Delete character right"),
    N_("Delete left to start of word"),
    N_("Delete line"),
    N_("Delete right to start of word"),
    N_("Delete to line end"),
    N_("Delete to line start"),
    N_("Down"),
    N_("End"),
    N_("Exit the command palette"),
    N_("First"),
    N_("Focus Next"),
    N_("Focus Previous"),
    N_("Go to bottom"),
    N_("Go to end"),
    N_("Go to start"),
    N_("Go to top"),
    N_("Home"),
    N_("Last"),
    N_("Move cursor left"),
    N_("Move cursor left a word"),
    N_("Move cursor left a word and select"),
    N_("Move cursor left and select"),
    N_("Move cursor right a word"),
    N_("Move cursor right a word and select"),
    N_("Move cursor right and select"),
    N_("Move cursor right or accept the completion suggestion"),
    N_("Next command"),
    N_("Next option"),
    N_("Next page"),
    N_("Next tab"),
    N_("Page Down"),
    N_("Page Left"),
    N_("Page Right"),
    N_("Page Up"),
    N_("Page down"),
    N_("Page up"),
    N_("Paste"),
    N_("Paste text from the clipboard"),
    N_("Press button"),
    N_("Previous command"),
    N_("Previous option"),
    N_("Previous page"),
    N_("Previous tab"),
    N_("Quit the app and return to the command prompt."),
    N_("Redo"),
    N_("Scroll Down"),
    N_("Scroll End"),
    N_("Scroll Home"),
    N_("Scroll Left"),
    N_("Scroll Right"),
    N_("Scroll Up"),
    N_("Select"),
    N_("Select all"),
    N_("Select line"),
    N_("Select line end"),
    N_("Select line start"),
    N_("Show menu"),
    N_("Submit"),
    N_("Toggle"),
    N_("Top"),
    N_("Undo"),
    N_("Up"),
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
    from textual.command import CommandPalette

    gone = [f"CommandPalette.{name}" for name in PALETTE_ATTRIBUTES if not hasattr(CommandPalette, name)]
    if gone:
        return gone
    bindings = getattr(node, "_bindings", None)
    if bindings is None:
        return ["_bindings"]
    return [] if isinstance(getattr(bindings, "key_to_bindings", None), dict) else ["_bindings.key_to_bindings"]
