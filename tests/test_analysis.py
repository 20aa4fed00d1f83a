"""Evaluator calibration, with hand-worked numbers."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import polars as pl
import pytest
from conftest import DEMO, DEMO_PENDING_EVALUATORS, score_the_pending_candidate
from handmade import by_evaluator, candidates, config, contest, indicators
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference_analysis import reference_robustness

from panel_tui.analysis import calibration, robustness
from panel_tui.engine import standings

TWO = indicators(("I1", "A1", 10.0), ("I2", "A2", 10.0))


def calibrate(cfg, cands, inds, scores):
    data = contest(cfg, cands, inds, scores)
    return {r["evaluator_id"]: r for r in calibration(data, standings(data)).iter_rows(named=True)}


def test_deviation_in_points_of_the_indicator_maximum_and_z():
    # Mean of (6, 4, 5) is 5 on I1 and of (8, 6, 7) is 7 on I2. E1 is 1 point (10 % of 10)
    # above on both, E2 1 below, E3 on the mark. z over the three means (10, -10, 0): mean 0,
    # sample standard deviation sqrt((100 + 100 + 0) / 2) = 10.
    scores = by_evaluator({("X", "I1"): [6, 4, 5], ("X", "I2"): [8, 6, 7]})
    rows = calibrate(config(method="mean"), candidates("X"), TWO, scores)
    assert rows["E1"]["mean_deviation"] == pytest.approx(10.0)
    assert rows["E1"]["deviation_A1"] == pytest.approx(10.0) and rows["E1"]["deviation_A2"] == pytest.approx(10.0)
    assert rows["E2"]["mean_deviation"] == pytest.approx(-10.0)
    assert rows["E3"]["mean_deviation"] == pytest.approx(0.0)
    assert (rows["E1"]["z"], rows["E2"]["z"], rows["E3"]["z"]) == pytest.approx((1.0, -1.0, 0.0))
    assert not any(r["outlier"] for r in rows.values())
    assert rows["E1"]["scores"] == 2


def test_an_area_may_be_called_like_a_column_of_the_calibration():
    # An area id is data: one called "evaluator_id" gets its own deviation column.
    inds = indicators(("I1", "evaluator_id", 10.0), ("I2", "A2", 10.0))
    scores = by_evaluator({("X", "I1"): [6, 4, 5], ("X", "I2"): [8, 6, 7]})
    rows = calibrate(config(method="mean", tie_break=("evaluator_id",)), candidates("X"), inds, scores)
    assert rows["E1"]["deviation_evaluator_id"] == pytest.approx(10.0) and rows["E1"]["evaluator_id"] == "E1"


def test_an_evaluator_far_from_the_others_is_an_outlier():
    # Five evaluators give 5, one gives 8: the mean is 33 / 6 = 5.5. Deviations: -0.5 (-5 pp)
    # five times and +2.5 (+25 pp). z of E6 = 25 / sqrt((5 * 25 + 625) / 5) = 25 / sqrt(150) = 2.04.
    inds = indicators(("I1", "A1", 10.0))
    scores = by_evaluator({("X", "I1"): [5, 5, 5, 5, 5, 8]})
    rows = calibrate(config(method="mean", tie_break=("A1",)), candidates("X"), inds, scores)
    assert rows["E6"]["mean_deviation"] == pytest.approx(25.0)
    assert rows["E6"]["z"] == pytest.approx(25 / math.sqrt(150))
    assert rows["E6"]["outlier"] is True
    assert rows["E1"]["z"] == pytest.approx(-5 / math.sqrt(150)) and rows["E1"]["outlier"] is False


def test_trimmed_mean_is_the_reference_when_configured():
    # Trimmed mean of (9, 5, 5, 5, 1) is 5: E1 +40 pp, E5 -40 pp, the rest 0.
    inds = indicators(("I1", "A1", 10.0))
    scores = by_evaluator({("X", "I1"): [9, 5, 5, 5, 1]})
    rows = calibrate(config(tie_break=("A1",)), candidates("X"), inds, scores)
    assert rows["E1"]["mean_deviation"] == pytest.approx(40.0) and rows["E5"]["mean_deviation"] == pytest.approx(-40.0)


def test_evaluators_command_flags_the_demo_severe_evaluator(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "panel_tui", "evaluators", "--format", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = {r["evaluator_id"]: r for r in json.loads(out)}
    assert len(rows) == 13
    assert rows["E12"]["outlier"] is True and rows["E12"]["mean_deviation"] < 0  # scripted to score low
    table = subprocess.run(
        [sys.executable, "-m", "panel_tui", "evaluators"], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout
    assert "E12" in table and "OUTLIER" in table


# Conflicts of interest -------------------------------------------------------------------


def test_a_declared_conflict_leaves_that_evaluators_scores_out():
    # Without the conflict: trimmed mean of (9, 7, 6, 5, 1) = (7 + 6 + 5) / 3 = 6.
    # E1 (the 9) declared a conflict for X: (7, 6, 5, 1) is 4 scores, below 5, so the plain
    # mean 19 / 4 = 4.75; Y keeps all five.
    import polars as pl

    inds = indicators(("I1", "A1", 10.0))
    scores = by_evaluator({("X", "I1"): [9, 7, 6, 5, 1], ("Y", "I1"): [9, 7, 6, 5, 1]})
    conflicts = pl.DataFrame({"evaluator_id": ["E1"], "candidate_id": ["X"]})
    cfg = config(tie_break=("A1",), conflicts=True)
    data = contest(cfg, candidates("X", "Y"), inds, scores, conflicts)
    rows = {r["candidate_id"]: r for r in standings(data).boards[0].entries.iter_rows(named=True)}
    assert rows["X"]["total"] == 4.75 and rows["X"]["evaluators"] == 4
    assert rows["Y"]["total"] == 6.0 and rows["Y"]["evaluators"] == 5
    assert data.left_out.height == 1


def test_a_conflict_naming_an_unknown_candidate_is_refused():
    import polars as pl

    from panel_tui.errors import InputError

    inds = indicators(("I1", "A1", 10.0))
    scores = by_evaluator({("X", "I1"): [5, 5, 5]})
    conflicts = pl.DataFrame({"evaluator_id": ["E1"], "candidate_id": ["NOPE"]})
    with pytest.raises(InputError) as refused:
        contest(config(tie_break=("A1",), conflicts=True), candidates("X"), inds, scores, conflicts)
    assert "conflicts.csv" in str(refused.value) and "NOPE" in str(refused.value)
    assert "line 2" in str(refused.value) and "candidate_id" in str(refused.value)


def test_validate_reports_the_demo_conflict(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "panel_tui", "validate"], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout
    assert "conflict of interest: evaluator E05 declared for C04" in out
    assert "recusal: evaluator E05" not in out  # the declared conflict explains the absence


# Robustness ------------------------------------------------------------------------------


def test_leave_one_evaluator_out_finds_who_flips_a_certification():
    # One indicator of 10 points, threshold 70 %, mean.
    # X: (8, 7, 6) -> 7.0 = 70 % certified. Without E1: (7 + 6) / 2 = 6.5 -> 65 %, not certified;
    #    without E2: 7.0; without E3: 7.5. So only E1 flips it.
    # Y: (9, 9, 9) -> 90 %, certified whoever is left out: stable.
    from panel_tui.analysis import robustness

    inds = indicators(("I1", "A1", 10.0))
    scores = by_evaluator({("X", "I1"): [8, 7, 6], ("Y", "I1"): [9, 9, 9]})
    data = contest(config(method="mean", tie_break=("A1",)), candidates("X", "Y"), inds, scores)
    result = robustness(data)
    assert result["X"]["leave_one_out"]["certification_flips_without"] == ["E1"]
    assert result["X"]["leave_one_out"]["max_rank_swing"] == 0  # second behind Y throughout
    assert result["X"]["verdict"] == "fragile"
    assert result["Y"] == {
        "ranks": {"mean": 1, "median": 1, "trimmed_mean": 1, "zscore": 1},
        "certified": {"mean": True, "median": True, "trimmed_mean": True, "zscore": True},
        "leave_one_out": {"max_rank_swing": 0, "certification_flips_without": []},
        "verdict": "stable",
    }


def test_the_consolidation_method_can_decide_certification():
    # X on one 10-point indicator scored (10, 10, 7, 6, 1) by five evaluators:
    # mean 34 / 5 = 6.8 (68 %, not certified); median 7 (70 %, certified);
    # trimmed mean drops 10 and 1: (10 + 7 + 6) / 3 = 7.67 (certified). Fragile.
    from panel_tui.analysis import robustness

    inds = indicators(("I1", "A1", 10.0))
    scores = by_evaluator({("X", "I1"): [10, 10, 7, 6, 1]})
    data = contest(config(tie_break=("A1",)), candidates("X"), inds, scores)
    result = robustness(data)["X"]
    assert result["certified"]["mean"] is False
    assert result["certified"]["median"] is True and result["certified"]["trimmed_mean"] is True
    assert result["verdict"] == "fragile"


def test_z_scores_put_a_lenient_and_a_severe_evaluator_on_one_scale():
    # One 10-point indicator, threshold 85 %. Shares of the maximum:
    #   E1 (lenient): X 1.0, Y 0.8 -> mean 0.9, sample sd sqrt(0.02) = 0.1414
    #   E2 (severe):  X 0.6, Y 0.2 -> mean 0.4, sd sqrt(0.08) = 0.2828
    #   E3:           X 0.8, Y 0.6 -> mean 0.7, sd 0.1414
    # Each evaluator puts X one half-sd-pair above their mean: z = +1/sqrt(2) for X and
    # -1/sqrt(2) for Y, from all three. Over all six shares: mean 4/6, sample sd
    # sqrt(0.37333 / 5) = 0.27325. So X becomes 4/6 + 0.27325 / sqrt(2) = 0.8599 (8.60 points,
    # 86.0 %, certified) and Y 0.4734, where the plain mean gives X (10 + 6 + 8) / 3 = 8 (80 %).
    from panel_tui.analysis import _standardised, robustness

    inds = indicators(("I1", "A1", 10.0))
    scores = by_evaluator({("X", "I1"): [10, 6, 8], ("Y", "I1"): [8, 2, 6]})
    data = contest(config(method="mean", threshold=85.0, tie_break=("A1",)), candidates("X", "Y"), inds, scores)
    sd = math.sqrt(sum((s - 4 / 6) ** 2 for s in (1.0, 0.8, 0.6, 0.2, 0.8, 0.6)) / 5)
    standardised = {
        (c, e): v
        for c, e, _i, v in _standardised(data)
        .with_columns(pl.col("candidate_id", "evaluator_id").cast(pl.String))
        .iter_rows()
    }
    for evaluator in ("E1", "E2", "E3"):
        assert standardised[("X", evaluator)] == pytest.approx(10 * (4 / 6 + sd / math.sqrt(2)))
        assert standardised[("Y", evaluator)] == pytest.approx(10 * (4 / 6 - sd / math.sqrt(2)))
    result = robustness(data)["X"]
    assert result["certified"] == {"mean": False, "median": False, "trimmed_mean": False, "zscore": True}
    assert result["verdict"] == "fragile"


def test_rank_analysis_on_the_demo(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "panel_tui", "rank", "--format", "json", "--analysis"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    entries = {e["candidate_id"]: e for c in json.loads(out)["categories"] for e in c["entries"]}
    assert set(entries["C01"]["analysis"]) == {"ranks", "certified", "leave_one_out", "verdict"}
    assert entries["C01"]["analysis"]["verdict"] == "stable"  # Incheon at 86 % is certified whatever happens
    # the severe evaluator E12 keeps Demand-Responsive Transit (S05) below the line
    assert "E12" in entries["S05"]["analysis"]["leave_one_out"]["certification_flips_without"]
    assert entries["S05"]["analysis"]["verdict"] == "fragile"
    # Polars writes the analysis into the JSON (analysis.robustness_table): the same values,
    # for every entry, as robustness gives.
    from panel_tui.config import load_config
    from panel_tui.inputs import load_contest

    expected = robustness(load_contest(load_config(DEMO / "config.toml")))
    assert {cid: e["analysis"] for cid, e in entries.items()} == expected


def test_the_evaluators_left_out_come_from_the_cells_as_from_the_rows():
    """The analysis reads the sheet's evaluators off the cells' evaluator sets: the same ids,
    sorted, as the rows give, also when a conflict takes all of one evaluator's scores out."""
    import polars as pl

    from panel_tui.analysis import _evaluator_ids

    inds = indicators(("I1", "A1", 10.0))
    scores = by_evaluator({("X", "I1"): [9, 7, 6, 5, 1], ("Y", "I1"): [9, 7, 6, 5, 1]})
    everyone = contest(config(tie_break=("A1",)), candidates("X", "Y"), inds, scores)
    assert _evaluator_ids(everyone) == everyone.evaluator_ids == ("E1", "E2", "E3", "E4", "E5")
    only_x = scores.filter(~((pl.col("evaluator_id") == "E1") & (pl.col("candidate_id") == "Y")))
    conflicts = pl.DataFrame({"evaluator_id": ["E1"], "candidate_id": ["X"]})
    data = contest(config(tie_break=("A1",), conflicts=True), candidates("X", "Y"), inds, only_x, conflicts)
    assert _evaluator_ids(data) == data.evaluator_ids == ("E2", "E3", "E4", "E5")


