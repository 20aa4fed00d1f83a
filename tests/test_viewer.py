"""A viewer's account that may read the session but not write it: the projector, an observer.

The README's meeting guide gives the shared folder mode 3775 (sticky, setgid, group-writable,
readable by every account): the secretary and the chair write through the group, and an
account outside the group reads. Run as the real account ``nobody``, outside the panel group.
"""

from __future__ import annotations

import grp
import os
import shutil
import subprocess
from pathlib import Path

import accounts
import pytest
from pseudo_terminal import Terminal

pytestmark = pytest.mark.system
VIEWER = "nobody"


@pytest.fixture(scope="module")
def setup():
    return accounts.accounts_runner()


def _viewer_group() -> str:
    import pwd

    return grp.getgrgid(pwd.getpwnam(VIEWER).pw_gid).gr_name


def run_viewer(runner, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [runner.python, "-m", "panel_tui", *args],
        cwd=cwd,
        env=runner.env,
        capture_output=True,
        text=True,
        timeout=120,
        user=VIEWER,
        group=_viewer_group(),
        extra_groups=[],
    )


def test_a_viewer_outside_the_group_reads_the_session_and_is_refused_every_write(setup):
    runner = setup
    root = accounts.shared_contest(confirm=True)
    try:
        os.chmod(root / "sessions", 0o3775)  # the README's folder: others may enter and read
        sec = accounts.SECRETARY
        assert runner.run(sec, "session", "init", cwd=root).returncode == 0
        db = root / "sessions" / "2022.sqlite"
        assert db.stat().st_mode & 0o777 == 0o664 and db.stat().st_uid == __import__("pwd").getpwnam(sec).pw_uid
        assert runner.run(sec, "note", "--candidate", "C01", "seen by the projector", cwd=root).returncode == 0
        for args in (("rank", "--category", "large_city"), ("verify",), ("log",), ("changes",)):
            r = run_viewer(runner, *args, cwd=root)
            assert r.returncode == 0, (args, r.stderr)
            assert "Traceback" not in r.stderr
        assert "seen by the projector" in run_viewer(runner, "log", cwd=root).stdout
        r = run_viewer(runner, "validate", cwd=root)
        assert r.returncode == 0 and f"{VIEWER} (viewer) can read it, not write it" in r.stdout
        # A write is refused naming the permission (exit 3), never a traceback.
        r = run_viewer(runner, "note", "--candidate", "C01", "x", cwd=root)
        assert r.returncode == 3 and "Traceback" not in r.stderr
        # While a writer holds the session open (its -wal and -shm there), the viewer reads too.
        holder = subprocess.Popen(
            [
                runner.python,
                "-c",
                (
                    "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None);"
                    "c.execute('PRAGMA journal_mode=WAL'); c.execute('SELECT 1 FROM events').fetchall();"
                    "print('ready', flush=True); time.sleep(30)"
                ),
                str(db),
            ],
            user=sec,
            group=accounts.GROUP,
            stdout=subprocess.PIPE,
            text=True,
            env=runner.env,
        )
        try:
            assert holder.stdout.readline().strip() == "ready"
            assert runner.run(sec, "note", "--candidate", "C02", "while the session is open", cwd=root).returncode == 0
            assert Path(f"{db}-wal").exists()
            assert "while the session is open" in run_viewer(runner, "log", cwd=root).stdout
        finally:
            holder.kill()
            holder.wait()
        # The display, in a real terminal, as the viewer: it paints the boards and the note count.
        assert _display_paints(runner, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_a_viewer_who_may_not_read_the_session_is_told_so(setup):
    runner = setup
    root = accounts.shared_contest(confirm=True)
    try:
        os.chmod(root / "sessions", 0o3771)  # others may pass through, not list or read
        assert runner.run(accounts.SECRETARY, "note", "hello", cwd=root).returncode == 0
        for args in (("rank",), ("verify",), ("log",)):
            r = run_viewer(runner, *args, cwd=root)
            assert r.returncode == 2 and "cannot read this session" in r.stderr and "Traceback" not in r.stderr, (
                r.stderr
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _display_paints(runner, root: Path) -> bool:
    argv = [runner.python, "-m", "panel_tui", "--display"]
    with Terminal(argv, cwd=root, env=runner.env, size=(120, 40), user=VIEWER, group=_viewer_group(),
                  extra_groups=[]) as terminal:  # fmt: skip
        painted = terminal.wait_for(lambda screen: b"certified" in screen and "✎1".encode() in screen)
        return painted and b"Traceback" not in terminal.screen and terminal.child.poll() is None
