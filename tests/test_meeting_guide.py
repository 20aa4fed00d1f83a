"""README's "Running a panel meeting", run as written: scripts/meeting_guide_check.py installs
the tool in a throwaway root, creates throwaway accounts and a group, starts an sshd of its own
on 127.0.0.1 and runs every step of the guide over SSH as the person it names: the command line,
the secretary's console in tmux and the projector's display in terminals (tmux) of its own,
whose screens it reads, serve through an ssh tunnel, a new scores file and the exports with scp
(see the script's docstring for what it substitutes and checks). Needs root and tmux; CI runs
as root."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "meeting_guide_check.py"

pytestmark = pytest.mark.system


def _unavailable() -> str | None:
    if os.geteuid() != 0:
        return "the meeting guide's check creates OS accounts and runs an sshd: needs root (CI runs as root)"
    if not shutil.which("useradd") or not shutil.which("groupadd"):
        return "useradd/groupadd are not installed"
    if not Path("/usr/sbin/sshd").exists() and not shutil.which("apt-get"):
        return "no /usr/sbin/sshd and no apt-get to install openssh-server"
    if not shutil.which("tmux") and not shutil.which("apt-get"):
        return "no tmux (the guide runs the console and serve in it) and no apt-get to install it"
    if not Path("/usr/bin/python3").exists():
        return "the guide installs with /usr/bin/python3, which is missing"
    return None


def test_the_meeting_guide_runs_as_written() -> None:
    reason = _unavailable()
    if reason:
        pytest.skip(reason)
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--prefix", "pgt"],
        capture_output=True,
        text=True,
        timeout=420,  # 40-60 s on a quiet 2-core machine (pip install 12-27 s, then some fifty steps
        # over SSH), 2-3 min under a load of 12
    )
    if run.returncode == 2 and "stopped: could not install" in run.stdout:
        pytest.skip(f"sshd or tmux could not be installed: {run.stdout.strip().splitlines()[-2]}")
    assert run.returncode == 0, f"exit {run.returncode}\n{run.stdout}\n{run.stderr}"
    assert "FAIL" not in run.stdout, run.stdout
    for last in (
        "OK    step 5: the projector's display says 'scores.csv reloaded'",
        "OK    step 4: Ctrl+C stops serve",
        "OK    step 8: ... the same bytes as on the host",
        "OK    verify --fingerprint by the projector",
    ):
        assert last in run.stdout, run.stdout
