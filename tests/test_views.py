"""The lock and discussion screens' view models (panel_tui.views), built from a meeting on the
demo contest without any Textual app."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import polars as pl
import pytest
from conftest import ContestFiles, lower_scores

from panel_tui import views
from panel_tui.analysis import robustness
from panel_tui.config import load_config
from panel_tui.meeting import Meeting


@pytest.fixture
def kim(contest: ContestFiles) -> Meeting:
    """The demo's secretary (its chair, lee, must confirm the lock)."""
    return Meeting(load_config(contest.config), contest.root / "sessions" / "2022.sqlite", who="kim")


@pytest.fixture
def lee(contest: ContestFiles) -> Meeting:
    return Meeting(load_config(contest.config), contest.root / "sessions" / "2022.sqlite", who="lee")


SECRETARY = views.Viewer(may_propose=True)
CHAIR = views.Viewer(may_confirm=True)


def ready(kim: Meeting) -> None:
    """Nothing blocks the lock: the pending candidate excluded, the services tie ordered."""
    kim.exclude("C24", "withdrawn", "withdrew on 12 Sept")
    kim.decide_tie("service", ["S01", "S02"], "panel vote 5-4")


def test_the_views_module_needs_no_textual():
    code = (
        "import sys\nimport panel_tui.views\n"
        "print('TEXTUAL', sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "TEXTUAL []" in out


def test_the_checklist_names_what_blocks_the_lock_and_offers_no_proposal(kim):
    view = views.lock_view(views.take_snapshot(kim), kim, None, SECRETARY)
    assert view.locked is None and view.checklist is not None
    checklist = view.checklist
    assert checklist.blockers == (
        "pending: C24 Seoul Gangseo-gu (서울 강서구) (wait for its scores, or exclude it if it withdrew)",
        "unresolved tie in Smart services (스마트서비스): S01, S02 (record the panel's order)",
    )
    assert checklist.propose is None and not checklist.confirm  # blocked: nothing to press
    assert checklist.analysing and checklist.fragile == ()  # no analysis yet
    assert checklist.proposal is None and checklist.changes == ()
    assert checklist.changes_since == "What changed since the start of the meeting"
    assert checklist.changes_basis == "against the list from the current files before any panel decision"
    assert view.signing == "unsigned journal: protects against accidents, not against an account on this host"
    assert view.list_title == "Preview of the final list"
    assert [(c.label, c.certified) for c in view.final] == [
        ("Large cities (대도시)", 4),
        ("Small and medium cities (중소도시)", 5),
        ("Smart services (스마트서비스)", 4),
    ]
    assert view.final[0].lines[0] == "    1. Incheon (인천광역시)  1,728.00  86.40 %  ★ top"


def test_the_checklist_lists_the_fragile_outcomes_once_analysed(kim):
    snapshot = views.take_snapshot(kim)
    analysis = robustness(snapshot.data, snapshot.state.decisions)
    checklist = views.lock_view(snapshot, kim, analysis, SECRETARY).checklist
    assert checklist is not None and not checklist.analysing
    assert (
        "! fragile: Demand-Responsive Transit (수요응답형 교통 서비스) (S05): certification differs under median, "
        "z-scores; flips without E04, E12"
    ) in checklist.fragile
    assert all(line.startswith("! fragile: ") for line in checklist.fragile)


def test_a_ready_list_is_proposed_by_the_secretary_and_confirmed_by_the_chair(kim, lee):
    ready(kim)
    snapshot = views.take_snapshot(kim)
    checklist = views.lock_view(snapshot, kim, None, SECRETARY).checklist
    assert checklist is not None and checklist.blockers == ()
    assert checklist.propose == "Propose the lock" and not checklist.propose_again
    assert any("panel vote 5-4" in line for line in checklist.changes)
    assert views.lock_view(snapshot, kim, None, views.Viewer()).checklist.propose is None  # a viewer

    kim.propose_lock()
    snapshot = views.take_snapshot(kim, last=snapshot)
    mine = views.lock_view(snapshot, kim, None, SECRETARY).checklist
    assert mine.propose == "Propose again" and mine.propose_again and not mine.confirm
    assert mine.proposal == views.Proposal("kim", 3)
    assert mine.proposal.text == "Proposed by kim (event 3); waiting for a chair to confirm."
    assert mine.changes_since == "What changed since the lock proposal (event 3)" and mine.changes == ()
    chair = views.lock_view(snapshot, lee, None, CHAIR).checklist
    assert chair.confirm and chair.propose is None
    display = views.lock_view(snapshot, lee, None, views.Viewer(may_confirm=True, display=True)).checklist
    assert not display.confirm  # the shared screen takes no actions


def test_a_proposal_whose_scores_changed_is_stale_and_cannot_be_confirmed(contest, kim, lee):
    ready(kim)
    kim.propose_lock()
    lower_scores(contest.path("scores.csv"), candidate="C10")  # Ansan, last of the large cities
    snapshot = views.take_snapshot(lee, reload=True)
    assert snapshot.check is not None and snapshot.check.stale
    checklist = views.lock_view(snapshot, lee, None, CHAIR).checklist
    assert checklist.stale and not checklist.confirm
    assert checklist.proposal.text.startswith("Proposed by kim (event 3), now stale: it can no longer be confirmed")
    assert "✘ scores.csv changed at " in checklist.proposal.text
    moved = [line for line in checklist.changes if "total" in line and "C10" in line]
    assert moved and moved[0].startswith("Large cities (대도시): Ansan (안산시) (C10): total 1,107.00 → ")


def test_after_the_lock_the_view_shows_the_locked_list_or_on_request_the_live_one(contest, kim, lee):
    ready(kim)
    kim.propose_lock()
    lock = lee.confirm_lock()
    snapshot = views.take_snapshot(kim)
    view = views.lock_view(snapshot, kim, None, SECRETARY)
    assert view.checklist is None and view.locked is not None
    assert view.locked.fingerprint == lock.fingerprint
    assert view.locked.who.startswith("proposed by kim at ") and ", confirmed by lee at " in view.locked.who
    assert view.list_title == "The locked final list" and view.locked.exports and not view.locked.drifted
    assert not views.lock_view(snapshot, kim, None, views.Viewer(display=True)).locked.exports

    lower_scores(contest.path("scores.csv"), candidate="C01")  # Incheon, the top large city
    drifted = views.take_snapshot(kim, reload=True, last=snapshot)
    view = views.lock_view(drifted, kim, None, SECRETARY)
    assert view.locked.drifted and not view.locked.live
    assert view.list_title == "The locked final list (v: the live standings)"
    live = views.lock_view(drifted, kim, None, views.Viewer(show_live=True))
    assert live.locked.live
    assert live.list_title == "LIVE standings from the files now, NOT the locked list (v: locked list)"
    assert "Incheon (인천광역시)  1,728.00" in view.final[0].lines[0]  # the locked total
    assert not any("Incheon (인천광역시)  1,728.00" in line for line in live.final[0].lines)  # its total now


def test_the_discussion_puts_the_tie_and_the_borderline_candidates_side_by_side(kim):
    snapshot = views.take_snapshot(kim)
    view = views.discussion_view(snapshot, snapshot.standings, "service", kim)
    assert view.label == "Smart services (스마트서비스)" and view.tie == ("S01", "S02")
    tie, border = view.comparisons
    assert tie.title == (
        "Tie, unresolved: equal on the total (81.30) and every tie-break area; the panel must order it"
    )
    assert tie.candidates == ("S01", "S02") and tie.separating == ()
    assert tie.headers == (  # whole: the screen fits them to its width
        "Smart City Pass (스마트시티 패스) (S01)",
        "Smart Integrated Parking Information System (스마트 통합주차정보 시스템) (S02)",
    )
    assert tie.rows[:2] == (("Rank", "1", "1"), ("Total", "81.30", "81.30"))
    assert border.title == "Borderline: within 1.0 percentage point of the 70 % line"
    assert border.candidates == ("S04", "S05")
    assert border.separating == ("Total ◀ separates",)  # only the key that ranks them apart
    assert ("Status", "certified", "not certified") in border.rows  # status words without underscores
    assert ("Decided by", "the total", "the total") in border.rows  # the panel's words, not a field name
    assert view.notes == ()


def test_the_discussion_lists_a_pair_an_area_separates_naming_the_area(kim):
    """Suwon and Gimhae have the same total; A1 ranks them: listed, with the area's name."""
    snapshot = views.take_snapshot(kim)
    view = views.discussion_view(snapshot, snapshot.standings, "large_city", kim)
    pair = view.comparisons[0]
    assert pair.candidates == ("C02", "C03")
    assert pair.title == (
        "Equal total (1,564.00), separated by A1 subtotal "
        "(Smart city service and infrastructure level (스마트시티 서비스·인프라 수준))"
    )
    assert pair.separating == ("A1 subtotal ◀ separates",)
    assert ("Decided by", "the total", "A1 subtotal") in pair.rows


def test_the_discussion_lists_the_notes_on_its_board_and_the_decided_tie(kim):
    kim.note("a question for the applicant", candidate="S05")
    kim.note("about the whole board", category="service")
    kim.note("not this board", candidate="C01")
    kim.decide_tie("service", ["S02", "S01"], "S02 covers more districts")
    snapshot = views.take_snapshot(kim)
    view = views.discussion_view(snapshot, snapshot.standings, "service", kim)
    assert [n.split("  ", 1)[1] for n in view.notes] == [
        "kim [S05]: a question for the applicant",
        "kim [board]: about the whole board",
    ]
    assert view.comparisons[0].title == "Tie, ordered by the panel: S02 > S01 (S02 covers more districts)"
    assert view.comparisons[0].candidates == ("S02", "S01")
    assert view.tie == ("S02", "S01")  # it can still be ordered again
    assert (
        views.discussion_view(snapshot, snapshot.standings, "large_city", kim)
        .notes[0]
        .endswith("kim [C01]: not this board")
    )


def test_a_note_reuses_the_snapshots_standings_and_check(kim):
    ready(kim)
    kim.propose_lock()
    first = views.take_snapshot(kim)
    kim.note("one more word", category="service")
    second = views.take_snapshot(kim, last=first)
    assert second.standings is first.standings and second.check is first.check
    assert len(second.state.notes) == 1


def test_the_reload_notice_counts_the_candidates_that_changed(kim):
    before = views.take_snapshot(kim)
    assert views.candidates_changed(before.standings, before.standings) == 0
    lower_scores(kim.config.contest.scores, "C05", "CI01")  # Yongin loses points: C05 only
    after = views.take_snapshot(kim, reload=True, last=before)
    n = views.candidates_changed(before.standings, after.standings)
    assert n >= 1
    text = views.reload_notice(("scores.csv",), "10:41:03", before.standings, after.standings)
    assert text == f"scores.csv reloaded 10:41:03: {n} candidate{'s' if n != 1 else ''} changed"


# -- the pictures' data ------------------------------------------------------------------------


def test_a_score_strip_has_every_score_the_two_the_trimmed_mean_dropped_and_the_consolidated_value(kim):
    snapshot = views.take_snapshot(kim)
    strips = views.score_strips(snapshot.data, snapshot.standings, "S05")
    sv01 = strips["SV01"]
    assert sv01.maximum == 1.5 and sv01.value == pytest.approx(0.8)
    assert len(sv01.scores) == 9 and [s for _, s in sv01.scores] == sorted(s for _, s in sv01.scores)
    assert sv01.dropped == frozenset({0, 8})  # one lowest, one highest
    assert sv01.dropped_text() == "0.3 (E12), 1.1 (E02)"
    kept = [s for i, (_, s) in enumerate(sv01.scores) if i not in sv01.dropped]
    assert sum(kept) / len(kept) == pytest.approx(sv01.value)  # what the engine consolidated
    assert len(strips) == snapshot.standings.cells.filter(pl.col("candidate_id") == "S05").height


def test_an_area_strip_has_each_evaluators_sum_over_the_area_and_the_subtotal(kim):
    snapshot = views.take_snapshot(kim)
    strips = views.score_strips(snapshot.data, snapshot.standings, "S05")
    board = snapshot.standings.board("service")
    entry = board.entries.filter(pl.col("candidate_id") == "S05").row(0, named=True)
    cells = snapshot.standings.cells.filter(pl.col("candidate_id") == "S05").with_columns(
        pl.col("indicator_id").cast(pl.String)
    )
    area_of = dict(cells.select("indicator_id", "area_id").iter_rows())
    areas = views.area_strips(strips, area_of, {a: entry[a] for a in board.areas})
    assert list(areas) == list(board.areas)
    a1 = areas["A1"]
    mine = [iid for iid, a in area_of.items() if a == "A1"]
    assert a1.maximum == pytest.approx(sum(strips[i].maximum for i in mine))
    assert a1.value == entry["A1"] and a1.dropped == frozenset()
    # E02's sum over A1 is what E02 gave each of its indicators, added up.
    e02 = sum(dict(strips[i].scores)["E02"] for i in mine)
    assert dict(a1.scores)["E02"] == pytest.approx(e02)
    assert [s for _, s in a1.scores] == sorted(s for _, s in a1.scores)
    # An evaluator missing from one of the area's indicators has no sum: left off, not undercounted.
    first = mine[0]
    gone = dataclasses.replace(strips[first], scores=tuple(ev for ev in strips[first].scores if ev[0] != "E02"))
    partial = views.area_strips({**strips, first: gone}, area_of, {"A1": entry["A1"]})
    assert "E02" not in dict(partial["A1"].scores) and len(partial["A1"].scores) == len(a1.scores) - 1


def test_a_score_strip_drops_one_of_repeated_extremes_and_none_under_the_mean(contest):
    (contest.data / "scores.csv").write_text(
        (contest.data / "scores.csv").read_text(encoding="utf-8").replace("S05,E02,SV01,1.1", "S05,E02,SV01,1"),
        encoding="utf-8",
    )  # E02 and E11 both give S05's highest SV01 score, 1.0
    meeting = Meeting(load_config(contest.config), contest.root / "sessions" / "2022.sqlite", who="kim")
    snapshot = views.take_snapshot(meeting)
    sv01 = views.score_strips(snapshot.data, snapshot.standings, "S05")["SV01"]
    assert sv01.scores[-2:] == (("E02", 1.0), ("E11", 1.0)) and sv01.dropped == frozenset({0, 8})
    assert sv01.dropped_text() == "0.3 (E12), 1 (E11)"  # one of the two, the other kept
    contest.config.write_text(
        contest.config.read_text(encoding="utf-8").replace('method = "trimmed_mean"', 'method = "mean"'),
        encoding="utf-8",
    )
    meeting = Meeting(load_config(contest.config), contest.root / "sessions" / "2022.sqlite", who="kim")
    snapshot = views.take_snapshot(meeting)
    sv01 = views.score_strips(snapshot.data, snapshot.standings, "S05")["SV01"]
    assert sv01.dropped == frozenset() and sv01.dropped_text() == ""
    assert sv01.value == pytest.approx(sum(s for _, s in sv01.scores) / 9)


def test_the_percent_strip_highlights_the_focus_the_ties_and_the_borderline_candidates(kim):
    snapshot = views.take_snapshot(kim)
    board = snapshot.standings.board("service")
    strip = views.percent_strip(board, 1.0)
    assert (strip.threshold, strip.band) == (70.0, (69.0, 71.0))
    assert [m.candidate_id for m in strip.marks] == [f"S{i:02}" for i in range(1, 11)]  # rank order
    assert strip.highlighted("tie") == ("S01", "S02")  # equal totals
    assert strip.highlighted("borderline") == ("S04", "S05")
    assert strip.highlighted("focus") == ()
    assert strip.domain() == (50.0, 85.0)  # 52.9 to 81.3 %, widened to fives
    focused = views.percent_strip(board, 1.0, focus="S05")
    assert focused.highlighted("focus") == ("S05",)
    assert focused.highlighted("borderline") == ("S04",)
    # Pending and excluded candidates have no percent on the board: not on its strip.
    small = views.percent_strip(snapshot.standings.board("small_city"), 1.0)
    assert "C24" not in [m.candidate_id for m in small.marks]


def test_the_discussion_carries_its_strip_with_the_focus_until_the_lock(kim):
    kim.focus("S05")
    snapshot = views.take_snapshot(kim)
    view = views.discussion_view(snapshot, snapshot.standings, "service", kim)
    assert view.strip is not None and view.strip.highlighted("focus") == ("S05",)
    assert views.under_discussion(snapshot.state) == "S05"