# The fast robustness against its definition ---------------------------------------------


@st.composite
def small_contests(draw):
    """A few candidates on three indicators, three to seven evaluators, integer or
    half-point scores, sometimes a candidate tied with another on every key, some cells missing (so leaving one out can leave an indicator
    unscored), each of the three consolidation methods, sometimes a cap on the number
    certified (undecided ties at the cap), a withdrawn candidate, and the panel's order
    for a tied group (which other variants may untie)."""
    method = draw(st.sampled_from(["trimmed_mean", "mean", "median"]))
    n_cand = draw(st.integers(2, 6))
    n_eval = draw(st.integers(3, 7))
    inds = indicators(("I1", "A1", 10.0), ("I2", "A2", 10.0), ("I3", "A2", 5.0))
    rows = {"candidate_id": [], "evaluator_id": [], "indicator_id": [], "score": []}
    for c in range(n_cand):
        for ind, top in (("I1", 10), ("I2", 10), ("I3", 5)):
            for e in range(n_eval):
                if draw(st.integers(0, 9)) == 0:
                    continue  # this evaluator did not score this cell
                rows["candidate_id"].append(f"K{c}")
                rows["evaluator_id"].append(f"E{e + 1}")
                rows["indicator_id"].append(ind)
                rows["score"].append(draw(st.integers(0, 2 * top)) / 2)
    if draw(st.booleans()):  # K1 is K0's twin: the same scores in each cell, from other evaluators
        twin = [i for i, c in enumerate(rows["candidate_id"]) if c == "K1"]
        for column in rows:
            rows[column] = [v for i, v in enumerate(rows[column]) if i not in set(twin)]
        for i in [i for i, c in enumerate(rows["candidate_id"]) if c == "K0"]:
            rows["candidate_id"].append("K1")
            rows["evaluator_id"].append(f"E{int(rows['evaluator_id'][i][1:]) % n_eval + 1}")
            rows["indicator_id"].append(rows["indicator_id"][i])
            rows["score"].append(rows["score"][i])
    import polars as pl

    from panel_tui.engine import Decisions, Exclusion

    cfg = config(method=method, tie_break=("A1", "A2"), max_certified=draw(st.sampled_from([0, 0, 1, 2])))
    decisions = Decisions(exclusions=(Exclusion("K1", "withdrawn", "r"),)) if draw(st.booleans()) else Decisions()
    data = contest(cfg, candidates(*(f"K{c}" for c in range(n_cand))), inds, pl.DataFrame(rows))
    from panel_tui.engine import TieOrder, standings

    groups = standings(data, decisions).board("cat").tie_groups
    if groups:  # the panel orders the first tied group, last first
        decisions = Decisions(
            decisions.tie_orders + (TieOrder("cat", tuple(reversed(groups[0])), "r"),), decisions.exclusions
        )
    return data, decisions


