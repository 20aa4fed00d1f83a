"""Issue 16.1: the score sheet grouped into cells in one pass, checked against the plain definition.

The loader groups the rows once (``inputs.cells``): n, sum, min, max, the evaluator set as bits
of a word (from which the per-cell and per-candidate evaluator counts come), and the median in
a median contest. These tests compare that with the straightforward definition (a group-by
per question, ``n_unique`` over the rows) on random contests, with few evaluators (the bit
route) and more than 64 (the fallback), and read the plan polars runs.
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl
import pytest
from handmade import candidates, config, contest, indicators
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from panel_tui.engine import consolidated_value, standings
from panel_tui.errors import InputError
from panel_tui.inputs.cells import EVALUATOR_SET, cells_plan, evaluator_bits

INDS = indicators(("I1", "A1", 10.0), ("I2", "A1", 5.0), ("I3", "A2", 10.0))
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def sheets(draw, max_evaluators: int = 7):
    """Random sheets: 1-5 candidates x 3 indicators, some evaluators absent per cell."""
    n_cands = draw(st.integers(1, 5))
    n_evals = draw(st.integers(1, max_evaluators))
    cands = [f"C{i}" for i in range(n_cands)]
    rows = []
    for c in cands:
        for iid, maximum in (("I1", 10), ("I2", 5), ("I3", 10)):
            present = draw(st.sets(st.integers(0, n_evals - 1), min_size=1, max_size=min(n_evals, 8)))
            for e in sorted(present):
                rows.append((c, f"E{e}", iid, draw(st.integers(0, maximum * 2)) / 2))
    method = draw(st.sampled_from(["mean", "median", "trimmed_mean"]))
    frame = pl.DataFrame(rows, schema=["candidate_id", "evaluator_id", "indicator_id", "score"], orient="row")
    return cands, frame, method


def _definition(cands: list[str], frame: pl.DataFrame, method: str, trim: int) -> tuple[dict, dict]:
    """Per cell (n, sum, min, max, distinct evaluators, value) and per candidate its distinct
    evaluators, each by its own group-by over the rows."""
    cells = frame.group_by("candidate_id", "indicator_id").agg(
        n=pl.len(),
        sum=pl.col("score").sum(),
        min=pl.col("score").min(),
        max=pl.col("score").max(),
        median=pl.col("score").median(),
        evaluators=pl.col("evaluator_id").n_unique(),
    )
    scoring = config(method=method, trim_min_evaluators=trim).scoring
    cells = cells.with_columns(value=consolidated_value(scoring))
    per_cell = {
        (r["candidate_id"], r["indicator_id"]): (r["n"], r["sum"], r["min"], r["max"], r["evaluators"], r["value"])
        for r in cells.iter_rows(named=True)
    }
    per_candidate = dict(frame.group_by("candidate_id").agg(pl.col("evaluator_id").n_unique()).iter_rows())
    return per_cell, per_candidate


def _check(cands: list[str], frame: pl.DataFrame, method: str) -> None:
    cfg = config(method=method, trim_min_evaluators=4)
    data = contest(cfg, candidates(*cands), INDS, frame)
    result = standings(data)
    expected_cells, expected_counts = _definition(cands, frame, method, 4)
    grouped = pl.DataFrame(data.cells).join(
        result.cells.select("candidate_id", "indicator_id", "value"), on=["candidate_id", "indicator_id"]
    )
    got = {
        (str(r["candidate_id"]), str(r["indicator_id"])): (
            r["n"],
            r["sum"],
            r["min"],
            r["max"],
            bin(r[EVALUATOR_SET]).count("1") if r[EVALUATOR_SET] is not None else None,
            r["value"],
        )
        for r in grouped.iter_rows(named=True)
    }
    for cell, (n, total, low, high, evaluators, value) in expected_cells.items():
        g = got[cell]
        assert g[:4] == (n, total, low, high), cell
        assert g[4] in (evaluators, None), cell
        assert g[5] == pytest.approx(value, abs=1e-12), cell
    assert set(got) == set(expected_cells)
    entries = {e["candidate_id"]: e for b in result.boards for e in b.entries.iter_rows(named=True)}
    for cid, count in expected_counts.items():
        assert entries[cid]["evaluators"] == count, cid


@SETTINGS
@given(sheets())
def test_cells_and_evaluator_counts_equal_the_definition(sheet):
    cands, frame, method = sheet
    _check(cands, frame, method)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sheets(max_evaluators=90))
def test_more_than_64_evaluators_take_the_fallback_and_agree(sheet):
    cands, frame, method = sheet
    _check(cands, frame, method)


def test_seventy_evaluators_take_the_fallback():
    rows = [("C0", f"E{e}", "I1", 1.0) for e in range(70)] + [("C0", "E0", i, 1.0) for i in ("I2", "I3")]
    frame = pl.DataFrame(rows, schema=["candidate_id", "evaluator_id", "indicator_id", "score"], orient="row")
    data = contest(config(), candidates("C0"), INDS, frame)
    assert not evaluator_bits(data.scores.schema["evaluator_id"])
    entry = standings(data).boards[0].entries.row(0, named=True)
    assert entry["evaluators"] == 70


def test_a_score_given_twice_is_refused_through_the_bits():
    rows = [("C0", "E1", "I1", 1.0), ("C0", "E2", "I1", 2.0), ("C0", "E1", "I1", 3.0)]
    frame = pl.DataFrame(rows, schema=["candidate_id", "evaluator_id", "indicator_id", "score"], orient="row")
    with pytest.raises(InputError, match="duplicate score of candidate 'C0' by evaluator 'E1' on indicator 'I1'"):
        contest(config(), candidates("C0"), INDS, frame)


def test_the_cells_are_one_group_by_over_the_rows():
    """``explain()``: one aggregation over the score rows; the joins act on the cells."""
    rows = [("C0", "E1", i, 1.0) for i in ("I1", "I2", "I3")]
    frame = pl.DataFrame(rows, schema=["candidate_id", "evaluator_id", "indicator_id", "score"], orient="row")
    data = contest(config(method="median"), candidates("C0"), INDS, frame)
    plan = cells_plan(data.config, data.candidates, data.indicators, data.scores).explain()
    assert plan.count("AGGREGATE") == 1, plan
    assert "n_unique" not in plan and "median" in plan  # the median rides the same pass


def test_rank_runs_no_group_by_over_the_rows_after_loading(monkeypatch):
    """``standings`` on a loaded contest never groups the raw rows again (the evaluator counts
    come from the cells): every lazy plan it collects is over frames of cell size or less."""
    rows = [(f"C{c}", f"E{e}", i, 1.0) for c in range(3) for e in range(5) for i in ("I1", "I2", "I3")]
    frame = pl.DataFrame(rows, schema=["candidate_id", "evaluator_id", "indicator_id", "score"], orient="row")
    data = contest(config(), candidates("C0", "C1", "C2"), INDS, frame)
    seen: list[int] = []
    original = pl.DataFrame.group_by

    def spy(self, *args, **kwargs):
        seen.append(self.height)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pl.DataFrame, "group_by", spy)
    standings(data)
    assert seen and max(seen) <= data.cells.height < data.scores.height


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(sheets(), st.booleans())
def test_a_parquet_sheet_read_in_one_streaming_plan_equals_the_checked_frame(tmp_path, sheet, integer_scores):
    """The Parquet fast path (the ids cast while read, only where not of their type already)
    gives what checking the same rows as a frame gives."""
    from panel_tui.inputs import SCORES, Lookup, read_table

    cands, frame, _ = sheet
    if integer_scores:
        frame = frame.with_columns(pl.col("score").floor().cast(pl.Int64))
    path = tmp_path / "scores.parquet"
    frame.write_parquet(path)
    lookups = {
        "candidate_id": Lookup(tuple(cands), "candidate"),
        "indicator_id": Lookup(("I1", "I2", "I3"), "indicator"),
    }
    fast = read_table(path, SCORES, lookups)
    slow = read_table(path, SCORES, lookups, frame=frame)
    assert fast.schema["candidate_id"] == slow.schema["candidate_id"] == lookups["candidate_id"].dtype
    assert isinstance(fast.schema["evaluator_id"], pl.Categorical)
    as_text = [pl.col("candidate_id", "evaluator_id", "indicator_id").cast(pl.String), "score"]
    assert fast.select(as_text).equals(slow.select(as_text))


def test_an_unknown_id_in_parquet_is_still_named_by_its_row(tmp_path):
    from panel_tui.inputs import SCORES, Lookup, read_table

    frame = pl.DataFrame(
        {"candidate_id": ["C0", "C9"], "evaluator_id": ["E1", "E1"], "indicator_id": ["I1", "I1"], "score": [1.0, 2.0]}
    )
    path = tmp_path / "scores.parquet"
    frame.write_parquet(path)
    lookups = {"candidate_id": Lookup(("C0",), "candidate (not in candidates.csv)")}
    with pytest.raises(InputError) as refused:
        read_table(path, SCORES, lookups)
    assert refused.value.where == "row 2" and refused.value.column == "candidate_id"
    assert "unknown candidate (not in candidates.csv): 'C9'" in str(refused.value)


@SETTINGS
@given(sheets(), st.data())
def test_declared_conflicts_regroup_only_the_candidates_they_touch(sheet, data):
    """With declared conflicts, only the touched candidates' cells are grouped again: the
    cells equal grouping the whole sheet without the conflicted scores."""
    from panel_tui.inputs import group_cells

    cands, frame, method = sheet
    evaluators = sorted(frame["evaluator_id"].unique().to_list())
    pairs = data.draw(
        st.lists(st.tuples(st.sampled_from(evaluators), st.sampled_from(cands)), min_size=1, max_size=4, unique=True)
    )
    conflicts = pl.DataFrame(pairs, schema=["evaluator_id", "candidate_id"], orient="row")
    cfg = config(method=method, trim_min_evaluators=4, conflicts=True)
    loaded = contest(cfg, candidates(*cands), INDS, frame, conflicts)
    kept = frame.join(conflicts, on=["candidate_id", "evaluator_id"], how="anti")
    if kept.is_empty():
        return
    plain = contest(replace(cfg, contest=replace(cfg.contest, conflicts=None)), candidates(*cands), INDS, kept)
    expected = group_cells(plain.config, plain.candidates, plain.indicators, plain.scores).drop("evaluators")

    def plain_cells(cells: pl.DataFrame) -> pl.DataFrame:
        return (
            cells.with_columns(
                pl.col("candidate_id", "indicator_id").cast(pl.String), pl.col(EVALUATOR_SET).bitwise_count_ones()
            )
            .select(sorted(cells.columns))
            .sort("candidate_id", "indicator_id")
        )

    assert plain_cells(loaded.cells).equals(plain_cells(expected))
