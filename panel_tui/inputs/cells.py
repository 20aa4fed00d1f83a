"""Where scores become cells: one row per scored (candidate, indicator), for the engine to consolidate.

Used by the loader (``inputs.contest``) and by the analysis's variant score sheets, so that
both group the same way.

The grouping is the one pass over the raw score rows: besides each cell's n, sum, min and
max it carries the *set* of evaluators who scored the cell, as one 64-bit word (bit ``i``:
the evaluator whose ``Categorical`` code is ``i``). From that word come, without another
pass over the rows, the cell's count of distinct evaluators (a score given twice shows as
fewer bits than scores: the sum of the bits carries) and, OR-ed over a candidate's cells,
the candidate's count of distinct evaluators (``engine.candidate_sums``). A sheet whose
evaluator ids take more than 64 codes has no sets (``has_evaluator_sets``): it falls back to
``n_unique`` per cell and a count over the rows.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl

from panel_tui.config import Config

EVALUATOR_SET = "evaluator_set"  # a cell's evaluators as bits of a UInt64 (null: not available)
_WORD = 64
_BITS = pl.Series([1 << i for i in range(_WORD)], dtype=pl.UInt64)
_CODE = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def cells_code() -> str:
    """The SHA-256 of this module's source: part of the key of cells kept in the cache
    (``inputs.contest``), so that cells grouped by other code are never loaded."""
    return _CODE


def enum_ids(dtype: pl.DataType) -> pl.Series:
    """The ids of a checked table's id column (an ``Enum``: ``Lookup.dtype``), in code order."""
    if not isinstance(dtype, pl.Enum):
        raise TypeError(f"an id column must be an Enum, not {dtype}")
    return dtype.categories


def cell_key(schema: pl.Schema) -> pl.Expr:
    """One integer per (candidate, indicator) from the two ids' Enum codes (of a frame with
    this schema): grouping or joining 6.7 million rows by one integer is a third cheaper than
    by the pair. ``key // n`` and ``key % n`` (n: the indicator Enum's size) give the codes back."""
    n_indicators = len(enum_ids(schema["indicator_id"]))
    return pl.col("candidate_id").to_physical().cast(pl.UInt32) * n_indicators + pl.col(
        "indicator_id"
    ).to_physical().cast(pl.UInt32)


def cell_keys(schema: pl.Schema) -> int:
    """How many keys ``cell_key`` can give for a frame with this schema: candidates x indicators."""
    return len(enum_ids(schema["candidate_id"])) * len(enum_ids(schema["indicator_id"]))


def evaluator_bits(dtype: pl.DataType) -> bool:
    """Whether a sheet's evaluators fit the one-word set: a ``Categorical`` of at most 64 codes
    (each sheet is read with categories of its own, so its codes are 0 .. evaluators - 1)."""
    return isinstance(dtype, pl.Categorical) and dtype.categories.to_series().len() <= _WORD


def cell_aggregates(schema: pl.Schema, median: bool = False) -> list[pl.Expr]:
    """What one group-by of the raw rows per cell computes (``_bit`` must have been added by
    ``with_evaluator_bit``): n, distinct evaluators, sum, min, max and the evaluator set, and
    the median when the contest consolidates by it."""
    return _aggregates(schema) + ([pl.col("score").median().alias("median")] if median else [])


def _aggregates(schema: pl.Schema) -> list[pl.Expr]:
    if evaluator_bits(schema["evaluator_id"]):
        word = pl.col("_bit").sum()  # equals the OR of the bits when no evaluator scored the cell twice
        return [
            pl.len().alias("n"),
            word.bitwise_count_ones().cast(pl.UInt32).alias("evaluators"),
            pl.col("score").sum().alias("sum"),
            pl.col("score").min().alias("min"),
            pl.col("score").max().alias("max"),
            word.alias(EVALUATOR_SET),
        ]
    return [
        pl.len().alias("n"),
        pl.col("evaluator_id").n_unique().cast(pl.UInt32).alias("evaluators"),
        pl.col("score").sum().alias("sum"),
        pl.col("score").min().alias("min"),
        pl.col("score").max().alias("max"),
        pl.lit(None, pl.UInt64).alias(EVALUATOR_SET),
    ]


