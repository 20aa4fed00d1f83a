"""Benchmark ``panel-tui rank`` on 10,000 candidates against its floor, DuckDB and pandas (issue 16).

    python bench/bench_rank.py [--rounds 5] [--candidates 10000] [--no-pandas]

Generates the data with bench/make_data.py if it is missing, checks that every rival prints
the same JSON as panel-tui (bench data on CSV and Parquet, and the demo), then times whole
processes, several rounds, the order rotated every round so machine noise hits all alike:

    floor      python -c "import polars as pl; pl.read_csv(<scores.csv>)"   (and read_parquet)
    panel-tui  panel-tui rank --format json --config <data>/config.toml        (and config-parquet.toml)
               once with the cache of parsed inputs off (PANEL_TUI_CACHE=off: every run parses),
               once with it on and warm (an unchanged file, as every run after the first sees it)
    duckdb     python bench/duckdb_rank.py <config>
    pandas     python bench/pandas_rank.py <config>

and, for the cache's payoff, a rewritten score sheet: each round one score of a copy of the
CSV sheet changes, then ``rank`` runs with the cache on (it misses, parses, and writes the
entry), again (it hits), and with the cache off.

Per command: median wall time, its ratio to the floor of its format in the same run, CPU time
and peak memory (the child's max RSS from os.wait4) and its ratio to the floor's. The harness
imports neither polars nor pandas and runs the JSON check in child processes: Linux counts the
parent's RSS at spawn time in a child's max RSS, so the parent stays small (its own peak is
printed as a floor). The cache lives in bench/results/cache (XDG_CACHE_HOME), made afresh.
``--json FILE`` writes the figures for bench/run_all.py; outputs and raw timings go to
bench/results/ (ignored by git).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
CACHE = RESULTS / "cache"
DEFAULT_CANDIDATES = 10_000
TIME_BAR, MEMORY_BAR = 1.3, 1.2  # issue 16: rank at most 1.3x the bare read's time, 1.2x its memory
DATA_FILES = ("config.toml", "config-parquet.toml", "candidates.csv", "indicators.csv", "scores.csv", "scores.parquet")


@dataclass(frozen=True)
class Run:
    """One finished child process: wall seconds, CPU seconds (user + system) and peak resident memory."""

    seconds: float
    cpu_seconds: float
    max_rss_kb: int


@dataclass
class Command:
    """A command to time, and its runs."""

    name: str
    argv: list[str]
    fmt: str = "CSV"  # whose floor it is measured against: "CSV" or "Parquet"
    env: dict[str, str] = field(default_factory=dict)  # added to the environment
    runs: list[Run] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def median_cpu(self) -> float:
        return statistics.median(r.cpu_seconds for r in self.runs)

    @property
    def peak_mb(self) -> float:
        return max(r.max_rss_kb for r in self.runs) / 1024


def run(argv: list[str], stdout_path: Path | None = None, env: dict[str, str] | None = None) -> Run:
    """Run one command from the project root and wait for it with os.wait4 (per-child rusage).

    Standard output goes to ``stdout_path`` or /dev/null; a failure raises with its stderr.
    """
    with tempfile.TemporaryFile() as stderr, stdout_path.open("wb") if stdout_path else open(os.devnull, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=out, stderr=stderr, env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must not wait again
        if proc.returncode != 0:
            stderr.seek(0)
            message = stderr.read().decode("utf-8", "replace").strip()
            raise SystemExit(f"command failed with status {proc.returncode}: {' '.join(argv)}\n{message}")
    return Run(seconds=seconds, cpu_seconds=usage.ru_utime + usage.ru_stime, max_rss_kb=usage.ru_maxrss)  # RSS in KiB


def ensure_data(candidates: int) -> Path:
    """The data directory for this many candidates, generated with make_data.py if missing."""
    data = BENCH / "data" if candidates == DEFAULT_CANDIDATES else BENCH / "data" / f"candidates-{candidates}"
    complete = all((data / name).exists() for name in DATA_FILES)
    if complete:
        with (data / "candidates.csv").open("rb") as handle:
            complete = sum(1 for _ in handle) == candidates + 1
    if not complete:
        print(f"generating {data.relative_to(ROOT)} with bench/make_data.py ...", file=sys.stderr, flush=True)
        # A child process, not an import: the harness must not grow (see the module docstring).
        subprocess.run(
            [sys.executable, str(BENCH / "make_data.py"), "--candidates", str(candidates), "--out", str(data)],
            cwd=ROOT,
            check=True,
        )
    return data


def compare(expected: Path, actual: Path) -> tuple[bool, str]:
    """Compare two JSON documents with compare_json.py in a child process."""
    result = subprocess.run(
        [sys.executable, str(BENCH / "compare_json.py"), str(expected), str(actual)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if result.returncode not in (0, 1):
        raise SystemExit(f"compare_json.py failed:\n{result.stderr}")
    return result.returncode == 0, result.stdout.strip()


def check(commands: list[Command], demo: dict[str, list[str]]) -> list[tuple[str, bool, str]]:
    """Run every command once (also the warm-up, and the cache's first fill) and compare each
    JSON with panel-tui's on CSV; the rivals also on the demo (ties, pending, grades, conflicts)."""
    RESULTS.mkdir(exist_ok=True)
    outputs = {}
    for command in commands:
        if command.name.startswith("floor"):
            run(command.argv, env=command.env)
            continue
        outputs[command.name] = RESULTS / f"{command.name.replace(' ', '-').replace(',', '')}.json"
        run(command.argv, outputs[command.name], env=command.env)
    reference = outputs["panel-tui rank, CSV, parsed"]
    results = [(f"{name} vs panel-tui (CSV)", *compare(reference, path)) for name, path in outputs.items()]
    run(demo["panel-tui"], RESULTS / "demo-panel-tui.json")
    for rival, argv in demo.items():
        if rival != "panel-tui":
            run(argv, RESULTS / f"demo-{rival}.json")
            results.append(
                (
                    f"{rival} vs panel-tui (demo)",
                    *compare(RESULTS / "demo-panel-tui.json", RESULTS / f"demo-{rival}.json"),
                )
            )
    return results


REWRITE = """
import os, sys
scores, round_ = sys.argv[1], int(sys.argv[2])
with open(scores, "rb") as handle:
    lines = handle.read().split(b"\\n")
line = 1 + (round_ * 7919) % (len(lines) - 2)
*head, score = lines[line].split(b",")
value = float(score)
lines[line] = b",".join([*head, str(value - 0.5 if value >= 0.5 else value + 0.5).encode()])
with open(scores + ".tmp", "wb") as handle:
    handle.write(b"\\n".join(lines))
os.replace(scores + ".tmp", scores)  # as the scoring staff's tools do: a new file moved over the old one
"""


HASH_VS_PARSE = """
import statistics, sys, time
from pathlib import Path
from panel_tui.config import load_config
from panel_tui.inputs import SCORES, read_table
from panel_tui.inputs.cache import _digest
from panel_tui.inputs.contest import _id_lookups, _load_candidates, _load_indicators
for config_path in sys.argv[1:]:
    config = load_config(Path(config_path))
    lookups = _id_lookups(config, _load_candidates(config, None), _load_indicators(config, None))
    path = config.contest.scores
    hashing, parsing = [], []
    for _ in range(3):
        start = time.perf_counter()
        with path.open("rb") as handle:
            _digest(path, handle)
        hashing.append(time.perf_counter() - start)
        start = time.perf_counter()
        read_table(path, SCORES, lookups)
        parsing.append(time.perf_counter() - start)
    h, p = statistics.median(hashing), statistics.median(parsing)
    print(f"{path.name}: SHA-256 of the file {h:.3f} s, parsing and checking it {p:.3f} s (hash = {h / p:.2f}x the parse)")
"""


# What the stream of a new sheet costs beyond the bare read, in one process, per format: the
# file's bytes read by polars as they come (the floor's work, from the same bytes), read into
# the types the stream reads them into (ids as Enum or Categorical: polars casts each id, which
# for Parquet costs about what the read does), then grouped into cells as well (the stream
# ``load_contest`` runs, minus its checks): the medians of 5, the three in turn each round.
STREAM_PARTS = """
import statistics, sys, time
from pathlib import Path
import polars as pl
from panel_tui.config import load_config
from panel_tui.inputs import SCORES
from panel_tui.inputs.cells import streamed_cells
from panel_tui.inputs.contest import _id_lookups, _load_candidates, _load_indicators
from panel_tui.inputs.read import scan_table
for config_path in sys.argv[1:]:
    config = load_config(Path(config_path))
    candidates, indicators = _load_candidates(config, None), _load_indicators(config, None)
    lookups = _id_lookups(config, candidates, indicators)
    path = config.contest.scores
    data = path.read_bytes()
    bare = pl.read_parquet if path.suffix == ".parquet" else pl.read_csv
    parts = {"the bare read": [], "the ids typed as read": [], "and grouped into cells": []}
    for _ in range(5):
        start = time.perf_counter()
        bare(data)
        parts["the bare read"].append(time.perf_counter() - start)
        start = time.perf_counter()
        scan = scan_table(path, SCORES, lookups, data)
        scan.collect(engine="streaming")
        parts["the ids typed as read"].append(time.perf_counter() - start)
        start = time.perf_counter()
        assert streamed_cells(config, candidates, indicators, scan_table(path, SCORES, lookups, data), True)
        parts["and grouped into cells"].append(time.perf_counter() - start)
    print(path.name + ": " + ", ".join(f"{k} {statistics.median(v):.3f} s" for k, v in parts.items()))
"""


# Where `rank`'s time goes, in a fresh process per format (as `rank` runs), each step once:
# the imports, the small files, load_contest (its label: argv[2]; the cache off, the sheet read
# and streamed into its cells; the cache warm, its bytes hashed and its kept cells loaded), the
# standings, the JSON text; then, not part of `rank`, the rows when something asks for them.
# With argv[3] "analysis", what `rank --analysis` does instead: the sheet loaded with its scores
# placed for the analysis, and the analysis (robustness_table) between the standings and the
# JSON, which holds it (bench_analysis.py; no rows are asked for after).
STEPS = """
import sys, time
t = [time.perf_counter()]
from pathlib import Path
from panel_tui.config import load_config
from panel_tui.engine import standings, to_json_text
from panel_tui.inputs import load_contest
from panel_tui.inputs.contest import _load_candidates, _load_indicators
analysis = sys.argv[3:] == ["analysis"]
if analysis:  # (as `rank` imports the analysis only when asked for it)
    from panel_tui.analysis import prepare, robustness_table
t.append(time.perf_counter())
config = load_config(Path(sys.argv[1]))
_load_indicators(config, None), _load_candidates(config, None)
t.append(time.perf_counter())
data = load_contest(config, placed=analysis)
if analysis:
    prepare(data)
t.append(time.perf_counter())
result = standings(data)
t.append(time.perf_counter())
names = ["imports (polars and ours)", "config and small files", sys.argv[2], "standings"]
extra = None
if analysis:
    extra = robustness_table(data)
    t.append(time.perf_counter())
    names.append("robustness_table")
to_json_text(result, extra=extra)
t.append(time.perf_counter())
names.append("JSON")
if not analysis:
    data.scores
    t.append(time.perf_counter())
    names.append("(then the rows asked for)")
print(config.contest.scores.name + ", " + type(data.rows).__name__ + ": "
      + ", ".join(f"{n} {b - a:.3f} s" for n, a, b in zip(names, t, t[1:])))
"""
PARSED = "load_contest (the sheet read and streamed into cells)"
CACHED = "load_contest (the hash; the kept cells)"


def steps(configs: list[str], label: str, env: dict[str, str], rounds: int = 3, *, analysis: bool = False) -> list[str]:
    """Where `rank`'s time goes (``STEPS``: ``label`` names its load_contest, ``env`` has the
    cache off or warm; ``analysis``: `rank --analysis`'s), each format in ``rounds`` fresh
    processes; the round with the median total is printed."""
    lines = []
    for config in configs:
        runs = []
        for _ in range(rounds):
            out = subprocess.run(
                [sys.executable, "-c", STEPS, config, label, *(["analysis"] if analysis else [])],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
                env=env,
            )
            line = out.stdout.strip()
            runs.append((sum(float(part.split()[-2]) for part in line.split(": ", 1)[1].split(", ")), line))
        lines.append(sorted(runs)[len(runs) // 2][1])
    return lines


def stream_parts(configs: list[str]) -> list[str]:
    """The stream's parts beside the bare read (``STREAM_PARTS``), measured in a child process."""
    out = subprocess.run(
        [sys.executable, "-c", STREAM_PARTS, *configs], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return out.stdout.strip().splitlines()


def hash_vs_parse(configs: list[str]) -> list[str]:
    """The cache's premise, measured in a child process: hashing a sheet costs less than parsing it."""
    out = subprocess.run(
        [sys.executable, "-c", HASH_VS_PARSE, *configs], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return out.stdout.strip().splitlines()


def rewrite(scores: Path, round_: int) -> None:
    """Change one score of the sheet's copy (another one each round), in a child process: the
    harness must not hold the sheet (its RSS would count in every later child's peak)."""
    subprocess.run([sys.executable, "-c", REWRITE, str(scores), str(round_)], check=True)


def code_version() -> str:
    """Which panel_tui was measured: the commit, and whether the work tree differs from it."""
    git = ["git", "--no-optional-locks", "-C", str(ROOT)]  # read-only: no index refresh
    try:
        commit = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "--", "panel_tui"], capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "panel_tui (not a git checkout)"
    return f"panel_tui at commit {commit}" + (" with uncommitted changes" if dirty else "")


def machine() -> list[str]:
    """What the figures were measured on."""
    meminfo = Path("/proc/meminfo").read_text().split()
    memory_gib = int(meminfo[meminfo.index("MemTotal:") + 1]) / 1024**2
    return [
        f"machine: {len(os.sched_getaffinity(0))} CPUs (nproc), {memory_gib:.1f} GiB memory, {platform.platform()}",
        f"python {platform.python_version()}, polars {version('polars')}, pandas {version('pandas')}; {code_version()}",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (default 5)")
    parser.add_argument(
        "--candidates",
        type=int,
        default=DEFAULT_CANDIDATES,
        help=f"candidates to generate (default {DEFAULT_CANDIDATES:,}); passed to make_data.py",
    )
    parser.add_argument("--no-pandas", action="store_true", help="leave the pandas baseline out (the slowest)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file (bench/run_all.py)")
    args = parser.parse_args()
    # Our modules' bytecode written first, as an installed package has it: where
    # PYTHONDONTWRITEBYTECODE is set (this machine sets it), every process would otherwise
    # compile them from source, about 45 ms that neither the floors nor the peers pay.
    compileall.compile_dir(ROOT / "panel_tui", quiet=1)
    if args.rounds < 1 or args.candidates < 2:
        parser.error("--rounds must be at least 1 and --candidates at least 2")

    python = sys.executable
    panel_tui = str(Path(python).parent / "panel-tui")
    data = ensure_data(args.candidates).relative_to(ROOT)
    shutil.rmtree(CACHE, ignore_errors=True)
    CACHE.mkdir(parents=True, mode=0o700)
    off, on = {"PANEL_TUI_CACHE": "off"}, {"XDG_CACHE_HOME": str(CACHE), "PANEL_TUI_CACHE": ""}
    configs = {"CSV": f"{data}/config.toml", "Parquet": f"{data}/config-parquet.toml"}
    floors = {
        "CSV": Command(
            "floor: polars.read_csv", [python, "-c", f"import polars as pl; pl.read_csv('{data}/scores.csv')"]
        ),
        "Parquet": Command(
            "floor: polars.read_parquet",
            [python, "-c", f"import polars as pl; pl.read_parquet('{data}/scores.parquet')"],
            fmt="Parquet",
        ),
    }
    commands: list[Command] = []
    for fmt, config in configs.items():
        rank = [panel_tui, "rank", "--format", "json", "--config", config]
        commands += [
            floors[fmt],
            Command(f"panel-tui rank, {fmt}, parsed", rank, fmt, off),
            Command(f"panel-tui rank, {fmt}, cached", rank, fmt, on),
            Command(f"duckdb, {fmt}", [python, "bench/duckdb_rank.py", config], fmt),
        ]
        if not args.no_pandas:
            commands.append(Command(f"pandas, {fmt}", [python, "bench/pandas_rank.py", config], fmt))
    # The cache's payoff: a copy of the CSV contest whose sheet changes before every round.
    copy = RESULTS / "rewritten"
    shutil.rmtree(copy, ignore_errors=True)
    copy.mkdir(parents=True)
    for name in ("config.toml", "candidates.csv", "indicators.csv", "scores.csv"):
        shutil.copyfile(ROOT / data / name, copy / name)
    rewritten_rank = [panel_tui, "rank", "--format", "json", "--config", str(copy / "config.toml")]
    rewritten = [
        Command("rewritten sheet: rank, cache on, 1st run (streams it, keeps its cells)", rewritten_rank, "CSV", on),
        Command("rewritten sheet: rank, cache on, 2nd run (loads the kept cells)", rewritten_rank, "CSV", on),
        Command("rewritten sheet: rank, cache off", rewritten_rank, "CSV", off),
    ]

    lines = machine()
    lines.append(f"data: {data}/ ({args.candidates:,} candidates, {args.candidates * 56 * 12:,} score rows)")
    print("\n".join(lines), flush=True)
    load_before = os.getloadavg()
    print("checking JSON (also the warm-up, and the cache's first fill) ...", file=sys.stderr, flush=True)
    demo_config = str(ROOT / "panel_tui" / "demo" / "config.toml")
    checks = check(
        commands,
        {
            "panel-tui": [panel_tui, "rank", "--format", "json", "--config", demo_config],
            "duckdb": [python, "bench/duckdb_rank.py", demo_config],
            **({} if args.no_pandas else {"pandas": [python, "bench/pandas_rank.py", demo_config]}),
        },
    )
    for round_ in range(args.rounds):
        shift = round_ % len(commands)
        for command in commands[shift:] + commands[:shift]:  # each command takes each place in turn
            command.runs.append(run(command.argv, env=command.env))
        rewrite(copy / "scores.csv", round_)
        for command in rewritten:  # in this order: the first run after the rewrite misses
            command.runs.append(run(command.argv, env=command.env))
        print(
            f"round {round_ + 1}/{args.rounds}: "
            + ", ".join(f"{c.name} {c.runs[-1].seconds:.2f}s" for c in commands + rewritten),
            file=sys.stderr,
            flush=True,
        )
    hashing = hash_vs_parse(list(configs.values()))
    parts = stream_parts(list(configs.values()))
    split = steps(list(configs.values()), PARSED, {**os.environ, **off})
    cached_split = steps(list(configs.values()), CACHED, {**os.environ, **on})
    load_after = os.getloadavg()
    load = "load average (1, 5, 15 min) before: {:.2f} {:.2f} {:.2f}, after: {:.2f} {:.2f} {:.2f}".format(
        *load_before, *load_after
    )
    harness_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    width = max(len(c.name) for c in commands + rewritten) + 2
    table = [
        f"{args.rounds} round{'s' if args.rounds != 1 else ''}, order rotated each round; median wall time; "
        "x floor: ratio to the bare read of the same format in the same run",
        f"{'command':<{width}}{'median s':>9}{'min s':>7}{'max s':>7}{'x floor':>8}{'CPU s':>7}{'peak MiB':>9}{'x floor':>8}",
    ]
    for c in commands + rewritten:
        floor = floors[c.fmt]
        seconds = [r.seconds for r in c.runs]
        table.append(
            f"{c.name:<{width}}{c.median:>9.2f}{min(seconds):>7.2f}{max(seconds):>7.2f}"
            f"{c.median / floor.median:>7.2f}x{c.median_cpu:>7.2f}{c.peak_mb:>9.0f}{c.peak_mb / floor.peak_mb:>7.2f}x"
        )
    table.append(load)
    table.append("CPU s: the child's median user + system seconds, all threads. Peak MiB: the child's max RSS from")
    table.append(
        f"os.wait4, the most over the rounds (the harness's own peak, a floor for it, is {harness_mb:.0f} MiB)."
    )
    by_name = {c.name: c for c in commands}
    verdicts = []
    for fmt in configs:
        floor, duck = floors[fmt], by_name[f"duckdb, {fmt}"]
        for how in ("parsed", "cached"):
            ours = by_name[f"panel-tui rank, {fmt}, {how}"]
            t, m = ours.median / floor.median, ours.peak_mb / floor.peak_mb
            verdicts.append(
                f"targets, {fmt}, {how}: time {t:.2f}x the floor ({'MET' if t <= TIME_BAR else 'NOT MET'}, "
                f"<= {TIME_BAR}x), {'ahead of' if ours.median < duck.median else 'BEHIND'} DuckDB "
                f"({ours.median:.2f} s vs {duck.median:.2f} s), memory {m:.2f}x the floor "
                f"({'MET' if m <= MEMORY_BAR else 'NOT MET'}, <= {MEMORY_BAR}x)"
            )
    table.extend(verdicts)
    table.extend(f"cache premise, in one process (median of 3): {line}" for line in hashing)
    table.extend(f"the stream's parts, in one process (median of 5): {line}" for line in parts)
    table.extend(f"where rank's time goes, a fresh process (the median of 3): {line}" for line in split)
    table.extend(f"where rank's time goes, the cache warm (the median of 3): {line}" for line in cached_split)
    table.append("JSON checks:")
    for label, equal, detail in checks:
        table.append(f"  {label}: {'equal' if equal else 'DIFFERENT'}")
        if not equal:
            table.extend(f"    {line}" for line in detail.splitlines())
    print("\n".join(table))

    figures = {
        "machine": lines,
        "rounds": args.rounds,
        "load_before": load_before,
        "load_after": load_after,
        "commands": [
            {
                "name": c.name,
                "format": c.fmt,
                "argv": c.argv,
                "env": c.env,
                "seconds": [r.seconds for r in c.runs],
                "cpu_seconds": [r.cpu_seconds for r in c.runs],
                "max_rss_kb": [r.max_rss_kb for r in c.runs],
                "median": c.median,
                "peak_mib": c.peak_mb,
                "floor": floors[c.fmt].name,
            }
            for c in commands + rewritten
        ],
        "checks": [{"label": label, "equal": equal, "detail": detail} for label, equal, detail in checks],
        "verdicts": verdicts,
        "hash_vs_parse": hashing,
        "stream_parts": parts,
        "steps": split,
    }
    text = json.dumps(figures, indent=2) + "\n"
    (RESULTS / "results.json").write_text(text, encoding="utf-8")
    if args.json:
        args.json.write_text(text, encoding="utf-8")
    return 0 if all(equal for _, equal, _ in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
