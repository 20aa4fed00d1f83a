"""The session (SPEC §4-5): journal, roles from real OS accounts, lock, verify, exports, tampering."""

from __future__ import annotations

import grp
import json
import os
import pwd
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import accounts
import pytest
from conftest import lower_scores

from panel_tui.session import GENESIS, Journal, check_chain

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "panel_tui" / "demo"
ME = __import__("pwd").getpwuid(os.geteuid()).pw_name


def cli(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "panel_tui", *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env
    )


def settle(cwd: Path) -> None:
    """Decide what blocks the demo's lock: the rank-1 service tie and the pending candidate."""
    r = cli("decide", "tie", "--category", "service", "--order", "S01,S02", "--reason", "more citizens served", cwd=cwd)
    assert r.returncode == 0, r.stderr
    r = cli("decide", "exclude", "--candidate", "C24", "--code", "withdrawn", "--reason", "letter of 12 Sept", cwd=cwd)
    assert r.returncode == 0, r.stderr


# -- the journal ------------------------------------------------------------------------


def test_events_are_chained_and_attributed_to_the_os_account(solo):
    env = {**os.environ, "USER": "somebody-else", "LOGNAME": "somebody-else"}
    assert cli("note", "--candidate", "C04", "E05 recused", cwd=solo, env=env).returncode == 0
    assert cli("focus", "--candidate", "S01", cwd=solo).returncode == 0
    with Journal(solo / "sessions" / "2022.sqlite") as journal:
        events = journal.events()
        assert [e.kind for e in events] == ["note", "focus"]
        assert {e.author for e in events} == {ME}  # never $USER
        assert events[1].prev == events[0].hash
        assert check_chain(journal.raw_rows()) == []
        mode = journal.connect().execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_rank_applies_the_sessions_decisions_and_reports_the_lock(solo):
    doc = json.loads(cli("rank", "--format", "json", cwd=solo).stdout)
    assert doc["locked"] is False
    assert doc["categories"][2]["unresolved_ties"] == [["S01", "S02"]]
    settle(solo)
    doc = json.loads(cli("rank", "--format", "json", cwd=solo).stdout)
    service = {e["candidate_id"]: e for e in doc["categories"][2]["entries"]}
    assert (service["S01"]["rank"], service["S02"]["rank"], service["S02"]["decided_by"]) == (1, 2, "panel")
    assert service["S01"]["top"] is True
    small = {e["candidate_id"]: e for e in doc["categories"][1]["entries"]}
    assert small["C24"]["status"] == "excluded"
    assert cli("lock", cwd=solo).returncode == 0
    assert json.loads(cli("rank", "--format", "json", cwd=solo).stdout)["locked"] is True


