"""The robustness analysis by its definition, kept as the tests' oracle: every variant is the
whole contest re-ranked by ``engine.standings`` from a variant score sheet (slow: 17 full
rankings): the sheet with another method, without one evaluator's rows, or standardised
(``analysis._standardised``: the definition, windows over each evaluator's rows).
``panel_tui.analysis.robustness`` computes the same from statistics of the cells, without
regrouping or sorting the rows, in one ranking pass; tests/test_analysis.py checks that the
two agree on random contests, by each of its routes."""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from panel_tui.analysis import _standardised
from panel_tui.engine import Decisions, Standings, standings
from panel_tui.inputs import ContestData, group_cells

ALTERNATIVES = ("mean", "median", "trimmed_mean", "zscore")


def _cells_from(data: ContestData, scores: pl.DataFrame) -> pl.DataFrame:
    """The cells of a variant score sheet of this contest, grouped as the loader groups them."""
    return group_cells(data.config, data.candidates, data.indicators, scores).drop("evaluators")


def _outcome(result: Standings) -> pl.DataFrame:
    return pl.concat(
        [b.entries.select("candidate_id", "rank", "certified") for b in result.boards], how="vertical_relaxed"
    )


def reference_robustness(data: ContestData, decisions: Decisions = Decisions()) -> dict[str, dict]:
    """Per candidate: rank and certification under each consolidation method and under
    z-standardised evaluators; under leaving each evaluator out, the largest rank swing and who
    flips its certification; and a verdict: ``fragile`` when any of these changes whether it
    is certified, else ``stable``."""
    variants: list[tuple[str, ContestData]] = []
    for method in ALTERNATIVES:
        if method == "zscore":
            scores = _standardised(data)
            variants.append((method, replace(data, rows=scores, cells=_cells_from(data, scores))))
        else:
            config = replace(data.config, scoring=replace(data.config.scoring, method=method))
            variants.append((method, replace(data, config=config)))
    evaluator = pl.col("evaluator_id").cast(pl.String)
    for left_out in data.evaluator_ids:
        scores = data.scores.filter(evaluator != left_out)
        variants.append((left_out, replace(data, rows=scores, cells=_cells_from(data, scores))))
    outcomes = [_outcome(standings(variant, decisions)) for _, variant in variants]
    base = _outcome(standings(data, decisions)).rename({"rank": "rank_now", "certified": "certified_now"})
    by_variant = dict(zip((name for name, _ in variants), outcomes, strict=False))

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
