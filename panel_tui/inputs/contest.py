"""The contest's inputs, loaded and checked against each other (the README's "The contest files").

``load_contest`` reads the candidates, the indicators, the score sheet and the declared
conflicts of interest (``inputs.read`` reads and checks each file on its own), checks them
against each other (every id known, no score above its indicator's maximum, no score given
twice) and groups the scores into cells (``inputs.cells``).
"""

from __future__ import annotations

import codecs
import hashlib
import json
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NoReturn, TypeGuard

import polars as pl

from panel_tui.config import Config
from panel_tui.errors import InputError, location
from panel_tui.i18n import LANGUAGES, _, translation_of
from panel_tui.inputs.cache import (
    Deferred,
    SheetChanged,
    cached_derived,
    cached_entry,
    derived_present,
    hold_placed_mark,
    kept_derived,
)
from panel_tui.inputs.cells import (
    EVALUATOR_SET,
    cell_key,
    cell_keys,
    cells_code,
    cells_plan,
    evaluator_bits,
    group_cells,
    moved_bits,
    streamed_cells,
)
from panel_tui.inputs.patch import LIMIT, around, changed_lines
from panel_tui.inputs.read import (
    Lookup,
    TableSpec,
    has_suspect_ids,
    own_categorical,
    read_table,
    scan_table,
    where,
)
from panel_tui.vocabulary import BOARD_COLUMNS

_CODE = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()  # part of the kept cells' key (``_cells``)

# What each of the contest's files holds.
CANDIDATES = TableSpec(
    "candidates", ("candidate_id", "name", "category"), keep_extra=True, ids=("candidate_id", "category")
)
INDICATORS = TableSpec(
    "indicators",
    ("indicator_set", "indicator_id", "area_id", "max_points"),
    optional=("label", "area_label", *(f"{c}_{lang}" for c in ("label", "area_label") for lang in LANGUAGES)),
    numeric=("max_points",),
    ids=("indicator_set", "indicator_id", "area_id"),
)
CONFLICTS = TableSpec("conflicts", ("evaluator_id", "candidate_id"), ids=("evaluator_id", "candidate_id"))
SCORES = TableSpec(
    "scores",
    ("candidate_id", "indicator_id", "score"),
    optional=("evaluator_id",),
    numeric=("score",),
    categorical=("evaluator_id",),
    ids=("candidate_id", "indicator_id", "evaluator_id"),
)
SCORE_KEY = ("candidate_id", "evaluator_id", "indicator_id")  # one score per (candidate, evaluator, indicator)


@dataclass(frozen=True, eq=False)
class Kept:
    """Where a loaded contest's scores and cells came from in the cache: the score sheet's
    entry (``cache.cached_entry``), everything else they rest on (``parts``: what the cells'
    key holds, and the declared conflicts), and the very frames loaded, so that a contest made
    from another sheet (``dataclasses.replace``) is never taken for this one."""

    entry: str
    parts: tuple[str, ...]
    rows: Rows
    cells: pl.DataFrame
    # The candidates and indicators as their files gave them (before any translation): with
    # the entry, what boards ranked from these cells rest on (``shared_boards.boards_key``).
    candidates: pl.DataFrame
    indicators: pl.DataFrame


class DeferredRows:
    """A kept score sheet's rows, loaded from the cache when first asked for
    (``ContestData.scores``): the boards, ``rank`` and a kept analysis read only the cells.
    Their schema is known before they are loaded (the evaluators coded in the order of their
    sorted ids, as the kept cells' evaluator sets are), and their number (the cells' counts)."""

    def __init__(
        self, load: Callable[[], pl.DataFrame], schema: pl.Schema, height: int, holds: pl.Series | None = None
    ) -> None:
        self.schema, self.height = schema, height
        # The evaluators cast into their categories: polars forgets categories no column
        # holds, and the rows, once loaded, must find the evaluators' codes as they were given.
        self._holds = holds
        self._load: Callable[[], pl.DataFrame] | None = load
        self._frame: pl.DataFrame | None = None
        self._lock = threading.Lock()

    def __call__(self) -> pl.DataFrame:
        with self._lock:  # (once, whichever thread asks first: the console's worker or its screens)
            if self._frame is None:
                assert self._load is not None
                self._frame = self._load()
                self._load = None
            return self._frame


Rows = pl.DataFrame | DeferredRows  # (ContestData.rows)


# The most placed scores not yet made that a sheet's may be patched from, one on another
# (``PatchedPlaced``): each costs the analysis that makes them a pass over every score.
PENDING_MOST = 8


class PatchedPlaced:
    """A patched sheet's placed scores (``PlacedScores``), made from the last sheet's when the
    analysis first asks for them, not while the boards wait: the last sheet's, less those of
    the cells the patch touched, and those cells' scores as the new sheet gives them (the
    evaluators in the last sheet's codes). Made once (``__call__``, from any thread: None when
    they cannot be, whatever the reason, and the analysis reads the rows); then nothing of the
    last sheet is held. ``holds``: until made, they hold a whole sheet's bytes
    (``_placed_later``); ``on``: the last sheet's placed scores, when not yet made either."""

    def __init__(
        self, make: Callable[[], pl.DataFrame | None], *, holds: bool = False, on: PatchedPlaced | None = None
    ) -> None:
        self._lock = threading.Lock()
        self._make: Callable[[], pl.DataFrame | None] | None = make
        self._frame: pl.DataFrame | None = None
        self._holds = holds
        self._pending = 1 + (on.pending() if on is not None else 0)

    def __call__(self) -> pl.DataFrame | None:
        with self._lock:
            if self._make is not None:
                try:
                    self._frame = self._make()
                except Exception:  # (then the analysis reads the rows)
                    self._frame = None
                self._make = None  # (made: after the frame, for ``usable``, which takes no lock)
            return self._frame

    def pending(self) -> int:
        """How many placed scores not yet made these rest on, themselves included."""
        return 0 if self._make is None else self._pending

    def usable(self) -> bool:
        """Whether the next sheet's placed scores may be patched from these: made (and not
        None), or not yet made, holding no sheet's bytes and on fewer than ``PENDING_MOST``
        others not made. (Not on ones still holding a sheet's bytes, whose analysis was
        cancelled or never ran: a burst of corrections would otherwise hold every sheet since
        the last analysis; nor on ones that could not be made.) Read without the lock, which
        the analysis holds while it makes them: a load never waits for an analysis."""
        if self._make is None:
            return self._frame is not None
        return not self._holds and self._pending < PENDING_MOST


Placed = pl.DataFrame | PatchedPlaced  # (a sheet's placed scores, as streamed or as patched)


def _usable(placed: Placed | None) -> TypeGuard[Placed]:
    """Whether a sheet's placed scores are there to patch the next sheet's from."""
    return placed is not None and (not isinstance(placed, PatchedPlaced) or placed.usable())


