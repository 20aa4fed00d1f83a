"""Text from the files and the journal is data, through every command, export and screen.

The hostile contest (tests/hostile.py) puts markup, terminal escapes, bidi and zero-width
characters, formula prefixes and Markdown specials into every string field. Every command
must live, print no raw escape, keep JSON exact; every export must be inert; every console
screen must show the exact text, visibly, and never die.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import polars as pl
import pytest
from hostile import CONTEST_NAME, HOSTILE, RAW, make_hostile_contest
from pseudo_terminal import Terminal
from test_console import settled

from panel_tui.text import visible

ENV = {**os.environ, "PYTHONIOENCODING": "utf-8"}


def cli(root: Path, *args: str, expect: int = 0) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "panel_tui", *args],
        cwd=root,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=ENV,
        timeout=120,
    )
    assert done.returncode == expect, f"{args}: exit {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    assert "Traceback" not in done.stderr, done.stderr
    for stream in (done.stdout, done.stderr):
        for raw in RAW:
            assert raw not in stream, f"{args} printed {raw!r} raw"
        if "--format" not in args or "json" not in args:
            assert "\x1b" not in stream, f"{args} printed an escape character"
    return done


def ids(doc: dict) -> dict[str, dict]:
    return {e["candidate_id"]: e for c in doc["categories"] for e in c["entries"]}


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    make_hostile_contest(tmp_path, chair_confirms=False)
    return tmp_path


def test_every_command_prints_the_hostile_contest_as_text_and_json_keeps_it_exact(hostile: Path):
    root = hostile
    cli(root, "validate")
    table = cli(root, "rank").stdout
    assert visible(CONTEST_NAME) in table and "[/] Incheon" in table and "␛]0;pwned␇ Cheonan" in table
    from panel_tui.config import load_config
    from panel_tui.inputs import load_contest

    candidates = load_contest(load_config(root / "config.toml")).candidates  # as the loader reads them
    names = dict(zip(candidates["candidate_id"].cast(pl.String), candidates["name"], strict=False))
    assert names["[link=x]C13"] == "cr\rover Seoul Gangdong-gu (서울 강동구)"
    doc = json.loads(cli(root, "rank", "--format", "json").stdout)
    assert {cid: e["name"] for cid, e in ids(doc).items()} == names  # exact, escapes and all
    assert "\x1b" not in cli(root, "rank", "--format", "json").stdout  # JSON escapes, not raw
    rows = list(csv.DictReader(io.StringIO(cli(root, "rank", "--format", "csv").stdout)))
    assert all(not v.startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows for v in r.values() if v)

    entries = ids(doc)
    pending = next(cid for cid, e in entries.items() if e["status"] == "pending")
    tie = doc["categories"][2]["unresolved_ties"][0]
    service = doc["categories"][2]["id"]
    first = next(iter(entries))
    for i, note in enumerate(HOSTILE):
        cli(root, "note", f"--candidate={first if i % 2 else pending}", "--", note)  # ids and notes may start with -
    cli(root, "focus", f"--candidate={first}")
    cli(
        root,
        "decide",
        "exclude",
        f"--candidate={pending}",
        "--code",
        "withdrawn",
        "--reason",
        "=cmd|' /C calc'!A0 \x1b[2J",
    )
    cli(
        root,
        "decide",
        "tie",
        f"--category={service}",
        f"--order={','.join(reversed(tie))}",
        "--reason",
        "[/] the panel \u202ereversed | =1+1\nsecond line",
    )
    log = cli(root, "log").stdout
    assert len(log.strip().splitlines()) == len(HOSTILE) + 3  # one line per event: a newline forges none
    assert "␛]0;pwned␇" in log and "line␊break" in log
    events = json.loads(cli(root, "log", "--format", "json").stdout)
    assert [e["payload"]["text"] for e in events if e["kind"] == "note"] == [h.strip() for h in HOSTILE]  # exact
    cli(root, "changes")
    cli(root, "changes", "--format", "json")
    cli(root, "validate")
    cli(root, "evaluators")
    evaluators = json.loads(cli(root, "evaluators", "--format", "json").stdout)
    assert {"[/]E01", "=E02"} <= {e["evaluator_id"] for e in evaluators} or len(evaluators) == 13
    lock = cli(root, "lock").stdout
    fingerprint = re.search(r"FINGERPRINT\s+(\S+)", lock).group(1)
    cli(root, "verify", "--fingerprint", fingerprint)
    for fmt in ("csv", "xlsx", "json", "md"):
        cli(root, "export", "--format", fmt, "--out", "exports")

    out = root / "exports"
    # CSV: no cell a spreadsheet would run; the names otherwise exact.
    with (out / "final-list-hostile.csv").open(encoding="utf-8-sig", newline="") as f:
        exported = list(csv.DictReader(f))
    for row in exported:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
        name = names[row["candidate_id"].removeprefix("'")]
        assert row["name"] == ("'" + name if name.startswith(("=", "+", "-", "@", "\t", "\r")) else name)
    # XLSX: no formula anywhere, every name a string cell, exact.
    with zipfile.ZipFile(out / "final-list-hostile.xlsx") as z:
        for member in z.namelist():
            if member.startswith("xl/worksheets/"):
                assert "<f>" not in z.read(member).decode(), member
    sheet = pl.read_excel(out / "final-list-hostile.xlsx", sheet_name="Final list")
    assert dict(zip(sheet["candidate_id"], sheet["name"], strict=False)) == {
        cid: names[cid] for cid in sheet["candidate_id"]
    }
    # JSON: exact.
    final = json.loads((out / "final-list-hostile.json").read_text(encoding="utf-8"))
    assert {cid: e["name"] for cid, e in ids(final).items()} == names
    # Markdown: every table row keeps its columns, nothing becomes a tag, a link or a new row.
    md = (out / "final-list-hostile.md").read_text(encoding="utf-8")
    for line in md.splitlines():
        if line.startswith("| "):
            assert len(re.findall(r"(?<!\\)\|", line)) == 6, line
    assert not re.search(r"(?<!\\)<(?!br>)", md) and not re.search(r"(?<!\\)\]\(", md) and "\x1b" not in md
    assert "\\<script\\>alert(1)\\</script\\>" in md  # shown, as text


def _screen_text(app) -> str:
    """Everything the current screen shows, as plain text."""
    from textual.widgets import DataTable, Static

    parts = []
    for widget in app.screen.query("*"):
        if isinstance(widget, Static):
            parts.append(str(widget.render()))
        elif isinstance(widget, DataTable):
            for row in range(widget.row_count):
                parts.extend(str(getattr(v, "plain", v)) for v in widget.get_row_at(row))
            parts.extend(str(c.label) for c in widget.columns.values())
    return "\n".join(parts)


def test_every_console_screen_shows_the_hostile_text_literally(tmp_path: Path):
    from panel_tui.config import load_config
    from panel_tui.meeting import Meeting
    from panel_tui.tui.app import PanelApp

    config_path = make_hostile_contest(tmp_path, secretary="kim", chair="lee")
    config = load_config(config_path)
    session = tmp_path / "sessions" / "hostile.sqlite"

    def app_for(who: str, *, display: bool = False) -> PanelApp:
        return PanelApp(
            Meeting(config, session, who=who),
            Meeting(config, session, writable=False, who=who),
            display=display,
            exports=tmp_path / "exports",
            clock=False,
        )

    async def settle(pilot, app, condition=lambda: True):
        for _ in range(100):
            await pilot.pause(0.05)
            if app.snapshot is not None and not app.workers._workers and condition():
                return
        raise AssertionError("the console did not settle")

    async def scenario() -> None:
        kim = Meeting(config, session, who="kim")
        lee = Meeting(config, session, who="lee")
        app = app_for("kim")
        async with app.run_test(size=(200, 50)) as pilot:
            await settle(pilot, app)
            board = app.board(config.categories[0].id)
            first = board.selected_candidate
            name = app.name_of(first)
            assert board.cell_text(first, "name") == visible(app.snapshot.standings.boards[0].entries["name"][0])
            assert "[/]A1" in _screen_text(app)  # an area id as a column label
            # Focus, a note with every hostile string, the detail.
            await pilot.press("f")
            await settle(pilot, app, lambda: app.snapshot.state.focus == first)
            assert str(app.query_one("#focus-banner").render()) == visible(f"Under discussion: {name}")
            for text in HOSTILE:
                kim.note(text, candidate=first)
            await settle(pilot, app, lambda: len(app.snapshot.state.notes) == len(HOSTILE))
            await pilot.press("enter")
            await settle(pilot, app, lambda: type(app.screen).__name__ == "DetailScreen")
            shown = _screen_text(app)
            for text in HOSTILE:
                assert visible(text.strip(), lines=True) in shown, text  # (a note is stored trimmed)
            assert visible(CONTEST_NAME) in app.title
            await pilot.press("escape")
            # The calibration view: evaluator ids.
            await pilot.press("e")
            await settle(pilot, app, lambda: type(app.screen).__name__ == "EvaluatorsScreen")
            await settle(pilot, app, lambda: "[/]E" in _screen_text(app) or "=E" in _screen_text(app))
            await pilot.press("escape")
            # The discussion of the services board: its tie and notes.
            await pilot.press("3")
            services = config.categories[2].id
            await pilot.press("d")
            await settle(pilot, app, lambda: type(app.screen).__name__ == "DiscussionScreen")
            assert visible(config.categories[2].label) in _screen_text(app)
            await pilot.press("escape")
            # Decisions with hostile reasons, the lock screen, the proposal, the confirmation.
            board3 = app.snapshot.standings.board(services)
            tie = list(board3.unresolved_ties[0])
            kim.decide_tie(services, list(reversed(tie)), "[/] =1+1 \x1b]0;pwned\x07 | reason\nline two")
            pending = app.snapshot.standings.boards[1].entries.filter(pl.col("status") == "pending")["candidate_id"][0]
            kim.exclude(pending, "withdrawn", "[@click=app.quit]q[/] \u202eevil")
            await settle(pilot, app, lambda: not any(b.unresolved_ties for b in app.snapshot.standings.boards))
            await pilot.press("l")
            await settle(pilot, app, lambda: type(app.screen).__name__ == "LockScreen")
            shown = _screen_text(app)
            assert visible("[/] =1+1 \x1b]0;pwned\x07 | reason\nline two") in shown
            assert "[@click=app.quit]q[/] \\u202eevil" in shown
            await pilot.press("p")
            await settle(pilot, app, lambda: app.snapshot.state.proposal is not None)
            lee.confirm_lock()
            await settle(pilot, app, lambda: app.locked)
            # A bad scores file whose cell holds markup: the banner shows it literally.
            scores = tmp_path / "data" / "scores.csv"
            good = scores.read_bytes()
            scores.write_bytes(good + b"[/],=E01,[link=x]x,1\n")
            await settle(pilot, app, lambda: app.files_error is not None)
            assert "[/]" in str(app.query_one("#error-banner").render())
            scores.write_bytes(good)
            await settle(pilot, app, lambda: app.files_error is None)
            assert app.failures == []

        display = app_for("park", display=True)
        async with display.run_test(size=(120, 40)) as pilot:
            await settle(
                pilot,
                display,
                lambda: type(display.screen).__name__ == "LockScreen" and "line two" in _screen_text(display),
            )
            shown = _screen_text(display)
            assert visible("[/] =1+1 \x1b]0;pwned\x07 | reason\nline two") in shown
            # Read-only through the palette too.
            titles = [c.title for c in display.get_system_commands(display.screen)]
            assert not any(t.startswith(("export:", "go to: discussion", "go to: evaluator")) for t in titles)
            assert "Screenshot" not in titles
            display._palette_action("discuss")
            await pilot.pause(0.1)
            assert type(display.screen).__name__ == "Screen"  # back to the boards, no discussion
            display.export("csv")
            await pilot.pause(0.1)
            assert not (tmp_path / "exports").exists()
            assert display.failures == []

    asyncio.run(scenario())


def test_a_failure_keeps_the_console_up_with_a_banner_and_a_log(tmp_path: Path, monkeypatch):
    from panel_tui import views
    from panel_tui.config import load_config
    from panel_tui.meeting import Meeting
    from panel_tui.tui import app as app_module
    from panel_tui.tui import screens

    monkeypatch.setattr(app_module.PanelApp, "raise_failures", False)
    config_path = make_hostile_contest(tmp_path, secretary="kim")
    config = load_config(config_path)
    session = tmp_path / "sessions" / "hostile.sqlite"
    app = app_module.PanelApp(
        Meeting(config, session, who="kim"), Meeting(config, session, writable=False, who="kim"), clock=False
    )

    def broken_compose(self):
        raise RuntimeError("a bug while showing the detail [/] \x1b]0;x\x07")

    async def scenario() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await settled(pilot, app)  # (the files are read in a worker, after the first frame)
            monkeypatch.setattr(screens.DetailScreen, "compose", broken_compose)
            await pilot.press("enter")
            await pilot.pause(0.5)
            assert type(app.screen).__name__ == "Screen"  # the failed screen closed, the boards stay
            banner = str(app.query_one("#failure-banner").render())
            assert "Something went wrong showing the candidate's detail; the meeting can go on" in banner
            log = app.failure_log()
            assert str(log) in banner and "RuntimeError: a bug while showing the detail" in log.read_text()
            # A failing reload (a bug in a worker) keeps the last good boards.
            monkeypatch.setattr(views, "standings", lambda *a, **k: 1 / 0)  # (the reload's snapshot: views)
            app.reload(True)
            await pilot.pause(0.5)
            assert "the new scores or decisions" in str(app.query_one("#failure-banner").render())
            assert app.snapshot is not None and app.board(config.categories[0].id).row_count > 0
            # The app still answers keys.
            await pilot.press("2")
            await pilot.pause(0.1)
            assert app.current_table.category_id == config.categories[1].id
            assert len(app.failures) == 2 and app.is_running

    asyncio.run(scenario())


def test_no_escape_from_the_files_reaches_the_real_terminal(tmp_path: Path):
    """The real console in a pseudo-terminal: its output holds none of the hostile sequences."""
    config = make_hostile_contest(tmp_path, chair_confirms=False)
    subprocess.run(
        [sys.executable, "-m", "panel_tui", "note", "--candidate=-C01", "\x1b]0;pwned\x07 in a note"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        env=ENV,
    )
    visibly = "␛]0;pwned␇".encode()
    with Terminal([sys.executable, "-m", "panel_tui", "--config", str(config)], cwd=tmp_path, env=ENV,
                  size=(200, 50)) as terminal:  # fmt: skip
        assert terminal.wait_for(lambda screen: visibly in screen), "the board did not show the name visibly"
        terminal.type(b"\r")  # the detail of the first candidate: its notes
        time.sleep(2)
        terminal.type(b"\x1b")
        time.sleep(1)  # (an ESC followed at once by q reads as alt+q)
        terminal.type(b"q")
        terminal.child.wait(timeout=15)
    screen = bytes(terminal.screen)
    for raw in RAW:
        assert raw.encode() not in screen, f"{raw!r} reached the terminal"
    assert b"Traceback" not in screen
