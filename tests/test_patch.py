"""Issue 16.4: a corrected score sheet patched from the last one, not streamed whole.

A console keeps the last CSV sheet it streamed with its bytes (``contest.SheetBasis``); when
the sheet changes, only the lines that differ (``patch.changed_lines``) and the lines around
them holding their cells' other scores (``patch.around``) are parsed, and only those cells
grouped again (``contest._patched_sheet``). These tests hold it to the plain route (the new
sheet parsed afresh and grouped: ``load_contest(fresh=True)``) on every kind of edit, with
the cache off and on: the same cells, standings and rows, or the same refusal; and they say
which edits the patch takes and which it leaves to the stream.
"""

from __future__ import annotations

import os
import random
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
import test_cache
import test_streamed
from conftest import ContestFiles
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_streamed import _outcome

from panel_tui.analysis import robustness
from panel_tui.config import load_config
from panel_tui.inputs import cache, load_contest, patch
from panel_tui.inputs import cells as cells_module
from panel_tui.inputs import contest as contest_module
from panel_tui.inputs.contest import DeferredRows
from panel_tui.meeting import Meeting

Edit = Callable[[bytes], bytes]
kept = test_cache.kept  # (the fixture: the demo cached, its evaluators coded out of their sorted order)
sheet = test_streamed.sheet  # (the fixture: the demo without declared conflicts, streamed at any size)


def _patches(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Each patch asked for: whether it took the sheet (False: left to the stream)."""
    return test_streamed._streams(monkeypatch, "_patched_sheet")


def _forget_kept() -> None:
    folder = Path(os.environ["XDG_CACHE_HOME"]) / "panel-tui"
    for entry in folder.glob("*") if folder.exists() else ():
        entry.unlink()


def _same_as_parsed(
    files: ContestFiles,
    monkeypatch: pytest.MonkeyPatch,
    edit: Edit,
    before: Edit | None = None,
    *,
    placed: bool = False,
    patched_placed: list[bool] | None = None,
):
    """The sheet (``before`` it, as given) loaded as a console loads it, then edited
    (``edit``) and loaded again from the first load's basis, with the cache off and then on,
    gives what the edited sheet parsed afresh gives; and with the cache on, a later load of
    the same bytes (another process's) loads the kept cells, alike. ``placed`` (as a console
    loads it, for its analysis): both loads place the scores, and the robustness of the
    edited sheet, computed from them before the rows are asked for, is that of the parsed
    rows; ``patched_placed`` gets, for each patch that took the sheet, whether it patched its
    placed scores too. The patches asked for, and whether each took the sheet."""
    path = files.path("scores.csv")
    original = path.read_bytes()
    first = before(original) if before else original
    taken = _patches(monkeypatch)
    placing = test_streamed._streams(monkeypatch, "_patched_placed")
    for cache_setting in ("off", ""):
        monkeypatch.setenv("PANEL_TUI_CACHE", cache_setting)
        _forget_kept()
        path.write_bytes(first)
        basis = load_contest(load_config(files.config), keeps_basis=True, placed=placed).basis
        assert basis is not None and basis.data == first
        path.write_bytes(edit(first))
        got = _outcome(files, previous=basis, keeps_basis=True, placed=placed, analysis=placed)
        again = _outcome(files)  # (the cache on: the cells the patch kept, if it did)
        truth = _outcome(files, fresh=True, analysis=placed)
        for outcome in (got, again):
            assert outcome[0] == truth[0], (outcome, truth)
            if truth[0] == "refused":
                assert outcome[1] == truth[1]
            else:
                cells, board, rows, _deferred, _robust = outcome[1]
                assert _alike(cells, truth[1][0]) and board == truth[1][1] and rows.equals(truth[1][2])
        if placed and truth[0] == "loaded":
            assert got[1][4] == truth[1][4]  # (the robustness, from the scores placed: patched, or streamed)
            # The scores placed, loaded again from the same basis (the cache on: the cells found
            # kept, the scores placed later, when the patch takes the sheet), as the stream places them.
            asked = len(taken), len(placing)
            placed_again = load_contest(load_config(files.config), previous=basis, keeps_basis=True, placed=True)
            if taken[-1] or placed_again.placed_scores() is not None:
                assert _placed_by_name(placed_again).equals(_streamed_placed(files, monkeypatch))
            del taken[asked[0] :], placing[asked[1] :]  # (counted: the loads above only)
    if patched_placed is not None:
        patched_placed.extend(placing)
    path.write_bytes(original)
    return taken


def _placed_by_name(data) -> pl.DataFrame:
    """A contest's placed scores (``ContestData.placed_scores``) as (evaluator, cell key,
    score), sorted: what the analysis lays out, whatever the codes and order of each route."""
    placed = data.placed_scores()
    assert placed is not None
    frame, by_code = placed
    keys = cells_module.cell_keys(data.rows.schema)
    return frame.select(
        pl.lit(pl.Series(by_code, dtype=pl.String)).gather(pl.col("_at") // keys).alias("evaluator"),
        (pl.col("_at") % keys).alias("cell"),
        pl.col("score"),
    ).sort("evaluator", "cell", "score")


def _streamed_placed(files: ContestFiles, monkeypatch: pytest.MonkeyPatch) -> pl.DataFrame:
    """The placed scores of the sheet as it is now, streamed (the cache off)."""
    with monkeypatch.context() as scoped:
        scoped.setenv("PANEL_TUI_CACHE", "off")
        return _placed_by_name(load_contest(load_config(files.config), placed=True))


def _cells_by_name(data) -> pl.DataFrame:
    """A loaded contest's cells as ``_outcome`` compares them: ids as text, in a fixed order, each
    evaluator set as its evaluators' names (a set's bits follow the codes its route gave the
    evaluators: the parse numbers them as its threads meet them, the stream and the patch in
    the order of their sorted ids)."""
    return test_streamed._plain(test_streamed._named(data))


def _alike(cells: pl.DataFrame, truth: pl.DataFrame) -> bool:
    """The same cells; their sums the same but for the last bits of a float (the order the
    scores were added in: a streamed sheet's cell whose scores lie in different parts of the
    file is added up part by part, whichever route reads it; the boards round them away)."""
    if cells.schema != truth.schema or cells.height != truth.height:
        return False
    exact = [c for c in cells.columns if c != "sum"]
    return cells.select(exact).equals(truth.select(exact)) and bool(
        ((cells["sum"] - truth["sum"]).abs() <= 1e-9 * truth["sum"].abs().clip(lower_bound=1.0)).all()
    )


def _lines(change: Callable[[list[bytes]], None]) -> Edit:
    """An edit of the sheet's lines (the header is line 0; each line keeps its line break)."""

    def edit(data: bytes) -> bytes:
        lines = data.splitlines(keepends=True)
        change(lines)
        return b"".join(lines)

    return edit