class PlacedScores:
    """A streamed sheet's scores, each with its cell and evaluator (``load_contest(placed=True)``:
    read in the same pass as the cells), for the analysis to lay out in its matrix without the
    rows: a frame of ``_at`` (the evaluator's code x the number of cell keys + the cell's key,
    ``cells.cell_key``; ``by_code[code]`` is the evaluator's id) and ``score``; ``rows`` are the
    rows they are the scores of, so that a contest made with other rows
    (``dataclasses.replace``) never uses them.

    They serve the contest's first analysis (``ContestData.placed_scores``), then are let go
    (``let_go``; about 16 bytes a score, which a console would otherwise hold as long as it
    shows the contest): the analysis's statistics are kept in the cache by then, and a later
    analysis of the same contest loads them, or (the cache off) computes them from the rows.
    Until then the account's other processes know this one holds them (``entry``: the sheet's
    cache entry; ``cache.hold_placed_mark``) and leave that analysis to it."""

    def __init__(self, frame: Placed, by_code: tuple[str, ...], rows: Rows, entry: str | None = None) -> None:
        self.by_code, self.rows = by_code, rows
        self._frame: Placed | None = frame
        # The mark let go of by ``let_go``, or, for a contest dropped unanalysed, when it is collected.
        self._release = None if entry is None else weakref.finalize(self, hold_placed_mark(entry))

    @property
    def frame(self) -> pl.DataFrame | None:
        frame = self._frame
        if not isinstance(frame, PatchedPlaced):
            return frame
        made = frame()
        if made is None:
            self.let_go()  # (they could not be made: the others no longer leave the analysis to this one)
        return made

    def let_go(self) -> None:
        self._frame = None
        if self._release is not None:
            self._release()


# (load_contest's ``waiting``: the sheet's entry, the candidates and indicators as loaded)
Waiting = Callable[[str, pl.DataFrame, pl.DataFrame], None]


@dataclass(frozen=True)
class ContestData:
    """The contest's inputs, loaded and checked against each other.

    ``cells`` has one row per scored (candidate, indicator): how many evaluators scored it
    and the sum, minimum and maximum of their scores, with the candidate's category and the
    indicator's area and maximum. The engine consolidates from it.
    """

    config: Config
    candidates: pl.DataFrame
    indicators: pl.DataFrame
    rows: Rows  # the score rows, or what loads them when first asked for (``scores``)
    cells: pl.DataFrame
    has_evaluators: bool
    conflicts: pl.DataFrame | None = None  # declared (evaluator_id, candidate_id) pairs
    left_out: pl.DataFrame | None = None  # the scores those conflicts took out of consolidation
    # candidate_id, name as candidates.csv's ``name`` has it, when ``name`` is a translation
    # (``in_language``): what JSON and the lock record.
    written_names: pl.DataFrame | None = None
    kept: Kept | None = field(default=None, repr=False, compare=False)  # (see ``derived``)
    placed: PlacedScores | None = field(default=None, repr=False, compare=False)  # (see ``placed_scores``)
    basis: SheetBasis | None = field(default=None, repr=False, compare=False)  # (see ``load_contest``'s ``previous``)

    def derived(
        self,
        parts: Sequence[str],
        compute: Callable[[], pl.DataFrame],
        fits: Callable[[pl.DataFrame], bool],
        *,
        one_at_a_time: bool = False,
    ) -> pl.DataFrame:
        """A frame computed from this contest's scores and cells (``compute``), kept in the cache
        beside its score sheet's entry (``cache.cached_derived``) under a key of that entry,
        what the scores and cells rest on besides the sheet, and ``parts``: everything else
        ``compute`` reads (settings, code). Computed when the contest was not loaded from the
        cache, or its scores or cells are not the frames it loaded. ``one_at_a_time``: while
        another process of the account computes it, this one waits for it (``cached_derived``)."""
        kept = self._kept_here()
        if kept is None:
            return compute()
        # (A contest without the scores its stream placed leaves the computing to a process
        # that has them: ``cached_derived``'s ``defer``. Placed scores still to be made are
        # made only when the frame is not kept already.)
        key = [*kept.parts, *parts]
        return cached_derived(
            kept.entry,
            key,
            compute,
            fits,
            one_at_a_time=one_at_a_time,
            defer=not derived_present(kept.entry, key) and self.placed_scores() is None,
        )

    def keeps(self, parts: Sequence[str]) -> bool:
        """Whether ``derived(parts, ...)`` would load what is kept rather than compute it now
        (its bytes are checked when it is loaded: a damaged one is computed after all)."""
        kept = self._kept_here()
        return kept is not None and derived_present(kept.entry, [*kept.parts, *parts])

    def _kept_here(self) -> Kept | None:
        """``kept``, if this contest's scores and cells are the very frames it loaded."""
        kept = self.kept
        if kept is None or kept.rows is not self.rows or kept.cells is not self.cells:
            return None
        return kept

    def placed_scores(self) -> tuple[pl.DataFrame, tuple[str, ...]] | None:
        """The scores with their cells and evaluators as the stream read them (``PlacedScores``:
        the frame, and the evaluators by code), if this contest's rows are the ones they were
        read with and they were not let go of (``let_go_of_placed_scores``); None otherwise (a
        contest loaded any other way, or made with other rows)."""
        placed = self.placed
        if placed is None or placed.rows is not self.rows:
            return None
        frame = placed.frame
        return None if frame is None else (frame, placed.by_code)

    def let_go_of_placed_scores(self, *, for_good: bool = False) -> None:
        """Forget the scores the stream placed (``PlacedScores``: after the first analysis, or
        by a caller that will not analyse the contest). ``for_good`` (a console that analyses
        none of its sheets): its basis forgets them too, and the next sheet's are not patched."""
        if self.placed is not None:
            self.placed.let_go()
        if for_good and self.basis is not None:
            self.basis.let_go_of_placed()

    def load_rows_meanwhile(self) -> None:
        """The score rows loaded in a thread from now, if they are not yet: for a caller that
        will read them after other work (the analysis, after the standings) and would
        otherwise wait for their load then. Whoever asks for them meanwhile waits for that load."""
        if isinstance(self.rows, DeferredRows):
            threading.Thread(target=self.rows, name="rows", daemon=True).start()

    @property
    def scores(self) -> pl.DataFrame:
        """The score rows (in the sheet's order; loaded now if they were not yet)."""
        return self.rows if isinstance(self.rows, pl.DataFrame) else self.rows()

    @property
    def extra_columns(self) -> tuple[str, ...]:
        """candidates.csv's further columns, the detail shows (a translation of a column,
        ``region_ko``, is not one of them: it is shown instead of ``region`` in Korean)."""
        columns = self.candidates.columns
        return tuple(c for c in columns if c not in CANDIDATES.required and translated(c, columns) is None)

    def in_language(self, language: str) -> ContestData:
        """The contest's own words in ``language`` where the files give them in it: each text
        column ``X`` of candidates.csv (``name`` included) and indicators.csv (``label``,
        ``area_label``) with a column ``X_<language>`` shows that column's value where it has one.
        ``written_names`` keeps the names as written, for JSON and the lock."""
        candidates = _in_language(self.candidates, language)
        indicators = _in_language(self.indicators, language)
        changed = candidates["name"].ne_missing(self.candidates["name"]).any()
        return replace(
            self,
            candidates=candidates,
            indicators=indicators,
            written_names=self.candidates.select("candidate_id", "name") if changed else self.written_names,
        )

    @property
    def evaluator_ids(self) -> tuple[str, ...]:
        if not self.has_evaluators:
            return ()
        return tuple(self.scores["evaluator_id"].unique().sort().to_list())


def translated(column: str, columns: list[str]) -> str | None:
    """The column ``column`` translates (``region`` for ``region_ko``), if it is a translation of
    one of ``columns``."""
    base, lang = translation_of(column)
    return base if lang and base in columns else None


def _in_language(frame: pl.DataFrame, language: str) -> pl.DataFrame:
    """Each column with a translation into ``language`` replaced by it where it is not empty."""
    shown = [
        pl.when(pl.col(f"{c}_{language}").cast(pl.String).str.strip_chars() != "")
        .then(pl.col(f"{c}_{language}").cast(pl.String))
        .otherwise(pl.col(c))
        .alias(c)
        for c in frame.columns
        if f"{c}_{language}" in frame.columns and frame.schema[c] == pl.String
    ]
    return frame.with_columns(shown) if shown else frame


