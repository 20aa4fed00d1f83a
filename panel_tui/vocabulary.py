"""The panel's words, each listed once: statuses, event kinds, roles, exclusion codes, export
formats. ``StrEnum`` members are their strings (``Status.CERTIFIED == "certified"``), so the
journal, the JSON and the polars frames keep plain strings while the code names them.
(polars: ``pl.lit(Status.PENDING)``, ``==`` and ``is_in`` see a ``String``, and so does a
column given ``pl.String`` as its dtype; but a column whose dtype polars infers from members,
in ``pl.Series``, ``pl.DataFrame`` or as ``replace_strict``'s new values, becomes a ``pl.Enum``
of the class: give the dtype, or use ``.value``.)

Nothing here imports polars or Textual: the command line builds its choices from it at once.
"""

from __future__ import annotations

from enum import StrEnum

from panel_tui.i18n import N_, _

# An entry's fields, in order: the final list's and the JSON document's (which puts ``areas``,
# the area subtotals, after ``percent``), the exports' and the boards' columns.
ENTRY_FIELDS = (
    "rank", "candidate_id", "name", "total", "percent", "grade", "status", "certified", "top", "tie",
    "borderline", "decided_by", "evaluators",
)  # fmt: skip
DECISION_COLUMNS = ("exclusion_code", "exclusion_reason", "panel_reason")  # a board's, beside the entry's
# The names of a board's columns besides its areas (whose subtotal columns are named by their
# ids), and of the columns the command line, the exports and the console put beside them: an
# area id must be none of them (the loader refuses it, naming the row of indicators.csv).
BOARD_COLUMNS = frozenset(
    (*ENTRY_FIELDS, *DECISION_COLUMNS, "areas", "category", "analysis", "notes", "_fragile", "_decided")
)


class Status(StrEnum):
    """A candidate's place in the final list."""

    CERTIFIED = "certified"
    NOT_CERTIFIED = "not_certified"
    UNDECIDED = "undecided"  # in a tie across the cap, until the panel orders it
    PENDING = "pending"  # an indicator of its set has no score yet
    EXCLUDED = "excluded"


class EventKind(StrEnum):
    """What a journal event records."""

    NOTE = "note"
    FOCUS = "focus"
    TIE_ORDER = "tie_order"
    EXCLUSION = "exclusion"
    LOCK_PROPOSED = "lock_proposed"
    LOCK_CONFIRMED = "lock_confirmed"


class Role(StrEnum):
    """Who an account is in a contest (``[roles]`` in config.toml; anyone else is a viewer)."""

    SECRETARY = "secretary"
    CHAIR = "chair"
    MEMBER = "member"
    VIEWER = "viewer"


class ExclusionCode(StrEnum):
    """Why the panel removed a candidate from the ranking."""

    WITHDRAWN = "withdrawn"
    INELIGIBLE = "ineligible"
    DISQUALIFIED = "disqualified"
    OTHER = "other"


class ExportFormat(StrEnum):
    """The formats the locked list is exported in, and the minutes of the meeting."""

    CSV = "csv"
    XLSX = "xlsx"
    JSON = "json"
    MD = "md"
    MINUTES_MD = "minutes-md"  # the minutes of the meeting (panel_tui.minutes)
    MINUTES_HTML = "minutes-html"
    MINUTES_PDF = "minutes-pdf"


# -- the words a person reads for them -----------------------------------------------------------
# The values above are identifiers (the journal, the JSON, the frames keep them); these are what
# the screens, the command line and the exports show, in the panel's language. The English of
# a status or an event kind is its identifier, as the command line has always printed it (a
# screen that wants "not certified" replaces the underscore); the Korean is words.

STATUS_WORDS: dict[str, str] = {
    Status.CERTIFIED: N_("certified"),
    Status.NOT_CERTIFIED: N_("not_certified"),
    Status.UNDECIDED: N_("undecided"),
    Status.PENDING: N_("pending"),
    Status.EXCLUDED: N_("excluded"),
}
ROLE_WORDS: dict[str, str] = {
    Role.SECRETARY: N_("secretary"),
    Role.CHAIR: N_("chair"),
    Role.MEMBER: N_("member"),
    Role.VIEWER: N_("viewer"),
}
EXCLUSION_WORDS: dict[str, str] = {
    ExclusionCode.WITHDRAWN: N_("withdrawn"),
    ExclusionCode.INELIGIBLE: N_("ineligible"),
    ExclusionCode.DISQUALIFIED: N_("disqualified"),
    ExclusionCode.OTHER: N_("other"),
}
EVENT_WORDS: dict[str, str] = {
    EventKind.NOTE: N_("note"),
    EventKind.FOCUS: N_("focus"),
    EventKind.TIE_ORDER: N_("tie_order"),
    EventKind.EXCLUSION: N_("exclusion"),
    EventKind.LOCK_PROPOSED: N_("lock_proposed"),
    EventKind.LOCK_CONFIRMED: N_("lock_confirmed"),
}
METHOD_WORDS: dict[str, str] = {
    "mean": N_("mean"),
    "median": N_("median"),
    "trimmed_mean": N_("trimmed mean"),
    "zscore": N_("z-scores"),
}


def _words(table: dict[str, str], value: object) -> str:
    """``value`` in the panel's words, from ``table``; a value it does not know (data from a
    hand-edited journal) as it is."""
    text = "" if value is None else str(value)
    return _(table[text]) if text in table else text


def status_words(status: object) -> str:
    """A status as people read it: "certified", "not_certified" (Korean: 인증, 미인증)."""
    return _words(STATUS_WORDS, status)


def role_words(role: object) -> str:
    """A role as people read it: "secretary" (간사), "chair" (위원장)."""
    return _words(ROLE_WORDS, role)


def exclusion_words(code: object) -> str:
    """An exclusion's reason code as people read it: "withdrawn" (자진 철회)."""
    return _words(EXCLUSION_WORDS, code)


def event_words(kind: object) -> str:
    """A journal event's kind as people read it: "tie_order" (Korean: 동점 순위 결정)."""
    return _words(EVENT_WORDS, kind)


def method_words(method: object) -> str:
    """A consolidation method as people read it: "trimmed mean" (절사평균)."""
    return _words(METHOD_WORDS, method)
