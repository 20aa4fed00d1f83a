"""A DuckDB SQL version of ``panel-tui rank --format json`` (SPEC §3 and §5), the issue-16 rival.

    python bench/duckdb_rank.py CONFIG

Reads the contest's config.toml with tomllib and prints the same JSON document as
``panel-tui rank --format json``. The rules are one SQL query (DuckDB reads the CSV or
Parquet score sheet itself, with all its threads); Python only reads the config and turns the
query's rows into the JSON document. It is the SQL a reasonable person would write: a
``GROUP BY`` per cell, ``COUNT(DISTINCT)`` per candidate, window functions for the ranks.

Rules implemented: mean, median and trimmed mean (``trim_min_evaluators``), declared
conflicts of interest left out, totals and area subtotals rounded half away from zero to
``decimals`` before any comparison, percent from the rounded total, pending when an indicator
of the set has no score, competition ranking by total then the ``tie_break`` areas within
each category, ``tie``, ``decided_by``, unresolved ties at rank 1, ``certified`` at
percent >= threshold, ``top``, ``borderline`` within ``review_margin``, grade bands, the
evaluator count. Like ``pandas_rank.py`` it does none of panel-tui's input checks, reads no
session (no panel decisions) and refuses a ``max_certified`` cap.
"""

from __future__ import annotations

import json
import math
import sys
import tomllib
from pathlib import Path
from typing import Any

import duckdb

SCORING_DEFAULTS: dict[str, Any] = {
    "method": "trimmed_mean",
    "trim_min_evaluators": 5,
    "decimals": 2,
    "review_margin": 1.0,
}


def load_config(path: Path) -> dict[str, Any]:
    """The config as a dict, with scoring defaults filled in and input paths made absolute."""
    with path.open("rb") as handle:
        config = tomllib.load(handle)
    config["scoring"] = {**SCORING_DEFAULTS, **config.get("scoring", {})}
    for key in ("candidates", "scores", "indicators", "conflicts"):
        if key in config["contest"]:
            config["contest"][key] = (path.parent / config["contest"][key]).resolve()
    if config["scoring"]["method"] not in ("mean", "median", "trimmed_mean"):
        raise SystemExit(f"duckdb_rank: unknown method {config['scoring']['method']!r}")
    for category in config["categories"]:
        if category.get("max_certified", 0):
            raise SystemExit("duckdb_rank: max_certified is not implemented")
    return config


def literal(value: Any) -> str:
    """A SQL literal (text quoted, quotes doubled; numbers as they are)."""
    if isinstance(value, str | Path):
        return "'" + str(value).replace("'", "''") + "'"
    return repr(float(value))


def identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def source(path: Path, types: str) -> str:
    """A table function reading one input file."""
    if path.suffix.lower() == ".parquet":
        return f"read_parquet({literal(path)})"
    return f"read_csv({literal(path)}, header = true, all_varchar = true{types})"


