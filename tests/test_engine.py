"""Each rule of SPEC §3 on hand-made contests, the expected numbers worked out by hand."""

from __future__ import annotations

import polars as pl
import pytest
from handmade import by_evaluator, candidates, config, consolidated, indicators, rank, rows

from panel_tui.engine import Decisions, Exclusion, TieOrder, round_half_away, to_json

ONE = indicators(("I1", "A1", 10.0))
TWO = indicators(("I1", "A1", 10.0), ("I2", "A2", 10.0))


def one_cell(values, **cfg):
    """The consolidated value of one indicator scored by len(values) evaluators."""
    result = rank(config(tie_break=("A1",), **cfg), candidates("X"), ONE, by_evaluator({("X", "I1"): values}))
    return rows(result)["X"]["total"]


# 1. Consolidation ---------------------------------------------------------------------


def test_trimmed_mean_drops_one_highest_and_one_lowest():
    # (8 + 6 + 6) / 3 = 6.666… -> 6.67
    assert one_cell([10, 8, 6, 6, 2]) == 6.67


def test_trimmed_mean_drops_only_one_of_repeated_extremes():
    # 9, 9, 5, 1, 1: drop one 9 and one 1 -> (9 + 5 + 1) / 3 = 5
    assert one_cell([9, 9, 5, 1, 1]) == 5.0


def test_trimmed_mean_below_the_minimum_is_the_plain_mean():
    # 4 evaluators < trim_min_evaluators 5: (10 + 8 + 6 + 2) / 4 = 6.5
    assert one_cell([10, 8, 6, 2]) == 6.5
    # with trim_min_evaluators = 4 the same four are trimmed: (8 + 6) / 2 = 7
    assert one_cell([10, 8, 6, 2], trim_min_evaluators=4) == 7.0


def test_median_odd_and_even():
    assert one_cell([1, 2, 9], method="median") == 2.0
    assert one_cell([1, 2, 3, 9], method="median") == 2.5


def test_mean():
    assert one_cell([10, 8, 6, 6, 2], method="mean") == 6.4


def test_recusal_uses_the_scores_present():
    # E3 recused: 4 scores left, below 5, so the plain mean (10 + 8 + 2 + 4) / 4 = 6
    result = rank(config(tie_break=("A1",)), candidates("X"), ONE, by_evaluator({("X", "I1"): [10, 8, None, 2, 4]}))
    assert rows(result)["X"]["total"] == 6.0
    assert rows(result)["X"]["evaluators"] == 4


# 2. Totals, subtotals, percent, rounding -----------------------------------------------


@pytest.mark.parametrize(
    "value, decimals, expected",
    [
        (2.675, 2, 2.68),
        (1.005, 2, 1.01),
        (-1.005, 2, -1.01),
        (0.125, 2, 0.13),
        (2.5, 0, 3.0),
        (-2.5, 0, -3.0),
        (1.0049, 2, 1.0),
        (28.4, 2, 28.4),
        (69.995, 2, 70.0),
    ],
)
def test_round_half_away_from_zero(value, decimals, expected):
    assert pl.select(round_half_away(pl.lit(value), decimals)).item() == expected


def test_totals_area_subtotals_and_percent_are_rounded():
    inds = indicators(("I1", "A1", 10.0), ("I2", "A1", 10.0), ("I3", "A2", 10.0))
    # I1 = (3+4+5)/3 = 4, I2 = (1+2+2)/3 = 1.666…, I3 = (3+3+4)/3 = 3.333… (no trimming: 3 < 5)
    scores = by_evaluator({("X", "I1"): [3, 4, 5], ("X", "I2"): [1, 2, 2], ("X", "I3"): [3, 3, 4]})
    x = rows(rank(config(), candidates("X"), inds, scores))["X"]
    assert x["A1"] == 5.67  # 5.666…
    assert x["A2"] == 3.33
    assert x["total"] == 9.0  # 4 + 1.666… + 3.333… = 9 (the sum of unrounded values)
    assert x["percent"] == 30.0  # 9 / 30 * 100


