"""Every benchmark in one command, and one table of the figures issue 16 asks for.

    python bench/run_all.py [--rounds 5] [--quick]        (make bench)

Runs, one after another, holding /tmp/bench.lock (an exclusive ``flock``) so that no other
benchmark on the machine overlaps it (do not wrap it in ``flock /tmp/bench.lock``: it takes
the lock itself and would wait for its own parent):

1. ``bench_rank.py``: ``rank`` against its floor (the bare polars read of the same file),
   the DuckDB SQL version and pandas, on CSV and Parquet, with peak memory, and the cache of
   parsed inputs off, warm, and on a rewritten sheet;
2. ``bench_console.py`` and ``bench_analysis.py``, as they are, their output verbatim.

Then prints one Markdown table (panel-tui, DuckDB, pandas, floor; CSV and Parquet; peak
memory; the rewritten sheet), every ratio to its floor, the targets' verdicts and the load
average before and after each benchmark; it also writes it to bench/results/run_all.md, the
text bench/README.md quotes. ``--quick``: 1,000 candidates and one round (a smoke test,
not figures to quote).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
LOCK = Path("/tmp/bench.lock")


def load() -> str:
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def run(name: str, argv: list[str]) -> tuple[str, str]:
    """Run one benchmark from the project root; its stdout, and the load average around it."""
    before = load()
    print(f"running {name} (load average {before}) ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    result = subprocess.run(argv, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - started
    around = f"load average (1, 5, 15 min) before {before}, after {load()}; {seconds:.0f} s"
    if result.returncode != 0:
        return result.stdout + f"\n(exit status {result.returncode})\n", around
    return result.stdout, around


def cell(figures: dict[str, dict], name: str, floor: dict | None = None, *, memory: bool = False) -> str:
    """'1.23 s = 1.45x floor' (or MiB), or a dash when the command was not run."""
    command = figures.get(name)
    if command is None:
        return "-"
    if memory:
        value, unit, reference = command["peak_mib"], "MiB", floor["peak_mib"] if floor else None
        text = f"{value:.0f} {unit}"
    else:
        value, reference = command["median"], floor["median"] if floor else None
        text = f"{value:.2f} s"
    return text if reference is None or command is floor else f"{text} = {value / reference:.2f}x"


def rank_table(data: dict) -> list[str]:
    """The issue's table for the rank benchmark's figures."""
    figures = {c["name"]: c for c in data["commands"]}
    floors = {"CSV": figures["floor: polars.read_csv"], "Parquet": figures["floor: polars.read_parquet"]}
    rows = [
        "| work | panel-tui, parsing | panel-tui, cache warm | DuckDB SQL, same rules | pandas | floor |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for fmt, floor_label in (("CSV", "`polars.read_csv`"), ("Parquet", "`polars.read_parquet`")):
        floor = floors[fmt]
        rows.append(
            f"| `rank`, {fmt} | {cell(figures, f'panel-tui rank, {fmt}, parsed', floor)} "
            f"| {cell(figures, f'panel-tui rank, {fmt}, cached', floor)} "
            f"| {cell(figures, f'duckdb, {fmt}', floor)} | {cell(figures, f'pandas, {fmt}', floor)} "
            f"| {floor_label} {floor['median']:.2f} s |"
        )
    for fmt in ("CSV", "Parquet"):
        floor = floors[fmt]
        rows.append(
            f"| peak memory, {fmt} | {cell(figures, f'panel-tui rank, {fmt}, parsed', floor, memory=True)} "
            f"| {cell(figures, f'panel-tui rank, {fmt}, cached', floor, memory=True)} "
            f"| {cell(figures, f'duckdb, {fmt}', floor, memory=True)} "
            f"| {cell(figures, f'pandas, {fmt}', floor, memory=True)} | {floor['peak_mib']:.0f} MiB |"
        )
    floor = floors["CSV"]
    first = "rewritten sheet: rank, cache on, 1st run (streams it, keeps its cells)"
    second = "rewritten sheet: rank, cache on, 2nd run (loads the kept cells)"
    off = "rewritten sheet: rank, cache off"
    rows.append(
        f"| scores.csv rewritten → `rank` (cache on: 1st run / 2nd run) | {cell(figures, off, floor)} "
        f"| {cell(figures, first, floor)} / {cell(figures, second, floor)} | | | {floor['median']:.2f} s |"
    )
    return rows


def _seconds(pattern: str, text: str) -> list[float]:
    found = re.search(pattern, text)
    return [float(x) for x in found.groups()] if found else []


def console_table(console: str, analysis: str, bare_csv: float) -> list[str]:
    """The issue's rows for the console, a served tab and the analysis, read off the outputs of
    bench_console.py and bench_analysis.py (a dash where a figure is missing)."""
    rows = ["| work | panel-tui | floor | ratio, target |", "| --- | --- | --- | --- |"]

    def frame(label: str, pattern: str) -> None:
        got = _seconds(pattern, console)
        if len(got) >= 2:
            ratio = got[0] / got[1]
            memory = f"; {got[2]:.0f} MiB once its boards are up" if len(got) > 2 else ""
            rows.append(
                f"| {label} | {got[0]:.3f} s{memory} | minimal Textual app {got[1]:.3f} s "
                f"| {ratio:.2f}x, {'met' if ratio <= 1.3 else 'NOT MET'} (<= 1.3x) |"
            )
        else:
            rows.append(f"| {label} | - | - | - |")

    number = r"([\d.]+)"
    frame(
        "first frame of the console, demo",
        rf"demo \(34 candidates\): +{number} s, minimal app +{number} s = [\d.]+x.*?; {number} MiB",
    )
    frame(
        "first frame of the console, 10,000 candidates",
        rf"first frame, 10,000 candidates: +{number} s, minimal app +{number} s = [\d.]+x.*?; {number} MiB",
    )
    frame(
        "a served tab (`--display`): first frame, memory",
        rf"a served tab, demo: +{number} s, minimal app +{number} s = [\d.]+x.*?; {number} MiB",
    )
    live = _seconds(rf"10,000 candidates x 12 +{number} s +{number} s +{number} s", console)
    screens = [
        _seconds(
            rf"three served tabs, 10,000 candidates, a {kind} scores file.*?: the slowest board {number} s", console
        )
        for kind in ("corrected", "replaced")
    ]
    for what, seconds in (
        ("corrected (one candidate's scores) → on the console's board", live[1:2]),
        ("replaced (every score changed) → on the console's board", live[2:3]),
        ("corrected → on the slowest of three served tabs", screens[0]),
        ("replaced → on the slowest of three served tabs", screens[1]),
    ):
        if seconds:
            ratio = seconds[0] / bare_csv
            rows.append(
                f"| scores.csv {what}, 10,000 candidates | {seconds[0]:.3f} s "
                f"| `polars.read_csv` {bare_csv:.2f} s | {ratio:.2f}x, {'met' if ratio <= 1.3 else 'NOT MET'} (<= 1.3x) |"
            )
    rested = re.search(r"each tab's memory at rest after (\d+) corrected files.*?: ([\d, ]+) MiB", console)
    if rested:
        rows.append(
            f"| each of three served tabs at rest after {rested.group(1)} corrected sheets (analysis done),"
            f" 10,000 candidates | {rested.group(2)} MiB resident | - | written down (no target) |"
        )
    whole = _seconds(
        rf"10,000 candidates x 12 evaluators +{number}s [\d.]+cpu +{number}s .*? {number}s +[\d.]+cpu = ", analysis
    )
    if whole:
        for label, seconds in (
            ("`rank --analysis`, 10,000 candidates (the cache on: statistics kept)", whole[1]),
            ("`rank --analysis`, its per-area statistics computed (sheet or settings changed)", whole[2]),
        ):
            ratio = seconds / whole[0]
            rows.append(
                f"| {label} | {seconds:.2f} s | `rank` {whole[0]:.2f} s "
                f"| {ratio:.2f}x, {'met' if ratio <= 1.5 else 'NOT MET'} (<= 1.5x) |"
            )
    new = _seconds(rf"the same, a sheet not seen before +{number}s [\d.]+cpu +{number}s", analysis)
    if new:
        ratio = new[1] / new[0]
        rows.append(
            f"| `rank --analysis`, a sheet not seen before (one score changed) | {new[1]:.2f} s "
            f"| `rank` on such a sheet {new[0]:.2f} s | {ratio:.2f}x, {'met' if ratio <= 1.5 else 'NOT MET'} (<= 1.5x) |"
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds of bench_rank.py (default 5)")
    parser.add_argument("--quick", action="store_true", help="1,000 candidates, one round: a smoke test")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    python = sys.executable
    with LOCK.open("a") as lock:
        print(f"waiting for {LOCK} (no other benchmark runs meanwhile) ...", file=sys.stderr, flush=True)
        fcntl.flock(lock, fcntl.LOCK_EX)
        started = load()
        rank_json = RESULTS / "rank.json"
        rank_args = ["--rounds", "1", "--candidates", "1000"] if args.quick else ["--rounds", str(args.rounds)]
        rank_out, rank_load = run(
            "bench_rank.py", [python, "bench/bench_rank.py", *rank_args, "--json", str(rank_json)]
        )
        others = []
        for script in ("bench_console.py", "bench_analysis.py"):
            extra = ["--rounds", "1"] if args.quick else []
            out, around = run(script, [python, f"bench/{script}", *extra])
            others.append((script, out, around))
        finished = load()
    data = json.loads(rank_json.read_text(encoding="utf-8"))
    lines = [
        f"$ python bench/run_all.py{' --quick' if args.quick else ''}",
        *data["machine"],
        f"load average (1, 5, 15 min) at the start {started}, at the end {finished}",
        "",
        f"## rank ({data['rounds']} rounds; median wall time of the whole process; ratio to the floor of the same format)",
        "",
        *rank_table(data),
        "",
        *[f"- {verdict}" for verdict in data["verdicts"]],
        *[f"- cache premise (median of 3 in one process): {line}" for line in data.get("hash_vs_parse", [])],
        *[f"- the stream's parts (median of 5 in one process): {line}" for line in data.get("stream_parts", [])],
        *[f"- where rank's time goes, a fresh process (median of 3): {line}" for line in data.get("steps", [])],
        f"- JSON: {'every rival equal to panel-tui' if all(c['equal'] for c in data['checks']) else 'DIFFERENCES: see below'}",
        f"- {rank_load}",
        "",
        "bench_rank.py, verbatim:",
        "",
        "```",
        rank_out.rstrip(),
        "```",
    ]
    bare_csv = next(c["median"] for c in data["commands"] if c["name"] == "floor: polars.read_csv")
    outputs = {script: out for script, out, _around in others}
    lines += [
        "",
        "## The console, a served tab and the analysis (from the outputs below)",
        "",
        *console_table(outputs.get("bench_console.py", ""), outputs.get("bench_analysis.py", ""), bare_csv),
    ]
    for script, out, around in others:
        lines += ["", f"## {script} ({around})", "", "```", out.rstrip(), "```"]
    text = "\n".join(lines) + "\n"
    (RESULTS / "run_all.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
