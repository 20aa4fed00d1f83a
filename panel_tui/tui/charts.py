"""The console's pictures, drawn with text: an indicator's evaluator scores as a strip (the
candidate's detail) and a board's percents as a strip with its certification line and
borderline band (the discussion, the display).

The data comes from ``panel_tui.views`` (``ScoreStrip``, ``PercentStrip``), computed without
Textual; here it only becomes characters. One cell of a strip is one stretch of the scale: a
dot is one score (or candidate), a digit that many in the same stretch. The candidate IDs in
a legend come from the files and go through ``literal.plain``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual.color import Color, ColorParseError
from textual.content import Content
from textual.widget import Widget

from panel_tui.i18n import N_, _
from panel_tui.text import text_width
from panel_tui.tui.literal import plain

if TYPE_CHECKING:
    from panel_tui.views import PercentStrip, ScoreStrip

SCORE_WIDTH = 16  # cells of an indicator's strip in the detail's table


def column(value: float, low: float, high: float, width: int) -> int:
    """The cell (0 … width-1) of ``value`` on a strip from ``low`` to ``high``."""
    if high <= low or width <= 1:
        return 0
    return min(width - 1, max(0, round((value - low) / (high - low) * (width - 1))))


def count_mark(n: int, one: str = "●") -> str:
    """One cell holding ``n`` marks: a dot for one, the digit for 2 to 9, + for more."""
    return one if n == 1 else str(n) if n <= 9 else "+"


# -- an indicator's scores (the detail) ---------------------------------------------------


@dataclass(frozen=True)
class StripColours:
    """The colours of a score strip (a DataTable cell is Rich text: the app's theme's colours)."""

    track: str = "grey50"
    score: str = ""
    dropped: str = "red"
    value: str = "yellow"


def strip_colours(theme: dict[str, str]) -> StripColours:
    """A score strip's colours from the app's theme variables (``App.theme_variables``), made
    opaque over the background (Rich reads no alpha)."""

    def opaque(name: str, fallback: str) -> str:
        try:
            return (Color.parse(theme.get("background", "black")) + Color.parse(theme[name])).hex6
        except (KeyError, ColorParseError):
            return fallback

    return StripColours(
        track=opaque("foreground-muted", "grey50"),
        score=opaque("foreground", ""),
        dropped=opaque("error", "red"),
        value=opaque("warning", "yellow"),
    )


def score_strip(strip: ScoreStrip, width: int = SCORE_WIDTH, colours: StripColours = StripColours()) -> Text:
    """An indicator's strip from 0 to its maximum: ``●`` a score (2–9: that many), ``×`` a
    score the trimmed mean dropped (a digit in the dropped colour: one of them was dropped),
    the consolidated value on a background of its colour (``┃`` where no score is)."""
    kept = [0] * width
    dropped = [0] * width
    for i, (_evaluator, score) in enumerate(strip.scores):
        at = column(score, 0.0, strip.maximum, width)
        if i in strip.dropped:
            dropped[at] += 1
        else:
            kept[at] += 1
    value_at = None if strip.value is None else column(strip.value, 0.0, strip.maximum, width)
    out = Text(no_wrap=True, end="")
    for at in range(width):
        n = kept[at] + dropped[at]
        if n == 0:
            char, style = ("┃", f"bold {colours.value}") if at == value_at else ("·", colours.track)
        else:
            char = "×" if kept[at] == 0 else count_mark(n)
            style = f"bold {colours.dropped}" if dropped[at] else colours.score
            if at == value_at:
                style = f"bold black on {colours.value}"
        out.append(char, style=style or None)
    return out


def score_legend(trimmed: bool) -> str:
    """What a score strip's marks mean (``trimmed``: the contest drops scores)."""
    parts = [_("Strips from 0 to Max: ● a score, 2–9 that many")]
    if trimmed:
        parts.append(_("× or red: dropped by the trimmed mean"))
    parts.append(_("highlighted: the consolidated score"))
    return "; ".join(parts)


# -- a board's percents (the discussion, the display) ---------------------------------------

MARKS = {"focus": "◉", "tie": "◆", "borderline": "◆", "": "●"}
STYLES = {"focus": "bold reverse $warning", "tie": "bold $warning", "borderline": "bold $warning", "": "$foreground"}
BAND = "on $warning 30%"  # the borderline band's background
RANK = ("focus", "tie", "borderline", "")  # the highlight a shared cell takes