def query(config: dict[str, Any], has_evaluators: bool, areas: list[str]) -> str:
    """One query: every candidate of every category with its rank, status and flags."""
    contest, scoring = config["contest"], config["scoring"]
    scale = 10.0 ** scoring["decimals"]
    trim = int(scoring["trim_min_evaluators"])
    value = {
        "mean": "s / n",
        "median": "med",
        "trimmed_mean": f"CASE WHEN n >= {trim} THEN (s - hi - lo) / (n - 2) ELSE s / n END",
    }[scoring["method"]]

    def rounded(expr: str) -> str:  # half away from zero, the scaled value snapped to 6 places first
        scaled = f"round(({expr}) * {scale!r}, 6)"
        return f"round(floor(abs({scaled}) + 0.5) * sign({scaled}) / {scale!r}, {scoring['decimals']})"

    score_types = ", types = {'score': 'DOUBLE'}"
    scores = f"SELECT * FROM {source(contest['scores'], score_types)}"
    if "conflicts" in contest and has_evaluators:
        scores += f" ANTI JOIN {source(contest['conflicts'], '')} c USING (evaluator_id, candidate_id)"
    sets = " UNION ALL ".join(f"SELECT {literal(c['id'])}, {literal(c['indicator_set'])}" for c in config["categories"])
    tie_breaks = {c["id"]: c.get("tie_break", []) for c in config["categories"]}
    per_area = ", ".join(
        f"{rounded(f'coalesce(sum(value) FILTER (WHERE area_id = {literal(a)}), 0)')} AS {identifier(a)}" for a in areas
    )
    evaluators = "count(DISTINCT evaluator_id)" if has_evaluators else "NULL::BIGINT"
    # Window keys per category: total, then that category's tie-break areas (a CASE per position).
    depth = max((len(t) for t in tie_breaks.values()), default=0)
    keys = ["total"]
    for position in range(depth):
        cases = " ".join(
            f"WHEN {literal(cid)} THEN {identifier(t[position])}" for cid, t in tie_breaks.items() if len(t) > position
        )
        keys.append(f"(CASE category {cases} END)" if cases else "NULL")
    key_names = ["total", *[f"k{p}" for p in range(depth)]]
    order = ", ".join(f"{k} DESC" for k in key_names)
    changed = " ".join(
        f"WHEN {k} IS DISTINCT FROM lag({k}) OVER w THEN {literal(k) if k == 'total' else f'kname{p}'}"
        for p, k in enumerate(key_names, start=-1)
    )
    key_labels = ", ".join(
        f"(CASE category {' '.join(f'WHEN {literal(cid)} THEN {literal(t[p])}' for cid, t in tie_breaks.items() if len(t) > p)} END) AS kname{p}"
        if any(len(t) > p for t in tie_breaks.values())
        else f"NULL AS kname{p}"
        for p in range(depth)
    )
    return f"""
WITH scores AS ({scores}),
cells AS (
    SELECT candidate_id, indicator_id, count(*) AS n, sum(score) AS s, min(score) AS lo, max(score) AS hi,
           {"median(score)" if scoring["method"] == "median" else "NULL"} AS med
    FROM scores GROUP BY candidate_id, indicator_id
),
evaluators AS (SELECT candidate_id, {evaluators} AS evaluators FROM scores GROUP BY candidate_id),
sets(category, indicator_set) AS ({sets}),
candidates AS (SELECT c.candidate_id, c.name, c.category, s.indicator_set
               FROM {source(contest["candidates"], "")} c JOIN sets s USING (category)),
indicators AS (SELECT indicator_set, indicator_id, area_id, max_points::DOUBLE AS max_points
               FROM {source(contest["indicators"], "")}),
valued AS (
    SELECT candidates.candidate_id, indicators.area_id, {value} AS value
    FROM cells JOIN candidates USING (candidate_id) JOIN indicators USING (indicator_set, indicator_id)
),
sums AS (
    SELECT candidate_id, {rounded("sum(value)")} AS total, count(*) AS scored, {per_area}
    FROM valued GROUP BY candidate_id
),
set_size AS (SELECT indicator_set, count(*) AS indicators, round(fsum(max_points), 9) AS max_points
             FROM indicators GROUP BY indicator_set),
board AS (
    SELECT c.candidate_id, c.name, c.category, z.max_points,
           coalesce(sums.total, 0) AS total,
           {", ".join(f"coalesce(sums.{identifier(a)}, 0) AS {identifier(a)}" for a in areas)},
           {rounded("coalesce(sums.total, 0) / z.max_points * 100")} AS percent,
           coalesce(sums.scored, 0) < z.indicators AS pending,
           e.evaluators
    FROM candidates c JOIN set_size z USING (indicator_set)
    LEFT JOIN sums USING (candidate_id) LEFT JOIN evaluators e USING (candidate_id)
),
keyed AS (
    SELECT *, {", ".join(f"{k} AS k{p}" for p, k in enumerate(keys[1:]))}{", " if depth else ""}{key_labels}
    FROM board
),
ranked AS (
    SELECT *,
           rank() OVER (PARTITION BY category ORDER BY {order}) AS rank,
           count(*) OVER (PARTITION BY category, {", ".join(key_names)}) > 1 AS tie,
           CASE {changed} END AS separated_by
    FROM keyed WHERE NOT pending
    WINDOW w AS (PARTITION BY category ORDER BY {order}, candidate_id)
)
SELECT category, candidate_id, name, rank, total, percent, {", ".join(identifier(a) for a in areas)},
       tie, CASE WHEN tie OR rank = 1 THEN NULL ELSE separated_by END AS decided_by, evaluators, FALSE AS pending
FROM ranked
UNION ALL
SELECT category, candidate_id, name, NULL, total, percent, {", ".join(identifier(a) for a in areas)},
       FALSE, NULL, evaluators, TRUE
FROM board WHERE pending
ORDER BY category, pending, rank, candidate_id
"""


