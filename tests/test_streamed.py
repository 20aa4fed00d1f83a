"""Issue 16.1 and 16.4: a new score sheet streamed into its cells, its rows parsed only when asked for.

The loader reduces a new sheet's bytes to its cells with polars' streaming engine
(``contest._streamed_sheet``, ``cells.streamed_cells``), and parses its rows only when
something asks for them (the analysis). These tests hold that route to the plain one (the
rows parsed and checked, then grouped: ``load_contest(fresh=True)``) on random sheets and on
every defect it must pass on to the parse: the same cells, standings and rows, or the same
refusal, with the cache on and off.
"""

from __future__ import annotations

import csv
import io
import os
import random
from pathlib import Path

import polars as pl
import pytest
from conftest import ContestFiles, console_in_its_block, counted_parses, tell
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference_analysis import reference_robustness

from panel_tui.analysis import robustness
from panel_tui.config import load_config
from panel_tui.engine import standings, to_json
from panel_tui.errors import InputError
from panel_tui.inputs import cache, load_contest
from panel_tui.inputs import contest as contest_module
from panel_tui.inputs.contest import DeferredRows


@pytest.fixture
def sheet(contest: ContestFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ContestFiles:
    """The demo without its declared conflicts (a sheet with them is parsed), streamed at any
    size, with a cache folder of this test's own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("PANEL_TUI_CACHE", raising=False)
    monkeypatch.setattr(cache, "MIN_SIZE", 0)
    contest.edit_config('conflicts = "data/conflicts.csv"', "")
    return contest


def _plain(frame: pl.DataFrame) -> pl.DataFrame:
    """Ids as text, rows in a fixed order, an evaluator set by its size (its bits follow codes)."""
    ids = [c for c, t in frame.schema.items() if isinstance(t, (pl.Enum, pl.Categorical))]
    frame = frame.with_columns(pl.col(ids).cast(pl.String))
    if "evaluator_set" in frame.columns and frame.schema["evaluator_set"].is_integer():
        frame = frame.with_columns(pl.col("evaluator_set").bitwise_count_ones())
    return frame.sort(frame.columns, nulls_last=True)


def _named(data) -> pl.DataFrame:
    """The cells with each evaluator set as its evaluators' names (sorted, comma-joined), read
    through the codes the contest's own rows give them: a score given to another evaluator
    than the parse gives it to shows, which the sets' sizes alone would not."""
    cells = data.cells
    if not data.has_evaluators or "evaluator_set" not in cells.columns:
        return cells
    rows = data.scores.select(
        pl.col("evaluator_id").to_physical(), pl.col("evaluator_id").cast(pl.String).alias("name")
    )
    names = dict(rows.unique().iter_rows())
    named = [
        None if word is None else ",".join(sorted(str(names.get(i, f"?{i}")) for i in range(64) if word >> i & 1))
        for word in cells["evaluator_set"].to_list()
    ]
    return cells.with_columns(pl.Series("evaluator_set", named, dtype=pl.String))


def _outcome(files: ContestFiles, *, analysis: bool = False, **kwargs) -> tuple[str, object]:
    """What loading the contest gives: its refusal's message, or its cells (their evaluators by
    name: ``_named``), standings and rows (``analysis``: and its robustness, computed before
    the rows are asked for)."""
    try:
        data = load_contest(load_config(files.config), **kwargs)
        robust = robustness(data) if analysis else None
        cache.wait_for_writes()
    except InputError as refused:
        return "refused", str(refused)
    return "loaded", (
        _plain(_named(data)),
        to_json(standings(data)),
        _plain(data.scores),
        isinstance(data.rows, DeferredRows),
        robust,
    )


def _streams(monkeypatch: pytest.MonkeyPatch, route: str = "_streamed_sheet") -> list[bool]:
    """Each sheet the stream (or another of the loader's routes, ``route``: ``_patched_sheet``)
    was asked for: whether it took it (False: left to the next route, or parsed)."""
    taken: list[bool] = []
    original = getattr(contest_module, route)

    def counting(*args, **kwargs):
        found = original(*args, **kwargs)
        taken.append(found is not None)
        return found

    monkeypatch.setattr(contest_module, route, counting)
    return taken


def _same_as_parsed(files: ContestFiles, monkeypatch: pytest.MonkeyPatch, *, placed: bool = False) -> list[bool]:
    """The sheet loaded through the stream, with the cache off, then on (a miss, then the kept
    cells), gives what the plain parse gives; the streams asked for, and whether each took it.
    ``placed`` (as ``rank --analysis`` loads it): its robustness too, from the scores the stream
    placed by cell and evaluator, equal to the robustness of the parsed rows."""
    kind, truth = _outcome(files, fresh=True, analysis=placed)
    taken = _streams(monkeypatch)
    for cache_setting in ("off", ""):
        monkeypatch.setenv("PANEL_TUI_CACHE", cache_setting)
        for _round in range(2):
            got_kind, got = _outcome(files, analysis=placed, placed=placed)
            assert got_kind == kind, (got_kind, got, truth)
            if kind == "refused":
                assert got == truth
            else:
                assert isinstance(got, tuple) and isinstance(truth, tuple)
                cells, board, rows, _deferred, robust = got
                assert cells.equals(truth[0]) and board == truth[1] and rows.equals(truth[2])
                assert robust == truth[4]
    return taken


def test_a_plain_sheet_is_streamed_and_its_rows_parsed_only_when_asked_for(sheet, monkeypatch):
    taken = _same_as_parsed(sheet, monkeypatch)
    assert taken == [True, True, True]  # (off: each load; on: the miss, then the kept cells)
    parses = counted_parses(monkeypatch)
    sheet.set_cell("scores.csv", 2, "score", "30")  # (a new sheet: streamed, not parsed)
    data = load_contest(load_config(sheet.config))
    standings(data)
    assert isinstance(data.rows, DeferredRows) and parses == []
    data.scores  # noqa: B018
    assert len(parses) == 1  # (asked for: parsed once, from the bytes that were hashed)
    data.scores  # noqa: B018
    assert len(parses) == 1


def _edit_text(files: ContestFiles, change) -> None:
    path = files.path("scores.csv")
    path.write_bytes(change(path.read_bytes()))


def _edit_rows(files: ContestFiles, change) -> None:
    rows = files.rows("scores.csv")
    change(rows)
    files.write_rows("scores.csv", rows)


def _set(line: int, column: str, value: str):
    def change(rows):
        rows[line - 1][rows[0].index(column)] = value

    return change


# Each way a sheet can be wrong, or unusual and right, that the stream must hand to the parse
# (or read as the parse does).
CASES = {
    "a missing score": lambda f: _edit_rows(f, _set(5, "score", "")),
    "a missing evaluator": lambda f: _edit_rows(f, _set(5, "evaluator_id", "")),
    "a missing candidate": lambda f: _edit_rows(f, _set(5, "candidate_id", "")),
    "a missing indicator": lambda f: _edit_rows(f, _set(5, "indicator_id", "")),
    "an unknown candidate": lambda f: _edit_rows(f, _set(5, "candidate_id", "C999")),
    "an unknown indicator": lambda f: _edit_rows(f, _set(5, "indicator_id", "CI99")),
    "an indicator of another set": lambda f: _edit_rows(f, _set(5, "indicator_id", "SI01")),
    "a score that is not a number": lambda f: _edit_rows(f, _set(5, "score", "thirty")),
    "a negative score": lambda f: _edit_rows(f, _set(5, "score", "-1")),
    "a NaN score": lambda f: _edit_rows(f, _set(5, "score", "NaN")),
    "an infinite score": lambda f: _edit_rows(f, _set(5, "score", "inf")),
    "a score above its maximum": lambda f: _edit_rows(f, _set(5, "score", "999")),
    "a score given twice": lambda f: _edit_rows(f, lambda rows: rows.append(list(rows[3]))),
    "an evaluator id with a trailing space": lambda f: _edit_rows(f, _set(5, "evaluator_id", "E01 ")),
    "an evaluator id with a hidden character": lambda f: _edit_rows(f, _set(5, "evaluator_id", "E01\u200b")),
    "a row with a field too many": lambda f: _edit_text(
        f, lambda b: b.replace(b"\nC01,E02,CI01,", b"\nC01,E02,CI01,1,", 1)
    ),
    "a row with a field too few": lambda f: _edit_text(
        f, lambda b: b.replace(b"\nC01,E02,CI01,31.5", b"\nC01,E02,CI01", 1)
    ),
    "an unclosed quote": lambda f: _edit_text(f, lambda b: b.replace(b"\nC01,E02,", b'\nC01,"E02,', 1)),
    "a blank line inside the data": lambda f: _edit_text(f, lambda b: b.replace(b"\nC01,E02,", b"\n\nC01,E02,", 1)),
    "blank lines at the end": lambda f: _edit_text(f, lambda b: b + b"\n\n,,,\n"),
    "CR LF line endings": lambda f: _edit_text(f, lambda b: b.replace(b"\n", b"\r\n")),
    "CR line endings": lambda f: _edit_text(f, lambda b: b.replace(b"\n", b"\r")),
    "a byte order mark": lambda f: _edit_text(f, lambda b: b"\xef\xbb\xbf" + b),
    "quoted fields": lambda f: _edit_text(
        f, lambda b: b.replace(b"\nC01,E02,CI01,31.5", b'\n"C01","E02","CI01","31.5"', 1)
    ),
    "spaces around the header's names": lambda f: _edit_text(
        f, lambda b: b.replace(b"candidate_id,", b" candidate_id ,", 1)
    ),
    "the columns in another order": lambda f: _edit_rows(
        f, lambda rows: rows.__setitem__(slice(None), [r[::-1] for r in rows])
    ),
    "a column the sheet may not have": lambda f: f.add_column("scores.csv", "comment", "ok"),
    "no evaluator column": lambda f: _without_evaluators(f),
    "Korean evaluator ids": lambda f: _renamed_evaluators(f, "평가위원{}"),
    "Korean evaluator ids in CP949": lambda f: _renamed_evaluators(f, "평가위원{}", "cp949"),
    "seventy evaluators": lambda f: _renamed_evaluators(f, "E{}", spread=70),
    "a header only": lambda f: _edit_text(f, lambda b: b.split(b"\n", 1)[0] + b"\n"),
    "a header and rows of empty fields": lambda f: _edit_text(f, lambda b: b.split(b"\n", 1)[0] + b"\n,,,\n,,,\n"),
    "a quoted empty evaluator id": lambda f: _edit_text(f, lambda b: b.replace(b"\nC01,E02,", b'\nC01,"",', 1)),
    "an empty file": lambda f: _edit_text(f, lambda b: b""),
    "binary bytes": lambda f: _edit_text(f, lambda b: b"\x00" * 64 + b),
}


def _every_key_scored(files: ContestFiles) -> None:
    """One indicator set (the services' categories scored on the cities' indicators), and
    every candidate scored on every indicator by seven evaluators (some scores repeated, so
    that cells have ties): every (candidate, indicator) key a cell."""
    files.edit_config('indicator_set = "service"', 'indicator_set = "city"')
    indicators = files.rows("indicators.csv")
    head = indicators[0]
    kept = [indicators[0]] + [r for r in indicators[1:] if r[head.index("indicator_set")] == "city"]
    files.write_rows("indicators.csv", kept)
    candidates = [r[0] for r in files.rows("candidates.csv")[1:]]
    rng = random.Random(16)
    scores = [["candidate_id", "evaluator_id", "indicator_id", "score"]]
    for candidate in candidates:
        for row in kept[1:]:
            top = float(row[head.index("max_points")])
            for evaluator in range(1, 8):
                scores.append(
                    [
                        candidate,
                        f"E{evaluator:02d}",
                        row[head.index("indicator_id")],
                        f"{rng.randrange(0, 11) * top / 10:g}",
                    ]
                )
    files.write_rows("scores.csv", scores)


def _without_evaluators(files: ContestFiles) -> None:
    """Only the first evaluator's scores, and no evaluator column."""
    rows = files.rows("scores.csv")
    column = rows[0].index("evaluator_id")
    first = rows[1][column]
    kept = [rows[0]] + [r for r in rows[1:] if r[column] == first]
    files.write_rows("scores.csv", [[v for i, v in enumerate(r) if i != column] for r in kept])


def _renamed_evaluators(files: ContestFiles, pattern: str, encoding: str = "utf-8", spread: int = 0) -> None:
    """Each evaluator renamed by ``pattern`` (``spread``: the scores dealt out among that many
    evaluators, each cell's scores to distinct ones)."""
    rows = files.rows("scores.csv")
    header = rows[0]
    column = header.index("evaluator_id")
    if spread:
        turn: dict[tuple[str, str], int] = {}
        for row in rows[1:]:
            key = (row[header.index("candidate_id")], row[header.index("indicator_id")])
            turn[key] = turn.get(key, random.Random(hash(key) & 0xFFFF).randrange(spread)) + 1
            row[column] = pattern.format(turn[key] % spread)
    else:
        for row in rows[1:]:
            row[column] = pattern.format(row[column][1:])
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    files.path("scores.csv").write_bytes(buffer.getvalue().encode(encoding))


@pytest.mark.parametrize("case", list(CASES))
def test_the_stream_hands_every_defect_to_the_parse_and_reads_the_rest_alike(sheet, monkeypatch, case):
    CASES[case](sheet)
    _same_as_parsed(sheet, monkeypatch)
    _same_as_parsed(sheet, monkeypatch, placed=True)


@pytest.mark.parametrize("layout", ["by cell key", "by the cells' rows"])
@pytest.mark.parametrize("case", ["the demo's sheet", "seventy evaluators", "every key scored"])
def test_the_placed_scores_give_the_parsed_analysis_either_way_they_are_laid_out(sheet, monkeypatch, layout, case):
    """The matrix's columns from the scores the stream placed, laid out by cell key (the keys
    few enough: one indicator set) or by the cells' rows (the demo's categories have sets of
    their own): the analysis of the parsed rows either way. Every key scored, in key order:
    each evaluator's column is a slice of the placed scores, the rows' route likewise skips
    looking up each score's row."""
    from panel_tui import analysis

    monkeypatch.setattr(analysis, "KEYS_PER_CELL", 10**9 if layout == "by cell key" else 0)
    if case in CASES:
        CASES[case](sheet)
    if case == "every key scored":
        _every_key_scored(sheet)
    in_key_order: list[bool] = []
    original = analysis._in_key_order
    monkeypatch.setattr(
        analysis, "_in_key_order", lambda *args: in_key_order.append(original(*args)) or in_key_order[-1]
    )
    _same_as_parsed(sheet, monkeypatch, placed=True)
    assert (True in in_key_order) == (case == "every key scored")
    if case == "every key scored":  # (both routes took the slices: the definition too)
        data = load_contest(load_config(sheet.config), placed=True)
        assert robustness(data) == reference_robustness(data)


def test_a_parquet_sheet_is_streamed_alike(sheet, monkeypatch):
    frame = pl.read_csv(sheet.path("scores.csv"), infer_schema=False).with_columns(pl.col("score").cast(pl.Float64))
    frame.write_parquet(sheet.path("scores.parquet"))
    sheet.edit_config('scores = "data/scores.csv"', 'scores = "data/scores.parquet"')
    assert _same_as_parsed(sheet, monkeypatch) == [True, True, True]
    frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 4).then(None).otherwise(pl.col("score")).alias("score")
    ).write_parquet(sheet.path("scores.parquet"))
    assert _outcome(sheet)[0] == "refused"
    _same_as_parsed(sheet, monkeypatch)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_random_sheets_streamed_equal_the_parsed_definition(sheet, monkeypatch, data):
    """Random sheets over the demo's candidates and indicators (rows dropped, scores changed,
    evaluators renamed, rows shuffled, some scores given twice or above their maximum): the
    stream gives the cells, standings and rows the parse gives, or the same refusal."""
    original = sheet.path("scores.csv").read_bytes()
    rows = list(csv.reader(io.StringIO(original.decode("utf-8"))))
    header, body = rows[0], rows[1:]
    rng = random.Random(data.draw(st.integers(0, 2**32 - 1)))
    dropped = data.draw(st.sampled_from([0.0, 0.3, 0.9]))
    body = [r for r in body if rng.random() >= dropped] or body[:1]
    names = data.draw(st.sampled_from(["E{}", "평가{}", "ev-{}"]))
    score = header.index("score")
    for row in body:
        row[1] = names.format(row[1][1:])
        if rng.random() < 0.2:
            row[score] = f"{rng.randrange(0, 80) / 2:g}"
    if data.draw(st.booleans()):
        rng.shuffle(body)
    if data.draw(st.booleans()) and len(body) > 2:
        body.append(list(body[rng.randrange(len(body))]))
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *body])
    sheet.path("scores.csv").write_text(buffer.getvalue(), encoding="utf-8")
    placed = data.draw(st.booleans())
    for folder in (Path(os.environ["XDG_CACHE_HOME"]) / "panel-tui",):
        for kept in folder.glob("*") if folder.exists() else ():
            kept.unlink()
    _same_as_parsed(sheet, monkeypatch, placed=placed)