@pytest.fixture(params=["matrix", "rows"])
def route(request, monkeypatch):
    """Each of robustness's two routes to the cells' statistics: the (cell, evaluator) matrix
    (taken when at least MATRIX_FILL of it is scored) and the score rows (otherwise)."""
    import panel_tui.analysis

    monkeypatch.setattr(panel_tui.analysis, "MATRIX_FILL", 0.0 if request.param == "matrix" else math.inf)
    return request.param


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(small_contests())
def test_robustness_equals_re_ranking_every_variant(route, contest_and_decisions):
    from panel_tui.analysis import robustness

    data, decisions = contest_and_decisions
    assert robustness(data, decisions) == reference_robustness(data, decisions)


# What changed ------------------------------------------------------------------------------


def test_what_changed_since_the_start_and_since_the_last_proposal(contest):
    from panel_tui.config import load_config
    from panel_tui.meeting import Meeting, what_changed

    config = load_config(contest.config)
    kim = Meeting(config, contest.root / "s.sqlite", who="kim")  # the demo's secretary

    def changes():
        state = kim.state()
        return what_changed(state, kim.standings(state), kim.data())

    start = changes()
    assert start.since_event is None and "start of the meeting" in start.since and start.empty

    # The demo opens with S01 and S02 tied at rank 1 (both certified) and C24 pending.
    kim.decide_tie("service", ["S01", "S02"], "more citizens served")
    kim.exclude("C24", "withdrawn", "letter of 12 Sept")
    since_start = changes()
    assert [(c["candidate_id"], c["rank_before"], c["rank_now"]) for c in since_start.moved] == [("S02", 1, 2)]
    assert [(c["candidate_id"], c["status_before"], c["status_now"]) for c in since_start.status] == [
        ("C24", "pending", "excluded")
    ]
    assert [e.kind for e in since_start.decisions] == ["tie_order", "exclusion"]

    proposal = kim.propose_lock().proposal
    assert changes().since_event == proposal.seq and changes().empty

    # After the proposal the panel finds Siheung (C04, 4th, certified at 70.85 %) ineligible:
    # it leaves the ranking and Yongin (C05) to C10 move up one place; C05 (69.45 %) stays
    # below the line.
    kim.exclude("C04", "ineligible", "not a large city in 2022")
    since_proposal = changes()
    assert since_proposal.since_event == proposal.seq and f"event {proposal.seq}" in since_proposal.since
    assert since_proposal.basis.startswith("the list kim proposed at ")
    assert [(c["candidate_id"], c["status_before"], c["status_now"]) for c in since_proposal.status] == [
        ("C04", "certified", "excluded")
    ]
    assert [(c["candidate_id"], c["rank_before"], c["rank_now"]) for c in since_proposal.moved] == [
        ("C05", 5, 4),
        ("C06", 6, 5),
        ("C07", 7, 6),
        ("C08", 8, 7),
        ("C09", 9, 8),
        ("C10", 10, 9),
        ("C04", 4, None),
    ]
    assert [e.payload["candidate_id"] for e in since_proposal.decisions] == ["C04"]
    lines = since_proposal.lines({"large_city": "Large cities (대도시)"})
    assert lines[0] == "Large cities (대도시): Siheung (시흥시) (C04): certified → excluded", lines[0]
    assert "Large cities (대도시): Yongin (용인시) (C05): rank 5 → 4" in lines
    assert "Large cities (대도시): Siheung (시흥시) (C04): rank 4 → not ranked" in lines


