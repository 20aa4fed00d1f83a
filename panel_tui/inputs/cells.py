"""Where scores become cells: one row per scored (candidate, indicator), for the engine to consolidate.

Used by the loader (``inputs.contest``) and by the analysis's variant score sheets, so that
both group the same way.
"""

from __future__ import annotations

import polars as pl

from panel_tui.config import Config


def _enum_ids(dtype: pl.DataType) -> pl.Series:
    """The ids of a checked table's id column (an ``Enum``: ``Lookup.dtype``), in code order."""
    if not isinstance(dtype, pl.Enum):
        raise TypeError(f"an id column must be an Enum, not {dtype}")
    return dtype.categories


def cell_key(schema: pl.Schema) -> pl.Expr:
    """One integer per (candidate, indicator) from the two ids' Enum codes (of a frame with
    this schema): grouping or joining 6.7 million rows by one integer is a third cheaper than
    by the pair. ``key // n`` and ``key % n`` (n: the indicator Enum's size) give the codes back."""
    n_indicators = len(_enum_ids(schema["indicator_id"]))
    return pl.col("candidate_id").to_physical().cast(pl.UInt32) * n_indicators + pl.col(
        "indicator_id"
    ).to_physical().cast(pl.UInt32)


def group_cells(
    config: Config, candidates: pl.DataFrame, indicators: pl.DataFrame, scores: pl.DataFrame
) -> pl.DataFrame:
    """One row per scored (candidate, indicator) of a checked score sheet: n, distinct
    evaluators, sum, min, max, with the candidate's indicator set and the indicator's area and
    maximum. The one place scores become cells (the loader, and the analysis's variants)."""
    candidate_dtype, indicator_dtype = scores.schema["candidate_id"], scores.schema["indicator_id"]
    sets = candidates.select(
        pl.col("candidate_id").cast(candidate_dtype),
        pl.col("category").replace_strict({c.id: c.indicator_set for c in config.categories}).alias("indicator_set"),
    )
    points = indicators.select("indicator_set", pl.col("indicator_id").cast(indicator_dtype), "area_id", "max_points")
    n_indicators = len(_enum_ids(indicator_dtype))
    candidate_ids = pl.Series(_enum_ids(candidate_dtype), dtype=candidate_dtype)
    indicator_ids = pl.Series(_enum_ids(indicator_dtype), dtype=indicator_dtype)
    cells = (
        scores.lazy()
        .group_by(cell_key(scores.schema).alias("_cell"))
        .agg(
            n=pl.len(),
            evaluators=pl.col("evaluator_id").n_unique(),
            sum=pl.col("score").sum(),
            min=pl.col("score").min(),
            max=pl.col("score").max(),
        )
        .select(
            pl.lit(candidate_ids).gather(pl.col("_cell") // n_indicators).alias("candidate_id"),
            pl.lit(indicator_ids).gather(pl.col("_cell") % n_indicators).alias("indicator_id"),
            pl.exclude("_cell"),
        )
        .join(sets.lazy(), on="candidate_id", how="left")
        .join(points.lazy(), on=["indicator_set", "indicator_id"], how="left")
        .collect()
    )
    return cells
