"""Small hand-made contests for the engine tests: frames in memory, no files."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from panel_tui.config import Category, Config, Contest, GradeBand, Scoring
from panel_tui.engine import Decisions, Standings, standings
from panel_tui.inputs import ContestData, load_contest

BANDS = (GradeBand(1, 90.0), GradeBand(2, 80.0), GradeBand(3, 70.0), GradeBand(4, 0.0))


def config(
    *,
    method: str = "trimmed_mean",
    trim_min_evaluators: int = 5,
    decimals: int = 2,
    review_margin: float = 1.0,
    threshold: float = 70.0,
    tie_break: tuple[str, ...] = ("A1", "A2"),
    max_certified: int = 0,
    grades: tuple[GradeBand, ...] = BANDS,
    conflicts: bool = False,
) -> Config:
    here = Path("/nonexistent/handmade")
    return Config(
        path=here / "config.toml",
        contest=Contest(
            id="t",
            name="Hand-made",
            candidates=here / "candidates.csv",
            scores=here / "scores.csv",
            indicators=here / "indicators.csv",
            conflicts=here / "conflicts.csv" if conflicts else None,
        ),
        scoring=Scoring(
            method=method, trim_min_evaluators=trim_min_evaluators, decimals=decimals, review_margin=review_margin
        ),
        categories=(
            Category(
                id="cat",
                label="Category",
                indicator_set="s",
                threshold=threshold,
                tie_break=tie_break,
                max_certified=max_certified,
                grades=grades,
            ),
        ),
    )


def indicators(*rows: tuple[str, str, float]) -> pl.DataFrame:
    """(indicator_id, area_id, max_points) rows of set 's'."""
    return pl.DataFrame(
        [("s", i, a, m) for i, a, m in rows],
        schema=["indicator_set", "indicator_id", "area_id", "max_points"],
        orient="row",
    )


def candidates(*ids: str) -> pl.DataFrame:
    return pl.DataFrame({"candidate_id": list(ids), "name": [f"Name {i}" for i in ids], "category": ["cat"] * len(ids)})


def consolidated(rows: dict[str, dict[str, float]]) -> pl.DataFrame:
    """A score sheet without evaluator_id: {candidate: {indicator: score}}."""
    return pl.DataFrame(
        [(c, i, float(v)) for c, scores in rows.items() for i, v in scores.items()],
        schema=["candidate_id", "indicator_id", "score"],
        orient="row",
    )


def by_evaluator(rows: dict[tuple[str, str], list[float]]) -> pl.DataFrame:
    """{(candidate, indicator): [score of E1, E2, ...]}; None skips that evaluator."""
    out = [
        (c, f"E{k + 1}", i, float(v)) for (c, i), values in rows.items() for k, v in enumerate(values) if v is not None
    ]
    return pl.DataFrame(out, schema=["candidate_id", "evaluator_id", "indicator_id", "score"], orient="row")


def contest(
    cfg: Config, cands: pl.DataFrame, inds: pl.DataFrame, scores: pl.DataFrame, conflicts: pl.DataFrame | None = None
) -> ContestData:
    frames = {"candidates": cands, "indicators": inds, "scores": scores}
    if conflicts is not None:
        frames["conflicts"] = conflicts
    return load_contest(cfg, frames)


def rank(cfg: Config, cands, inds, scores, decisions: Decisions = Decisions()) -> Standings:
    return standings(contest(cfg, cands, inds, scores), decisions)


def rows(result: Standings) -> dict[str, dict]:
    """Entries of the only category, by candidate id."""
    return {r["candidate_id"]: r for r in result.boards[0].entries.iter_rows(named=True)}