def load_contest(
    config: Config,
    frames: dict[str, pl.DataFrame] | None = None,
    *,
    fresh: bool = False,
    reads_rows: bool = False,
    placed: bool = False,
    waiting: Waiting | None = None,
    previous: SheetBasis | None = None,
    keeps_basis: bool = False,
) -> ContestData:
    """Load and cross-check candidates, indicators and scores; raise ``InputError`` on any defect.

    ``frames`` ({"candidates": ..., "indicators": ..., "scores": ...}) stands in for the
    files: the same checks run on them, with the config's file names in the messages.

    The score sheet is read once into its final types (ids as ``Enum`` of the known ids, so
    an unknown id fails the parse itself; from the per-account cache when these bytes were
    parsed before), then grouped into cells in one pass (``inputs.cells``): the value checks
    (NaN, infinite, negative), the cross checks (an indicator of another set, a score above
    its maximum, a score given twice) and the evaluator counts are all read off the cells.
    Only when a check finds a defect are the rows searched, to name the first offending one.

    A new sheet (not kept in the per-account cache) is streamed into its cells instead, its
    rows never all held (``_streamed_sheet``: in about the time of the bare read), and parsed
    only when something asks for them (``ContestData.scores``: the analysis); a sheet the
    stream cannot take as it is (a defect, an unusual file) is parsed, and refused by its row.

    ``fresh``: the sheet is parsed, whatever the cache holds (the lock, its confirmation and
    ``verify``, which must rest on the file alone). ``reads_rows``: the caller will read the
    score rows (``validate``, the evaluators' calibration): a new sheet is parsed, its rows
    kept, rather than streamed and then parsed. ``placed``: the caller will analyse the contest
    (``rank --analysis``, the console): a new sheet streamed into its cells also gives each
    score with its cell and evaluator, in the same pass (``PlacedScores``), for the analysis's
    matrix; its rows are still parsed only when something asks for them. ``waiting``: while
    this process waits for another one reading the same new sheet, it is told, at each look,
    the sheet's entry and the candidates and indicators as loaded (``shared_boards``: what the
    other one keeps beside the entry besides its cells).

    ``keeps_basis`` (a console): a CSV sheet streamed (or patched) into its cells is kept with
    its bytes (``SheetBasis``, the contest's ``basis``), for the next load to be given as
    ``previous``: a corrected sheet not seen before is then patched from it instead of
    streamed (``_patched_sheet``: only its changed lines and their cells' other scores are
    parsed), and falls back to the stream whenever the patch cannot be sure.
    """
    frames = frames or {}
    path = config.contest.scores
    indicators = _load_indicators(config, frames.get("indicators"))
    candidates = _load_candidates(config, frames.get("candidates"))
    lookups = _id_lookups(config, candidates, indicators)
    given = frames.get("scores")
    entry = None
    beside = _Beside(config, candidates, indicators, waiting)
    read: pl.DataFrame | Deferred
    if given is not None or fresh:
        read = read_table(path, SCORES, lookups, given)
    else:
        # Kept before with its cells: the rows wait until something asks for them; a new
        # sheet is streamed into its cells (``_streamed_sheet``), its rows parsed only when
        # something asks for them. (Not with declared conflicts: which scores they leave out
        # is read off the rows.)
        bare = config.contest.conflicts is None and "conflicts" not in frames
        streamed: list[_Streamed] = []
        bases: list[SheetBasis] = []
        offers = _Offers() if keeps_basis and path.suffix.lower() == ".csv" else None

        def sketch(data: bytes, name: Callable[[], str | None]) -> bool:
            found = None
            if previous is not None:
                try:
                    found = _patched_sheet(beside, lookups, path, data, previous, name, placed=placed)
                except Exception:  # (a patch that fails, whatever the reason, leaves the sheet to the stream)
                    found = None
            if found is None:
                found = _streamed_sheet(beside, lookups, path, data, name, placed=placed)
            if found is not None:
                streamed.append(found)
                if offers is not None and found.evaluators and len(data) <= LIMIT:
                    offers.offer(None, data)
                    bases.append(SheetBasis(path, found, offers, None))
            return found is not None

        read, entry = cached_entry(
            path,
            SCORES,
            lookups,
            deferred=True,
            ready=beside.ready if bare else None,
            sketch=sketch if bare and not reads_rows else None,
            keep=offers.offer if offers is not None and bare and not reads_rows else None,
        )
        if isinstance(read, Deferred):
            found = None
            if streamed:
                found = _deferred_sheet(beside, read, streamed[0])
            elif bare:
                kept_sheet = _kept_sheet(beside, lookups, read)
                if kept_sheet is not None:
                    found = _deferred_sheet(beside, read, kept_sheet)
                    if offers is not None and kept_sheet.evaluators and read.name is not None:
                        if placed and previous is not None and previous.path == path:
                            later = _placed_later(beside, lookups, path, previous, offers, read.name)
                            if later is not None:  # (its scores placed, as a stream's are)
                                kept_sheet = replace(kept_sheet, placed=later, by_code=previous.sheet.by_code)
                                streamed.append(kept_sheet)
                        # (its bytes given by the cache as it found the entry, or later by a claim's check)
                        bases.append(SheetBasis(path, kept_sheet, offers, read.name))
            if found is not None:
                rows, cells, has_evaluators, left_out, source = found
                placed_scores = None
                if streamed and streamed[0].placed is not None:  # (streamed, patched, or a kept sheet's placed later)
                    placed_scores = (streamed[0].placed, streamed[0].by_code)
                return _contest(
                    config,
                    candidates,
                    indicators,
                    rows,
                    cells,
                    has_evaluators,
                    None,
                    left_out,
                    source,
                    placed=placed_scores,
                    basis=bases[0] if bases else None,
                )
            try:
                read = read()
            except SheetChanged:  # (since it was hashed, a moment ago: read as it is now)
                again, entry = cached_entry(path, SCORES, lookups)
                assert isinstance(again, pl.DataFrame)
                read = again
    has_evaluators = "evaluator_id" in read.columns
    scores = _score_rows(path, read, has_evaluators)
    parts = []
    if entry is not None:
        evaluators = _evaluator_order(scores)[1]
        parts = beside.parts(type(scores.schema["evaluator_id"]).__name__, evaluators)
        _keep_evaluators(entry, scores.schema["evaluator_id"], has_evaluators, evaluators)
    cells = _cells(config, candidates, indicators, scores, entry, parts)
    _check_values_and_cells(path, lambda: scores, cells, has_evaluators)
    conflicts = _load_conflicts(config, candidates, frames.get("conflicts"))
    left_out = scores.head(0).select(SCORE_KEY)
    if conflicts is not None and has_evaluators:
        # A declared conflict of interest: that evaluator's scores for that candidate do not count.
        pairs = conflicts.with_columns(
            pl.col("candidate_id").cast(lookups["candidate_id"].dtype),
            pl.col("evaluator_id").cast(pl.String),
        )
        # Only the evaluators this sheet names (casting another id into the sheet's own
        # categories would add a code to them).
        known = scores.schema["evaluator_id"]
        if isinstance(known, pl.Categorical):
            pairs = pairs.filter(pl.col("evaluator_id").is_in(known.categories.to_series().implode()))
        pairs = pairs.with_columns(pl.col("evaluator_id").cast(known))
        left_out = scores.join(pairs, on=["candidate_id", "evaluator_id"], how="semi").select(SCORE_KEY)
        if left_out.height:
            scores = scores.join(pairs, on=["candidate_id", "evaluator_id"], how="anti")
            # Only the cells of the candidates who lost scores are grouped again, from their rows.
            affected = left_out["candidate_id"].unique().implode()
            regrouped = group_cells(
                config, candidates, indicators, scores.filter(pl.col("candidate_id").is_in(affected))
            )
            cells = pl.concat([cells.filter(~pl.col("candidate_id").is_in(affected)), regrouped.select(cells.columns)])
    kept: tuple[str, tuple[str, ...]] | None = None
    if entry is not None:
        declared = "no conflicts" if conflicts is None else json.dumps(conflicts.rows())
        kept = (entry, (*parts, declared))
    return _contest(config, candidates, indicators, scores, cells, has_evaluators, conflicts, left_out, kept)