def with_evaluator_bit(scores: pl.LazyFrame, schema: pl.Schema) -> pl.LazyFrame:
    """The rows with ``_bit``, their evaluator's bit (a gather from a 64-entry table: computed
    before the group-by, where it costs a fifth of what it costs inside the aggregation)."""
    if evaluator_bits(schema["evaluator_id"]):
        return scores.with_columns(_bit=pl.lit(_BITS).gather(pl.col("evaluator_id").to_physical()))
    return scores


def moved_bits(cells: pl.DataFrame, places: list[int]) -> pl.DataFrame:
    """The cells with each evaluator set's bit ``i`` moved to bit ``places[i]`` (the same
    evaluators under other codes); unchanged when every bit stays."""
    if places == list(range(len(places))) or EVALUATOR_SET not in cells.columns:
        return cells
    word = pl.col(EVALUATOR_SET)
    moved = pl.lit(0, pl.UInt64)
    for i, place in enumerate(places):
        moved = moved | pl.when((word & pl.lit(1 << i, pl.UInt64)) != 0).then(pl.lit(1 << place, pl.UInt64)).otherwise(
            0
        )
    return cells.with_columns(pl.when(word.is_not_null()).then(moved).alias(EVALUATOR_SET))


def group_cells(
    config: Config, candidates: pl.DataFrame, indicators: pl.DataFrame, scores: pl.DataFrame
) -> pl.DataFrame:
    """One row per scored (candidate, indicator) of a checked score sheet: n, distinct
    evaluators, sum, min, max, the evaluator set (``EVALUATOR_SET``), the median in a contest
    consolidated by it, with the candidate's
    indicator set and the indicator's area and maximum. The one place scores become cells (the
    loader, and the analysis's variants): one group-by over the rows, planned lazily with the
    joins on the (much smaller) cells."""
    return cells_plan(config, candidates, indicators, scores).collect()


def cells_plan(
    config: Config,
    candidates: pl.DataFrame,
    indicators: pl.DataFrame,
    scores: pl.DataFrame | pl.LazyFrame,
) -> pl.LazyFrame:
    """``group_cells`` as a lazy plan (``.explain()`` shows its one group-by over the rows).
    Each cell's candidate, indicator, indicator set, area and maximum come from its key by
    position (a gather from small tables indexed by the ids' codes), not by joins. ``scores``
    may be a plan that reads the sheet (``streamed_cells``)."""
    schema = scores.collect_schema() if isinstance(scores, pl.LazyFrame) else scores.schema
    candidate_dtype, indicator_dtype = schema["candidate_id"], schema["indicator_id"]
    candidate_ids, indicator_ids = enum_ids(candidate_dtype), enum_ids(indicator_dtype)
    n_indicators = len(indicator_ids)
    # The indicator sets by code (0, 1, ...), each candidate's by its id's code, and each
    # (set, indicator) pair's area and maximum at set code * n_indicators + indicator code.
    set_ids = sorted(set(indicators["indicator_set"].to_list()) | {c.indicator_set for c in config.categories})
    set_code = {set_id: code for code, set_id in enumerate(set_ids)}
    category_set = {c.id: set_code[c.indicator_set] for c in config.categories}
    by_candidate = candidates.select(
        pl.col("candidate_id").cast(candidate_dtype).to_physical().alias("code"),
        pl.col("category").replace_strict(category_set, return_dtype=pl.UInt32).alias("set"),
    )
    candidate_set = scattered(len(candidate_ids), pl.UInt32, by_candidate["code"], by_candidate["set"])
    pairs = indicators.select(
        (
            pl.col("indicator_set").replace_strict(set_code, return_dtype=pl.UInt32) * n_indicators
            + pl.col("indicator_id").cast(indicator_dtype).to_physical().cast(pl.UInt32)
        ).alias("pair"),
        "area_id",
        "max_points",
    )
    size = len(set_ids) * n_indicators
    area = scattered(size, pl.String, pairs["pair"], pairs["area_id"])
    maximum = scattered(size, pl.Float64, pairs["pair"], pairs["max_points"])
    candidate, indicator = pl.col("_cell") // n_indicators, pl.col("_cell") % n_indicators
    cell_set = pl.lit(candidate_set).gather(candidate)
    pair = cell_set * n_indicators + indicator
    return (
        with_evaluator_bit(scores.lazy(), schema)
        .group_by(cell_key(schema).alias("_cell"))
        .agg(cell_aggregates(schema, median=config.scoring.method == "median"))
        .select(
            pl.lit(pl.Series(candidate_ids, dtype=candidate_dtype)).gather(candidate).alias("candidate_id"),
            pl.lit(pl.Series(indicator_ids, dtype=indicator_dtype)).gather(indicator).alias("indicator_id"),
            pl.exclude("_cell"),
            pl.lit(pl.Series(set_ids, dtype=pl.String)).gather(cell_set).alias("indicator_set"),
            pl.lit(area).gather(pair).alias("area_id"),
            pl.lit(maximum).gather(pair).alias("max_points"),
        )
    )


