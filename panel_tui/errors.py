"""The errors the core raises on purpose, each mapped to an exit status by the CLI."""

from __future__ import annotations

import re
from pathlib import Path

from panel_tui.i18n import N_, _
from panel_tui.text import draws_nothing, picture, visible


def shown_path(file: Path | str) -> str:
    """A file name as text that prints everywhere and shows what it is: bytes that are not
    UTF-8 (kept by Python as surrogates) as ``\\xff``, hidden characters as visible escapes."""
    text = str(file)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return visible(text)


def shown_value(value: object) -> str:
    """A value from a file (an id, a column name) as shown in a message: hidden characters as
    visible escapes, and blanks other than the plain space (a no-break space, an ideographic
    space) as ``\\u00a0``-style escapes, so that a stray one can be seen."""
    text = visible(value)
    if text.isascii():
        return text
    return "".join(picture(c) if (c.isspace() and c != " ") or draws_nothing(c) else c for c in text)


class PanelError(Exception):
    """Base of every error the tool reports to a person instead of a traceback."""

    exit_status = 1


class InputError(PanelError):
    """Bad input (exit status 2): names the file, and the row/line and column where one applies.

    ``where`` is a ready-made location such as ``"line 14"`` (CSV), ``"row 14"`` (XLSX,
    Parquet) or ``"key [scoring] method"`` (TOML).
    """

    exit_status = 2

    def __init__(
        self,
        file: Path | str | None,
        message: str,
        *,
        where: str | None = None,
        column: str | None = None,
    ) -> None:
        self.file = shown_path(file) if file is not None else None
        self.message = message
        self.where = where
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [p for p in (self.file, location(self.where)) if p]
        if self.column is not None:
            parts.append(_("column '{column}'").format(column=shown_value(self.column)))
        prefix = ", ".join(parts)
        return f"{prefix}: {self.message}" if prefix else self.message


# The places of a file that are not a line, a row or a key (``inputs.read``).
_PLACES = {"the header": N_("the header"), "the schema": N_("the schema")}
_WHERE = re.compile(r"(line|row|key) (.+)", re.DOTALL)


def location(where: str | None) -> str | None:
    """A bad input's ``where`` ("line 14", "row 14", "key [scoring] method") in the current
    language; a location of another form as it is."""
    if where is None:
        return None
    if where in _PLACES:
        return _(_PLACES[where])
    found = _WHERE.fullmatch(where)
    if found is None:
        return where
    kind, at = found.groups()
    if kind == "line":
        return _("line {line}").format(line=at)
    if kind == "row":
        return _("row {row}").format(row=at)
    return _("key {key}").format(key=at)


class UsageError(PanelError):
    """The command was called wrongly (exit status 2)."""

    exit_status = 2


class Refused(PanelError):
    """An action the caller's role or the session's state does not allow (exit status 3)."""

    exit_status = 3