def _contest(
    config: Config,
    candidates: pl.DataFrame,
    indicators: pl.DataFrame,
    rows: Rows,
    cells: pl.DataFrame,
    has_evaluators: bool,
    conflicts: pl.DataFrame | None,
    left_out: pl.DataFrame,
    kept: tuple[str, tuple[str, ...]] | None,
    *,
    placed: tuple[Placed, tuple[str, ...]] | None = None,
    basis: SheetBasis | None = None,
) -> ContestData:
    """The loaded contest, in the language the config shows it in; ``kept``: the sheet's cache
    entry and what else its rows and cells rest on (``Kept``); ``placed``: its scores with their
    cells and evaluators, and the evaluators by code (``PlacedScores``)."""
    cells = cells.drop("evaluators")
    data = ContestData(
        config=config,
        candidates=candidates,
        indicators=indicators,
        rows=rows,
        cells=cells,
        has_evaluators=has_evaluators,
        conflicts=conflicts,
        left_out=left_out,
        kept=None if kept is None else Kept(*kept, rows, cells, candidates, indicators),
        placed=None if placed is None else PlacedScores(*placed, rows, None if kept is None else kept[0]),
        basis=basis,
    )
    return data.in_language(config.shown_in) if config.shown_in else data


# The sheet's evaluators kept beside its entry, sorted (``_keep_evaluators``): their key and columns.
_EVALUATORS_KEY = ("evaluators", _CODE)
_EVALUATORS = pl.Schema({"evaluator_id": pl.String})


def _keep_evaluators(entry: str, evaluator: pl.DataType, has_evaluators: bool, evaluators: list[str]) -> None:
    """Keep the sheet's evaluators (sorted; ``evaluator``: the type of its column) beside its
    entry, for ``_kept_sheet``: only when its kept cells can carry their sets (at most 64
    evaluators), or it names none."""
    if has_evaluators and not (evaluators and evaluator_bits(evaluator)):
        return
    cached_derived(
        entry,
        _EVALUATORS_KEY,
        lambda: pl.DataFrame({"evaluator_id": evaluators}, schema=_EVALUATORS),
        lambda frame: frame.schema == _EVALUATORS,
    )


class _Beside:
    """What is kept beside a score sheet's cache entry, as one load asks for it: the contest's
    own part of the kept cells' key made once (the candidates' and indicators' JSON: milliseconds
    at 10,000 candidates, tens of them on a busy machine), however often a process waiting for
    another's parse asks (``ready``), and the evaluators kept beside an entry read once found."""

    def __init__(
        self, config: Config, candidates: pl.DataFrame, indicators: pl.DataFrame, waiting: Waiting | None = None
    ) -> None:
        self.config, self.candidates, self.indicators = config, candidates, indicators
        self._waiting = waiting
        self._contest_parts: list[str] | None = None
        self._found: dict[str, tuple[list[str], list[str]]] = {}

    def parts(self, evaluator_type: str, evaluators: list[str]) -> list[str]:
        """Everything the cells grouped from a score sheet rest on besides the sheet: the key of
        the cells kept beside its cache entry (``_cells``), with the categories' indicator
        sets, the method (a median contest's cells carry medians), each candidate's category,
        the indicators (set, id, area, maximum), the type of the sheet's evaluator column and
        its evaluators (sorted) and the code that prepares and groups the rows (this module's
        and ``inputs.cells``')."""
        if self._contest_parts is None:
            config = self.config
            self._contest_parts = [
                "cells",
                cells_code(),
                _CODE,  # (this module prepares the rows the cells are grouped from)
                json.dumps([(c.id, c.indicator_set) for c in config.categories]),
                config.scoring.method,
                json.dumps(self.candidates.select("candidate_id", "category").rows()),
                json.dumps(self.indicators.select("indicator_set", "indicator_id", "area_id", "max_points").rows()),
            ]
        return [*self._contest_parts, evaluator_type, json.dumps(evaluators)]

    def evaluators(self, entry: str) -> tuple[list[str], list[str]] | None:
        """The evaluators (sorted; none: the sheet names none) kept beside a sheet's entry
        (``_keep_evaluators``), and the key of the cells kept beside it (``parts``: their
        column a ``Categorical`` when it names evaluators); None when they are not kept."""
        if entry not in self._found:
            found = kept_derived(entry, _EVALUATORS_KEY, lambda frame: frame.schema == _EVALUATORS)
            if found is None:
                return None  # (asked again: they may be kept by then)
            evaluators = found["evaluator_id"].to_list()
            self._found[entry] = evaluators, self.parts("Categorical" if evaluators else "String", evaluators)
        return self._found[entry]

    def ready(self, entry: str) -> bool:
        """Whether a sheet's evaluators and cells are kept beside its entry ``entry``
        (``_kept_sheet`` needs nothing else: the entry itself may still be being written).
        Asked while another process reads the sheet: the caller's ``waiting`` is told first."""
        if self._waiting is not None:
            try:
                self._waiting(entry, self.candidates, self.indicators)
            except Exception:  # (told for the caller's sake: its failure never fails the load)
                self._waiting = None
        found = self.evaluators(entry)
        return found is not None and derived_present(entry, found[1])


def _kept_sheet(beside: _Beside, lookups: dict[str, Lookup], entry: Deferred) -> _Streamed | None:
    """A kept sheet's cells, evaluators and rows' schema, as a stream gives them (for
    ``_deferred_sheet``); None when what the boards need is not all kept (its evaluators and
    cells): then the rows are loaded."""
    name = entry.name
    found = None if name is None else beside.evaluators(name)
    if name is None or found is None:
        return None
    evaluators, parts = found
    schema, holds = _rows_schema(lookups, evaluators)
    expected = _cells_schema(beside, schema)
    cells = kept_derived(name, parts, lambda frame: frame.schema == expected)
    if cells is None:
        return None
    return _Streamed(cells, evaluators, parts, schema, holds)


@dataclass(frozen=True)
class _Streamed:
    """A sheet's cells (their evaluator sets in the order of the sorted evaluators), the
    evaluators (sorted; none: the sheet names none), what the cells rest on besides the sheet
    (``_Beside.parts``), and its rows' schema and evaluators' categories (``_rows_schema``);
    streamed with ``placed``, its scores with their cells and evaluators, and the evaluators by
    code (``PlacedScores``)."""

    cells: pl.DataFrame
    evaluators: list[str]
    parts: list[str]
    schema: pl.Schema
    holds: pl.Series | None
    placed: Placed | None = None
    by_code: tuple[str, ...] = ()