def test_what_changed_since_the_start_counts_scores_that_arrived_during_the_meeting(contest):
    """The session's first entry keeps the list as the meeting found it: C24 (Seoul
    Gangseo-gu) is pending then; its last four indicators arrive during the meeting (each of
    its nine evaluators gives 24 of 30 on CI53-CI56: +96 points, 1,337.50 -> 1,433.50, 71.68 %),
    which ranks it 5th and certified and moves Osan-si (C15) to C23 down one place."""
    from panel_tui.config import load_config
    from panel_tui.meeting import START, Meeting, what_changed

    config = load_config(contest.config)
    kim = Meeting(config, contest.root / "s.sqlite", who="kim")
    first = kim.note("the meeting opens", category="small_city")
    assert first.seq == 1
    start = first.payload[START]
    small = next(c for c in start["categories"] if c["id"] == "small_city")
    assert next(e for e in small["entries"] if e["candidate_id"] == "C24")["status"] == "pending"
    assert START not in kim.note("a second note").payload  # only the first entry keeps it

    evaluators = sorted(
        pl.read_csv(contest.path("scores.csv")).filter(pl.col("candidate_id") == "C24")["evaluator_id"].unique()
    )
    assert tuple(evaluators) == DEMO_PENDING_EVALUATORS and len(evaluators) == 9
    score_the_pending_candidate(contest.path("scores.csv"), 24)
    kim.data(reload=True)
    state = kim.state()
    changes = what_changed(state, kim.standings(state), kim.data())
    assert changes.since == "the start of the meeting" and "first entry found it, kim at " in changes.basis
    assert [(c["candidate_id"], c["status_before"], c["status_now"]) for c in changes.status] == [
        ("C24", "pending", "certified")
    ]
    assert [(c["candidate_id"], c["rank_before"], c["rank_now"]) for c in changes.moved] == [
        ("C24", None, 5),
        *[(f"C{n}", n - 10, n - 9) for n in range(15, 24)],
    ]
    c24 = next(
        e for c in kim.standings(state).boards for e in c.entries.iter_rows(named=True) if e["candidate_id"] == "C24"
    )
    assert (c24["total"], c24["percent"]) == (1433.5, 71.68)