def streamed_cells(
    config: Config,
    candidates: pl.DataFrame,
    indicators: pl.DataFrame,
    scan: pl.LazyFrame,
    has_evaluators: bool,
    *,
    placed: bool = False,
) -> tuple[pl.DataFrame, pl.DataFrame | None] | None:
    """``group_cells`` of the rows a plan reads (``read.scan_table``: the score sheet's bytes),
    run by polars' streaming engine: the rows are reduced to cells as they are read, never
    all held, in about the time of the bare read. A missing value shows as a defect of its
    cell, which the caller looks for (``contest._cell_problems``): a missing score makes its
    cell's sum NaN, a missing evaluator its cell's evaluators fewer than its scores, a
    missing id a cell of no candidate or indicator (no maximum). None when the plan fails (a
    value that does not convert; more than 64 evaluators, whose codes fall outside the
    one-word set).

    ``placed`` (a sheet that names its evaluators): also each score with its place (``_at``)
    in the evaluators' columns end to end, each column a cell key long: its evaluator's code in
    the sheet's own categories x the number of keys (candidates x indicators) + its cell's key
    (``cell_key``), from the same pass over the sheet (the two plans share their read: polars
    reads the file once for both), for the analysis's matrix; else None beside the cells."""
    if not has_evaluators:  # (the column the sheet does not have, as ``group_cells`` is given it)
        scan = scan.with_columns(evaluator_id=pl.lit(None, pl.String))
    scan = scan.select("candidate_id", "evaluator_id", "indicator_id", pl.col("score").fill_null(float("nan")))
    try:
        cells = cells_plan(config, candidates, indicators, scan)
        if not (placed and has_evaluators):
            return cells.collect(engine="streaming"), None
        schema = scan.collect_schema()
        code = pl.col("evaluator_id").to_physical().cast(pl.UInt64)
        scores = scan.select((code * cell_keys(schema) + cell_key(schema)).alias("_at"), "score")
        both = pl.collect_all([cells, scores], engine="streaming")
        return both[0], both[1]
    except Exception:  # (polars' errors, and whatever a damaged file provokes)
        return None


def scattered(
    size: int, dtype: pl.DataType | type[pl.DataType], at: pl.Series, values: pl.Series, fill: float | None = None
) -> pl.Series:
    """A series of ``size`` nulls (or ``fill``) with ``values`` placed at the positions ``at``: a
    table to look values up in by position (``pl.lit(table).gather(...)``), not by a join."""
    return pl.select(pl.repeat(fill, size, dtype=dtype)).to_series().scatter(at, values.cast(dtype))


def has_evaluator_sets(cells: pl.DataFrame) -> bool:
    """Whether every cell carries its evaluator set (``EVALUATOR_SET``): the sheet names its
    evaluators and they fit the one-word set (``evaluator_bits``)."""
    return EVALUATOR_SET in cells.columns and cells[EVALUATOR_SET].null_count() == 0