def _rows_schema(lookups: dict[str, Lookup], evaluators: list[str]) -> tuple[pl.Schema, pl.Series | None]:
    """The schema of a kept or streamed sheet's rows in this process, and its evaluators cast
    into their categories (``DeferredRows``): codes 0, 1, ... in the order of their sorted ids,
    the order the kept cells' evaluator sets are in."""
    evaluator: pl.DataType = pl.String()
    holds = None
    if evaluators:
        evaluator = own_categorical()
        holds = pl.Series(evaluators, dtype=pl.String).cast(evaluator)
    columns: dict[str, pl.DataType] = {
        "candidate_id": lookups["candidate_id"].dtype,
        "evaluator_id": evaluator,
        "indicator_id": lookups["indicator_id"].dtype,
        "score": pl.Float64(),
    }
    return pl.Schema(columns), holds


def _cells_schema(beside: _Beside, rows: pl.Schema) -> pl.Schema:
    """The schema of the cells grouped from rows of this schema."""
    return cells_plan(beside.config, beside.candidates, beside.indicators, pl.DataFrame(schema=rows)).collect_schema()


def _deferred_sheet(
    beside: _Beside, entry: Deferred, sheet: _Streamed
) -> tuple[DeferredRows, pl.DataFrame, bool, pl.DataFrame, tuple[str, tuple[str, ...]] | None]:
    """What ``_kept_sheet`` gives for a sheet's cells, its rows loaded (or parsed) from its
    entry when first asked for (``DeferredRows``, recoded to the cells' order of evaluators)."""
    evaluators, schema = sheet.evaluators, sheet.schema
    has_evaluators = bool(evaluators)
    path = beside.config.contest.scores

    def load() -> pl.DataFrame:
        frame = _score_rows(path, entry(), has_evaluators)
        if not has_evaluators:
            return frame
        return frame.with_columns(_recoded(frame["evaluator_id"], evaluators, schema["evaluator_id"]))

    rows = DeferredRows(load, schema, int(sheet.cells["n"].sum()), sheet.holds)
    _check_values_and_cells(path, rows, sheet.cells, has_evaluators)
    left_out = pl.DataFrame(schema=schema).select(SCORE_KEY)
    kept = None if entry.name is None else (entry.name, (*sheet.parts, "no conflicts"))
    return rows, sheet.cells, has_evaluators, left_out, kept


def _streamed_sheet(
    beside: _Beside,
    lookups: dict[str, Lookup],
    path: Path,
    data: bytes,
    entry: Callable[[], str | None],
    *,
    placed: bool = False,
) -> _Streamed | None:
    """A new score sheet's cells, streamed from its bytes (``cells.streamed_cells``: in about
    the time of the bare read, the rows never all held), kept with its evaluators beside its
    entry (named by ``entry()``) as a parse would keep them; its rows are left to be parsed
    when something asks for them (the analysis). None, and the sheet is parsed, when it is
    not plain: a file only the parse reads, a missing or unconverted value, a suspect
    evaluator id, a defect the cells show (the parse names the row), more than 64 evaluators.
    ``placed``: its scores with their cells and evaluators too (``cells.streamed_cells``)."""
    scan = scan_table(path, SCORES, lookups, data)
    if scan is None:
        return None
    read = scan.collect_schema()
    has_evaluators = "evaluator_id" in read
    evaluator = read.get("evaluator_id")
    if has_evaluators and not isinstance(evaluator, pl.Categorical):
        return None
    streamed = streamed_cells(beside.config, beside.candidates, beside.indicators, scan, has_evaluators, placed=placed)
    if streamed is None:
        return None
    cells, scores = streamed
    if cells.is_empty() or any(_cell_problems(cells, has_evaluators).values()):
        return None
    evaluators: list[str] = []
    by_code: tuple[str, ...] = ()
    if isinstance(evaluator, pl.Categorical):
        seen = evaluator.categories.to_series()  # (in the order of their codes, once all are read)
        if has_suspect_ids(seen):
            return None
        by_code = tuple(seen.to_list())
        evaluators = sorted(by_code)
        cells = moved_bits(cells, [evaluators.index(e) for e in seen.to_list()])
    schema, holds = _rows_schema(lookups, evaluators)
    expected = _cells_schema(beside, schema)
    if cells.schema != expected:
        return None
    parts = beside.parts("Categorical" if has_evaluators else "String", evaluators)
    sheet = _Streamed(cells, evaluators, parts, schema, holds, scores, by_code)
    _keep_beside(entry(), sheet)
    return sheet


def _keep_beside(name: str | None, sheet: _Streamed) -> None:
    """A streamed or patched sheet's evaluators and cells kept beside its entry (named
    ``name``; None: nothing is kept), as a parse would keep them."""
    if name is not None:
        _keep_evaluators(name, sheet.schema["evaluator_id"], bool(sheet.evaluators), sheet.evaluators)
        expected = sheet.cells.schema
        cached_derived(name, sheet.parts, lambda: sheet.cells, lambda frame: frame.schema == expected)


# The most seconds a kept sheet's placed scores wait for its bytes (``_placed_later``): those
# of a claim's check come once the other process's read is over, about a second at 10,000
# candidates with three screens on two cores (bench_console's steps).
OFFER_WAIT = 5.0


class _Offers:
    """The bytes of the score sheet one load found (the last offered): by the load itself when
    it streamed them (name None), or by the cache (``cached_entry``'s ``keep``), with the name
    of the entry they hash to, as it found that entry, or later, from a claim's check."""

    def __init__(self) -> None:
        self._offers = threading.Condition()
        self._offered: tuple[str | None, bytes | None] | None = None

    def offer(self, name: str | None, data: bytes | None) -> None:
        """The bytes under ``name``; None, or over ``LIMIT``, none (none will come, or they are
        not held: whoever waits for them is told at once)."""
        with self._offers:
            self._offered = name, data if data is not None and len(data) <= LIMIT else None
            self._offers.notify_all()

    def get(self, name: str | None, wait: float = 0.0) -> bytes | None:
        """The bytes offered under ``name``; ``wait``: for at most so many seconds until they
        are (a claim's check offers them once the other process's read is over)."""
        with self._offers:
            self._offers.wait_for(lambda: self._offered is not None and self._offered[0] == name, wait)
            offered = self._offered
        return offered[1] if offered is not None and offered[0] == name else None


class SheetBasis:
    """A CSV score sheet's cells as a stream gives them (``_Streamed``) and the bytes they
    come from: what the next load patches a corrected sheet from (``load_contest``'s
    ``previous``). The bytes are those this process read itself (streamed, or hashed to the
    name of the entry whose cells it loaded: ``_Offers``), held in its memory only: nothing
    another account or process writes can stand in for them. ``data`` is None until they are
    there (a claim's check gives them a moment after the load). A sheet this process streamed
    or patched with its scores placed (a console, for its analysis) holds them here too, after
    its analysis has let go of them, so that the next sheet's are patched from them (about 16
    bytes a score: 107 MB at 10,000 candidates x 56 indicators x 12 evaluators)."""

    def __init__(self, path: Path, sheet: _Streamed, offers: _Offers, entry: str | None) -> None:
        self.path, self.sheet = path, sheet
        self._offers, self._entry = offers, entry
        # Whether the bytes are UTF-8: those streamed are (the stream reads nothing else);
        # those of a kept entry may be CP949, which the parse decodes as a whole (``_utf8``).
        self._utf8: bool | None = True if entry is None else None

    @property
    def data(self) -> bytes | None:
        return self._offers.get(self._entry)

    def utf8(self) -> bool:
        """Whether its bytes are UTF-8 (looked at once: see ``_utf8``)."""
        data = self.data
        if self._utf8 is None and data is not None:
            self._utf8 = _utf8(data)
        return bool(self._utf8) and data is not None

    def let_go(self) -> None:
        """Forget the bytes and the placed scores (a later load's basis took this one's place;
        that load took the placed scores it patches its own from already)."""
        self._offers = _Offers()
        self.let_go_of_placed()

    def let_go_of_placed(self) -> None:
        """Forget the sheet's placed scores (``ContestData.let_go_of_placed_scores``)."""
        self.sheet = replace(self.sheet, placed=None, by_code=())


