"""The XLSX export opened by a real spreadsheet engine: LibreOffice (Debian's
libreoffice-calc-nogui, which .ci/run installs) converts it to CSV as a person sees the cells,
and every cell is compared with the JSON export of the same lock."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess

import pytest
from test_session import cli, settle

SOFFICE = shutil.which("soffice")
pytestmark = pytest.mark.skipif(
    SOFFICE is None, reason="needs LibreOffice (Debian's libreoffice-calc-nogui; .ci/run installs it)"
)


def shown(value: object, decimals: int = 2) -> str:
    """A JSON value as the spreadsheet shows its cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return f"{value:,.{decimals}f}"
    return str(value)


def test_the_xlsx_shows_every_cell_as_the_json_export_with_the_contests_decimals(solo, tmp_path):
    settle(solo)
    assert cli("lock", cwd=solo).returncode == 0
    for fmt in ("xlsx", "json"):
        r = cli("export", "--format", fmt, "--out", "out", cwd=solo)
        assert r.returncode == 0, r.stderr
    profile = tmp_path / "lo-profile"  # its own profile: no clash with another LibreOffice
    # CSV, UTF-8, each cell as shown (the last option): what a person reads in Calc.
    r = subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true",
            "--outdir",
            str(tmp_path),
            str(solo / "out" / "final-list-2022.xlsx"),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert r.returncode == 0, r.stderr
    with (tmp_path / "final-list-2022.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    doc = json.loads((solo / "out" / "final-list-2022.json").read_text(encoding="utf-8"))
    expected = []
    for category in doc["categories"]:
        for entry in category["entries"]:
            row = {"category": category["id"], "category_label": category["label"], "fingerprint": doc["fingerprint"]}
            row.update({key: value for key, value in entry.items() if key != "areas"})
            row.update({f"area_{area}": value for area, value in entry["areas"].items()})
            expected.append({key: shown(value) for key, value in row.items()})
    assert len(rows) == len(expected) == 34
    for got, want in zip(rows, expected, strict=True):
        assert {key: got[key] for key in want} == want
    incheon = next(row for row in rows if row["candidate_id"] == "C01")
    assert (incheon["total"], incheon["percent"]) == ("1,728.00", "86.40")  # two decimals, not three
