"""Analysis that lets a panel defend its list: evaluator calibration and robustness.

Calibration: how far each evaluator's scores sit from the consolidated scores, over all their
scores and per area, in percentage points of each indicator's maximum (so a 2-point and a
35-point indicator weigh alike), and which evaluators stand out: |z| > 2, where z is the
evaluator's mean deviation against the other evaluators' (sample standard deviation).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import polars as pl

from panel_tui.engine import Decisions, Standings, standings
from panel_tui.inputs import ContestData, group_cells

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


# Robustness ----------------------------------------------------------------------------------

ALTERNATIVES = ("mean", "median", "trimmed_mean", "zscore")


def _cells_from(data: ContestData, scores: pl.DataFrame) -> pl.DataFrame:
    """The cells of a variant score sheet of this contest, grouped as the loader groups them."""
    return group_cells(data.config, data.candidates, data.indicators, scores).drop("evaluators")


def _standardised(data: ContestData) -> pl.DataFrame:
    """Each evaluator's scores as z-scores of their own scoring (as a share of each indicator's
    maximum), mapped back onto the common scale: a lenient and a severe evaluator weigh alike.
    An evaluator with fewer than two scores, or all equal, is left as they scored."""
    maxima = data.cells.select("candidate_id", "indicator_id", "max_points")
    share = pl.col("score") / pl.col("max_points")
    mean_e, std_e = share.mean().over("evaluator_id"), share.std().over("evaluator_id")
    common_mean, common_std = share.mean(), share.std()
    z = (share - mean_e) / std_e
    adjusted = pl.when(std_e.is_null() | (std_e == 0)).then(share).otherwise(common_mean + z * common_std)
    return (
        data.scores.join(maxima, on=["candidate_id", "indicator_id"], how="left")
        .with_columns(score=adjusted.clip(0.0, 1.0) * pl.col("max_points"))
        .select("candidate_id", "evaluator_id", "indicator_id", "score")
    )


def _outcome(result: Standings) -> pl.DataFrame:
    return pl.concat(
        [b.entries.select("candidate_id", "rank", "certified") for b in result.boards], how="vertical_relaxed"
    )


def robustness(data: ContestData, decisions: Decisions = Decisions()) -> dict[str, dict]:
    """Per candidate: rank and certification under each consolidation method and under
    z-standardised evaluators; under leaving each evaluator out, the largest rank swing and who
    flips its certification; and a verdict: ``fragile`` when any of these changes whether it
    is certified, else ``stable``."""
    variants: list[tuple[str, ContestData]] = []
    for method in ALTERNATIVES:
        if method == "zscore":
            scores = _standardised(data)
            variants.append((method, replace(data, scores=scores, cells=_cells_from(data, scores))))
        else:
            config = replace(data.config, scoring=replace(data.config.scoring, method=method))
            variants.append((method, replace(data, config=config)))
    evaluator = pl.col("evaluator_id").cast(pl.String)
    for left_out in data.evaluator_ids:
        scores = data.scores.filter(evaluator != left_out)
        variants.append((left_out, replace(data, scores=scores, cells=_cells_from(data, scores))))
    # The variants are independent rankings; polars releases the GIL, so they overlap.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        outcomes = list(pool.map(lambda v: _outcome(standings(v[1], decisions)), variants))
    base = _outcome(standings(data, decisions)).rename({"rank": "rank_now", "certified": "certified_now"})
    by_variant = dict(zip((name for name, _ in variants), outcomes))

    flips: dict[str, list[str]] = {}
    swing: dict[str, int] = {}
    for left_out in data.evaluator_ids:
        outcome = by_variant[left_out].join(base, on="candidate_id")
        for cid, rank, certified, rank_now, certified_now in outcome.select(
            "candidate_id", "rank", "certified", "rank_now", "certified_now"
        ).iter_rows():
            if rank is not None and rank_now is not None:
                swing[cid] = max(swing.get(cid, 0), abs(rank - rank_now))
            if certified != certified_now:
                flips.setdefault(cid, []).append(left_out)
    ranks = {m: dict(by_variant[m].select("candidate_id", "rank").iter_rows()) for m in ALTERNATIVES}
    certified = {m: dict(by_variant[m].select("candidate_id", "certified").iter_rows()) for m in ALTERNATIVES}
    result = {}
    for cid, _rank_now, certified_now in base.iter_rows():
        by_method = {m: certified[m][cid] for m in ALTERNATIVES}
        changed = any(c != certified_now for c in by_method.values()) or bool(flips.get(cid))
        result[cid] = {
            "ranks": {m: ranks[m][cid] for m in ALTERNATIVES},
            "certified": by_method,
            "leave_one_out": {"max_rank_swing": swing.get(cid, 0), "certification_flips_without": flips.get(cid, [])},
            "verdict": "fragile" if changed else "stable",
        }
    return result
