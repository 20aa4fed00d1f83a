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


def test_a_bad_scores_file_at_the_start_ends_the_console_with_the_command_lines_message(tmp_path):
    """The console paints before it reads the files; should they be bad, it ends, and the
    message and the exit status are the ones every command gives (file, line, column; 2)."""
    shutil.copytree(DEMO, tmp_path / "contest")
    scores = tmp_path / "contest" / "data" / "scores.csv"
    lines = scores.read_text(encoding="utf-8").splitlines()
    lines[4] = ",".join(lines[4].split(",")[:3] + ["abc"])
    scores.write_text("\n".join(lines) + "\n", encoding="utf-8")
    argv = [sys.executable, "-m", "panel_tui", "--config", str(tmp_path / "contest" / "config.toml"),
            "--session", str(tmp_path / "s.sqlite")]  # fmt: skip
    with Terminal(argv, cwd=tmp_path, env=dict(os.environ), size=(100, 30)) as terminal:
        try:
            terminal.child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            raise AssertionError("the console kept running on files it could not read") from None
        assert terminal.child.returncode == 2
        assert terminal.wait_for(lambda screen: b"line 5, column 'score': is not a number: 'abc'" in screen)
    assert not (tmp_path / "s.sqlite").exists()  # nothing written