def test_an_area_may_take_the_name_of_a_column_the_engine_works_with():
    # The engine names its area columns itself (engine.area_column): an area called "group",
    # "pending" or "scenario" ranks, breaks ties and shows its subtotal as one called A1.
    scores = by_evaluator(
        {
            **{("X", i): [8, 8, 8] for i in ("I1", "I2", "I3")},
            **{("Y", i): v for i, v in (("I1", [9, 9, 9]), ("I2", [7, 7, 7]), ("I3", [8, 8, 8]))},
            **{("Z", i): v for i, v in (("I1", [7, 7, 7]), ("I2", [9, 9, 9]), ("I3", [8, 8, 8]))},
        }
    )
    names = ("group", "pending", "scenario")
    plain = rank(config(tie_break=("A1", "A2")), candidates("X", "Y", "Z"), THREE_AREAS, scores)
    odd_areas = THREE_AREAS.with_columns(pl.col("area_id").replace(dict(zip(("A1", "A2", "A3"), names, strict=True))))
    odd = rank(config(tie_break=names[:2]), candidates("X", "Y", "Z"), odd_areas, scores)
    assert odd.boards[0].areas == names
    renamed = odd.boards[0].entries.rename(dict(zip(names, ("A1", "A2", "A3"), strict=True)))
    assert renamed.drop("decided_by").equals(plain.boards[0].entries.drop("decided_by"))
    said = dict(zip(names, ("A1", "A2", "A3"), strict=True))
    assert [said.get(d, d) for d in renamed["decided_by"]] == plain.boards[0].entries["decided_by"].to_list()
    assert rows(odd)["Y"]["group"] == 9.0 and rows(odd)["Z"]["decided_by"] == "group"  # Y first by "group"


THREE_AREAS = indicators(("I1", "A1", 10.0), ("I2", "A2", 10.0), ("I3", "A3", 10.0))


def test_threshold_compares_rounded_percent():
    # 6,999.5 of 10,000 is 69.995 % -> 70.00 %: certified.
    inds = indicators(("I1", "A1", 10000.0))
    x = rows(rank(config(tie_break=()), candidates("X"), inds, consolidated({"X": {"I1": 6999.5}})))["X"]
    assert x["percent"] == 70.0
    assert x["certified"] is True and x["status"] == "certified" and x["borderline"] is True


# 3. Pending ------------------------------------------------------------------------------


def test_candidate_missing_an_indicator_is_pending_and_not_ranked():
    scores = consolidated({"P": {"I1": 9, "I2": 9}, "Q": {"I1": 10}})
    result = rank(config(), candidates("P", "Q"), TWO, scores)
    q = rows(result)["Q"]
    assert q["status"] == "pending" and q["rank"] is None and q["certified"] is False
    assert q["total"] == 10.0 and q["percent"] == 50.0  # what was scored so far
    assert rows(result)["P"]["rank"] == 1 and rows(result)["P"]["top"] is True
    assert result.pending == ["Q"]


# 4-8. Ranking, ties, certification, top, borderline, grade ---------------------------------

BOARD = consolidated(
    {
        "P": {"I1": 9, "I2": 9},  # 18 -> 90 %
        "Q": {"I1": 8, "I2": 8},  # 16, A1 8
        "R": {"I1": 6, "I2": 10},  # 16, A1 6: below Q on A1
        "S": {"I1": 7, "I2": 7},  # 14
        "T": {"I1": 7, "I2": 7},  # 14: a full tie with S
        "U": {"I1": 5, "I2": 5},  # 10
    }
)
SIX = candidates("P", "Q", "R", "S", "T", "U")


def board(decisions=Decisions(), **cfg):
    return rank(config(**cfg), SIX, TWO, BOARD, decisions)


def test_competition_ranking_with_tie_break_and_decided_by():
    result = board()
    entries = result.boards[0].entries
    assert entries["candidate_id"].to_list() == ["P", "Q", "R", "S", "T", "U"]
    assert entries["rank"].to_list() == [1, 2, 3, 4, 4, 6]
    assert entries["decided_by"].to_list() == [None, "total", "A1", None, None, "total"]
    assert entries["tie"].to_list() == [False, False, False, True, True, False]
    assert entries["percent"].to_list() == [90.0, 80.0, 80.0, 70.0, 70.0, 50.0]
    assert entries["status"].to_list() == ["certified"] * 5 + ["not_certified"]
    assert entries["top"].to_list() == [True] + [False] * 5
    assert entries["borderline"].to_list() == [False, False, False, True, True, False]
    assert entries["grade"].to_list() == [1, 2, 2, 3, 3, 4]
    assert result.boards[0].unresolved_ties == ()  # a tie at rank 4 with no cap decides nothing
    assert result.boards[0].tie_groups == (("S", "T"),)


def test_without_tie_break_areas_equal_totals_are_a_tie():
    entries = board(tie_break=()).boards[0].entries
    assert entries["rank"].to_list() == [1, 2, 2, 4, 4, 6]


def test_tie_straddling_the_cap_is_undecided():
    result = board(max_certified=4)
    r = rows(result)
    assert r["S"]["status"] == r["T"]["status"] == "undecided"
    assert r["S"]["certified"] is None and r["T"]["certified"] is None
    assert result.boards[0].unresolved_ties == (("S", "T"),)
    assert r["R"]["certified"] is True and r["U"]["certified"] is False


def test_cap_below_a_tie_certifies_nobody_in_it():
    r = rows(board(max_certified=3))
    assert r["R"]["certified"] is True
    assert r["S"]["status"] == r["T"]["status"] == "not_certified"