def test_changes_command(solo):
    from test_session import cli, settle

    out = cli("changes", cwd=solo).stdout
    assert "since the start of the meeting" in out and "nothing" in out
    settle(solo)
    doc = json.loads(cli("changes", "--format", "json", cwd=solo).stdout)
    assert doc["since_event"] is None
    assert [(c["candidate_id"], c["rank_before"], c["rank_now"]) for c in doc["rank_moved"]] == [("S02", 1, 2)]
    assert [d["kind"] for d in doc["decisions"]] == ["tie_order", "exclusion"]


# The robustness plan's parts against their definitions ------------------------------------


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.floats(0, 1, allow_nan=False), max_size=9), min_size=1, max_size=12))
def test_the_common_scale_pooled_from_the_evaluators_is_that_of_every_share(groups):
    """``_pooled`` (the standardisation's common mean and spread, from each evaluator's count,
    mean and spread) against polars' own mean and sample standard deviation of every share
    laid end to end; an evaluator with no share, or a single one, included."""
    from panel_tui.analysis import _pooled

    columns = [pl.Series(g, dtype=pl.Float64) for g in groups]
    every = pl.concat(columns)
    mean, std = _pooled([(c.len(), c.mean(), c.std()) for c in columns])
    if every.len() == 0:
        assert (mean, std) == (None, None)
        return
    assert mean == pytest.approx(every.mean(), abs=1e-12)
    if every.len() == 1:
        assert std is None
    else:
        assert std == pytest.approx(every.std(), abs=1e-9)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.one_of(st.none(), st.integers(0, 20).map(lambda v: v / 2)), min_size=1, max_size=17)))
