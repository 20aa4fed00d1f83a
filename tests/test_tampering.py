"""A journal written by hand: events that do not count change nothing, and nothing crashes.

Found by a hostile review after the signed lock landed: a member's own config naming them
secretary, a row with a malformed payload, a backdated event, a rewritten proposal, a
confirmation of another list, a journal cut short under a running console. (The same attacks
with real accounts and keys: tests/test_attacks.py.)
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from test_console import settled

from panel_tui.config import load_config
from panel_tui.errors import Refused
from panel_tui.meeting import Meeting
from panel_tui.session import Journal, canonical, event_hash

ENV = {**os.environ, "PYTHONIOENCODING": "utf-8"}


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "panel_tui", *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=ENV
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def db(root: Path) -> Path:
    return root / "sessions" / "2022.sqlite"


def append_raw(path: Path, kind: str, author: str, payload, *, at: str | None = None) -> int:
    """What anyone with write access can do: a correctly chained row, no signature."""
    conn = sqlite3.connect(path)
    seq, prev, last_at = conn.execute("SELECT seq, hash, at FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    seq += 1
    at = at or last_at
    text = payload if isinstance(payload, str) else canonical(payload)
    conn.execute(
        "INSERT INTO events (seq, kind, author, at, payload, prev, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (seq, kind, author, at, text, prev, event_hash(prev, seq, kind, author, at, text)),
    )
    conn.commit()
    conn.close()
    return seq


def settle(root: Path) -> None:
    for args in (
        ("decide", "tie", "--category", "service", "--order", "S01,S02", "--reason", "r"),
        ("decide", "exclude", "--candidate", "C24", "--code", "withdrawn", "--reason", "r"),
    ):
        assert cli(*args, cwd=root).returncode == 0


def with_roles(config: str, *, secretary: str, members: str) -> str:
    """The demo config's text with other secretary and members lines (TOML arrays as written)."""
    line = config[config.index("secretary = [") :].split("\n")[0]
    return config.replace('members = ["park", "choi"]', f"members = {members}").replace(
        line, f"secretary = {secretary}"
    )


def test_a_members_decision_made_with_their_own_config_does_not_count(solo: Path):
    root = solo
    assert cli("note", "--candidate", "C01", "the meeting opens", cwd=root).returncode == 0
    # A member copies the config naming themselves secretary and points it at the real session.
    mine = root / "mine.toml"
    text = (root / "config.toml").read_text(encoding="utf-8")
    mine.write_text(with_roles(text, secretary='["park"]', members="[]"), encoding="utf-8")
    # Through our API: refused before anything is written (the session keeps its roles in its
    # first event; a config with other roles writes nothing into it).
    with pytest.raises(Refused, match="not the ones this session started with"):
        Meeting(load_config(mine), db(root), who="park").exclude("C01", "disqualified", "a member decides alone")
    assert len(Journal(db(root)).events()) == 1
    # Even the contest's own config.toml, edited after the start to make park a secretary,
    # changes nothing: the roles the secretary opened the session with decide.
    real = root / "config.toml"
    real.write_text(with_roles(text, secretary='["root", "park"]', members='["choi"]'), encoding="utf-8")
    with pytest.raises(Refused, match="not the ones this session started with"):
        Meeting(load_config(real), db(root), who="park").exclude("C01", "disqualified", "a member decides alone")
    real.write_text(text, encoding="utf-8")
    # Written by hand (no command): it does not count, and the journal says so.
    append_raw(db(root), "exclusion", "park", {"candidate_id": "C01", "code": "disqualified", "reason": "alone"})
    doc = json.loads(cli("rank", "--format", "json", cwd=root).stdout)
    incheon = next(e for c in doc["categories"] for e in c["entries"] if e["candidate_id"] == "C01")
    assert incheon["status"] == "certified"  # not excluded
    log = cli("log", cwd=root).stdout
    assert "does not count: written by park, who is a member and may not record it" in log
    r = cli("verify", cwd=root)
    assert r.returncode == 2 and "event 2 (exclusion by park) does not count" in r.stdout


