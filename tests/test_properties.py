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