def test_a_caller_that_reads_the_rows_has_a_new_sheet_parsed_not_streamed(sheet, monkeypatch):
    """``validate`` and the evaluators' calibration read the rows of a new sheet: it is parsed
    once (and its rows kept), not streamed and then parsed."""
    taken = _streams(monkeypatch)
    data = load_contest(load_config(sheet.config), reads_rows=True)
    cache.wait_for_writes()
    assert taken == [] and isinstance(data.rows, pl.DataFrame)
    again = load_contest(load_config(sheet.config))
    assert taken == [] and isinstance(again.rows, DeferredRows)  # (its cells and rows kept)


def test_a_process_waiting_for_anothers_stream_takes_its_cells_not_the_rows(sheet, monkeypatch):
    """Two real processes, one new sheet: the first streams it (a console computing its boards:
    its cells are written once its block ends, and the file's lock held until then); the
    second waits, then goes on with the cells the first kept: it neither streams nor parses."""
    import threading

    child = console_in_its_block(sheet.config)
    try:
        assert child.stdout is not None and child.stdin is not None
        assert child.stdout.readline().split() == ["loading", "DeferredRows"]  # (streamed)
        monkeypatch.setattr(cache, "LOCK_WAIT", 20.0)
        taken = _streams(monkeypatch)
        parses = counted_parses(monkeypatch)
        loaded: list = []
        waiting = threading.Thread(target=lambda: loaded.append(load_contest(load_config(sheet.config))))
        waiting.start()
        waiting.join(0.5)
        assert waiting.is_alive()  # (the lock is held, the cells not kept yet)
        tell(child)
        waiting.join(30)
        tell(child)
        assert child.wait(timeout=30) == 0
        (data,) = loaded
        assert isinstance(data.rows, DeferredRows) and taken == [] and parses == []
        truth = load_contest(load_config(sheet.config), fresh=True)
        assert to_json(standings(data)) == to_json(standings(truth))
    finally:
        child.kill()
        child.wait()