def test_a_malformed_event_crashes_nothing(solo: Path):
    root = solo
    assert cli("note", "--candidate", "C01", "the meeting opens", cwd=root).returncode == 0
    append_raw(db(root), "exclusion", "root", {"candidate_id": "C01"})  # no code, no reason
    append_raw(db(root), "note", "root", "null")
    append_raw(db(root), "teleport", "root", {"x": 1})
    for args in (
        ("rank",),
        ("rank", "--format", "json"),
        ("log",),
        ("log", "--format", "json"),
        ("changes",),
        ("changes", "--format", "json"),
        ("verify",),
    ):
        r = cli(*args, cwd=root)
        assert r.returncode in (0, 2), (args, r.stderr)
    log = cli("log", cwd=root).stdout
    assert "does not count: its payload is not a well-formed exclusion" in log
    assert "does not count: its payload is not a JSON object" in log
    assert "does not count: its kind 'teleport' is not one the tool writes" in log

    from panel_tui.tui.app import PanelApp

    config = load_config(root / "config.toml")

    async def scenario() -> None:
        app = PanelApp(
            Meeting(config, db(root), who="park"),
            Meeting(config, db(root), writable=False, who="park"),
            display=True,
            clock=False,
        )
        async with app.run_test(size=(120, 40)) as pilot:
            await settled(pilot, app)  # (the files are read in a worker, after the first frame)
            assert app.failures == []
            red = str(app.journal_banners()[1])
            assert "The journal does not hold: event 2 does not count" in red

    asyncio.run(scenario())


def test_a_backdated_event_damages_the_journal_and_stops_the_writes(solo: Path):
    root = solo
    assert cli("note", "--candidate", "C01", "the meeting opens", cwd=root).returncode == 0
    append_raw(
        db(root),
        "note",
        "root",
        {"text": "from the past", "candidate_id": None, "category": None},
        at="2001-01-01T00:00:00.000000+00:00",
    )
    r = cli("verify", cwd=root)
    assert r.returncode == 2 and "backdated" in r.stdout
    r = cli("note", "--candidate", "C01", "more", cwd=root)
    assert r.returncode == 3 and "the journal is damaged" in r.stderr


def test_a_rewritten_proposal_exports_nothing(solo: Path):
    root = solo
    settle(root)
    assert cli("lock", cwd=root).returncode == 0
    conn = sqlite3.connect(db(root))
    conn.execute("DROP TRIGGER events_no_update")
    seq, payload_text, prev, kind, author, at = conn.execute(
        "SELECT seq, payload, prev, kind, author, at FROM events WHERE kind = 'lock_proposed'"
    ).fetchone()
    payload = json.loads(payload_text)
    entry = payload["final"]["categories"][0]["entries"][9]
    entry["status"], entry["certified"] = "certified", True  # Ansan, certified by hand
    from panel_tui.meeting import _digest

    payload["digest"] = _digest(payload["final"], payload["files"])
    text = canonical(payload)
    conn.execute(
        "UPDATE events SET payload = ?, hash = ? WHERE seq = ?",
        (text, event_hash(prev, seq, kind, author, at, text), seq),
    )
    conn.commit()
    conn.close()
    r = cli("export", "--format", "md", "--out", "exports", cwd=root)
    # The chair's confirmation names the digest proposed, not this one; and the chain is broken.
    assert r.returncode == 3 and "not locked" in r.stderr
    assert not (root / "exports").exists()
    state = Meeting(load_config(root / "config.toml"), db(root), writable=False).state()
    assert state.lock is None and state.damage
    assert cli("verify", cwd=root).returncode == 2


def test_a_confirmation_of_another_list_does_not_lock(tmp_path: Path, solo: Path):
    root = solo
    text = (
        (root / "config.toml")
        .read_text(encoding="utf-8")
        .replace("require_chair_confirmation = false", "require_chair_confirmation = true")
    )
    (root / "config.toml").write_text(text, encoding="utf-8")
    settle(root)
    assert cli("lock", cwd=root).returncode == 0
    proposal = sqlite3.connect(db(root)).execute("SELECT seq FROM events WHERE kind = 'lock_proposed'").fetchone()[0]
    append_raw(db(root), "lock_confirmed", "lee", {"proposal": proposal, "digest": hashlib.sha256(b"x").hexdigest()})
    state = Meeting(load_config(root / "config.toml"), db(root), writable=False).state()
    assert state.lock is None and "it confirms another list" in state.untrusted[proposal + 1]
    assert cli("export", "--format", "md", "--out", "exports", cwd=root).returncode == 3


