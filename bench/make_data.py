"""Generate the benchmark contest: 10,000 candidates x 56 indicators x 12 evaluators.

6.72 million score rows, written as CSV and Parquet with a config.toml beside them, into
``bench/data/`` (ignored by git). Seeded, so every run benchmarks the same numbers.

    python bench/make_data.py [--candidates 10000] [--evaluators 12] [--out bench/data]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl

INDICATORS = 56  # the 2022 city index count
AREAS = (("A1", 28, 1000.0), ("A2", 16, 600.0), ("A3", 12, 400.0))  # 2,000 points in all


def indicators() -> pl.DataFrame:
    rows = []
    n = 0
    for area, count, points in AREAS:
        for _ in range(count):
            n += 1
            rows.append(("city", f"I{n:02d}", area, points / count))
    return pl.DataFrame(rows, schema=["indicator_set", "indicator_id", "area_id", "max_points"], orient="row")


def generate(out: Path, n_candidates: int, n_evaluators: int, seed: int = 2022) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    ind = indicators()
    ind.write_csv(out / "indicators.csv")
    half = n_candidates // 2
    cands = pl.DataFrame({"candidate_id": [f"K{i:05d}" for i in range(1, n_candidates + 1)]}).with_columns(
        name=pl.format("Candidate {}", pl.col("candidate_id")),
        category=pl.when(pl.int_range(pl.len()) < half).then(pl.lit("large_city")).otherwise(pl.lit("small_city")),
    )
    cands.write_csv(out / "candidates.csv")
    grid = (
        cands.select("candidate_id")
        .join(ind.select("indicator_id", "max_points"), how="cross")
        .join(pl.DataFrame({"evaluator_id": [f"E{e:02d}" for e in range(1, n_evaluators + 1)]}), how="cross")
    )
    # Each candidate has a quality level; each score is that level of the maximum plus noise,
    # on a 0.5-point grid, clipped to [0, max].
    level = (pl.col("candidate_id").hash(seed) % 1000) / 1000 * 0.5 + 0.45
    noise = ((pl.struct("candidate_id", "indicator_id", "evaluator_id").hash(seed + 1) % 1001) / 1000 - 0.5) * 0.3
    score = ((level + noise) * pl.col("max_points") * 2).round() / 2
    scores = grid.select(
        "candidate_id",
        "evaluator_id",
        "indicator_id",
        score=pl.min_horizontal(pl.max_horizontal(score, 0.0), pl.col("max_points")),
    )
    scores.write_csv(out / "scores.csv")
    scores.write_parquet(out / "scores.parquet")
    for name, scores_file in (("config.toml", "scores.csv"), ("config-parquet.toml", "scores.parquet")):
        (out / name).write_text(
            f"""[contest]
id = "bench"
name = "Benchmark contest"
candidates = "candidates.csv"
scores = "{scores_file}"
indicators = "indicators.csv"

[scoring]
method = "trimmed_mean"

[[categories]]
id = "large_city"
label = "Large cities"
indicator_set = "city"
threshold = 70.0
tie_break = ["A1", "A2", "A3"]

[[categories]]
id = "small_city"
label = "Small and medium cities"
indicator_set = "city"
threshold = 70.0
tie_break = ["A1", "A2", "A3"]
""",
            encoding="utf-8",
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=10_000)
    parser.add_argument("--evaluators", type=int, default=12)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    args = parser.parse_args()
    out = generate(args.out, args.candidates, args.evaluators)
    print(f"wrote {args.candidates * INDICATORS * args.evaluators:,} score rows to {out}")


if __name__ == "__main__":
    main()
