"""`panel-tui serve` in a real headless browser: the leaderboard renders, and a focus recorded
on the command line shows up in the browser. Screenshots are kept in tests/artifacts/."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from browser import CHROMIUM, TESSERACT, Browser, free_port, wait_for_http

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "panel_tui" / "demo"
ARTIFACTS = ROOT / "tests" / "artifacts"
ME = __import__("pwd").getpwuid(os.geteuid()).pw_name

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM and TESSERACT),
        reason="needs Debian's chromium and tesseract-ocr (.ci/run installs them)",
    ),
]


@pytest.fixture
def served(tmp_path: Path):
    shutil.copytree(DEMO / "data", tmp_path / "data")
    text = (DEMO / "config.toml").read_text(encoding="utf-8").replace('secretary = ["kim"]', f'secretary = ["{ME}"]')
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "panel_tui", "serve", "--port", str(port), "--font-size", "18"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/")
        yield tmp_path, f"http://127.0.0.1:{port}/"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the server and the display processes it started
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def test_the_served_display_shows_the_leaderboard_and_follows_the_focus(served):
    root, url = served
    ARTIFACTS.mkdir(exist_ok=True)

    async def scenario():
        async with Browser() as browser:
            await browser.goto(url)
            # (the row under the cursor is drawn highlighted, which OCR reads poorly: check others)
            text = await browser.wait_for_text(
                ["Gimhae", "Suwon", "Siheung", "Yongin", "certified", "threshold 70", "Quit"],
                ARTIFACTS / "served-leaderboard.png",
            )
            # read-only: the footer offers no action that writes
            assert "focus" not in text.lower() and "note" not in text.lower()
            focus = subprocess.run(
                [sys.executable, "-m", "panel_tui", "focus", "--candidate", "C04"],
                cwd=root,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert focus.returncode == 0, focus.stderr
            await browser.wait_for_text(["Under discussion: Siheung"], ARTIFACTS / "served-focus.png")

    asyncio.run(scenario())


def test_serve_warns_when_not_on_loopback(tmp_path):
    shutil.copytree(DEMO / "data", tmp_path / "data")
    shutil.copy(DEMO / "config.toml", tmp_path / "config.toml")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "panel_tui", "serve", "--host", "0.0.0.0", "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    assert "anyone who can reach port" in err
