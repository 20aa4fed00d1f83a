"""Properties of the engine that must hold for any contest (hypothesis)."""

from __future__ import annotations

import polars as pl
from handmade import candidates, config, contest, indicators
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from panel_tui.engine import standings, to_json

INDS = indicators(("I1", "A1", 10.0), ("I2", "A1", 5.0), ("I3", "A2", 10.0))
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def sheets(draw):
    """A full score sheet: 2-6 candidates x 3 indicators x 3-7 evaluators, some recusals."""
    n_cands = draw(st.integers(2, 6))
    n_evals = draw(st.integers(3, 7))
    cands = [f"C{i}" for i in range(n_cands)]
    rows = []
    for c in cands:
        recused = draw(st.sets(st.integers(0, n_evals - 1), max_size=n_evals - 1))
        for iid, maximum in (("I1", 10), ("I2", 5), ("I3", 10)):
            for e in range(n_evals):
                if e not in recused:
                    rows.append((c, f"E{e}", iid, draw(st.integers(0, maximum * 2)) / 2))
    method = draw(st.sampled_from(["mean", "median", "trimmed_mean"]))
    frame = pl.DataFrame(rows, schema=["candidate_id", "evaluator_id", "indicator_id", "score"], orient="row")
    return cands, frame, method


def ranked(cands, frame, method):
    cfg = config(method=method, trim_min_evaluators=4)
    return standings(contest(cfg, candidates(*cands), INDS, frame))


@SETTINGS
@given(sheets(), st.randoms())
def test_permuting_rows_changes_nothing(sheet, rnd):
    cands, frame, method = sheet
    order = list(range(frame.height))
    rnd.shuffle(order)
    assert to_json(ranked(cands, frame[order], method)) == to_json(ranked(cands, frame, method))


@SETTINGS
@given(sheets(), st.randoms())
def test_relabelling_evaluators_changes_nothing(sheet, rnd):
    cands, frame, method = sheet
    labels = frame["evaluator_id"].unique().to_list()
    shuffled = labels[:]
    rnd.shuffle(shuffled)
    relabelled = frame.with_columns(
        pl.col("evaluator_id").replace_strict(dict(zip(labels, [f"X{s}" for s in shuffled], strict=False)))
    )
    assert to_json(ranked(cands, relabelled, method)) == to_json(ranked(cands, frame, method))


@SETTINGS
@given(sheets(), st.data())
def test_raising_one_score_never_lowers_that_candidates_rank(sheet, data):
    cands, frame, method = sheet
    row = data.draw(st.integers(0, frame.height - 1))
    cid, iid, score = frame["candidate_id"][row], frame["indicator_id"][row], frame["score"][row]
    maximum = {"I1": 10.0, "I2": 5.0, "I3": 10.0}[iid]
    raised = data.draw(st.integers(int(score * 2), int(maximum * 2))) / 2
    higher = frame.with_columns(
        score=pl.when(pl.int_range(pl.len()) == row).then(pl.lit(raised)).otherwise(pl.col("score"))
    )

    def rank_of(result):
        return {r["candidate_id"]: r for r in result.boards[0].entries.iter_rows(named=True)}[cid]

    before, after = rank_of(ranked(cands, frame, method)), rank_of(ranked(cands, higher, method))
    assert after["total"] >= before["total"]
    assert after["rank"] <= before["rank"]


@SETTINGS
@given(sheets())
def test_ranks_are_competition_ranks(sheet):
    cands, frame, method = sheet
    entries = ranked(cands, frame, method).boards[0].entries
    ranks = entries["rank"].to_list()
    keys = entries.select("total", "A1", "A2").rows()
    for i, r in enumerate(ranks):
        # 1 + the number of candidates strictly ahead on (total, A1, A2)
        assert r == 1 + sum(1 for k in keys if k > keys[i])


