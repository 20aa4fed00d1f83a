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
    """The formats the locked list is exported in."""

    CSV = "csv"
    XLSX = "xlsx"
    JSON = "json"
    MD = "md"