def test_concurrent_writers_lose_nothing(tmp_path):
    path = tmp_path / "s.sqlite"
    Journal(path).connect()
    script = textwrap.dedent(f"""
        import sys
        from panel_tui.session import Journal
        j = Journal({str(path)!r})
        for i in range(250):
            j.append("note", "w" + sys.argv[1], {{"text": f"{{sys.argv[1]}}-{{i}}"}})
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, str(w)], cwd=ROOT) for w in range(4)]
    assert [p.wait(timeout=300) for p in procs] == [0, 0, 0, 0]
    with Journal(path) as journal:
        events = journal.events()
        assert len(events) == 1000
        assert [e.seq for e in events] == list(range(1, 1001))
        assert check_chain(journal.raw_rows()) == []
        texts = {e.payload["text"] for e in events}
    assert texts == {f"{w}-{i}" for w in range(4) for i in range(250)}


def _deleted_session_files_open() -> list[str]:
    """The session files this process still has open though they were deleted under it."""
    fds = Path("/proc/self/fd")
    return [t for t in (os.readlink(fd) for fd in fds.iterdir() if fd.exists()) if t.endswith("(deleted)")]


def test_a_console_keeps_seeing_the_session_after_its_own_write_and_another_process_s(tmp_path):
    """A found bug: after its own write the console fixed the files' modes by opening and closing
    them, which dropped SQLite's POSIX locks; the next command that closed deleted the -wal under
    it, the console saw nothing more, and its next write found the database "malformed"."""
    folder = tmp_path / "sessions"
    folder.mkdir()
    folder.chmod(0o2775)  # a group-shared folder: the writer fixes the files' modes
    path = folder / "s.sqlite"
    console = Journal(path)
    console.append("note", "console", {"text": "mine"})
    script = textwrap.dedent(f"""
        from panel_tui.session import Journal
        with Journal({str(path)!r}) as j:
            j.append("note", "other", {{"text": "theirs"}})
    """)
    for round in range(3):
        subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=60)
        assert [e.payload["text"] for e in console.events()][-1] == "theirs", round
        assert not [t for t in _deleted_session_files_open() if "s.sqlite" in t]
        console.append("note", "console", {"text": f"mine {round}"})  # no "database disk image is malformed"
    console.close()
    with Journal(path) as journal:
        assert check_chain(journal.raw_rows()) == []
        assert len(journal.events()) == 7


def test_a_writer_killed_mid_stream_loses_nothing_it_acknowledged(tmp_path):
    path = tmp_path / "s.sqlite"
    script = textwrap.dedent(f"""
        import sys
        from panel_tui.session import Journal
        j = Journal({str(path)!r})
        i = 0
        while True:
            e = j.append("note", "writer", {{"text": str(i)}})
            print(e.seq, flush=True)  # acknowledged only after the commit returned
            i += 1
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    acknowledged = []
    for line in proc.stdout:
        acknowledged.append(int(line))
        if len(acknowledged) == 60:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    with Journal(path) as journal:
        stored = [e.seq for e in journal.events()]
        assert check_chain(journal.raw_rows()) == []
    assert set(acknowledged) <= set(stored)


# -- refusals -----------------------------------------------------------------------------


def test_lock_is_refused_while_pending_or_tied(solo):
    r = cli("lock", cwd=solo)
    assert r.returncode == 3
    assert "C24" in r.stderr and "S01, S02" in r.stderr


def test_decisions_are_checked(solo):
    r = cli("decide", "tie", "--category", "service", "--order", "S01,S03", "--reason", "x", cwd=solo)
    assert r.returncode == 2 and "not a group of fully tied candidates" in r.stderr
    r = cli("decide", "exclude", "--candidate", "C24", "--code", "bored", "--reason", "x", cwd=solo)
    assert r.returncode == 2 and "reason code" in r.stderr
    r = cli("decide", "exclude", "--candidate", "C99", "--code", "other", "--reason", "x", cwd=solo)
    assert r.returncode == 2 and "C99" in r.stderr
    r = cli("decide", "tie", "--category", "service", "--order", "S01,S02", "--reason", " ", cwd=solo)
    assert r.returncode == 2 and "reason" in r.stderr
    assert not (solo / "sessions" / "2022.sqlite").exists() or Journal(solo / "sessions" / "2022.sqlite").events() == []


def test_an_export_folder_that_cannot_be_written_is_named_with_exit_2(solo):
    for args in (
        ("decide", "tie", "--category", "service", "--order", "S01,S02", "--reason", "r"),
        ("decide", "exclude", "--candidate", "C24", "--code", "withdrawn", "--reason", "r"),
        ("lock",),
    ):
        assert cli(*args, cwd=solo).returncode == 0
    (solo / "taken").write_text("a file where the folder should be")
    r = cli("export", "--format", "md", "--out", "taken/exports", cwd=solo)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "taken/exports: cannot write the export here (Not a directory)" in r.stderr


def test_exports_of_one_lock_are_the_same_bytes_every_time(solo):
    """Two exports of the same lock, a second apart, are identical in every format (an XLSX
    once carried the time it was written)."""
    settle(solo)
    assert cli("lock", cwd=solo).returncode == 0
    formats = ("csv", "xlsx", "json", "md")
    first = {}
    for fmt in formats:
        r = cli("export", "--format", fmt, "--out", "one", cwd=solo)
        assert r.returncode == 0, r.stderr
    time.sleep(1.1)  # xlsxwriter stamps a workbook to the second
    for fmt in formats:
        assert cli("export", "--format", fmt, "--out", "two", cwd=solo).returncode == 0
    first = {p.name: p.read_bytes() for p in (solo / "one").iterdir()}
    second = {p.name: p.read_bytes() for p in (solo / "two").iterdir()}
    assert len(first) == len(formats) and first.keys() == second.keys()
    for name in first:
        assert first[name] == second[name], f"{name} differs between two exports of the same lock"


def test_export_only_from_a_locked_list(solo):
    r = cli("export", "--format", "csv", "--out", "out", cwd=solo)
    assert r.returncode == 3 and "not locked" in r.stderr


def test_every_write_after_the_lock_is_refused(solo):
    settle(solo)
    assert cli("lock", cwd=solo).returncode == 0
    for args in (
        ("note", "late"),
        ("focus", "--candidate", "C01"),
        ("decide", "exclude", "--candidate", "C01", "--code", "other", "--reason", "x"),
        ("lock",),
    ):
        r = cli(*args, cwd=solo)
        assert r.returncode == 3, args
        assert "locked" in r.stderr


def test_a_viewer_is_refused_with_the_role_needed(tmp_path):
    shutil.copytree(DEMO / "data", tmp_path / "data")
    shutil.copy(DEMO / "config.toml", tmp_path / "config.toml")  # this account holds no role there
    r = cli("note", "hello", cwd=tmp_path)
    assert r.returncode == 3 and "secretary or chair or member" in r.stderr and "viewer" in r.stderr
    r = cli("lock", cwd=tmp_path)
    assert r.returncode == 3 and "needs the role secretary" in r.stderr


# -- verify and tampering -------------------------------------------------------------------


def locked(solo: Path) -> Path:
    cli("note", "--candidate", "C04", "first note", cwd=solo)
    settle(solo)
    r = cli("lock", cwd=solo)
    assert r.returncode == 0, r.stderr
    r = cli("verify", cwd=solo)
    assert r.returncode == 0 and "verified" in r.stdout, r.stdout
    return solo / "sessions" / "2022.sqlite"


def tamper(path: Path, *sql: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER IF EXISTS events_no_update")
    conn.execute("DROP TRIGGER IF EXISTS events_no_delete")
    for statement in sql:
        conn.execute(statement)
    conn.commit()
    conn.close()


def test_verify_catches_an_edited_event(solo):
    db = locked(solo)
    tamper(db, """UPDATE events SET payload = replace(payload, 'more citizens', 'fewer citizens') WHERE seq = 2""")
    r = cli("verify", cwd=solo)
    assert r.returncode == 2
    assert "event 2" in r.stdout and "edited" in r.stdout


def test_verify_catches_a_removed_event(solo):
    db = locked(solo)
    tamper(db, "DELETE FROM events WHERE seq = 1")
    r = cli("verify", cwd=solo)
    assert r.returncode == 2 and "event 1 is missing" in r.stdout


def test_verify_catches_reordered_events(solo):
    db = locked(solo)
    tamper(
        db,
        "UPDATE events SET seq = 100 WHERE seq = 2",
        "UPDATE events SET seq = 2 WHERE seq = 3",
        "UPDATE events SET seq = 3 WHERE seq = 100",
    )
    r = cli("verify", cwd=solo)
    assert r.returncode == 2 and "event 2" in r.stdout


def test_verify_catches_a_changed_scores_file(solo):
    locked(solo)
    lower_scores(solo / "data" / "scores.csv")
    r = cli("verify", cwd=solo)
    assert r.returncode == 2
    assert "scores file changed since the lock" in r.stdout
    assert "differs from the locked one" in r.stdout and "C05 total" in r.stdout


def test_verify_catches_a_list_that_no_longer_matches(solo):
    locked(solo)
    # A candidate moved to another category: the list changes, every other file's digest holds.
    cands = solo / "data" / "candidates.csv"
    cands.write_text(
        cands.read_text(encoding="utf-8").replace("C05,Yongin (용인시),large_city", "C05,Yongin (용인시),small_city"),
        encoding="utf-8",
    )
    r = cli("verify", cwd=solo)
    assert r.returncode == 2
    assert "candidates file changed" in r.stdout and "differs from the locked one" in r.stdout and "C05" in r.stdout


# -- two real OS accounts -----------------------------------------------------------------

HOLD = textwrap.dedent("""
    import sys
    from panel_tui.session import Journal, account
    j = Journal(sys.argv[1])
    j.append("note", account(), {"candidate_id": None, "category": None, "text": "the secretary opens the meeting"})
    print("open", flush=True)
    sys.stdin.read()
""")


@pytest.fixture(scope="module")
def panel():
    return accounts.accounts_runner()


def test_secretary_and_chair_run_the_whole_scenario(panel):
    root = accounts.shared_contest(confirm=True)
    exports = root / "exports"
    exports.mkdir()
    os.chown(exports, 0, grp.getgrnam(accounts.GROUP).gr_gid)
    os.chmod(exports, 0o2770)
    sec, chair, member = accounts.SECRETARY, accounts.CHAIR, accounts.MEMBER
    try:

        def ok(user, *args):
            r = panel.run(user, *args, cwd=root, umask=0o077)  # a strict umask must not matter
            assert r.returncode == 0, (user, args, r.stderr)
            return r

        def refused(user, *args):
            r = panel.run(user, *args, cwd=root, umask=0o077)
            assert r.returncode == 3, (user, args, r.returncode, r.stderr)
            assert "Traceback" not in r.stderr
            return r

        db = root / "sessions" / "2022.sqlite"
        # The secretary's console holds the session open (so its -wal and -shm exist) while the
        # chair writes: every file must be group-writable though the secretary's umask is 077.
        holder = subprocess.Popen(
            [panel.python, "-c", HOLD, str(db)],
            env=panel.env,
            cwd=root,
            user=sec,
            group=accounts.GROUP,
            umask=0o077,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout.readline().strip() == "open"
            for f in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
                st = f.stat()
                assert st.st_mode & stat.S_IWGRP and st.st_mode & stat.S_IRGRP, f"{f} {stat.filemode(st.st_mode)}"
                assert st.st_gid == grp.getgrnam(accounts.GROUP).gr_gid
            ok(chair, "note", "--candidate", "C04", "E05 recused: advised Siheung in 2021")
        finally:
            holder.stdin.close()
            holder.wait(timeout=60)
        ok(member, "note", "--category", "service", "both services are parking-related")
        refused(member, "focus", "--candidate", "S01")
        ok(chair, "focus", "--candidate", "S01")
        ok(
            sec,
            "decide",
            "tie",
            "--category",
            "service",
            "--order",
            "S01,S02",
            "--reason",
            "Smart City Pass serves more citizens",
        )
        ok(sec, "decide", "exclude", "--candidate", "C24", "--code", "withdrawn", "--reason", "withdrew on 12 Sept")
        refused(chair, "lock")
        refused(sec, "confirm-lock")
        proposed = ok(sec, "lock")
        assert "a chair must confirm" in proposed.stdout
        ok(sec, "note", "--candidate", "C01", "a note after the proposal does not change the list")
        confirmed = ok(chair, "confirm-lock")
        assert "FINGERPRINT" not in proposed.stdout  # it binds the confirmation, which comes next
        fp = confirmed.stdout.split("FINGERPRINT")[1].split()[0]
        refused(sec, "note", "too late")
        verify = ok(member, "verify")
        assert "verified: everything holds" in verify.stdout
        log = ok(member, "log").stdout
        assert sec in log and chair in log and member in log
        for fmt in ("csv", "xlsx", "json", "md"):
            ok(sec, "export", "--format", fmt, "--out", str(exports))
        # In the shared folder the panel reads the exports whatever the secretary's umask (077),
        # and the chair may write one again over the secretary's.
        assert (exports / "final-list-2022.md").stat().st_mode & 0o060 == 0o060
        ok(chair, "export", "--format", "md", "--out", str(exports))
        assert (exports / "final-list-2022.md").stat().st_uid == pwd.getpwnam(chair).pw_uid
        assert [p.name for p in exports.iterdir() if p.name.startswith(".")] == []  # no temporary left
        csv_bytes = (exports / "final-list-2022.csv").read_bytes()
        assert csv_bytes.startswith(b"\xef\xbb\xbf") and fp.encode() in csv_bytes
        doc = json.loads((exports / "final-list-2022.json").read_text(encoding="utf-8"))
        assert doc["fingerprint"] == fp and doc["proposed_by"] == sec and doc["confirmed_by"] == chair
        md = (exports / "final-list-2022.md").read_text(encoding="utf-8")
        assert fp in md and "Incheon" in md and "Smart City Pass serves more citizens" in md
        import polars as pl

        sheet = pl.read_excel(exports / "final-list-2022.xlsx", sheet_name="Final list")
        assert set(sheet["fingerprint"].to_list()) == {fp}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_the_chair_must_confirm_the_list_as_proposed(panel):
    root = accounts.shared_contest(confirm=True)
    sec, chair = accounts.SECRETARY, accounts.CHAIR
    try:
        for args in (
            ("decide", "tie", "--category", "service", "--order", "S01,S02", "--reason", "r"),
            ("decide", "exclude", "--candidate", "C24", "--code", "withdrawn", "--reason", "r"),
            ("lock",),
        ):
            assert panel.run(sec, *args, cwd=root).returncode == 0
        # the scores move after the proposal: the chair may not confirm a different list
        lower_scores(root / "data" / "scores.csv")
        r = panel.run(chair, "confirm-lock", cwd=root)
        assert r.returncode == 3 and "is stale: scores.csv changed at" in r.stderr
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_an_account_that_cannot_write_is_told_which_file_and_permission(panel):
    root = accounts.shared_contest(confirm=True)
    try:
        sessions = root / "sessions"
        os.chmod(sessions, 0o755)  # not group-shared: the secretary cannot create the session
        r = panel.run(accounts.SECRETARY, "note", "hello", cwd=root)
        assert r.returncode == 3 and str(sessions) in r.stderr and "write permission" in r.stderr  # refused
        os.chmod(sessions, 0o2777)
        # a session created by one account with a private umask outside a shared folder
        os.chmod(sessions, 0o777)
        assert panel.run(accounts.SECRETARY, "note", "hello", cwd=root, umask=0o022).returncode == 0
        r = panel.run(accounts.CHAIR, "note", "hi", cwd=root)
        db = sessions / "2022.sqlite"
        assert r.returncode == 3 and str(db) in r.stderr and "not write" in r.stderr and "rw-r--r--" in r.stderr
        assert "Traceback" not in r.stderr
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_verify_with_the_announced_fingerprint_catches_a_removed_lock(solo):
    db = locked(solo)
    fingerprint = cli("log", cwd=solo).stdout.strip().splitlines()[-1].split()[-1]
    assert cli("verify", "--fingerprint", fingerprint, cwd=solo).returncode == 0
    assert cli("verify", "--fingerprint", "0000-0000-0000-0000", cwd=solo).returncode == 2
    tamper(db, "DELETE FROM events WHERE kind IN ('lock_proposed', 'lock_confirmed')")
    assert cli("verify", cwd=solo).returncode == 0  # the chain alone cannot tell a truncated tail
    r = cli("verify", "--fingerprint", fingerprint, cwd=solo)
    assert r.returncode == 2 and "no lock in this session" in r.stdout


def test_verify_reports_a_lock_whose_proposal_was_removed(solo):
    db = locked(solo)
    tamper(db, "DELETE FROM events WHERE kind = 'lock_proposed'")
    r = cli("verify", cwd=solo)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "is missing" in r.stdout and "which is not a lock proposal" in r.stdout


def test_a_reader_of_a_session_file_not_yet_given_its_table_sees_an_empty_journal(tmp_path):
    """The first writer in a shared folder creates the file (0660) a moment before SQLite
    writes the table into it; a display polling in that moment reads an empty journal."""
    path = tmp_path / "s.sqlite"
    path.touch()
    reader = Journal(path, writable=False)
    assert reader.events() == []
    assert reader.head() == (0, GENESIS)
    with Journal(path) as writer:
        writer.append("note", "kim", {"text": "first", "category": "service"})
    assert [e.kind for e in reader.events()] == ["note"]  # the same connection sees the table now
    reader.close()


def test_session_init_opens_the_meeting_keeping_the_roles(solo):
    """The secretary's `session init` writes the first event: nobody under discussion, the list
    as it stands and the roles, which decide from then on."""
    r = cli("session", "init", cwd=solo)
    assert r.returncode == 0 and "opened by root in event 1" in r.stdout, r.stdout
    (first,) = Journal(solo / "sessions" / "2022.sqlite").events()
    assert first.kind == "focus" and first.payload["candidate_id"] is None
    assert first.payload["roles_at_start"]["secretary"] == ["root"]
    assert "list_at_start" in first.payload
    r = cli("session", "init", cwd=solo)  # again: nothing more written
    assert r.returncode == 0 and len(Journal(solo / "sessions" / "2022.sqlite").events()) == 1


def test_a_command_run_where_there_is_no_session_says_so(solo, tmp_path):
    """Run outside the contest's folder, `rank` and `log` find no session: they say so on stderr
    instead of silently showing the boards without the panel's decisions."""
    settle(solo)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for args in (("rank", "--format", "json"), ("log",), ("changes",)):
        r = cli("--config", str(solo / "config.toml"), *args, cwd=elsewhere)
        assert r.returncode == 0 and "no session at" in r.stderr and "--session PATH" in r.stderr, args
    r = cli("rank", "--format", "json", cwd=solo)
    assert "no session at" not in r.stderr


def test_validate_counts_the_sessions_decisions(solo):
    """After the exclusion and the tie order, validate no longer warns about them."""
    r = cli("validate", cwd=solo)
    assert "pending: C24" in r.stdout and "unresolved tie in Smart services (스마트서비스)" in r.stdout
    settle(solo)
    r = cli("validate", cwd=solo)
    assert r.returncode == 0
    assert "pending: C24" not in r.stdout and "unresolved tie in Smart services (스마트서비스)" not in r.stdout, (
        r.stdout
    )


def test_changes_lists_a_total_that_moved_no_rank(solo):
    """A change of score that moves no rank and no status still shows: Incheon stays first and
    certified with 0 from everyone on CI01 (30.00 points less)."""
    from conftest import lower_scores

    settle(solo)  # the session's first entry keeps the list as the meeting found it
    lower_scores(solo / "data" / "scores.csv", "C01", "CI01")
    doc = json.loads(cli("changes", "--format", "json", cwd=solo).stdout)
    assert [(c["candidate_id"], c["total_before"], c["total_now"]) for c in doc["total_changed"]] == [
        ("C01", 1728.0, 1698.0)
    ]
    assert "C01" not in [c["candidate_id"] for c in doc["rank_moved"] + doc["status_changed"]]
    out = cli("changes", cwd=solo).stdout
    assert "Large cities (대도시): Incheon (인천광역시) (C01): total 1,728.00 → 1,698.00, 86.40 % → 84.90 %" in out


def test_a_row_rewritten_in_place_is_read_again_not_served_from_the_last_read(tmp_path):
    """Journal.events reuses the events of rows read byte for byte the same (the first event
    holds the whole list); a row someone rewrote behind our back is parsed again, and the
    chain check names it."""
    from panel_tui.session import chain_problems

    path = tmp_path / "s.sqlite"
    with Journal(path) as writer:
        writer.append("note", ME, {"candidate_id": "C04", "text": "more citizens"})
        writer.append("note", ME, {"candidate_id": "C05", "text": "second"})
    reader = Journal(path, writable=False)
    first = reader.events()
    assert reader.events()[0] is first[0]  # the same rows: the same events, not parsed again
    tamper(path, """UPDATE events SET payload = replace(payload, 'more citizens', 'fewer citizens') WHERE seq = 1""")
    again = reader.events()
    assert again[0] is not first[0] and again[0].payload["text"] == "fewer citizens"
    assert again[1] is first[1]
    assert [p.seq for p in chain_problems(again)] == [1]
    reader.close()


def test_a_command_leaves_the_session_whole_in_its_file(solo):
    """A command ends with os._exit (cli.program): its session is closed first, so SQLite has
    merged the -wal into the session file and removed its sidecars, as at a normal exit (a
    copy of the .sqlite file alone holds every event)."""
    assert cli("note", "--candidate", "C04", "first", cwd=solo).returncode == 0
    assert cli("rank", cwd=solo).returncode == 0
    folder = solo / "sessions"
    assert sorted(p.name for p in folder.iterdir()) == ["2022.sqlite"]
    copy = solo / "copy.sqlite"
    shutil.copyfile(folder / "2022.sqlite", copy)
    with Journal(copy, writable=False) as journal:
        assert [e.payload["text"] for e in journal.events()] == ["first"]