def grade_of(percent: float, bands: list[dict[str, Any]]) -> int | None:
    for band in sorted(bands, key=lambda b: b["min"], reverse=True):
        if percent >= band["min"]:
            return int(band["grade"])
    return None


def rank(config: dict[str, Any]) -> dict[str, Any]:
    """The whole ``rank --format json`` document for the contest."""
    contest, scoring = config["contest"], config["scoring"]
    db = duckdb.connect()
    columns = db.sql(f"SELECT * FROM {source(contest['scores'], '')} LIMIT 0").columns
    indicators = db.sql(
        f"SELECT indicator_set, area_id, max_points::DOUBLE FROM {source(contest['indicators'], '')}"
    ).fetchall()
    areas = list(dict.fromkeys(area for _, area, _ in indicators))
    rows = db.sql(query(config, "evaluator_id" in columns, areas)).fetchall()
    names = ["category", "candidate_id", "name", "rank", "total", "percent", *areas]
    names += ["tie", "decided_by", "evaluators", "pending"]
    margin = round(scoring["review_margin"] * 1e6)
    by_category: dict[str, list[dict[str, Any]]] = {c["id"]: [] for c in config["categories"]}
    for values in rows:
        by_category[values[0]].append(dict(zip(names, values, strict=True)))
    categories = []
    for category in config["categories"]:
        own = [(area, points) for s, area, points in indicators if s == category["indicator_set"]]
        set_areas = list(dict.fromkeys(area for area, _ in own))
        threshold, bands = float(category["threshold"]), category.get("grades", [])
        entries, ties = [], {}
        for row in by_category[category["id"]]:
            ranked = not row["pending"]
            top = ranked and row["rank"] == 1 and not row["tie"]
            certified = ranked and row["percent"] >= threshold
            if ranked and row["tie"] and row["rank"] == 1:
                ties.setdefault(row["rank"], []).append(row["candidate_id"])
            entries.append(
                {
                    "rank": row["rank"],
                    "candidate_id": row["candidate_id"],
                    "name": row["name"],
                    "total": row["total"],
                    "percent": row["percent"],
                    "areas": {area: row[area] for area in set_areas},
                    "grade": grade_of(row["percent"], bands) if ranked and bands else None,
                    "status": "pending" if not ranked else "certified" if certified else "not_certified",
                    "certified": certified,
                    "top": top,
                    "tie": bool(ranked and row["tie"]),
                    "borderline": ranked and abs(round((row["percent"] - threshold) * 1e6)) <= margin,
                    "decided_by": row["decided_by"],
                    "evaluators": row["evaluators"],
                }
            )
        categories.append(
            {
                "id": category["id"],
                "label": category["label"],
                "threshold": threshold,
                "max_points": round(math.fsum(points for _, points in own), 9),
                "unresolved_ties": list(ties.values()),
                "entries": entries,
            }
        )
    return {"contest": contest["id"], "method": scoring["method"], "locked": False, "categories": categories}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python bench/duckdb_rank.py CONFIG", file=sys.stderr)
        return 2
    document = rank(load_config(Path(argv[0])))
    sys.stdout.write(json.dumps(document, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