@pytest.mark.parametrize(
    ("command", "streams"),
    [
        (["rank", "--format", "json"], True),
        (["rank", "--format", "json", "--analysis"], True),
        (["validate"], False),
        (["evaluators"], False),
    ],
)
def test_the_commands_that_read_the_rows_have_a_new_sheet_parsed(sheet, monkeypatch, capsys, command, streams):
    """`rank` streams a new sheet, and so does `rank --analysis` (its matrix laid out from the
    scores the stream placed by cell and evaluator: the rows are never parsed); `validate` and
    `evaluators` read its rows (who scored whom, the calibration): they have it parsed once."""
    from panel_tui import cli

    taken = _streams(monkeypatch)
    parses = counted_parses(monkeypatch)
    assert cli.main([*command, "--config", str(sheet.config)]) == 0
    cache.wait_for_writes()
    capsys.readouterr()
    assert taken == ([True] if streams else [])
    assert len(parses) == (0 if streams else 1)


def test_the_analysis_of_a_new_sheet_lays_out_the_streamed_scores_not_the_rows(sheet, monkeypatch):
    """A new sheet loaded for the analysis (``placed``, as ``rank --analysis`` and the console
    load it) is streamed once into its cells and its scores placed by cell and evaluator; the
    analysis (``prepare`` included) never loads its rows, equals the analysis of the parsed
    rows, and lets go of those scores (a later one loads its kept statistics, or with the cache
    off parses the rows). A contest made from it with other rows does not use them."""
    from dataclasses import replace

    from panel_tui.analysis import prepare

    sheet.set_cell("scores.csv", 2, "score", "30")
    truth = robustness(load_contest(load_config(sheet.config), fresh=True))
    parses = counted_parses(monkeypatch)
    for cache_setting in ("off", ""):
        monkeypatch.setenv("PANEL_TUI_CACHE", cache_setting)
        data = load_contest(load_config(sheet.config), placed=True)
        assert data.placed_scores() is not None
        assert replace(data, rows=pl.DataFrame()).placed_scores() is None
        prepare(data)
        assert robustness(data) == truth
        assert isinstance(data.rows, DeferredRows) and data.rows._frame is None and parses == []
        assert data.placed_scores() is None  # (let go of)
        assert robustness(data) == truth
        assert len(parses) == (1 if cache_setting == "off" else 0)  # (the cache keeps the statistics)
        cache.wait_for_writes()
        sheet.set_cell("scores.csv", 2, "score", "29" if cache_setting == "off" else "30")
        truth = robustness(load_contest(load_config(sheet.config), fresh=True))
        parses.clear()


