"""The core and the command line never import Textual (STYLE.md: the domain never imports the UI)."""

from __future__ import annotations

import subprocess
import sys

CORE = [
    "panel_tui.config",
    "panel_tui.inputs",
    "panel_tui.engine",
    "panel_tui.report",
    "panel_tui.cli",
    "panel_tui.session",
    "panel_tui.meeting",
    "panel_tui.export",
    "panel_tui.analysis",
]


def test_core_imports_no_textual():
    code = (
        "import sys\n" + "".join(f"import {m}\n" for m in CORE) + "from panel_tui.cli import main\n"
        "assert main(['validate']) == 0\n"
        "assert main(['rank', '--format', 'json']) == 0\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print('TEXTUAL', bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "TEXTUAL []" in out


def test_the_consoles_first_frame_needs_no_polars(tmp_path):
    """The console paints its first frame (header, tabs, empty boards saying what is being read)
    before it reads a file, and before it imports polars or the engine: their imports alone
    would cost a third of that frame (issue 16; ``panel_tui.lazy``). The read worker starts
    once the frame is on the screen. Nor do the filled boards import the screens' module (its
    forms, its help in Markdown: 50 ms before the boards were painted, and memory in every
    served tab) until a screen opens."""
    code = (
        "import sys, asyncio\n"
        "from panel_tui.cli import main\n"
        "import panel_tui.tui.app as app_module\n"
        "def headless(self, *args, **kwargs):\n"
        "    async def first():\n"
        "        async with self.run_test(size=(80, 24)) as pilot:\n"
        "            print('BEFORE', self.snapshot is None, 'polars' in sys.modules)\n"
        "            for _ in range(400):\n"
        "                if self.snapshot is not None: break\n"
        "                await pilot.pause(0.01)\n"
        "            print('AFTER', self.snapshot is not None, 'polars' in sys.modules)\n"
        "            for _ in range(400):  # (and its analysis shown)\n"
        "                if self.analysis is not None: break\n"
        "                await pilot.pause(0.01)\n"
        "            await pilot.pause(0.1)\n"
        "            print('SCREENS', 'panel_tui.tui.screens' in sys.modules)\n"
        "    asyncio.run(first())\n"
        "app_module.PanelApp.run = headless\n"
        f"main(['--session', {str(tmp_path / 's.sqlite')!r}])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert "BEFORE True False" in out.stdout, out.stdout + out.stderr
    assert "AFTER True True" in out.stdout, out.stdout + out.stderr
    assert "SCREENS False" in out.stdout, out.stdout + out.stderr


def test_a_command_ends_with_its_output_whole_and_its_cache_entry_written(tmp_path):
    """``panel-tui`` ends a command with os._exit (cli.program): what it printed is all there,
    through a pipe too, and the cache entry it was writing is written."""
    import json
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    demo = Path(__file__).resolve().parent.parent / "panel_tui" / "demo"
    shutil.copytree(demo, tmp_path / "demo")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg"), "PANEL_TUI_CACHE": ""}
    code = (  # every sheet cached, and its entry written slowly (after the command's output)
        "import time, panel_tui.inputs.cache as c; c.MIN_SIZE = 0; store = c._store\n"
        "def slow(*args):\n    time.sleep(1); store(*args)\n"
        "c._store = slow\nfrom panel_tui.cli import program; program()"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, "rank", "--format", "json"],
        cwd=tmp_path / "demo",
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert sum(len(c["entries"]) for c in doc["categories"]) == 34
    kept = [path.name for path in (tmp_path / "xdg" / "panel-tui").glob("*.arrow")]
    (sheet,) = [name for name in kept if "+" not in name]
    beside = [name for name in kept if "+" in name]  # (the sheet's cells and its evaluators, kept beside it)
    assert len(beside) == 2 and all(name.startswith(sheet.removesuffix(".arrow") + "+") for name in beside)
    refused = subprocess.run(
        [sys.executable, "-m", "panel_tui", "rank", "--category", "nope"], cwd=tmp_path / "demo", capture_output=True
    )
    assert refused.returncode == 2 and b"nope" in refused.stderr