def test_the_sorting_network_puts_each_row_in_order(rows):
    """``_sorted_columns`` (Batcher's network of min/max over whole columns) against sorted():
    each row's values lowest first, the missing ones last."""
    from panel_tui.analysis import _sorted_columns

    width = max((len(r) for r in rows), default=1)
    frame = pl.DataFrame(
        {f"c{j}": [r[j] if j < len(r) else None for r in rows] for j in range(width)},
        schema={f"c{j}": pl.Float64 for j in range(width)},
    )
    done = _sorted_columns(frame.lazy(), frame.columns, "_o").select(f"_o{j}" for j in range(width)).collect()
    for row, result in zip(rows, done.iter_rows(), strict=True):
        present = sorted(v for v in row if v is not None)
        assert list(result) == present + [math.inf] * (width - len(present))


@settings(max_examples=100, deadline=None)
@given(
    st.integers(0, 130).flatmap(
        lambda n: st.tuples(st.just(n), st.lists(st.lists(st.booleans(), min_size=n, max_size=n), max_size=12))
    )
)
def test_who_flips_each_certification_by_its_definition(case):
    """``_flips`` (flags packed in 64-bit words, a list per distinct word set) against the
    evaluators whose flag is set, row by row; with none, and past 64 evaluators."""
    from panel_tui.analysis import _flips

    n, rows = case
    evaluators = tuple(f"E{j:03d}" for j in range(n))
    flags = {f"f{j}": pl.Series([r[j] for r in rows], dtype=pl.Boolean) for j in range(n)}
    wide = pl.DataFrame({"candidate_id": [f"C{i}" for i in range(len(rows))], **flags})
    flips = _flips(wide, [pl.col(f"f{j}") for j in range(n)], evaluators)
    assert flips.to_list() == [[e for e, flag in zip(evaluators, r, strict=True) if flag] for r in rows]