def test_a_display_analyses_a_new_sheet_from_the_scores_its_stream_placed(sheet, monkeypatch):
    """A served tab (``--display``) streams a new sheet with its scores placed, and its analysis
    lays them out: the rows are never parsed, the analysis equals the parsed rows', and the
    placed scores are let go of once it is done (a console holds its contest as long as it
    shows it)."""
    from test_console import settled

    from panel_tui.meeting import Meeting
    from panel_tui.tui.app import PanelApp

    config = load_config(sheet.config)
    truth = robustness(load_contest(config, fresh=True))
    parses = counted_parses(monkeypatch)
    session = sheet.root / "sessions" / "2022.sqlite"
    app = PanelApp(
        Meeting(config, session, writable=False), Meeting(config, session, writable=False), display=True, clock=False
    )

    async def scenario():
        async with app.run_test(size=(120, 35)) as pilot:
            await settled(pilot, app, lambda: app.analysis is not None, timeout=30)
            assert app.analysis == truth
            assert isinstance(app.snapshot.data.rows, DeferredRows) and parses == []
            assert app.snapshot.data.placed is not None and app.snapshot.data.placed_scores() is None

    import asyncio

    asyncio.run(scenario())


def test_a_console_that_will_not_analyse_lets_go_of_the_placed_scores(sheet, monkeypatch):
    """Above ``ANALYSE_UP_TO`` score rows the console runs no analysis: the scores its stream
    placed for one are let go of as soon as its boards are shown (it holds its contest as long
    as it shows it)."""
    from test_console import settled

    from panel_tui import views
    from panel_tui.meeting import Meeting
    from panel_tui.tui.app import PanelApp

    monkeypatch.setattr(views, "ANALYSE_UP_TO", 0)
    config = load_config(sheet.config)
    session = sheet.root / "sessions" / "2022.sqlite"
    app = PanelApp(
        Meeting(config, session, writable=False), Meeting(config, session, writable=False), display=True, clock=False
    )

    async def scenario():
        async with app.run_test(size=(120, 35)) as pilot:
            await settled(pilot, app)
            data = app.snapshot.data
            assert data.placed is not None and data.placed_scores() is None and app.analysis is None

    import asyncio

    asyncio.run(scenario())