def percent_lines(strip: PercentStrip, width: int) -> tuple[Content, Content]:
    """A board's strip ``width`` cells wide, and its scale below: each ranked candidate's
    percent (``●``, 2–9: that many in one cell), the candidates under discussion highlighted
    (``◉`` the focused one, ``◆`` a tie or a borderline one), the borderline band shaded and
    the certification line (``┃``, or its colour behind a candidate on it)."""
    width = max(width, 12)
    low, high = strip.domain()
    cells: list[list[str]] = [[] for _ in range(width)]
    for mark in strip.marks:
        cells[column(mark.percent, low, high, width)].append(mark.why)
    line_at = column(strip.threshold, low, high, width)
    band_lo, band_hi = (column(v, low, high, width) for v in strip.band)
    parts = []
    for at, whys in enumerate(cells):
        behind = f" {BAND}" if band_lo <= at <= band_hi else ""
        if not whys:
            if at == line_at:
                parts.append(Content.styled("┃", f"bold $error{behind}"))
            else:
                parts.append(Content.styled("─", f"$text-muted{behind}"))
            continue
        why = min(whys, key=RANK.index)
        char = count_mark(len(whys), MARKS[why])
        style = STYLES[why]
        if why != "focus":  # (the focused one is drawn reversed)
            style += " on $error 60%" if at == line_at else behind
        parts.append(Content.styled(char, style))
    return Content("").join(parts), _scale(strip, low, high, width, line_at)


def _scale(strip: PercentStrip, low: float, high: float, width: int, line_at: int) -> Content:
    """The strip's scale: its ends in percent and the line under its cell (``▲ 70 % line``,
    or ``70 % line ▲`` when it would run off the right end)."""
    left, right = f"{low:g} %", f"{high:g} %"
    words = _("{percent} % line").format(percent=f"{strip.threshold:g}")
    line = f"▲ {words}"
    # (In cells, not characters: the line's words may be Hangul, two cells each.)
    start, size = line_at, text_width(line)
    if start + size > width - len(right) - 1:
        line = f"{words} ▲"
        start = line_at - size + 1
    start = max(start, len(left) + 1)
    if start + size <= width - len(right) - 1:
        return Content.assemble(
            (left + " " * (start - len(left)), "$text-muted"),
            (line, "bold $error"),
            (" " * (width - len(right) - start - size) + right, "$text-muted"),
        )
    return Content.styled(left + " " * max(1, width - len(left) - len(right)) + right, "$text-muted")


def percent_legend(strip: PercentStrip) -> Content:
    """What the highlights stand for, naming the candidates: "◉ under discussion: S05 ·
    ◆ tie: S01, S02 · ◆ borderline (69–71 %): S04"."""
    low, high = strip.band
    line = _("the {percent} % line").format(percent=f"{strip.threshold:g}")
    parts = [Content.styled("┃", "bold $error") + plain(" " + line)]
    band = _("borderline band {low}–{high} %").format(low=f"{low:g}", high=f"{high:g}")
    parts.append(Content.styled("─", f"$text-muted {BAND}") + plain(" " + band))
    for why, words in (("focus", N_("under discussion")), ("tie", N_("equal total")), ("borderline", N_("borderline"))):
        ids = strip.highlighted(why)
        if ids:
            parts.append(Content.styled(MARKS[why], STYLES[why]) + plain(f" {_(words)}: {', '.join(ids)}"))
    return Content(" · ").join(parts)


class PercentChart(Widget):
    """A board's percent strip and its scale, two lines, drawn to the widget's width; ``show``
    gives it a new strip."""

    DEFAULT_CSS = """
    PercentChart { height: 2; width: 1fr; }
    """

    def __init__(self, strip: PercentStrip | None = None, *, id: str | None = None, classes: str = "") -> None:
        super().__init__(id=id, classes=classes)
        self.strip = strip

    def show(self, strip: PercentStrip) -> None:
        if strip != self.strip:
            self.strip = strip
            self.refresh()

    def render(self) -> Content:
        if self.strip is None or not self.strip.marks or self.size.width < 12:
            return Content("")
        strip, scale = percent_lines(self.strip, self.size.width)
        return Content("\n").join([strip, scale])
