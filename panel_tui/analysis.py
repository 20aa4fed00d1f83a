"""Analysis that lets a panel defend its list: evaluator calibration and robustness.

Calibration: how far each evaluator's scores sit from the consolidated scores, over all their
scores and per area, in percentage points of each indicator's maximum (so a 2-point and a
35-point indicator weigh alike), and which evaluators stand out: |z| > 2, where z is the
evaluator's mean deviation against the other evaluators' (sample standard deviation).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal, TypedDict

import polars as pl

from panel_tui.engine import (
    SCENARIO,
    CandidateSums,
    Decisions,
    Standings,
    candidate_sums,
    consolidate,
    consolidated_value,
    outcomes,
)
from panel_tui.inputs.cells import cell_key, group_cells
from panel_tui.inputs.contest import ContestData

OUTLIER_Z = 2.0


class LeaveOneOut(TypedDict):
    max_rank_swing: int  # the largest rank change with one evaluator fewer
    certification_flips_without: list[str]  # the evaluators without whom the certification flips


class Robustness(TypedDict):
    """One candidate's robustness (``robustness``; ``rank --format json`` prints it as is)."""

    ranks: dict[str, int | None]  # per alternative consolidation method (ALTERNATIVES)
    certified: dict[str, bool | None]
    leave_one_out: LeaveOneOut
    verdict: Literal["fragile", "stable"]