def _placed_mark_held(entry: str) -> bool:
    """Whether some process holds the placed scores of ``entry``'s sheet (``cache.hold_placed_mark``)."""
    with cache._the_folder() as directory:
        assert directory is not None
        return cache._held(directory, entry + cache._PLACED_SUFFIX)


def test_a_process_holding_the_scores_its_stream_placed_says_so_until_it_lets_go(sheet):
    """The account's other processes know a process holds a new sheet's placed scores (they
    leave the analysis to it) from its load until the scores are let go of: after its first
    analysis, or when the contest is dropped unanalysed."""
    import gc

    data = load_contest(load_config(sheet.config), placed=True)
    assert data.kept is not None and data.placed_scores() is not None
    entry = data.kept.entry
    assert _placed_mark_held(entry)
    robustness(data)
    assert not _placed_mark_held(entry)
    cache.wait_for_writes()
    sheet.set_cell("scores.csv", 2, "score", "29")
    data = load_contest(load_config(sheet.config), placed=True)
    assert data.kept is not None and data.placed_scores() is not None and _placed_mark_held(data.kept.entry)
    entry = data.kept.entry
    del data
    gc.collect()
    assert not _placed_mark_held(entry)
    cache.wait_for_writes()


# A process that streams the sheet with its scores placed (as ``rank --analysis`` and the
# console load it), says "placed", and analyses it once a line comes on its stdin.
_STREAMING = """
import sys, time
from pathlib import Path
from panel_tui.analysis import robustness
from panel_tui.config import load_config
from panel_tui.inputs import cache, load_contest
cache.MIN_SIZE = 0
data = load_contest(load_config(Path(sys.argv[1])), placed=True)
cache.wait_for_writes()
assert data.placed_scores() is not None
print("placed", flush=True)
sys.stdin.readline()
time.sleep(0.5)
robustness(data)
cache.wait_for_writes()
print("done", flush=True)
"""