def test_a_console_names_events_it_saw_disappear(solo: Path):
    from panel_tui.tui.app import PanelApp

    root = solo
    config = load_config(root / "config.toml")
    assert cli("note", "--candidate", "C01", "first", cwd=root).returncode == 0
    assert (
        cli("decide", "exclude", "--candidate", "C02", "--code", "disqualified", "--reason", "r", cwd=root).returncode
        == 0
    )

    async def scenario() -> None:
        app = PanelApp(Meeting(config, db(root)), Meeting(config, db(root), writable=False), clock=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await settled(pilot, app)  # (the files are read in a worker, after the first frame)
            assert len(app.snapshot.state.events) == 2
            conn = sqlite3.connect(db(root))
            conn.execute("DROP TRIGGER events_no_delete")
            conn.execute("DELETE FROM events WHERE seq = 2")  # the last decision, cut off the end
            conn.commit()
            conn.close()
            for _ in range(40):
                await pilot.pause(0.1)
                if app.lost:
                    break
            assert app.lost == ["event 2, which this console had seen, was removed"]
            assert "event 2, which this console had seen, was removed" in str(app.journal_banners()[1])

    asyncio.run(scenario())


def test_the_failure_log_never_blocks_on_a_planted_fifo(solo: Path):
    from panel_tui.tui.app import PanelApp

    root = solo
    config = load_config(root / "config.toml")
    assert cli("note", "--candidate", "C01", "first", cwd=root).returncode == 0

    async def scenario() -> None:
        app = PanelApp(Meeting(config, db(root)), Meeting(config, db(root), writable=False), clock=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await settled(pilot, app)  # (the files are read in a worker, after the first frame)
            os.mkfifo(app.failure_log())
            app._failed(RuntimeError("boom"), "a test")  # returns at once, says it could not write
            await pilot.pause(0.1)
            assert "could not be written" in str(app.query_one("#failure-banner").render())

    asyncio.run(scenario())


def test_a_note_that_cannot_be_saved_stays_in_its_editor_with_the_reason(solo: Path, monkeypatch):
    """A full disk (or any write failure): the note is not lost, the console says why."""
    from panel_tui.session import SessionWriteError
    from panel_tui.tui.app import PanelApp

    root = solo
    config = load_config(root / "config.toml")

    async def scenario() -> None:
        app = PanelApp(Meeting(config, db(root)), Meeting(config, db(root), writable=False), clock=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await settled(pilot, app)  # (the files are read in a worker, after the first frame)

            def full(*args, **kwargs):
                raise SessionWriteError(
                    f"{db(root)}: cannot write the session: database or disk is full "
                    "(No space left on device); nothing was recorded"
                )

            monkeypatch.setattr(app.meeting, "note", full)
            await pilot.press("n")
            await pilot.pause(0.2)
            await pilot.press(*"the panel's reasoning")
            await pilot.press("ctrl+s")
            await pilot.pause(0.3)
            assert type(app.screen).__name__ == "NoteScreen"  # still open
            assert app.screen.query_one("TextArea").text == "the panel's reasoning"
            said = [n.message for n in app._notifications]
            assert any("No space left on device" in m and "nothing was recorded" in m for m in said), said

    asyncio.run(scenario())


def test_a_member_who_writes_first_with_their_own_roles_pins_nothing(solo: Path):
    """Before the secretary opens the session (unsigned: anyone may write first), a member's
    first event made with a config naming them secretary keeps roles nobody trusts: the
    secretary still writes, and the member's decision does not count."""
    root = solo
    text = (root / "config.toml").read_text(encoding="utf-8")
    mine = root / "mine.toml"
    mine.write_text(with_roles(text, secretary='["park"]', members="[]"), encoding="utf-8")
    Meeting(load_config(mine), db(root), who="park").exclude("C01", "disqualified", "a member decides alone")
    assert cli("note", "--candidate", "C01", "the secretary writes on", cwd=root).returncode == 0
    doc = json.loads(cli("rank", "--format", "json", cwd=root).stdout)
    incheon = next(e for c in doc["categories"] for e in c["entries"] if e["candidate_id"] == "C01")
    assert incheon["status"] == "certified"
    assert "does not count: written by park, who is a member" in cli("log", cwd=root).stdout