def calibration(data: ContestData, result: Standings) -> pl.DataFrame:
    """One row per evaluator: scores given, mean deviation (pp), per-area deviations, z, outlier."""
    if not data.has_evaluators:
        return pl.DataFrame()
    cells = result.cells.select(
        pl.col("candidate_id").cast(pl.String),
        pl.col("indicator_id").cast(pl.String),
        "value",
        "area_id",
        "max_points",
    )
    deviations = (
        data.scores.select(
            pl.col("candidate_id").cast(pl.String),
            pl.col("indicator_id").cast(pl.String),
            pl.col("evaluator_id").cast(pl.String),
            "score",
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
    key = cell_key(data.scores.schema).alias("_cell")
    maxima = data.cells.lazy().select(key, "max_points")
    share = pl.col("score") / pl.col("max_points")
    mean_e, std_e = share.mean().over("evaluator_id"), share.std().over("evaluator_id")
    common_mean, common_std = share.mean(), share.std()
    z = (share - mean_e) / std_e
    adjusted = pl.when(std_e.is_null() | (std_e == 0)).then(share).otherwise(common_mean + z * common_std)
    return (
        data.scores.lazy()
        .with_columns(key)
        .join(maxima, on="_cell", how="left")
        .with_columns(score=adjusted.clip(0.0, 1.0) * pl.col("max_points"))
        .select("candidate_id", "evaluator_id", "indicator_id", "score")
        .collect()
    )


def _method_cells(data: ContestData, method: str) -> pl.DataFrame:
    """The contest's cells consolidated by another method (``zscore``: the configured method
    over each evaluator's standardised scores)."""
    if method == "zscore":
        if not data.has_evaluators:
            return consolidate(data)
        scores = _standardised(data)
        return consolidate(replace(data, scores=scores, cells=_cells_from(data, scores)))
    config = replace(data.config, scoring=replace(data.config.scoring, method=method))
    return consolidate(replace(data, config=config))


def _left_out(data: ContestData, first: int) -> pl.DataFrame:
    """(evaluator_id, scenario): the scenario in which each evaluator is left out, from ``first`` on."""
    return pl.DataFrame(
        {"evaluator_id": list(data.evaluator_ids), SCENARIO: range(first, first + len(data.evaluator_ids))},
        schema={"evaluator_id": pl.String, SCENARIO: pl.Int32},
    )


def _leave_one_out(data: ContestData, cells: pl.DataFrame, sums: CandidateSums, first: int) -> CandidateSums:
    """Totals and subtotals with each evaluator left out in turn (scenario ``first`` + i for
    the i-th of ``data.evaluator_ids``), from the cells rather than by regrouping the sheet
    once per evaluator.

    The sheet is sorted by (cell, score), so each cell's scores lie together, lowest first.
    Taking one score out of its cell leaves n - 1 scores, the sum less that score, the
    cell's lowest score as minimum unless this row is it (then the next one up), and the
    same for the maximum; the cell is consolidated again by the configured rule
    (``engine.consolidated_value``) and the change is subtracted from the candidate's total
    and area subtotal. A cell whose only score goes leaves its indicator unscored."""
    scoring = data.config.scoring
    key = cell_key(data.scores.schema).alias("_cell")
    score, row = pl.col("score"), pl.int_range(pl.len(), dtype=pl.Int64)
    at_start = (pl.col("_cell") != pl.col("_cell").shift(1)).fill_null(True)
    at_end = (pl.col("_cell") != pl.col("_cell").shift(-1)).fill_null(True)
    start, end = pl.col("_start"), pl.col("_end")

    def nth(index: pl.Expr) -> pl.Expr:  # the sheet's score at a row (kept in range: masked where unused)
        return score.gather(index.clip(0, pl.len() - 1))

    removed = (
        data.scores.lazy()
        .select(key, "evaluator_id", "score")
        .sort("_cell", "score")
        .with_columns(
            _row=row, _start=pl.when(at_start).then(row).forward_fill(), _end=pl.when(at_end).then(row).backward_fill()
        )
        .with_columns(
            n=end - start,
            sum=score.sum().over("_cell") - score,
            min=nth(pl.when(pl.col("_row") == start).then(start + 1).otherwise(start)),
            max=nth(pl.when(pl.col("_row") == end).then(end - 1).otherwise(end)),
        )
    )
    if scoring.method == "median":
        # The remaining m = n - 1 scores are the cell's without the one at position k: the
        # j-th of them is the cell's j-th before k and its (j + 1)-th from k on.
        k, m = pl.col("_row") - start, pl.col("n")

        def remaining(j: pl.Expr) -> pl.Expr:
            return nth(start + j + (j >= k).cast(pl.Int64))

        removed = removed.with_columns(
            median=pl.when(m % 2 == 1)
            .then(remaining((m - 1) // 2))
            .otherwise((remaining(m // 2 - 1) + remaining(m // 2)) / 2)
        )
    scenario = _left_out(data, first)
    changes = (
        removed.with_columns(without=pl.when(pl.col("n") > 0).then(consolidated_value(scoring)))
        .join(
            cells.lazy().select(key, pl.col("candidate_id").cast(pl.String), "area_id", "value"), on="_cell", how="left"
        )
        .group_by("evaluator_id", "candidate_id", "area_id")
        .agg(
            change=(pl.col("value") - pl.col("without").fill_null(0.0)).sum(),
            lost=pl.col("without").is_null().sum().cast(pl.UInt32),
        )
        .join(scenario.lazy(), left_on=pl.col("evaluator_id").cast(pl.String), right_on="evaluator_id")
        .drop("evaluator_id")
        .collect()
    )
    per_candidate = changes.group_by(SCENARIO, "candidate_id").agg(pl.col("change").sum(), pl.col("lost").sum())
    every = scenario.select(SCENARIO)
    loo_totals = (
        every.join(sums.totals.drop(SCENARIO), how="cross")
        .join(per_candidate, on=[SCENARIO, "candidate_id"], how="left")
        .select(
            SCENARIO,
            "candidate_id",
            total=pl.col("total") - pl.col("change").fill_null(0.0),
            scored=pl.col("scored") - pl.col("lost").fill_null(0),
        )
    )
    loo_subtotals = (
        every.join(sums.subtotals.drop(SCENARIO), how="cross")
        .join(changes, on=[SCENARIO, "candidate_id", "area_id"], how="left")
        .select(SCENARIO, "candidate_id", "area_id", sub=pl.col("sub") - pl.col("change").fill_null(0.0))
    )
    return CandidateSums(totals=loo_totals, subtotals=loo_subtotals)


def robustness(data: ContestData, decisions: Decisions = Decisions()) -> dict[str, Robustness]:
    """Per candidate: rank and certification under each consolidation method and under
    z-standardised evaluators; under leaving each evaluator out, the largest rank swing and who
    flips its certification; and a verdict: ``fragile`` when any of these changes whether it
    is certified, else ``stable``.

    Every variant is a scenario of one ranking pass (``engine.outcomes``); the
    leave-one-out scenarios come from the cells (``_leave_one_out``), not from regrouping
    the score sheet once per evaluator."""
    cells = consolidate(data)
    as_is = candidate_sums(cells, 0)
    parts = [as_is]
    for i, method in enumerate(ALTERNATIVES, 1):
        parts.append(candidate_sums(_method_cells(data, method), i))
    evaluators = data.evaluator_ids
    first = len(ALTERNATIVES) + 1
    if evaluators:
        parts.append(_leave_one_out(data, cells, as_is, first))
    result = outcomes(data, CandidateSums.concat(parts), decisions, first + len(evaluators))
    base = result.filter(pl.col(SCENARIO) == 0).select("candidate_id", rank_now="rank", certified_now="certified")
    left_out = (
        result.filter(pl.col(SCENARIO) >= first)
        .join(base, on="candidate_id")
        .join(_left_out(data, first), on=SCENARIO)
        .sort(SCENARIO)
        .group_by("candidate_id")
        .agg(
            swing=(pl.col("rank") - pl.col("rank_now")).abs().max().fill_null(0),
            flips=pl.col("evaluator_id").filter(pl.col("certified").ne_missing(pl.col("certified_now"))),
        )
    )
    by_method = (
        result.filter(pl.col(SCENARIO).is_between(1, len(ALTERNATIVES)))
        .sort(SCENARIO)
        .group_by("candidate_id", maintain_order=True)
        .agg(pl.col("rank"), pl.col("certified"))
    )
    rows = base.join(by_method, on="candidate_id", how="left").join(left_out, on="candidate_id", how="left")
    analysis: dict[str, Robustness] = {}
    for row in rows.iter_rows(named=True):
        flips = row["flips"] or []
        changed = any(c != row["certified_now"] for c in row["certified"]) or bool(flips)
        analysis[row["candidate_id"]] = {
            "ranks": dict(zip(ALTERNATIVES, row["rank"], strict=False)),
            "certified": dict(zip(ALTERNATIVES, row["certified"], strict=False)),
            "leave_one_out": {"max_rank_swing": row["swing"] or 0, "certification_flips_without": flips},
            "verdict": "fragile" if changed else "stable",
        }
    return analysis