def _utf8(data: bytes) -> bool:
    """Whether a sheet's bytes are UTF-8 throughout. A sheet that is not is decoded as a whole
    by the parse (CP949: ``read.decode_text``), and a line of it that happens to be UTF-8 means
    other text there than the patch, which reads only some lines, would read: such a sheet is
    never patched from. ASCII at once; else decoded a MiB at a time."""
    if data.isascii():
        return True
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for start in range(0, len(data), 1 << 20):
            decoder.decode(view[start : start + (1 << 20)])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _patched_sheet(
    beside: _Beside,
    lookups: dict[str, Lookup],
    path: Path,
    data: bytes,
    basis: SheetBasis,
    entry: Callable[[], str | None],
    *,
    placed: bool = False,
) -> _Streamed | None:
    """A corrected sheet's cells from the last sheet's (``basis``), as ``_streamed_sheet``
    would stream them: the lines that changed (``patch.changed_lines``) are parsed in both
    sheets, and the cells they touch are grouped again from all of their scores, found in the
    lines around them (``patch.around``; each cell's count of scores says when all are found);
    every other cell stays as it was. The cells are then checked as a stream's are, and kept
    beside the new sheet's entry. ``placed``, and the last sheet's scores placed (it was
    streamed or patched with them): the new sheet's too, patched alike (``_patched_placed``),
    so that its analysis needs no parse of the rows. None, and the sheet is streamed, whenever the patch cannot
    be sure it gives what the stream would: another contest or file, a file whose lines it
    cannot cut (``patch``), a last sheet that is not UTF-8 throughout (``_utf8``), a changed
    line that does not parse or misses a value, an
    evaluator added or gone, a cell whose scores lie too far apart, a defect the cells show
    (the stream, then the parse, name its row)."""
    sheet, last = basis.sheet, basis.data
    if basis.path != path or last is None or not sheet.evaluators or not basis.utf8():
        return None
    if beside.parts("Categorical", sheet.evaluators) != sheet.parts:
        return None
    changed = changed_lines(last, data)
    if changed is None:
        return None
    header = data[: changed.header_end]
    empty = pl.DataFrame(schema=sheet.schema)
    old = _lines(path, lookups, header, last[changed.start : changed.old_end], empty)
    new = _lines(path, lookups, header, data[changed.start : changed.new_end], empty)
    if old is None or new is None or sum(new.null_count().row(0)):
        return None
    if not new["evaluator_id"].cast(pl.String).is_in(sheet.evaluators).all():
        return None
    key = cell_key(sheet.schema).alias("_cell")
    # Each touched cell's count of scores in the new sheet: its count before, less its scores
    # on the old lines, plus those on the new ones.
    before = sheet.cells.select(key, "n")
    counted = (
        pl.concat([old.select(key, pl.lit(-1).alias("d")), new.select(key, pl.lit(1).alias("d"))])
        .group_by("_cell")
        .agg(pl.col("d").sum())
        .join(before, on="_cell", how="left")
        .select("_cell", (pl.col("n").fill_null(0).cast(pl.Int64) + pl.col("d")).alias("expected"))
    )
    touched = counted["_cell"].implode()
    for start, end in around(data, changed):
        rows = _lines(path, lookups, header, data[start:end], empty)
        if rows is None:
            return None
        found = rows.filter(key.is_in(touched))
        short = (
            counted.join(found.group_by(key).len(), on="_cell", how="left")
            .select(pl.col("len").fill_null(0).cast(pl.Int64) - pl.col("expected"))
            .to_series()
        )
        if (short > 0).any():
            return None
        if (short == 0).all():
            break
    else:
        return None
    codes = found.schema["evaluator_id"]
    assert isinstance(codes, pl.Categorical)
    coded = codes.categories.to_series().to_list()  # (the evaluators in the window's own codes)
    if not set(coded) <= set(sheet.evaluators):
        return None
    regrouped = group_cells(beside.config, beside.candidates, beside.indicators, found)
    regrouped = moved_bits(regrouped, [sheet.evaluators.index(e) for e in coded])
    cells = pl.concat([sheet.cells.filter(~key.is_in(touched)), regrouped.select(sheet.cells.columns)])
    if cells.schema != sheet.cells.schema or cells.is_empty() or any(_cell_problems(cells, True).values()):
        return None
    if cells.select(pl.col(EVALUATOR_SET).bitwise_or()).item() != (1 << len(sheet.evaluators)) - 1:
        return None  # (an evaluator whose every score went: the stream names the evaluators anew)
    scores = None
    if placed and _usable(sheet.placed) and sheet.by_code:
        scores = _patched_placed(sheet.placed, sheet.by_code, sheet.schema, found, coded, counted["_cell"])
    by_code = sheet.by_code if scores is not None else ()
    patched = _Streamed(cells, sheet.evaluators, sheet.parts, sheet.schema, sheet.holds, scores, by_code)
    _keep_beside(entry(), patched)
    return patched


def _patched_placed(
    last: Placed, by_code: tuple[str, ...], schema: pl.Schema, found: pl.DataFrame, coded: list[str], touched: pl.Series
) -> PatchedPlaced:
    """A patched sheet's placed scores (``PatchedPlaced``): the last sheet's (``last``, its
    evaluators by code ``by_code``) but those of the ``touched`` cells, whose scores in the
    new sheet are all in ``found`` (their evaluators in the codes of ``coded``), placed in the
    last sheet's codes. What is made later holds only those: not the sheets' bytes."""
    keys = cell_keys(schema)
    code = {evaluator: c for c, evaluator in enumerate(by_code)}
    as_last = pl.Series([code[e] for e in coded], dtype=pl.UInt64)
    fresh = found.select(
        (pl.lit(as_last).gather(pl.col("evaluator_id").to_physical()) * keys + cell_key(schema)).alias("_at"),
        pl.col("score"),
    )
    cells = touched.cast(pl.UInt64).implode()

    def make() -> pl.DataFrame | None:
        frame = last() if isinstance(last, PatchedPlaced) else last
        if frame is None:
            return None
        kept = frame.filter(~(pl.col("_at") % keys).is_in(cells))
        return pl.concat([kept, fresh.cast(frame.schema)])

    return PatchedPlaced(make, on=last if isinstance(last, PatchedPlaced) else None)


