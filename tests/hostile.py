"""A hostile contest: the demo with every string field carrying markup, terminal escapes, bidi
and zero-width characters, spreadsheet formula prefixes and Markdown specials.

Identifiers (candidate, evaluator, indicator, area, set and category ids) carry markup and
formula prefixes only: a hidden character in an id is bad input (tests/test_odd_files.py).
Everything else (contest name, category labels, candidate names and extra columns,
indicator and area labels, notes, reasons) carries every kind.
"""

from __future__ import annotations

import csv
import json
import os
import pwd
from pathlib import Path

DEMO = Path(__file__).resolve().parent.parent / "panel_tui" / "demo"

MARKUP = [
    "[/]",
    "[link=file:///etc/passwd]x[/]",
    "[@click=app.quit]q[/]",
    "[TODO] check",
    "[A1=A2 equal]",
    "[b]bold[/b]",
    "back\\",
]
ESCAPES = ["\x1b]0;pwned\x07", "\x1b]52;c;cHduZWQ=\x07", "\x1b[2J", "\x9b2J", "bell\x07", "cr\rover"]
INVISIBLE = ["\u202etxt.exe", "zero\u200bwidth", "\ufeffbom", "\U000e0041tag"]
FORMULAS = ['=HYPERLINK("http://evil.example","click")', "=cmd|' /C calc'!A0", "+1+1", "-2", "@SUM(1)", "\tTAB"]
MARKDOWN = ["a|b", "line\nbreak", "<script>alert(1)</script>", "*star* _u_ `tick`", "![img](http://x)"]
HOSTILE = MARKUP + ESCAPES + INVISIBLE + FORMULAS + MARKDOWN

# Sequences that must never reach a terminal raw (the console's or the command line's output).
RAW = ["\x1b]0;pwned", "\x1b]52;", "\x1b[2J", "\x9b", "\u202e", "\u200b", "\ufeff", "\U000e0041", "cr\rover"]

# Ids: markup and formula prefixes, nothing hidden.
ID_PREFIXES = ["=", "[/]", "@", "+", "-", "[b]", "|", "[link=x]"]


def hostile_id(value: str) -> str:
    """``C07`` -> one of ``=C07``, ``[/]C07``, … (the same id always gets the same prefix)."""
    digits = sum(map(ord, value))
    return ID_PREFIXES[digits % len(ID_PREFIXES)] + value


AREAS = {"A1": "[/]A1", "A2": "=A2", "A3": "@A3"}
SETS = {"city": "[b]city", "service": "=service"}
CATEGORIES = {"large_city": "[/]large", "small_city": "=small", "service": "@service|x"}


def text(i: int, base: str = "") -> str:
    """The i-th hostile string, then ``base`` (so that names stay unique)."""
    return f"{HOSTILE[i % len(HOSTILE)]} {base}".rstrip(" ") if base else HOSTILE[i % len(HOSTILE)]


def _rewrite(path: Path, change) -> None:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
        fields = list(rows[0])
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.DictWriter(f, fieldnames=fields)
        out.writeheader()
        for i, row in enumerate(rows):
            out.writerow(change(i, row))


def _toml(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string here


CONTEST_NAME = "2022 [b]Contest[/] \x1b]0;pwned\x07 =1+1 \u202ereversed"


def make_hostile_contest(
    root: Path, *, secretary: str | None = None, chair: str = "lee", chair_confirms: bool = True
) -> Path:
    """Write the hostile contest into ``root``; return its config.toml."""
    data = root / "data"
    data.mkdir(parents=True)
    for name in ("candidates", "indicators", "scores", "conflicts"):
        (data / f"{name}.csv").write_bytes((DEMO / "data" / f"{name}.csv").read_bytes())

    def candidates(i, row):
        row = dict(row)
        row["name"] = text(i, row["name"])
        row["candidate_id"] = hostile_id(row["candidate_id"])
        row["category"] = CATEGORIES[row["category"]]
        row["region"] = text(i + 3)
        return row

    def indicators(i, row):
        row = dict(row)
        row["indicator_set"] = SETS[row["indicator_set"]]
        row["indicator_id"] = hostile_id(row["indicator_id"])
        row["area_label"] = text(list(AREAS).index(row["area_id"]) + 7, row["area_label"])  # one per area
        row["area_id"] = AREAS[row["area_id"]]
        row["label"] = text(i, row["label"])
        return row

    def scores(i, row):
        row = dict(row)
        row["candidate_id"] = hostile_id(row["candidate_id"])
        row["evaluator_id"] = hostile_id(row["evaluator_id"])
        row["indicator_id"] = hostile_id(row["indicator_id"])
        return row

    def conflicts(i, row):
        return {"evaluator_id": hostile_id(row["evaluator_id"]), "candidate_id": hostile_id(row["candidate_id"])}

    _rewrite(data / "candidates.csv", candidates)
    _rewrite(data / "indicators.csv", indicators)
    _rewrite(data / "scores.csv", scores)
    _rewrite(data / "conflicts.csv", conflicts)

    secretary = secretary or pwd.getpwuid(os.geteuid()).pw_name
    labels = {
        "large_city": "Large [/] cities \x1b[2J =SUM(1)",
        "small_city": "Small \u202ecities [TODO] check",
        "service": "Services | [@click=app.quit]q[/]\nnext",
    }
    lines = [
        "[contest]",
        'id = "hostile"',
        "name = " + _toml(CONTEST_NAME),
        'candidates = "data/candidates.csv"',
        'scores = "data/scores.csv"',
        'indicators = "data/indicators.csv"',
        'conflicts = "data/conflicts.csv"',
        "",
        "[scoring]",
        'method = "trimmed_mean"',
        "trim_min_evaluators = 5",
        "decimals = 2",
        "review_margin = 1.0",
    ]
    for old, new in CATEGORIES.items():
        lines += [
            "",
            "[[categories]]",
            f"id = {_toml(new)}",
            f"label = {_toml(labels[old])}",
            f"indicator_set = {_toml(SETS['service' if old == 'service' else 'city'])}",
            "threshold = 70.0",
            f"tie_break = {json.dumps(list(AREAS.values()))}",
        ]
    lines += [
        "",
        "[roles]",
        f"secretary = [{_toml(secretary)}]",
        f"chair = [{_toml(chair)}]",
        "members = []",
        "",
        "[lock]",
        f"require_chair_confirmation = {'true' if chair_confirms else 'false'}",
    ]
    config = root / "config.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config