def test_panel_tie_order_resolves_the_cap():
    result = board(Decisions(tie_orders=(TieOrder("cat", ("T", "S"), "T's site visit"),)), max_certified=4)
    r = rows(result)
    assert (r["T"]["rank"], r["S"]["rank"]) == (4, 5)
    assert (r["T"]["decided_by"], r["S"]["decided_by"]) == ("total", "panel")
    assert (r["T"]["status"], r["S"]["status"]) == ("certified", "not_certified")
    assert result.boards[0].unresolved_ties == ()
    assert result.boards[0].tie_groups == (("T", "S"),)  # still equal on every key, now in the panel's order
    assert result.boards[0].entries["candidate_id"].to_list()[3:5] == ["T", "S"]


def test_tie_at_rank_one_needs_the_panel():
    scores = consolidated({"A": {"I1": 9, "I2": 9}, "B": {"I1": 9, "I2": 9}, "C": {"I1": 5, "I2": 5}})
    cands = candidates("A", "B", "C")
    result = rank(config(), cands, TWO, scores)
    r = rows(result)
    assert r["A"]["rank"] == r["B"]["rank"] == 1
    assert not r["A"]["top"] and not r["B"]["top"]
    assert r["A"]["status"] == "certified"  # no cap: both pass the threshold either way
    assert result.boards[0].unresolved_ties == (("A", "B"),)
    assert r["C"]["rank"] == 3 and r["C"]["decided_by"] == "total"

    decided = rank(config(), cands, TWO, scores, Decisions(tie_orders=(TieOrder("cat", ("B", "A")),)))
    r = rows(decided)
    assert (r["B"]["rank"], r["A"]["rank"]) == (1, 2)
    assert r["B"]["top"] and not r["A"]["top"]
    assert (r["B"]["decided_by"], r["A"]["decided_by"]) == (None, "panel")
    assert decided.boards[0].unresolved_ties == ()


def test_stale_tie_order_is_reported_not_applied():
    order = TieOrder("cat", ("S", "U"))
    result = board(Decisions(tie_orders=(order,)))
    assert result.boards[0].stale_tie_orders == (order,)
    assert rows(result)["U"]["rank"] == 6


def test_exclusion_removes_from_ranking():
    result = board(Decisions(exclusions=(Exclusion("Q", "withdrawn", "letter of 3 May"),)))
    entries = result.boards[0].entries
    assert entries["candidate_id"].to_list() == ["P", "R", "S", "T", "U", "Q"]
    assert entries["rank"].to_list() == [1, 2, 3, 3, 5, None]
    r = rows(result)
    assert r["R"]["decided_by"] == "total"
    assert r["Q"]["status"] == "excluded" and r["Q"]["exclusion_reason"] == "letter of 3 May"


def test_order_ranked_then_pending_then_excluded():
    scores = consolidated({"A": {"I1": 1, "I2": 1}, "B": {"I1": 9}, "C": {"I1": 2, "I2": 2}, "D": {"I1": 3, "I2": 3}})
    result = rank(
        config(), candidates("D", "C", "B", "A"), TWO, scores, Decisions(exclusions=(Exclusion("A", "other", "x"),))
    )
    assert result.boards[0].entries["candidate_id"].to_list() == ["D", "C", "B", "A"]
    assert result.boards[0].entries["status"].to_list() == ["not_certified", "not_certified", "pending", "excluded"]


def test_borderline_margin_is_exact_in_decimal():
    # 71.00 % is within 0.9 of 70.1 even though 71.0 - 70.1 is 0.9000000000000057 in binary.
    inds = indicators(("I1", "A1", 100.0))
    x = rows(
        rank(
            config(threshold=70.1, review_margin=0.9, tie_break=()),
            candidates("X"),
            inds,
            consolidated({"X": {"I1": 71.0}}),
        )
    )["X"]
    assert x["borderline"] is True


def test_no_grades_configured_gives_null_grade():
    assert rows(board(grades=()))["P"]["grade"] is None


def test_json_document_has_exactly_the_spec_keys():
    doc = to_json(board(max_certified=4))
    assert list(doc) == ["contest", "method", "locked", "categories"]
    cat = doc["categories"][0]
    assert list(cat) == ["id", "label", "threshold", "max_points", "unresolved_ties", "entries"]
    assert cat["max_points"] == 20.0 and cat["unresolved_ties"] == [["S", "T"]]
    assert list(cat["entries"][0]) == [
        "rank",
        "candidate_id",
        "name",
        "total",
        "percent",
        "areas",
        "grade",
        "status",
        "certified",
        "top",
        "tie",
        "borderline",
        "decided_by",
        "evaluators",
    ]
    assert cat["entries"][0]["areas"] == {"A1": 9.0, "A2": 9.0}
    assert cat["entries"][0]["evaluators"] is None  # no evaluator_id column
