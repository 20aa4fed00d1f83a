"""README's "Running a panel meeting", run as written: scripts/meeting_guide_check.py installs
the tool in a throwaway root, creates throwaway accounts and a group, starts an sshd of its own
on 127.0.0.1 and runs every step of the guide over SSH as the person it names (see the script's
docstring for what it substitutes and checks). Needs root; CI runs as root."""

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
        timeout=300,  # about 35 s here: pip install ~12 s, then some twenty commands over SSH
    )
    if run.returncode == 2 and "stopped: could not install" in run.stdout:
        pytest.skip(f"sshd could not be installed: {run.stdout.strip().splitlines()[-2]}")
    assert run.returncode == 0, f"exit {run.returncode}\n{run.stdout}\n{run.stderr}"
    assert "FAIL" not in run.stdout, run.stdout
    assert "OK    verify --fingerprint by the projector" in run.stdout, run.stdout