def _field(line: int, column: int, value: bytes) -> Edit:
    def change(lines: list[bytes]) -> None:
        ending = lines[line][len(lines[line].rstrip(b"\r\n")) :]
        fields = lines[line].rstrip(b"\r\n").split(b",")
        fields[column] = value
        lines[line] = b",".join(fields) + ending

    return _lines(change)


def _score(line: int, value: bytes) -> Edit:
    return _field(line, -1, value)  # (the score: the sheet's last column)


def _moved(source: int, target: int) -> Edit:
    def change(lines: list[bytes]) -> None:
        lines.insert(target, lines.pop(source))

    return _lines(change)


def _both(*edits: Edit) -> Edit:
    def edit(data: bytes) -> bytes:
        for one in edits:
            data = one(data)
        return data

    return edit


def _crlf(data: bytes) -> bytes:
    return data.replace(b"\n", b"\r\n")


def _by_evaluator(data: bytes) -> bytes:
    """The sheet's lines sorted by evaluator: each cell's scores lie a few thousand lines apart."""
    header, *body = data.splitlines(keepends=True)
    return header + b"".join(sorted(body, key=lambda line: line.split(b",")[1]))


def _without(evaluator: bytes) -> Edit:
    return _lines(lambda lines: lines.__setitem__(slice(None), [x for x in lines if x.split(b",")[1:2] != [evaluator]]))


