"""Analysis that lets a panel defend its list (issue 6). So far: evaluator calibration.

Calibration: how far each evaluator's scores sit from the consolidated scores, over all their
scores and per area, in percentage points of each indicator's maximum (so a 2-point and a
35-point indicator weigh alike), and which evaluators stand out: |z| > 2, where z is the
evaluator's mean deviation against the other evaluators' (sample standard deviation).
"""

from __future__ import annotations

import polars as pl

from panel_tui.engine import Standings
from panel_tui.inputs import ContestData

OUTLIER_Z = 2.0


def calibration(data: ContestData, result: Standings) -> pl.DataFrame:
    """One row per evaluator: scores given, mean deviation (pp), per-area deviations, z, outlier."""
    if not data.has_evaluators:
        return pl.DataFrame()
    cells = result.cells.select(
        pl.col("candidate_id").cast(pl.String), pl.col("indicator_id").cast(pl.String), "value", "area_id",
        "max_points",
    )
    deviations = (
        data.scores.select(
            pl.col("candidate_id").cast(pl.String), pl.col("indicator_id").cast(pl.String),
            pl.col("evaluator_id").cast(pl.String), "score",
        )
        .join(cells, on=["candidate_id", "indicator_id"], how="inner")
        .with_columns(deviation=(pl.col("score") - pl.col("value")) / pl.col("max_points") * 100)
    )
    overall = deviations.group_by("evaluator_id").agg(scores=pl.len(), mean_deviation=pl.col("deviation").mean())
    areas = sorted(deviations["area_id"].unique().to_list())
    per_area = (
        deviations.group_by("evaluator_id", "area_id")
        .agg(pl.col("deviation").mean())
        .pivot(on="area_id", index="evaluator_id", values="deviation", on_columns=areas)
        .rename({a: f"deviation_{a}" for a in areas})
    )
    spread = pl.col("mean_deviation").std()
    return (
        overall.join(per_area, on="evaluator_id", how="left")
        .with_columns(z=pl.when(spread > 0).then((pl.col("mean_deviation") - pl.col("mean_deviation").mean()) / spread))
        .with_columns(outlier=pl.col("z").abs().fill_null(0) > OUTLIER_Z)
        .sort("evaluator_id")
    )