def _placed_later(
    beside: _Beside, lookups: dict[str, Lookup], path: Path, previous: SheetBasis, offers: _Offers, name: str
) -> PatchedPlaced | None:
    """The placed scores of a sheet whose cells another process kept (it patched or streamed
    the sheet first), patched from this process's last sheet's (``previous``, streamed or
    patched with them) when the analysis first asks for them: so that the one console or
    served tab of the account that holds placed scores goes on holding them, whichever
    process takes the next sheet's lock, and the account's analysis of a corrected sheet
    needs no parse of the rows (``PlacedScores``: the others leave it to this one). The new
    sheet's bytes are those the cache offers under the entry's ``name`` (``_Offers``; they may
    come a moment after the load: waited for, ``OFFER_WAIT`` seconds at most, then the
    analysis reads the rows); the last sheet's are held until then. None when the last
    sheet's scores were not placed."""
    sheet, last = previous.sheet, previous.data
    if not _usable(sheet.placed) or not sheet.by_code or last is None or not previous.utf8():
        return None
    held = _Offers()
    held.offer(None, last)
    basis = SheetBasis(path, sheet, held, None)

    def make() -> pl.DataFrame | None:  # (an error in it: ``PatchedPlaced`` gives None)
        data = offers.get(name, wait=OFFER_WAIT)
        if data is None:
            return None
        patched = _patched_sheet(beside, lookups, path, data, basis, lambda: None, placed=True)
        if patched is None or not isinstance(patched.placed, PatchedPlaced):
            return None
        return patched.placed()

    return PatchedPlaced(make, holds=True)


def _lines(
    path: Path, lookups: dict[str, Lookup], header: bytes, lines: bytes, empty: pl.DataFrame
) -> pl.DataFrame | None:
    """Whole lines of a CSV score sheet (after its ``header``) parsed as the stream parses
    the sheet (``read.scan_table``), in the columns of ``empty``; None when they do not parse."""
    if not lines:
        return empty  # (a blank line is not nothing: the stream reads it as a row of missing values)
    try:
        scan = scan_table(path, SCORES, lookups, header + lines)
        frame = None if scan is None else scan.collect()
    except Exception:  # (polars' errors, and InputError: what the stream would refuse too)
        return None
    if (
        frame is None
        or "evaluator_id" not in frame.columns
        or not isinstance(frame.schema["evaluator_id"], pl.Categorical)
    ):
        return None
    return frame.select(empty.columns)


def _recoded(column: pl.Series, evaluators: list[str], dtype: pl.DataType) -> pl.Series:
    """An evaluator column of its own categories as ``dtype`` (the same evaluators, coded 0, 1,
    ... in the order of ``evaluators``): each code turned into the new one by a gather from the
    few categories, not each of the rows' ids looked up as text (a tenth of the time)."""
    if not isinstance(column.dtype, pl.Categorical):
        return column.cast(pl.String).cast(dtype)
    place = {evaluator: code for code, evaluator in enumerate(evaluators)}
    names = column.dtype.categories.to_series().to_list()
    codes = pl.Series([place.get(name) for name in names], dtype=pl.UInt32)
    return codes.gather(column.to_physical()).cat.to(dtype).alias(column.name)


def _evaluator_order(scores: pl.DataFrame) -> tuple[list[str], list[str]]:
    """The sheet's evaluators in the order of their codes in this process, and sorted (their
    order in whatever is kept in the cache: loading the same entry can number them in another
    order from process to process)."""
    evaluator = scores.schema["evaluator_id"]
    evaluators = []
    if isinstance(evaluator, pl.Categorical) and evaluator_bits(evaluator):
        evaluators = evaluator.categories.to_series().to_list()
    return evaluators, sorted(evaluators)


def _cells(
    config: Config,
    candidates: pl.DataFrame,
    indicators: pl.DataFrame,
    scores: pl.DataFrame,
    entry: str | None,
    parts: list[str],
) -> pl.DataFrame:
    """``group_cells``, kept beside the score sheet's cache entry (``entry``; None: grouped
    here) under a key of ``parts`` (``_Beside.parts``)."""
    if entry is None:
        return group_cells(config, candidates, indicators, scores)
    # The kept cells carry each evaluator set in the order of the sorted ids, turned into this
    # process's codes when loaded.
    evaluators, order = _evaluator_order(scores)
    canonical = [order.index(e) for e in evaluators]  # code -> place among the sorted ids
    own = [evaluators.index(e) for e in order]  # place among the sorted ids -> code
    expected = cells_plan(config, candidates, indicators, scores).collect_schema()
    return cached_derived(
        entry,
        parts,
        lambda: group_cells(config, candidates, indicators, scores),
        lambda frame: frame.schema == expected,
        kept=(lambda frame: moved_bits(frame, canonical), lambda frame: moved_bits(frame, own)),
    )


def _id_lookups(config: Config, candidates: pl.DataFrame, indicators: pl.DataFrame) -> dict[str, Lookup]:
    """The score sheet's id columns, each typed by the ids its own file lists."""
    files = config.contest
    return {
        "candidate_id": Lookup(
            tuple(candidates["candidate_id"].to_list()),
            _("candidate (not in {file})").format(file=files.candidates.name),
        ),
        "indicator_id": Lookup(
            tuple(indicators["indicator_id"].unique(maintain_order=True).to_list()),
            _("indicator (not in {file})").format(file=files.indicators.name),
        ),
    }


def _score_rows(path: Path, scores: pl.DataFrame, has_evaluators: bool) -> pl.DataFrame:
    """The score sheet's columns in the engine's order, ``evaluator_id`` complete (or all
    missing, in a sheet that names no evaluators)."""
    if has_evaluators and scores["evaluator_id"].null_count():
        index = scores["evaluator_id"].is_null().arg_true()[0]
        raise InputError(path, _("missing value"), where=where(path, index), column="evaluator_id")
    if not has_evaluators:
        scores = scores.with_columns(evaluator_id=pl.lit(None, pl.String))
    return scores.select("candidate_id", "evaluator_id", "indicator_id", "score")


def _check_values_and_cells(
    path: Path, rows: Callable[[], pl.DataFrame], cells: pl.DataFrame, has_evaluators: bool
) -> None:
    """Refuse a score that is not a number, infinite or negative, then what only the cells show
    (an indicator outside the candidate's set, a score above its indicator's maximum, a score
    given twice), all from one pass over the cells: a NaN or an infinite score makes its
    cell's sum NaN or infinite, a negative one its minimum negative. Only then are the rows
    (``rows()``) searched (``_check_score_values``), for the first offending one."""
    problems = _cell_problems(cells, has_evaluators)
    if problems["values"]:
        _check_score_values(path, rows())  # raises, unless a sum overflowed (then a score is above its maximum)
    if problems["foreign"]:
        _refuse_foreign_indicator(path, rows(), cells)
    if problems["above"]:
        _refuse_above_maximum(path, rows(), cells)
    if problems["duplicate"]:
        _refuse_duplicate(path, rows(), has_evaluators)


def _cell_problems(cells: pl.DataFrame, has_evaluators: bool) -> dict[str, bool]:
    """What the cells show of a sheet's defects (``_check_values_and_cells``)."""
    return cells.select(
        values=(~pl.col("sum").is_finite() | (pl.col("min") < 0)).any(),
        foreign=pl.col("max_points").is_null().any(),
        above=(pl.col("max") > pl.col("max_points")).any(),
        duplicate=(pl.col("n") > pl.col("evaluators")).any() if has_evaluators else (pl.col("n") > 1).any(),
    ).row(0, named=True)


def _check_score_values(path: Path, scores: pl.DataFrame) -> None:
    """Refuse a score that is not a number, infinite or negative, naming the first such row."""
    for mask, problem in (
        (pl.col("score").is_nan(), _("score is not a number (NaN): {value}")),
        (pl.col("score").is_infinite(), _("score is infinite: {value}")),
        (pl.col("score") < 0, _("score is negative: {value}")),
    ):
        index = scores.select(mask.arg_true().first()).item()
        if index is not None:
            raise InputError(
                path,
                problem.format(value=repr(scores["score"][index])),
                where=where(path, index),
                column="score",
            )