def test_the_analysis_is_left_to_the_process_that_holds_the_placed_scores(sheet, monkeypatch):
    """Every screen of the account analyses a new sheet after a change; the statistics are
    computed by one process (``cached_derived(one_at_a_time=True)``): the one whose stream
    placed the scores, even when another asks first. That other one waits, loads them, and
    never parses the rows (about a second of both cores at 10,000 candidates)."""
    import subprocess
    import sys

    sheet.set_cell("scores.csv", 2, "score", "30")
    truth = robustness(load_contest(load_config(sheet.config), fresh=True))
    child = subprocess.Popen(
        [sys.executable, "-c", _STREAMING, str(sheet.config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    try:
        assert child.stdin is not None and child.stdout is not None
        assert child.stdout.readline().strip() == "placed"
        parses = counted_parses(monkeypatch)
        data = load_contest(load_config(sheet.config), placed=True)
        assert data.placed_scores() is None and isinstance(data.rows, DeferredRows)  # (its cells, kept)
        tell(child, "go")
        assert robustness(data) == truth  # (asked first: the other one waits 0.5 s before it analyses)
        assert parses == [] and data.rows._frame is None
        assert child.stdout.readline().strip() == "done"
        assert child.wait(timeout=30) == 0
    finally:
        child.kill()
        child.wait()
    cache.wait_for_writes()


def test_a_console_whose_analysis_is_superseded_lets_go_of_the_placed_scores(sheet, monkeypatch):
    """A console's analysis waits while another screen of the account computes its boards
    (``others_loading``); a newer sheet arriving meanwhile is analysed instead, and the one it
    replaces lets go of the scores its stream placed at once: the account's other processes
    no longer leave that analysis to it (nobody is computing it)."""
    import asyncio
    import fcntl

    from panel_tui.meeting import Meeting
    from panel_tui.tui.app import PanelApp

    config = load_config(sheet.config)
    session = sheet.root / "sessions" / "2022.sqlite"
    app = PanelApp(
        Meeting(config, session, writable=False), Meeting(config, session, writable=False), display=True, clock=False
    )
    with cache._the_folder() as directory:  # (another screen computing its boards from the sheet)
        assert directory is not None
        loading = cache._flocked(
            directory, cache._path_key(config.contest.scores) + cache._LOADING_SUFFIX, fcntl.LOCK_SH
        )
    assert loading is not None

    async def until(condition, pilot, timeout: float = 10.0) -> None:
        for _ in range(int(timeout / 0.05)):
            if condition():
                return
            await pilot.pause(0.05)
        raise AssertionError("never came")

    async def scenario():
        async with app.run_test(size=(120, 35)) as pilot:
            await until(lambda: app.snapshot is not None, pilot)
            first = app.snapshot.data
            assert first.kept is not None and first.placed_scores() is not None  # (its analysis waits)
            assert _placed_mark_held(first.kept.entry)
            sheet.set_cell("scores.csv", 2, "score", "29")  # (a correction arrives)
            await until(lambda: app.snapshot.data is not first, pilot)
            await until(lambda: first.placed_scores() is None, pilot, timeout=2.0)
            assert not _placed_mark_held(first.kept.entry) and app.analysis is None

    try:
        asyncio.run(scenario())
    finally:
        cache._unlock(loading)