def _by_definition(method: str, trim: int, scores: list[float]) -> float:
    scores = sorted(scores)
    n = len(scores)
    if method == "median":
        return scores[n // 2] if n % 2 else (scores[n // 2 - 1] + scores[n // 2]) / 2
    if method == "trimmed_mean" and n >= trim:
        return (sum(scores) - scores[0] - scores[-1]) / (n - 2)
    return sum(scores) / n


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["mean", "median", "trimmed_mean"]),
    st.integers(3, 6),
    st.lists(st.integers(0, 20).map(lambda v: v / 2), min_size=2, max_size=15),
)
def test_taking_one_score_out_of_a_cell_by_its_statistics(method, trim, scores):
    """What robustness works out from a cell's n, sum, min, max and order statistics
    (``_order_statistics``, ``_without_one``) equals consolidating the cell again without
    that score (each score in turn; half points, so every sum is exact)."""
    from panel_tui.analysis import _order_statistics, _without_one
    from panel_tui.config import Scoring
    from panel_tui.engine import consolidated_value

    scoring = Scoring(method=method, trim_min_evaluators=trim, decimals=2, review_margin=1.0)
    cell = pl.DataFrame({"scores": [scores]}).select(
        n=pl.col("scores").list.len(),
        sum=pl.col("scores").list.sum(),
        min=pl.col("scores").list.min(),
        max=pl.col("scores").list.max(),
        sorted=pl.col("scores").list.sort(),
    )

    def nth(i: pl.Expr) -> pl.Expr:
        return pl.col("sorted").list.get(i, null_on_oob=True)

    cell = cell.with_columns(**_order_statistics(scoring, pl.col("n"), nth))
    assert cell["median"].item() == _by_definition("median", trim, scores)
    assert cell.select(consolidated_value(scoring)).item() == _by_definition(method, trim, scores)
    for k, score in enumerate(scores):
        rest = scores[:k] + scores[k + 1 :]
        without = cell.select(**_without_one(scoring, pl.lit(score))).select(consolidated_value(scoring)).item()
        assert without == _by_definition(method, trim, rest), (score, rest)


def test_robustness_of_the_demo_equals_re_ranking_every_variant(route):
    """The bundled contest (13 evaluators, a declared conflict, a pending candidate, a tie at
    rank 1), by either route, against the definition."""
    from panel_tui.analysis import robustness
    from panel_tui.config import load_config
    from panel_tui.inputs import load_contest

    data = load_contest(load_config(DEMO / "config.toml"))
    assert robustness(data) == reference_robustness(data)


def test_robustness_of_a_consolidated_sheet_equals_re_ranking_every_variant(route):
    """A sheet without evaluator_id (each row already a cell's score): no one to leave out;
    every method gives the same cells."""
    from handmade import consolidated

    from panel_tui.analysis import robustness

    inds = indicators(("I1", "A1", 10.0), ("I2", "A2", 10.0))
    scores = consolidated({"X": {"I1": 7.5, "I2": 6.0}, "Y": {"I1": 7.0, "I2": 7.0}, "Z": {"I1": 9.0}})
    data = contest(config(), candidates("X", "Y", "Z"), inds, scores)
    result = robustness(data)
    assert result == reference_robustness(data)
    assert result["Z"]["ranks"] == {m: None for m in ("mean", "median", "trimmed_mean", "zscore")}  # pending