def _refuse_foreign_indicator(path: Path, scores: pl.DataFrame, cells: pl.DataFrame) -> NoReturn:
    index, cell = _first_row_of(scores, cells.filter(pl.col("max_points").is_null()))
    raise InputError(
        path,
        _("indicator {indicator} is not in the {set} set of candidate {candidate}").format(
            indicator=repr(cell["indicator_id"]), set=repr(cell["indicator_set"]), candidate=repr(cell["candidate_id"])
        ),
        where=where(path, index),
        column="indicator_id",
    )


def _refuse_above_maximum(path: Path, scores: pl.DataFrame, cells: pl.DataFrame) -> NoReturn:
    index, cell = _first_row_of(scores, cells.filter(pl.col("max") > pl.col("max_points")), above=True)
    raise InputError(
        path,
        _("score {score} is above the maximum {maximum} of indicator {indicator}").format(
            score=f"{scores['score'][index]:g}", maximum=f"{cell['max_points']:g}", indicator=repr(cell["indicator_id"])
        ),
        where=where(path, index),
        column="score",
    )


def _first_row_of(scores: pl.DataFrame, cells: pl.DataFrame, *, above: bool = False) -> tuple[int, dict[str, Any]]:
    """The first row of the sheet (its index) in any of these cells (``above``: whose score is
    above the cell's maximum), and that cell: the file's first offence is named, whatever
    order the cells were grouped in."""
    found = (
        scores.with_row_index("_i")
        .join(
            cells.select("candidate_id", "indicator_id", "indicator_set", "max_points"),
            on=["candidate_id", "indicator_id"],
        )
        .filter(pl.col("score") > pl.col("max_points") if above else pl.lit(True))
        .sort("_i")
        .row(0, named=True)
    )
    return found["_i"], found


def _refuse_duplicate(path: Path, scores: pl.DataFrame, has_evaluators: bool) -> NoReturn:
    """Name the second score of a (candidate, evaluator, indicator), and where the first is."""
    keys = list(SCORE_KEY)
    indexed = scores.with_row_index("_i")
    second = indexed.filter(~pl.struct(keys).is_first_distinct()).row(0, named=True)
    first = indexed.filter(pl.all_horizontal(pl.col(k).eq_missing(second[k]) for k in keys)).row(0, named=True)
    first_at = location(where(path, first["_i"]))
    if has_evaluators:
        message = _(
            "duplicate score of candidate {candidate} by evaluator {evaluator} on indicator {indicator} "
            "(first at {first})"
        ).format(
            candidate=repr(first["candidate_id"]),
            evaluator=repr(first["evaluator_id"]),
            indicator=repr(first["indicator_id"]),
            first=first_at,
        )
    else:
        message = _("duplicate score of candidate {candidate} on indicator {indicator} (first at {first})").format(
            candidate=repr(first["candidate_id"]), indicator=repr(first["indicator_id"]), first=first_at
        )
    raise InputError(
        path,
        message,
        where=where(path, second["_i"]),
    )


def _load_indicators(config: Config, given: pl.DataFrame | None) -> pl.DataFrame:
    path = config.contest.indicators
    frame = read_table(path, INDICATORS, frame=given)
    for column in INDICATORS.optional:
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(column))
    taken = frame.select(pl.col("area_id").is_in(sorted(BOARD_COLUMNS)).arg_true().first()).item()
    if taken is not None:
        raise InputError(
            path,
            _(
                "area id {area} is the name of one of the board's own columns ({names}); give the area another id"
            ).format(area=repr(frame["area_id"][taken]), names=", ".join(sorted(BOARD_COLUMNS))),
            where=where(path, taken),
            column="area_id",
        )
    bad = frame.select((~pl.col("max_points").is_finite() | (pl.col("max_points") <= 0)).arg_true().first()).item()
    if bad is not None:
        raise InputError(
            path,
            _("max_points must be a positive number, not {value}").format(value=repr(frame["max_points"][bad])),
            where=where(path, bad),
            column="max_points",
        )
    dup = frame.select(
        pl.struct("indicator_set", "indicator_id").is_duplicated().arg_true().get(1, null_on_oob=True)
    ).item()
    if dup is not None:
        raise InputError(
            path,
            _("indicator {indicator} appears twice in set {set}").format(
                indicator=repr(frame["indicator_id"][dup]), set=repr(frame["indicator_set"][dup])
            ),
            where=where(path, dup),
            column="indicator_id",
        )
    # An area belongs to one set under one label; a mismatch is a typo that would split it.
    areas = frame.group_by("indicator_set", "area_id").agg(pl.col("area_label").drop_nulls().n_unique().alias("labels"))
    split = areas.filter(pl.col("labels") > 1)
    if split.height:
        mixed = split.row(0, named=True)
        raise InputError(
            path,
            _("area {area} of set {set} has different area_label values").format(
                area=repr(mixed["area_id"]), set=repr(mixed["indicator_set"])
            ),
            column="area_label",
        )
    sets = set(frame["indicator_set"].to_list())
    for category in config.categories:
        if category.indicator_set not in sets:
            raise InputError(
                config.path,
                _("indicator_set {set} has no indicators in {file}").format(
                    set=repr(category.indicator_set), file=path.name
                ),
                where=f"key [[categories]] {category.id!r} indicator_set",
            )
        set_areas = set(frame.filter(pl.col("indicator_set") == category.indicator_set)["area_id"].to_list())
        for area in category.tie_break:
            if area not in set_areas:
                raise InputError(
                    config.path,
                    _("tie-break area {area} is not an area of set {set} (its areas: {areas})").format(
                        area=repr(area), set=repr(category.indicator_set), areas=", ".join(sorted(set_areas))
                    ),
                    where=f"key [[categories]] {category.id!r} tie_break",
                )
    return frame.select("indicator_set", "indicator_id", "area_id", "max_points", *INDICATORS.optional)


def _load_conflicts(config: Config, candidates: pl.DataFrame, given: pl.DataFrame | None) -> pl.DataFrame | None:
    path = config.contest.conflicts
    if path is None:
        return None
    frame = read_table(path, CONFLICTS, frame=given)
    known = candidates["candidate_id"]
    unknown = frame.select((~pl.col("candidate_id").is_in(known.implode())).arg_true().first()).item()
    if unknown is not None:
        raise InputError(
            path,
            _("unknown candidate {candidate} (not in {file})").format(
                candidate=repr(frame["candidate_id"][unknown]), file=config.contest.candidates.name
            ),
            where=where(path, unknown),
            column="candidate_id",
        )
    return frame.unique(maintain_order=True)


def _load_candidates(config: Config, given: pl.DataFrame | None) -> pl.DataFrame:
    path = config.contest.candidates
    frame = read_table(path, CANDIDATES, frame=given)
    dup = frame.select(pl.col("candidate_id").is_duplicated().arg_true().get(1, null_on_oob=True)).item()
    if dup is not None:
        raise InputError(
            path,
            _("candidate {candidate} appears twice").format(candidate=repr(frame["candidate_id"][dup])),
            where=where(path, dup),
            column="candidate_id",
        )
    known = [c.id for c in config.categories]
    unknown = frame.select((~pl.col("category").is_in(known)).arg_true().first()).item()
    if unknown is not None:
        raise InputError(
            path,
            _("unknown category {category} (the config has: {known})").format(
                category=repr(frame["category"][unknown]), known=", ".join(known)
            ),
            where=where(path, unknown),
            column="category",
        )
    return frame