# name: (the edit, the sheet before it (None: the demo's), whether the patch takes it)
CASES: dict[str, tuple[Edit, Edit | None, bool]] = {
    "a score changed": (_score(100, b"12.5"), None, True),
    "a score written shorter": (_score(2, b"7"), None, True),
    "a score written longer": (_score(17000, b"1.25"), None, True),
    "the first and the last score changed": (_both(_score(1, b"3"), _score(17764, b"0.5")), None, True),
    "a score line deleted": (_lines(lambda lines: lines.pop(500)), None, True),
    "the last line's break removed": (lambda data: data.rstrip(b"\n"), None, True),
    "a line moved far away": (_moved(40, 9000), None, True),
    "the same bytes": (lambda data: data, None, True),
    "a score of a CRLF sheet changed": (_score(300, b"1"), _crlf, True),
    "a score changed in a sheet sorted by evaluator": (_score(3000, b"2"), _by_evaluator, True),
    "a score line given twice": (_lines(lambda lines: lines.insert(700, lines[700])), None, False),
    "an unknown candidate": (_field(50, 0, b"C99"), None, False),
    "an unknown indicator": (_field(50, 2, b"XX01"), None, False),
    "a new evaluator": (_field(50, 1, b"E99"), None, False),
    "an evaluator's every score removed": (_without(b"E03"), None, False),
    "a score above its maximum": (_score(60, b"99"), None, False),
    "a negative score": (_score(60, b"-1"), None, False),
    "a score that is not a number": (_score(60, b"abc"), None, False),
    "a missing score": (_score(60, b""), None, False),
    "a missing evaluator": (_field(60, 1, b""), None, False),
    "a quoted field": (_field(60, 1, b'"E01"'), None, False),
    "the columns reordered": (
        lambda data: data.replace(b"candidate_id,evaluator_id", b"evaluator_id,candidate_id", 1),
        None,
        False,
    ),
    "the whole sheet made CRLF": (_crlf, None, False),
    "the sheet sorted anew (every line changed)": (_by_evaluator, None, True),
    "a blank line": (_lines(lambda lines: lines.insert(900, b"\n")), None, False),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_corrected_sheet_is_patched_as_the_parse_reads_it_or_left_to_the_stream(sheet, monkeypatch, case):
    edit, before, patched = CASES[case]
    placing: list[bool] = []
    taken = _same_as_parsed(sheet, monkeypatch, edit, before, placed=True, patched_placed=placing)
    assert taken == [patched, patched], taken  # (the cache off, then on: once each)
    # (a console's load places the scores for its analysis: a patch patches them too)
    assert placing == [True, True] if patched else not placing, placing


def test_cells_whose_scores_lie_further_apart_than_it_looks_are_left_to_the_stream(sheet, monkeypatch):
    """In a sheet sorted by evaluator a cell's scores lie thousands of lines apart: looking
    only a few hundred bytes around the change, the patch finds some of them, not all (their
    count says so), and leaves the sheet to the stream; looking further, it takes it."""
    monkeypatch.setattr(patch, "_WINDOW", 256)
    monkeypatch.setattr(patch, "_WIDEST", 4096)
    assert _same_as_parsed(sheet, monkeypatch, _score(3000, b"2"), _by_evaluator) == [False, False]
    assert _same_as_parsed(sheet, monkeypatch, _score(3000, b"2")) == [True, True]  # (by cell: next to it)
    monkeypatch.setattr(patch, "_WIDEST", 1 << 20)
    assert _same_as_parsed(sheet, monkeypatch, _score(3000, b"2"), _by_evaluator) == [True, True]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_random_corrections_patched_equal_the_parsed_definition(sheet, monkeypatch, data):
    """A few random corrections at random places (scores changed, some out of range, lines
    deleted, given twice or moved), in a sheet in cell order or sorted by evaluator, with the
    patch's first look narrow or wide: the same cells, standings and rows as the parse, or
    the same refusal."""
    rng = random.Random(data.draw(st.integers(0, 2**32 - 1)))
    monkeypatch.setattr(patch, "_WINDOW", data.draw(st.sampled_from([128, 4096, 64 << 10])))
    before = data.draw(st.sampled_from([None, _by_evaluator]))

    def correct(lines: list[bytes]) -> None:
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(1, len(lines))
            kind = rng.choice(["score", "score", "score", "out of range", "delete", "twice", "move"])
            ending = b"\n" if lines[at].endswith(b"\n") else b""
            fields = lines[at].rstrip(b"\n").split(b",")
            if kind in ("score", "out of range"):
                # (a corrected score stays within its maximum: a fraction of the score it replaces)
                value = (
                    float(fields[-1]) * rng.choice([0.0, 0.5, 0.8, 1.0]) if kind == "score" else rng.choice([-1.0, 1e3])
                )
                lines[at] = b",".join([*fields[:-1], f"{value:g}".encode()]) + ending
            elif kind == "delete" and len(lines) > 2:
                lines.pop(at)
            elif kind == "twice":
                lines.insert(at, lines[at] if ending else lines[at] + b"\n")
            elif kind == "move":
                line = lines.pop(at)
                lines.insert(rng.randrange(1, len(lines) + 1), line if line.endswith(b"\n") else line + b"\n")
                if not lines[-1].endswith(b"\n"):
                    lines[-1] += b"\n"

    _same_as_parsed(sheet, monkeypatch, _lines(correct), before, placed=data.draw(st.booleans()))


def test_a_console_patches_each_corrected_sheet_from_the_last(sheet, monkeypatch):
    """A console's reloads (``Meeting.data(live=True)``, its scores placed for its analysis):
    the first streams the sheet, each later one patches it from the one before; the boards
    are those of the sheet as it is, and so is the analysis of the last, from the scores
    patched three times over (none of the three analysed in between), with no parse of the
    rows."""
    taken = _patches(monkeypatch)
    monkeypatch.setenv("PANEL_TUI_CACHE", "off")  # (the cache on: see test_a_console_s_first_load_...)
    meeting = Meeting(load_config(sheet.config), sheet.root / "s.sqlite", writable=False)
    first_basis = meeting.data(live=True, placed=True).basis
    assert taken == [] and first_basis is not None and first_basis.data is not None
    path = sheet.path("scores.csv")
    for line, value in ((10, b"1"), (5000, b"2.5"), (10, b"30")):
        path.write_bytes(_score(line, value)(path.read_bytes()))
        data = meeting.data(reload=True, live=True, placed=True)
        cache.wait_for_writes()
        parsed = load_contest(load_config(sheet.config), fresh=True)
        assert _alike(_cells_by_name(data), _cells_by_name(parsed))
    assert taken == [True, True, True]
    asked: list[object] = []  # (the rows asked for: parsed)
    monkeypatch.setattr(DeferredRows, "__call__", lambda rows: asked.append(rows))
    assert isinstance(data.rows, DeferredRows) and _placed_by_name(data).equals(_streamed_placed(sheet, monkeypatch))
    assert robustness(data) == robustness(parsed) and asked == []
    # One sheet's bytes held: each load's basis lets go of the one before.
    assert data.basis is not None and data.basis.data == path.read_bytes()
    assert first_basis is not None and first_basis.data is None


def test_a_screen_that_finds_the_cells_kept_by_another_patches_its_placed_scores_all_the_same(sheet, monkeypatch):
    """Two screens of one account, each sheet read by whichever takes its lock: the one that
    holds placed scores (it streamed the first sheet) finds the next two sheets' cells kept by
    the other, and places their scores from its own last ones, patched, each analysed as a
    console analyses each sheet: its analysis of the last equals the parse's, and reads no rows
    (nor does the first's)."""
    monkeypatch.setenv("PANEL_TUI_CACHE", "")
    _forget_kept()
    config, path = load_config(sheet.config), sheet.path("scores.csv")
    holder = load_contest(config, keeps_basis=True, placed=True)  # (streams the sheet: its scores placed)
    other = load_contest(config, keeps_basis=True)  # (finds its cells kept)
    cache.wait_for_writes()
    taken = _patches(monkeypatch)
    placing = test_streamed._streams(monkeypatch, "_placed_later")
    asked: list[object] = []  # (the rows asked for: parsed)
    for line in (10, 5000):
        path.write_bytes(_score(line, b"1")(path.read_bytes()))
        other = load_contest(config, previous=other.basis, keeps_basis=True)  # (takes the lock: patches)
        cache.wait_for_writes()
        holder = load_contest(config, previous=holder.basis, keeps_basis=True, placed=True)  # (its cells kept)
        if line == 10:
            with monkeypatch.context() as scoped:
                scoped.setattr(DeferredRows, "__call__", lambda rows: asked.append(rows))
                robustness(holder)
            cache.wait_for_writes()
    # (The other screen patched both sheets; the holder placed both later, the first one's made,
    # by a patch of its own, for its analysis.)
    assert taken == [True, True, True] and placing == [True, True]
    parsed = load_contest(config, fresh=True)
    monkeypatch.setattr(DeferredRows, "__call__", lambda rows: asked.append(rows))
    assert isinstance(holder.rows, DeferredRows) and _placed_by_name(holder).equals(
        _streamed_placed(sheet, monkeypatch)
    )
    assert robustness(holder) == robustness(parsed) and asked == []


def test_placed_scores_that_cannot_be_made_hold_no_analysis_back(sheet, monkeypatch):
    """A screen whose placed scores, made later, cannot be made (the sheet changed in a way the
    patch leaves to the stream: line endings made CRLF) lets go of its claim on the account's
    analysis (``PlacedScores``: the others leave the analysis to a holder) rather than wait for
    itself, and builds no later sheet's placed scores on them: its analyses of that sheet and
    of three corrections after it take no wait, and the last equals the parse's. (An attack
    review found each taking 5 s, the lock's wait, on itself.)"""
    monkeypatch.setenv("PANEL_TUI_CACHE", "")
    _forget_kept()
    config, path = load_config(sheet.config), sheet.path("scores.csv")
    console = load_contest(config, keeps_basis=True, placed=True)
    robustness(console)
    cache.wait_for_writes()
    path.write_bytes(_crlf(path.read_bytes()))
    load_contest(config)  # (`rank` meanwhile: streams it, keeps its cells)
    cache.wait_for_writes()
    console = load_contest(config, previous=console.basis, keeps_basis=True, placed=True)  # (cells kept: placed later)
    times = []
    for line in (10, 20, 30):
        started = time.monotonic()
        robustness(console)
        times.append(time.monotonic() - started)
        path.write_bytes(_score(line, b"1")(path.read_bytes()))
        console = load_contest(config, previous=console.basis, keeps_basis=True, placed=True)  # (patched)
        cache.wait_for_writes()
    started = time.monotonic()
    assert robustness(console) == robustness(load_contest(config, fresh=True))
    times.append(time.monotonic() - started)
    assert max(times) < 2, times


def test_corrections_whose_analyses_never_run_hold_at_most_one_sheet_more(sheet, monkeypatch):
    """Placed scores made later hold the last sheet's bytes until the analysis makes them; the
    next sheet's are not built on such ones, so a burst of corrections whose analyses are each
    cancelled by the next holds no pile of sheets: at most, beside each screen's own last
    sheet, the one before it. (An attack review found one more sheet held at each correction.)"""
    import gc

    def held() -> int:  # (the distinct sheets' bytes held for a patch)
        gc.collect()
        offered = (o._offered for o in gc.get_objects() if isinstance(o, contest_module._Offers))
        return len({id(o[1]) for o in offered if o is not None and o[1] is not None and len(o[1]) > 100_000})

    monkeypatch.setenv("PANEL_TUI_CACHE", "")
    _forget_kept()
    config, path = load_config(sheet.config), sheet.path("scores.csv")
    holder = load_contest(config, keeps_basis=True, placed=True)
    other = load_contest(config, keeps_basis=True)
    cache.wait_for_writes()
    counts = []
    for line in range(10, 70, 6):
        path.write_bytes(_score(line, b"1")(path.read_bytes()))
        basis = other.basis
        other = load_contest(config, previous=basis, keeps_basis=True)  # (takes the lock: patches)
        basis.let_go()
        cache.wait_for_writes()
        basis = holder.basis
        holder = load_contest(config, previous=basis, keeps_basis=True, placed=True)  # (cells kept: placed later)
        basis.let_go()
        holder.let_go_of_placed_scores()  # (its analysis cancelled by the next sheet)
        counts.append(held())
    assert max(counts) <= 3, counts


def _holder_and_other(sheet, monkeypatch, limit: int | None = None):
    """Two screens of one account (cache on): the holder of placed scores (it streamed the
    sheet and analysed it) and another; ``limit``: the patch's (``LIMIT``)."""
    monkeypatch.setenv("PANEL_TUI_CACHE", "")
    _forget_kept()
    if limit is not None:
        monkeypatch.setattr(contest_module, "LIMIT", limit)
    config = load_config(sheet.config)
    holder = load_contest(config, keeps_basis=True, placed=True)
    robustness(holder)
    other = load_contest(config, keeps_basis=True)
    cache.wait_for_writes()
    return config, holder, other


def test_a_sheet_grown_past_the_limit_holds_no_analysis_back(sheet, monkeypatch):
    """A corrected sheet over the patch's limit (its bytes not held): the holder's placed
    scores, made later, are told at once that its bytes will not come; its analysis reads the
    rows without waiting for them. (An attack review found it waiting 5 s.)"""
    path = sheet.path("scores.csv")
    config, holder, other = _holder_and_other(sheet, monkeypatch, limit=len(path.read_bytes()) + 5)
    path.write_bytes(_score(10, b"1.000000000")(path.read_bytes()))  # (past the limit now)
    other = load_contest(config, previous=other.basis, keeps_basis=True)
    cache.wait_for_writes()
    holder = load_contest(config, previous=holder.basis, keeps_basis=True, placed=True)
    started = time.monotonic()
    got = robustness(holder)
    assert time.monotonic() - started < 2 and got == robustness(load_contest(config, fresh=True))


def test_a_load_never_waits_for_the_analysis_making_the_last_placed_scores(sheet, monkeypatch):
    """While an analysis makes the last sheet's placed scores (here waiting for bytes held
    back by a claim's check, 3 s), the next corrected sheet's load goes on: it does not wait
    for them. (An attack review found it waiting for the analysis.)"""
    path = sheet.path("scores.csv")
    config, holder, other = _holder_and_other(sheet, monkeypatch)
    path.write_bytes(_score(10, b"1")(path.read_bytes()))
    other = load_contest(config, previous=other.basis, keeps_basis=True)
    cache.wait_for_writes()
    late = contest_module._Offers.get
    monkeypatch.setattr(
        contest_module._Offers, "get", lambda offers, name, wait=0.0: (wait and time.sleep(3)) or late(offers, name)
    )
    holder = load_contest(config, previous=holder.basis, keeps_basis=True, placed=True)
    analysis = threading.Thread(target=robustness, args=(holder,))
    analysis.start()
    time.sleep(0.3)
    path.write_bytes(_score(20, b"1")(path.read_bytes()))
    other = load_contest(config, previous=other.basis, keeps_basis=True)
    cache.wait_for_writes()
    started = time.monotonic()
    holder = load_contest(config, previous=holder.basis, keeps_basis=True, placed=True)
    took = time.monotonic() - started
    analysis.join()
    assert took < 1.5, took


def test_a_long_burst_of_cancelled_analyses_ends_in_the_parse_s_analysis(sheet, monkeypatch):
    """Three times ``PENDING_MOST`` corrections, each analysis cancelled by the next sheet:
    no sheet's placed scores rest on more than ``PENDING_MOST`` not yet made (an attack review
    made them recurse through 450 of them, to a RecursionError); the last analysis equals the
    parse's, and takes no wait."""
    monkeypatch.setenv("PANEL_TUI_CACHE", "off")
    config, path = load_config(sheet.config), sheet.path("scores.csv")
    data = load_contest(config, keeps_basis=True, placed=True)
    robustness(data)
    most = 0
    for k in range(3 * contest_module.PENDING_MOST):
        path.write_bytes(_score(10 + k, b"1" if k % 2 else b"2")(path.read_bytes()))
        basis = data.basis
        data = load_contest(config, previous=basis, keeps_basis=True, placed=True)
        basis.let_go()
        placed = data.placed._frame if data.placed is not None else None
        if isinstance(placed, contest_module.PatchedPlaced):
            most = max(most, placed.pending())
        data.let_go_of_placed_scores()  # (its analysis cancelled)
    assert 1 < most <= contest_module.PENDING_MOST, most
    started = time.monotonic()
    assert robustness(data) == robustness(load_contest(config, fresh=True))
    assert time.monotonic() - started < 5


def test_placed_scores_made_later_wait_for_the_bytes_a_claim_s_check_offers_afterwards(monkeypatch):
    """The bytes a claim's check offers come after the load (``_Offers``): what asks for them
    with a wait gets them once they come, under their name only, or nothing when none come,
    or at once when they are too many to hold."""
    import threading

    offers = contest_module._Offers()
    threading.Timer(0.2, offers.offer, ("entry", b"bytes")).start()
    assert offers.get("entry") is None  # (not yet)
    assert offers.get("entry", wait=5.0) == b"bytes"
    assert offers.get("another", wait=0.1) is None
    # (bytes over the limit are not held, and whoever waits for them is told at once)
    monkeypatch.setattr(contest_module, "LIMIT", 3)
    threading.Timer(0.2, offers.offer, ("larger", b"bytes")).start()
    started = time.monotonic()
    assert offers.get("larger", wait=5.0) is None and time.monotonic() - started < 2


def test_the_basis_holds_the_placed_scores_after_the_analysis_lets_go_unless_none_is_analysed(sheet, monkeypatch):
    """After its first analysis a contest lets go of its placed scores, but its basis holds
    them for the next sheet's patch; a console that analyses none of its sheets (too many score
    rows) lets go of them for good: the next sheet is patched without them."""
    monkeypatch.setenv("PANEL_TUI_CACHE", "off")
    placing = test_streamed._streams(monkeypatch, "_patched_placed")
    config, path = load_config(sheet.config), sheet.path("scores.csv")
    data = load_contest(config, keeps_basis=True, placed=True)
    data.let_go_of_placed_scores()  # (as the analysis does once it is done)
    assert data.placed_scores() is None and data.basis is not None and data.basis.sheet.placed is not None
    path.write_bytes(_score(10, b"1")(path.read_bytes()))
    data = load_contest(config, previous=data.basis, keeps_basis=True, placed=True)
    assert placing == [True] and data.placed_scores() is not None
    data.let_go_of_placed_scores(for_good=True)
    assert data.basis is not None and data.basis.sheet.placed is None
    path.write_bytes(_score(11, b"1")(path.read_bytes()))
    data = load_contest(config, previous=data.basis, keeps_basis=True, placed=True)
    assert placing == [True] and data.placed_scores() is None and data.basis is not None


def test_only_a_console_keeps_the_sheet_s_bytes_and_only_of_a_csv_sheet_up_to_the_limit(sheet, monkeypatch):
    monkeypatch.setenv("PANEL_TUI_CACHE", "off")  # (every load streams the sheet)
    config = load_config(sheet.config)
    assert load_contest(config).basis is None  # (rank, the other commands: not kept)
    assert load_contest(config, keeps_basis=True).basis is not None
    monkeypatch.setattr(contest_module, "LIMIT", 1000)
    assert load_contest(config, keeps_basis=True).basis is None
    monkeypatch.setattr(contest_module, "LIMIT", patch.LIMIT)
    pl.read_csv(sheet.path("scores.csv")).write_parquet(sheet.path("scores.parquet"))
    sheet.edit_config('scores = "data/scores.csv"', 'scores = "data/scores.parquet"')
    assert load_contest(load_config(sheet.config), keeps_basis=True).basis is None


@pytest.mark.parametrize("seed", range(200))
def test_the_changed_lines_are_exactly_those_that_differ(seed):
    """``changed_lines`` on random sheets of short lines: what precedes and follows the changed
    lines is the same in both, each bound is a line's start, and nothing narrower would do."""
    rng = random.Random(seed)
    header = b"h,i\n"

    def body() -> list[bytes]:
        return [rng.choice([b"a,1\n", b"a,10\n", b"b,2\n", b"ab,1\n", b"\n"]) for _ in range(rng.randint(0, 12))]

    old_lines = body()
    new_lines = list(old_lines)
    for _ in range(rng.randint(0, 3)):
        if new_lines and rng.random() < 0.5:
            new_lines.pop(rng.randrange(len(new_lines)))
        else:
            new_lines.insert(rng.randint(0, len(new_lines)), rng.choice([b"a,1\n", b"b,22\n", b"c,3\n"]))
    old, new = header + b"".join(old_lines), header + b"".join(new_lines)
    if rng.random() < 0.3 and len(old) > len(header) and len(new) > len(header):  # (no line break at the end)
        old, new = old.removesuffix(b"\n"), new.removesuffix(b"\n")
    changed = patch.changed_lines(old, new)
    assert changed is not None and changed.header_end == len(header)
    start, old_end, new_end = changed.start, changed.old_end, changed.new_end
    assert old[:start] == new[:start] and old[old_end:] == new[new_end:]
    assert len(old) - old_end == len(new) - new_end
    for data, end in ((old, old_end), (new, new_end)):
        assert start <= end and data[start - 1 : start] == b"\n"
        assert end == len(data) or data[end - 1 : end] == b"\n"
    if old != new:
        # The first and the last changed lines really changed: one line narrower at either end would not do.
        assert old[start:old_end] != new[start:new_end]
        first_old = old[start : old.find(b"\n", start) + 1 or len(old)]
        first_new = new[start : new.find(b"\n", start) + 1 or len(new)]
        assert first_old != first_new or old_end == start or new_end == start
    else:
        assert old_end == new_end == start or old[start:old_end] == new[start:new_end]


def test_a_sheet_changed_more_widely_than_the_largest_change_is_left_to_the_stream(sheet, monkeypatch):
    """Parsing the changed lines of both sheets costs about what the stream does once they span
    much of the file: beyond ``patch.LARGEST`` bytes the stream takes it."""
    monkeypatch.setattr(patch, "LARGEST", 20_000)
    assert _same_as_parsed(sheet, monkeypatch, _both(_score(10, b"3"), _score(300, b"2"))) == [True, True]
    assert _same_as_parsed(sheet, monkeypatch, _both(_score(10, b"3"), _score(3000, b"2"))) == [False, False]


def test_files_whose_lines_cannot_be_cut_without_the_parser_are_not_patched():
    assert patch.changed_lines(b"h\n1\n", b"h\n2\n") is not None
    assert patch.changed_lines(b'h\n"1\n2"\n', b'h\n"1\n3"\n') is None  # (a quote)
    assert patch.changed_lines(b"h\n1\n", b"g\n1\n") is None  # (the header)
    assert patch.changed_lines(b"h\r1\r", b"h\r2\r") is None  # (CR only)
    assert patch.changed_lines(b"h", b"h,2") is None  # (no line after the header)


def test_the_spans_around_the_changed_lines_widen_on_whole_lines_up_to_the_whole_file(monkeypatch):
    monkeypatch.setattr(patch, "_WINDOW", 8)
    monkeypatch.setattr(patch, "_WIDEST", 1 << 20)
    data = b"h\n" + b"".join(f"{i:03d},x\n".encode() for i in range(100))
    changed = patch.changed_lines(data.replace(b"050,x", b"050,y"), data)
    assert changed is not None
    spans = list(patch.around(data, changed))
    assert spans[-1] == (2, len(data))
    for (start, end), (wider_start, wider_end) in zip(spans, spans[1:], strict=False):
        assert wider_start <= start and end <= wider_end
    for start, end in spans:
        assert start <= changed.start and changed.new_end <= end
        assert data[start - 1 : start] == b"\n" and (end == len(data) or data[end - 1 : end] == b"\n")
    assert re.fullmatch(rb"(\d{3},x\n)+", data[spans[0][0] : spans[0][1]])


def _patch_of(files: ContestFiles, basis, monkeypatch: pytest.MonkeyPatch) -> bool:
    """One score of the sheet changed, loaded from ``basis``: whether the patch took it, and
    its cells are the parse's."""
    path = files.path("scores.csv")
    path.write_bytes(_score(100, b"2.5")(path.read_bytes()))
    taken = _patches(monkeypatch)
    got = load_contest(load_config(files.config), previous=basis, keeps_basis=True)
    cache.wait_for_writes()
    parsed = load_contest(load_config(files.config), fresh=True)
    assert _alike(_cells_by_name(got), _cells_by_name(parsed))
    return taken == [True]


def test_a_console_that_found_the_sheet_kept_patches_the_next_one_from_the_bytes_it_hashed(kept, monkeypatch):
    """A console started on a sheet already kept (another process streamed it) loads its kept
    cells, and keeps the bytes it hashed to find them: the next corrected sheet is patched."""
    load_contest(load_config(kept.config))  # (another process: streams the sheet, keeps its cells)
    cache.wait_for_writes()
    data = load_contest(load_config(kept.config), keeps_basis=True)
    assert data.basis is not None and data.basis.data == kept.path("scores.csv").read_bytes()
    assert _patch_of(kept, data.basis, monkeypatch)


def test_a_screen_that_took_a_claim_patches_the_next_sheet_from_the_bytes_its_check_read(kept, monkeypatch):
    """A screen that went on with another's claim has read nothing; the claim's check, once the
    other's read is over, reads the file whole and hashes it: those bytes, hashed to the
    claimed entry, are what the next corrected sheet is patched from. A claim found wrong
    gives none."""
    import time

    from conftest import claim_checks_done
    from test_cache import _claim_as_the_holder, _one_score_lower, _sheet_lock_held

    monkeypatch.setattr(cache, "LOCK_WAIT", 2.0)
    monkeypatch.setattr(cache, "_TAKES_CLAIMS", [True])
    load_contest(load_config(kept.config))
    cache.wait_for_writes()
    claim_checks_done()
    sheet = kept.path("scores.csv")
    os.utime(sheet, (time.time() + 5, time.time() + 5))  # (its stat hint no longer matches)
    time.sleep(0.05)
    _claim_as_the_holder(sheet)
    with _sheet_lock_held():
        data = load_contest(load_config(kept.config), keeps_basis=True)
        assert data.basis is not None and data.basis.data is None  # (not read: the claim taken)
    claim_checks_done()
    assert cache.claims_refuted() == []
    assert data.basis.data == sheet.read_bytes()
    assert _patch_of(kept, data.basis, monkeypatch)
    # A claim of other bytes under the file's stat: taken, then refuted; no bytes to patch from.
    cache.wait_for_writes()
    claim_checks_done()
    old_bytes = sheet.read_bytes()
    sheet.write_bytes(_one_score_lower(kept))
    time.sleep(0.05)
    _claim_as_the_holder(sheet, old_bytes)
    with _sheet_lock_held():
        taken = load_contest(load_config(kept.config), keeps_basis=True)
    claim_checks_done()
    assert cache.claims_refuted() == [sheet]
    assert taken.basis is not None and taken.basis.data is None
    # (and whoever waits for those bytes, placed scores made later, is told at once)
    started = time.monotonic()
    assert taken.basis._offers.get(taken.basis._entry, wait=5.0) is None and time.monotonic() - started < 1


def test_a_sheet_the_parse_decodes_as_cp949_is_never_patched_from(sheet, monkeypatch):
    """Korean Excel writes CSV in CP949, which the parse decodes as a whole (the stream reads
    UTF-8 only). In such a sheet a line that happens to be valid UTF-8 too (a name pasted from
    elsewhere: '간간' in UTF-8 reads '媛꾧컙' in CP949) means one evaluator to the parse and
    another to a reader of the lines around it alone, which are UTF-8 (here all ASCII but it),
    who takes it for the evaluator whose name is '간간' in CP949.
    A console that found the sheet kept (its bytes hashed to the entry) never patches the next
    one from it: it is streamed, then parsed. (Found by an attack review of the patch.)"""
    monkeypatch.setattr(patch, "_WINDOW", 256)
    monkeypatch.setattr(patch, "_WIDEST", 1024)  # (the lines around the change: ASCII, and the pasted one)
    name = "간간"
    lines = sheet.path("scores.csv").read_bytes().splitlines(keepends=True)
    pasted = next(i for i, line in enumerate(lines) if i > len(lines) // 2 and b",E02," in line)
    for i, line in enumerate(lines[1:], 1):  # (far from it, E01 is '간간' in CP949, E02 the UTF-8 bytes)
        if abs(i - pasted) > 200:
            line = line.replace(b",E01,", b"," + name.encode("cp949") + b",")
            lines[i] = line.replace(b",E02,", b"," + name.encode("utf-8") + b",")
    lines[pasted] = lines[pasted].replace(b",E02,", b"," + name.encode("utf-8") + b",")
    sheet.path("scores.csv").write_bytes(b"".join(lines))
    config = load_config(sheet.config)
    load_contest(config)  # (parsed as CP949, its cells kept)
    cache.wait_for_writes()
    basis = load_contest(config, keeps_basis=True).basis  # (the kept cells, and the bytes hashed to find them)
    assert basis is not None and basis.data is not None and not basis.utf8()
    taken = _patches(monkeypatch)
    sheet.path("scores.csv").write_bytes(_score(pasted + 1, b"1")(b"".join(lines)))  # (ASCII, in its cell)
    got = _outcome(sheet, previous=basis, keeps_basis=True)
    truth = _outcome(sheet, fresh=True)
    assert taken == [False] and got[0] == truth[0] == "loaded"
    assert _alike(got[1][0], truth[1][0]) and got[1][1] == truth[1][1]
    assert "媛꾧컙" in truth[1][0]["evaluator_set"].str.join(",").item()
