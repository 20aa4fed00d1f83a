"""The console in a real pseudo-terminal: it quits when its terminal goes away.

A console started with `su`, or whose SSH connection died without the hang-up signal
reaching it, is left on a dead terminal; Textual's input thread then reads EOF in a loop
forever (a whole core per orphan, measured: 24 % each on this project's two-core machine).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from pseudo_terminal import Terminal

DEMO = Path(__file__).resolve().parent.parent / "panel_tui" / "demo"


def test_the_console_quits_when_its_terminal_hangs_up(tmp_path):
    shutil.copytree(DEMO, tmp_path / "contest")
    argv = [sys.executable, "-m", "panel_tui", "--config", str(tmp_path / "contest" / "config.toml"),
            "--session", str(tmp_path / "s.sqlite")]  # fmt: skip
    # The terminal's own session is new (no controlling terminal): closing the terminal sends no
    # SIGHUP, as when `su` stands between the terminal and the console.
    with Terminal(argv, cwd=tmp_path, env=dict(os.environ), size=(100, 30)) as terminal:
        assert terminal.wait_for(lambda screen: b"certified" in screen), "the console did not paint its boards"
        assert terminal.child.poll() is None
        terminal.hang_up()
        try:
            terminal.child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            raise AssertionError("the console kept running on a dead terminal") from None
        assert terminal.child.returncode == 0
