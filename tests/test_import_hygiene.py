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
