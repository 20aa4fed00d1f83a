"""A plain pandas baseline of ``panel-tui rank --format json`` (SPEC §3 and §5).

    python bench/pandas_rank.py CONFIG

Reads the contest's config.toml with tomllib, the three input files with ``pd.read_csv``
(a Parquet score sheet with ``pd.read_parquet``, through pyarrow), and prints the same JSON
document as ``panel-tui rank --format json``. It is the code a reasonable person would write
with pandas (read_csv, groupby, merge, sort), written for the benchmark's contest:
trimmed_mean, tie-break areas, thresholds, review margin and optional grades. It does none of
panel-tui's input checks (unknown ids, duplicates, scores above the maximum), has no session
(no panel decisions) and refuses what the benchmark does not use (other methods, a
``max_certified`` cap).
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SCORING_DEFAULTS: dict[str, Any] = {
    "method": "trimmed_mean",
    "trim_min_evaluators": 5,
    "decimals": 2,
    "review_margin": 1.0,
}


def round_half_away(values: pd.Series, decimals: int) -> pd.Series:
    """Round half away from zero at ``decimals`` places (1.005 -> 1.01), as panel-tui does.

    The scaled value is snapped to 6 places first, so binary noise (1.00499999...) does not
    decide the rounding; the last round() snaps to the float nearest the decimal.
    """
    scale = 10.0**decimals
    scaled = np.round(values.to_numpy(dtype=float) * scale, 6)
    rounded = np.round(np.floor(np.abs(scaled) + 0.5) * np.sign(scaled) / scale, decimals)
    return pd.Series(rounded, index=values.index)


def load_config(path: Path) -> dict[str, Any]:
    """The config as a dict, with scoring defaults filled in and input paths made absolute."""
    with path.open("rb") as handle:
        config = tomllib.load(handle)
    config["scoring"] = {**SCORING_DEFAULTS, **config.get("scoring", {})}
    for key in ("candidates", "scores", "indicators"):
        config["contest"][key] = (path.parent / config["contest"][key]).resolve()
    if config["scoring"]["method"] != "trimmed_mean":
        raise SystemExit(f"pandas_rank: only trimmed_mean is implemented, not {config['scoring']['method']!r}")
    for category in config["categories"]:
        if category.get("max_certified", 0):
            raise SystemExit("pandas_rank: max_certified is not implemented")
    return config


def consolidate(scores: pd.DataFrame, trim_min_evaluators: int) -> pd.DataFrame:
    """One row per scored (candidate, indicator) with its trimmed-mean value."""
    cells = (
        scores.groupby(["candidate_id", "indicator_id"], sort=False)["score"]
        .agg(["size", "sum", "min", "max"])
        .reset_index()
    )
    n = cells["size"]
    trimmed = (cells["sum"] - cells["max"] - cells["min"]) / (n - 2)
    cells["value"] = trimmed.where(n >= trim_min_evaluators, cells["sum"] / n)
    return cells


def grade_of(percent: float, bands: list[dict[str, Any]]) -> int | None:
    """The first band, highest ``min`` first, whose ``min`` <= percent."""
    for band in sorted(bands, key=lambda b: b["min"], reverse=True):
        if percent >= band["min"]:
            return int(band["grade"])
    return None


def rank_category(
    frame: pd.DataFrame, category: dict[str, Any], areas: list[str], scoring: dict[str, Any]
) -> tuple[pd.DataFrame, list[list[str]]]:
    """Competition-rank the non-pending candidates of one category; return them and the unresolved ties."""
    keys = ["total", *category.get("tie_break", [])]
    ranked = (
        frame[~frame["pending"]]
        .sort_values([*keys, "candidate_id"], ascending=[False] * len(keys) + [True])
        .reset_index(drop=True)
    )
    changed = ranked[keys].ne(ranked[keys].shift())  # the first row differs from "nothing"
    ranked["group"] = changed.any(axis=1).cumsum()
    ranked["position"] = np.arange(1, len(ranked) + 1)
    by_group = ranked.groupby("group")
    ranked["rank"] = by_group["position"].transform("min")
    size = by_group["position"].transform("size")
    # The first key (in order) that changed from the row above, read off the group's first row.
    ranked["decided_by"] = changed.idxmax(axis=1).groupby(ranked["group"]).transform("first")
    ranked["tie"] = size > 1
    ranked.loc[ranked["tie"] | (ranked["rank"] == 1), "decided_by"] = None
    ranked["top"] = (ranked["rank"] == 1) & (size == 1)
    ranked["certified"] = ranked["percent"] >= category["threshold"]
    ranked["status"] = np.where(ranked["certified"], "certified", "not_certified")
    margin = round(scoring["review_margin"] * 1e6)
    ranked["borderline"] = ((ranked["percent"] - category["threshold"]) * 1e6).round().abs() <= margin
    bands = category.get("grades", [])
    ranked["grade"] = [grade_of(p, bands) for p in ranked["percent"]] if bands else None
    unresolved = ranked[ranked["tie"] & (ranked["rank"] == 1)]
    ties = list(unresolved.groupby("rank")["candidate_id"].agg(list))
    return ranked, ties


def entries(ranked: pd.DataFrame, pending: pd.DataFrame, areas: list[str]) -> list[dict[str, Any]]:
    """The JSON entries: ranked ones in rank order, then pending by candidate_id."""
    out = []
    for row in ranked.to_dict("records"):
        out.append(entry(row, areas))
    for row in pending.sort_values("candidate_id").to_dict("records"):
        row.update(
            rank=None,
            grade=None,
            status="pending",
            certified=False,
            top=False,
            tie=False,
            borderline=False,
            decided_by=None,
        )
        out.append(entry(row, areas))
    return out


def entry(row: dict[str, Any], areas: list[str]) -> dict[str, Any]:
    """One candidate's JSON object, with numpy scalars turned into plain Python values."""
    evaluators, decided_by = row["evaluators"], row["decided_by"]
    return {
        "rank": None if row["rank"] is None else int(row["rank"]),
        "candidate_id": row["candidate_id"],
        "name": row["name"],
        "total": float(row["total"]),
        "percent": float(row["percent"]),
        "areas": {area: float(row[area]) for area in areas},
        "grade": row["grade"],
        "status": row["status"],
        "certified": bool(row["certified"]),
        "top": bool(row["top"]),
        "tie": bool(row["tie"]),
        "borderline": bool(row["borderline"]),
        "decided_by": None if pd.isna(decided_by) else decided_by,
        "evaluators": None if pd.isna(evaluators) else int(evaluators),
    }


