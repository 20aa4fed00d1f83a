"""The console in a real pseudo-terminal: it quits when its terminal goes away.

A console started with `su`, or whose SSH connection died without the hang-up signal
reaching it, is left on a dead terminal; Textual's input thread then reads EOF in a loop
forever (a whole core per orphan, measured: 24 % each on this project's two-core machine).
"""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

DEMO = Path(__file__).resolve().parent.parent / "panel_tui" / "demo"


def test_the_console_quits_when_its_terminal_hangs_up(tmp_path):
    shutil.copytree(DEMO, tmp_path / "contest")
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
    # A new session without a controlling terminal: closing the terminal sends no SIGHUP,
    # as when `su` stands between the terminal and the console.
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "panel_tui",
            "--config",
            str(tmp_path / "contest" / "config.toml"),
            "--session",
            str(tmp_path / "s.sqlite"),
        ],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        cwd=tmp_path,
        start_new_session=True,
    )
    os.close(slave)
    screen = bytearray()

    def drain(fd: int) -> None:  # a terminal reads what the console writes, or the console blocks
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:  # closed below
                return
            if not data:
                return
            screen.extend(data)

    reader = threading.Thread(target=drain, args=(master,), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 30
        while b"certified" not in screen and time.monotonic() < deadline:
            time.sleep(0.1)
        assert b"certified" in screen, "the console did not paint its boards"
        assert child.poll() is None
        closed, master = master, None
        os.close(closed)  # the terminal goes away
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            raise AssertionError("the console kept running on a dead terminal") from None
        assert child.returncode == 0
    finally:
        if master is not None:
            os.close(master)
        if child.poll() is None:
            child.kill()
            child.wait()