@st.composite
def scenario_frames(draw):
    """Several scenarios' candidates at once (as the robustness analysis ranks them): few
    distinct totals and area values, so ties, ties broken by an area and ties left abound;
    some pending or excluded."""
    n_scenarios = draw(st.integers(1, 4))
    n_cands = draw(st.integers(1, 9))
    rows = []
    for scenario in range(n_scenarios):
        for c in range(n_cands):
            rows.append(
                {
                    "scenario": scenario,
                    "candidate_id": f"C{c}",
                    "total": float(draw(st.integers(0, 3))) * 25,
                    "#area0": float(draw(st.integers(0, 2))),
                    "percent": float(draw(st.integers(0, 3))) * 25,
                    "pending": draw(st.booleans()) and draw(st.booleans()),
                    "excluded": draw(st.booleans()) and draw(st.booleans()) and draw(st.booleans()),
                }
            )
    rows = draw(st.permutations(rows))
    frame = pl.DataFrame(
        rows,
        schema={
            "scenario": pl.Int32,
            "candidate_id": pl.String,
            "total": pl.Float64,
            "#area0": pl.Float64,
            "percent": pl.Float64,
            "pending": pl.Boolean,
            "excluded": pl.Boolean,
        },
    )
    tie_break = draw(st.sampled_from([{}, {"#area0": "A1"}]))
    return frame, tie_break, draw(st.integers(0, 4)), float(draw(st.integers(0, 3)) * 25)


@SETTINGS
@given(scenario_frames())
def test_ranks_ties_and_certification_by_their_definition(case):
    """engine's ranking of many scenarios in one pass (runs carried down sorted rows) against
    the rules read literally, candidate by candidate: rank 1 + those strictly ahead, a tie
    when another has equal keys, the deciding key the first that differs from the nearest
    group above, and a tie across the cap (or at rank 1) left to the panel."""
    from panel_tui.config import Category, Scoring
    from panel_tui.engine import _apply_tie_orders, _certify, _competition_ranks, _TieOrders

    frame, tie_break, cap, threshold = case
    category = Category(id="c", label="c", indicator_set="s", threshold=threshold, max_certified=cap)
    ranked = _certify(
        _apply_tie_orders(_competition_ranks(frame, tie_break), _TieOrders(applied={}, stale={})), category, Scoring()
    )
    columns = ["total", *tie_break]
    names = ["total", *tie_break.values()]
    got = {(r["scenario"], r["candidate_id"]): r for r in ranked.iter_rows(named=True)}
    expected_rows = []
    for row in frame.iter_rows(named=True):
        if row["pending"] or row["excluded"]:
            continue
        expected_rows.append(row)
    assert len(got) == len(expected_rows)
    for row in expected_rows:
        peers = [p for p in expected_rows if p["scenario"] == row["scenario"]]
        keys = tuple(row[c] for c in columns)
        rank = 1 + sum(1 for p in peers if tuple(p[c] for c in columns) > keys)
        tied = sum(1 for p in peers if tuple(p[c] for c in columns) == keys)
        above = [tuple(p[c] for c in columns) for p in peers if tuple(p[c] for c in columns) > keys]
        if rank == 1 or tied > 1:
            decided_by = None
        else:
            nearest = min(above)
            decided_by = next(n for n, a, b in zip(names, nearest, keys, strict=True) if a != b)
        eligible = row["percent"] >= threshold
        straddles = cap > 0 and eligible and rank <= cap < rank + tied - 1
        certified = None if tied > 1 and straddles else eligible and (cap == 0 or rank <= cap)
        mine = got[(row["scenario"], row["candidate_id"])]
        assert (mine["rank"], mine["tie"], mine["decided_by"], mine["certified"], mine["top"]) == (
            rank,
            tied > 1,
            decided_by,
            certified,
            rank == 1 and tied == 1,
        ), (row, mine)
    # Rows come out in (scenario, rank, candidate id) order.
    order = ranked.select("scenario", "rank", "candidate_id").rows()
    assert order == sorted(order)