def rank(config: dict[str, Any]) -> dict[str, Any]:
    """The whole ``rank --format json`` document for the contest."""
    contest, scoring = config["contest"], config["scoring"]
    decimals = scoring["decimals"]
    ids = {"candidate_id": str, "evaluator_id": str, "indicator_id": str}
    if contest["scores"].suffix.lower() == ".parquet":
        scores = pd.read_parquet(contest["scores"]).astype({**ids, "score": float})
    else:
        scores = pd.read_csv(contest["scores"], dtype={**ids, "score": float})
    candidates = pd.read_csv(contest["candidates"], dtype=str)
    indicators = pd.read_csv(
        contest["indicators"], dtype={"indicator_set": str, "indicator_id": str, "area_id": str, "max_points": float}
    )

    cells = consolidate(scores, scoring["trim_min_evaluators"])
    sets = {c["id"]: c["indicator_set"] for c in config["categories"]}
    cells = cells.merge(
        candidates[["candidate_id", "category"]].assign(indicator_set=lambda f: f["category"].map(sets)),
        on="candidate_id",
    ).merge(indicators[["indicator_set", "indicator_id", "area_id"]], on=["indicator_set", "indicator_id"])
    totals = cells.groupby("candidate_id").agg(total=("value", "sum"), scored=("value", "size"))
    subtotals = cells.groupby(["candidate_id", "area_id"])["value"].sum().unstack("area_id")
    evaluators = scores.groupby("candidate_id")["evaluator_id"].nunique().rename("evaluators")

    categories = []
    for category in config["categories"]:
        own = indicators[indicators["indicator_set"] == category["indicator_set"]]
        areas = list(own["area_id"].unique())
        max_points = own["max_points"].sum()
        frame = (
            candidates.loc[candidates["category"] == category["id"], ["candidate_id", "name"]]
            .merge(totals, left_on="candidate_id", right_index=True, how="left")
            .merge(subtotals.reindex(columns=areas), left_on="candidate_id", right_index=True, how="left")
            .merge(evaluators, left_on="candidate_id", right_index=True, how="left")
        )
        frame[["total", *areas]] = frame[["total", *areas]].fillna(0.0)
        for column in ("total", *areas):
            frame[column] = round_half_away(frame[column], decimals)
        frame["percent"] = round_half_away(frame["total"] / max_points * 100, decimals)
        frame["pending"] = frame["scored"].fillna(0) < len(own)
        ranked, ties = rank_category(frame, category, areas, scoring)
        categories.append(
            {
                "id": category["id"],
                "label": category["label"],
                "threshold": float(category["threshold"]),
                "max_points": float(max_points),
                "unresolved_ties": ties,
                "entries": entries(ranked, frame[frame["pending"]], areas),
            }
        )
    return {"contest": contest["id"], "method": scoring["method"], "locked": False, "categories": categories}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python bench/pandas_rank.py CONFIG", file=sys.stderr)
        return 2
    document = rank(load_config(Path(argv[0])))
    sys.stdout.write(json.dumps(document, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
