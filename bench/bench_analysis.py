"""The robustness analysis against the plain rank, in the same run.

    python bench/bench_analysis.py [--rounds 3] [--no-definition] [--compare-with REV]

For the bundled demo and for the 10,000-candidate bench data (bench/data, made by
make_data.py if missing):

1. Whole processes, alternating round by round: `panel-tui rank --format json` and the same
   with `--analysis` (what a secretary types); median wall time and CPU time (user + system,
   all threads) and their ratios. Issue 16 asks for `rank --analysis` <= 1.5x `rank` at 10,000.
   The cache (its own folder, filled by a first run) is on for both, as a secretary has it: the
   sheet and its cells are kept, and so are the analysis's per-area statistics. A third column
   times `rank --analysis` with those statistics removed from the cache before each round (the
   first analysis after the sheet or the settings changed: they are computed, then kept).
   Then, at 10,000 candidates, both on a sheet not seen before (a copy of the sheet with one
   score changed before every run, as a corrected sheet arrives): `rank` streams it into its
   cells; `rank --analysis` streams it into its cells and, in the same pass, each score with
   its cell and evaluator for its matrix (the rows are never parsed). Last, where each of the
   two spends its time on such a sheet, step by step in fresh processes (the cache off): a
   fresh process touches its memory for the first time, so its analysis takes longer than
   part 3's, which runs in a warm loop.
2. In one process, after loading the contest once: the engine's `standings` (the plain
   ranking), `analysis.robustness` (every variant as a scenario of one ranking pass), and the
   analysis by its definition (tests/reference_analysis.py: the whole contest re-ranked from a
   variant score sheet 17 times), alternating; median seconds, the ratios to `standings`, and
   whether the fast analysis equals the definition. Also the 10,000-candidate contest with its
   score rows shuffled (the bench sheet comes in cell order, which favours any grouping): the
   robustness must not depend on the order, and its time should not either. With
   ``--compare-with REV``, also panel_tui/analysis.py as it was at that git revision (the
   same contest, the same run), and whether it gives the same result.
3. Where robustness's time goes at 10,000 candidates: wall and CPU seconds of the steps of
   ``robustness_table`` (what `rank --analysis` writes out: the cells keyed, the route to
   per-area statistics, the scenarios' sums, the engine's ranking of every scenario, and the
   rest), median of rounds; then its table as Python dicts (``robustness``, the console's).

Parts 2 and 3 time the analysis computing its per-area statistics (the contests are taken as
not loaded from the cache), so that they show the analysis's own work.

The load average is printed before and after: on a busy machine the wall times stretch, the
CPU times much less.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PANEL = Path(sys.executable).parent / "panel-tui"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(args: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall and CPU seconds of one process."""
    cpu, t0 = children_cpu(), time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, env=env)
    return time.perf_counter() - t0, children_cpu() - cpu


def forget_statistics(cache_home: Path) -> None:
    """The analysis's per-area statistics taken out of the cache (and their checksums): the
    frames kept beside a sheet's entry (a ``+`` in the name) whose columns are the statistics'."""
    import polars as pl

    for kept in (cache_home / "panel-tui").glob("*+*.arrow"):
        if "sub_0" in pl.read_ipc_schema(kept):
            kept.unlink()
            kept.with_suffix(".sha256").unlink(missing_ok=True)


def new_sheet(config: Path, env: dict[str, str], rounds: int) -> None:
    """Part 1's second line: `rank` and `rank --analysis` each on a sheet not seen before (a
    copy of the contest, one score of its sheet changed before every run, by bench_rank's
    ``rewrite``), alternating which goes first round by round."""
    from bench_rank import rewrite

    folder = Path(tempfile.mkdtemp(prefix="bench-analysis-new-"))
    try:
        for part in config.parent.iterdir():
            if part.suffix in (".csv", ".toml"):
                shutil.copy(part, folder / part.name)
        rank = [str(PANEL), "rank", "--format", "json", "--config", str(folder / config.name)]
        plain, analysed, changes = [], [], 0
        for round_ in range(rounds):
            pairs = [(rank, plain), ([*rank, "--analysis"], analysed)]
            for command, into in pairs if round_ % 2 == 0 else pairs[::-1]:
                changes += 1
                rewrite(folder / "scores.csv", changes)
                into.append(timed(command, env))
        pw, pc = (statistics.median(x[i] for x in plain) for i in (0, 1))
        aw, ac = (statistics.median(x[i] for x in analysed) for i in (0, 1))
        label = "  the same, a sheet not seen before"
        print(
            f"   {label:<36} {pw:>5.2f}s {pc:>4.2f}cpu {aw:>8.2f}s {ac:>5.2f}cpu {aw / pw:>10.2f}x {ac / pc:>9.2f}x",
            flush=True,
        )
        fresh_steps(folder / config.name, rounds)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def fresh_steps(config: Path, rounds: int) -> None:
    """Part 1's last two lines: where `rank` and `rank --analysis` spend their time on a sheet
    not seen before, each step of a fresh process (bench_rank's ``steps``; the cache off), the
    round whose steps add up to the median total. A fresh process touches its memory for the
    first time: the analysis takes longer there than in part 3's warm loop."""
    from bench_rank import steps

    env = {**os.environ, "PANEL_TUI_CACHE": "off"}
    label = "the sheet streamed into cells"
    for name, analysis in (("rank", False), ("rank --analysis", True)):
        [line] = steps(
            [str(config)], label + (" and its scores placed" if analysis else ""), env, rounds, analysis=analysis
        )
        print(f"     where {name}'s time goes, a fresh process, the cache off: {line}", flush=True)


def clock(function):
    t0 = time.perf_counter()
    result = function()
    return time.perf_counter() - t0, result


def analysis_at(rev: str):
    """panel_tui/analysis.py as it was at git revision ``rev``, imported as a module of its own."""
    source = subprocess.run(
        ["git", "show", f"{rev}:panel_tui/analysis.py"], check=True, capture_output=True, text=True, cwd=ROOT
    ).stdout
    path = Path(tempfile.mkdtemp()) / "analysis_at_rev.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("analysis_at_rev", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-definition", action="store_true", help="skip re-ranking by the definition (slow)")
    parser.add_argument("--compare-with", metavar="REV", help="also time panel_tui/analysis.py as at this git revision")
    args = parser.parse_args()
    # Our modules' bytecode written first, as an installed package has it: where
    # PYTHONDONTWRITEBYTECODE is set (this machine sets it), every process would otherwise
    # compile them from source, about 45 ms that neither the floors nor the peers pay.
    compileall.compile_dir(ROOT / "panel_tui", quiet=1)
    if not (HERE / "data" / "config.toml").exists():
        subprocess.run([sys.executable, str(HERE / "make_data.py")], check=True)
    contests = {
        "demo (34 candidates)": ROOT / "panel_tui" / "demo" / "config.toml",
        "10,000 candidates x 12 evaluators": HERE / "data" / "config.toml",
    }
    print(f"{os.cpu_count()} cores; at the start: {load()}")

    print("\n1. Whole processes, the cache on (median of rounds; CPU: user + system):")
    print(
        f"   {'contest':<36} {'rank':>14} {'rank --analysis':>18} {'ratio wall':>11} {'ratio CPU':>10}"
        f"   {'--analysis, statistics computed':>31}"
    )
    cache_home = Path(tempfile.mkdtemp(prefix="bench-analysis-cache-"))
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home), "PANEL_TUI_CACHE": ""}
    for name, config in contests.items():
        rank = [str(PANEL), "rank", "--format", "json", "--config", str(config)]
        timed([*rank, "--analysis"], env)  # (the cache filled: the sheet, its cells, the statistics)
        plain, analysed, computed = [], [], []
        for _ in range(args.rounds):
            plain.append(timed(rank, env))
            analysed.append(timed([*rank, "--analysis"], env))
            forget_statistics(cache_home)
            computed.append(timed([*rank, "--analysis"], env))
        pw, pc = (statistics.median(x[i] for x in plain) for i in (0, 1))
        aw, ac = (statistics.median(x[i] for x in analysed) for i in (0, 1))
        cw, cc = (statistics.median(x[i] for x in computed) for i in (0, 1))
        print(
            f"   {name:<36} {pw:>5.2f}s {pc:>4.2f}cpu {aw:>8.2f}s {ac:>5.2f}cpu {aw / pw:>10.2f}x {ac / pc:>9.2f}x"
            f"   {cw:>8.2f}s {cc:>5.2f}cpu = {cw / pw:.2f}x wall",
            flush=True,
        )
        if name.startswith("10,000"):
            new_sheet(config, env, args.rounds)
    shutil.rmtree(cache_home, ignore_errors=True)

    from reference_analysis import reference_robustness

    from panel_tui.analysis import robustness
    from panel_tui.config import load_config
    from panel_tui.engine import standings
    from panel_tui.inputs import load_contest

    earlier = analysis_at(args.compare_with) if args.compare_with else None
    print("\n2. In one process, the contest loaded once (median seconds; ratio to standings):")
    print(f"   {'contest':<36} {'standings':>10} {'robustness':>18} {'by definition':>20}  equal")
    # (taken as not loaded from the cache: the analysis computes its per-area statistics)
    loaded = {name: replace(load_contest(load_config(config)), kept=None) for name, config in contests.items()}
    big = loaded["10,000 candidates x 12 evaluators"]
    shuffled = replace(big, rows=big.scores.sample(fraction=1.0, shuffle=True, seed=16))
    loaded["10,000 x 12, score rows shuffled"] = shuffled
    for name, data in loaded.items():
        definition = not args.no_definition and name != "10,000 x 12, score rows shuffled"
        plain, fast, slow, before, equal, same = [], [], [], [], True, True
        for _ in range(args.rounds):
            plain.append(clock(lambda: standings(data))[0])  # noqa: B023 (called at once)
            seconds, mine = clock(lambda: robustness(data))  # noqa: B023
            fast.append(seconds)
            if earlier is not None:
                seconds, theirs = clock(lambda: earlier.robustness(data))  # noqa: B023
                before.append(seconds)
                same = same and mine == theirs
            if definition:
                seconds, theirs = clock(lambda: reference_robustness(data))  # noqa: B023
                slow.append(seconds)
                equal = equal and mine == theirs
            elif data is shuffled:
                equal = equal and mine == robustness(big)
        p, f = statistics.median(plain), statistics.median(fast)
        by_definition = (
            f"{statistics.median(slow):>10.3f}s {statistics.median(slow) / p:>6.1f}x" if slow else f"{'-':>19}"
        )
        verdict = "yes" if equal else "NO"
        if not definition and data is not shuffled:
            verdict = "-"
        elif data is shuffled:
            verdict += " (as in cell order)"
        print(f"   {name:<36} {p:>9.3f}s {f:>8.3f}s {f / p:>6.1f}x {by_definition}  {verdict}", flush=True)
        if before:
            b = statistics.median(before)
            print(
                f"   {'':<36} at {args.compare_with}: robustness {b:.3f}s ({b / p:.1f}x standings,"
                f" {b / f:.1f}x the time of the current one), same result: {'yes' if same else 'NO'}",
                flush=True,
            )
    steps(big, args.rounds)
    print(f"\nAt the end: {load()}")


def steps(data, rounds: int) -> None:
    """Part 3: robustness's steps timed by wrapping the functions it calls."""
    import panel_tui.analysis as analysis

    names = ["_keyed_cells", "_matrix_route", "_rows_route", "_scenario_sums", "outcomes"]
    spent: dict[str, list[tuple[float, float]]] = {name: [] for name in [*names, "robustness", "dicts"]}
    originals = {name: getattr(analysis, name) for name in names}

    def timed_step(name, function):
        def step(*args, **kwargs):
            t0, c0 = time.perf_counter(), time.process_time()
            result = function(*args, **kwargs)
            spent[name].append((time.perf_counter() - t0, time.process_time() - c0))
            return result

        return step

    for name in names:
        setattr(analysis, name, timed_step(name, originals[name]))
    try:
        for _ in range(rounds):
            t0, c0 = time.perf_counter(), time.process_time()
            table = analysis.robustness_table(data)  # (what `rank --analysis` writes out)
            spent["robustness"].append((time.perf_counter() - t0, time.process_time() - c0))
            t0, c0 = time.perf_counter(), time.process_time()
            dict(zip(table["candidate_id"].to_list(), table[analysis.ANALYSIS].to_list(), strict=True))
            spent["dicts"].append((time.perf_counter() - t0, time.process_time() - c0))
    finally:
        for name in names:
            setattr(analysis, name, originals[name])
    print("\n3. robustness_table at 10,000 candidates x 12 evaluators, step by step (median of rounds):")
    print(f"   {'step':<40} {'wall':>8} {'CPU':>8}")
    total_wall = statistics.median(w for w, _ in spent["robustness"])
    total_cpu = statistics.median(c for _, c in spent["robustness"])
    labels = {
        "_keyed_cells": "cells keyed, in candidate and area order",
        "_matrix_route": "per-area statistics, the matrix route",
        "_rows_route": "per-area statistics, the rows route",
        "_scenario_sums": "every scenario's sums",
        "outcomes": "engine.outcomes: every scenario ranked",
    }
    rest_wall, rest_cpu = total_wall, total_cpu
    for name in names:
        if spent[name]:
            wall = statistics.median(w for w, _ in spent[name])
            cpu = statistics.median(c for _, c in spent[name])
            rest_wall, rest_cpu = rest_wall - wall, rest_cpu - cpu
            print(f"   {labels[name]:<40} {wall:>7.3f}s {cpu:>7.3f}s")
    print(f"   {'the rest (evaluator ids, verdicts)':<40} {rest_wall:>7.3f}s {rest_cpu:>7.3f}s")
    print(f"   {'robustness_table (rank --analysis)':<40} {total_wall:>7.3f}s {total_cpu:>7.3f}s")
    dicts_wall = statistics.median(w for w, _ in spent["dicts"])
    dicts_cpu = statistics.median(c for _, c in spent["dicts"])
    print(f"   {'then as Python dicts (the console)':<40} {dicts_wall:>7.3f}s {dicts_cpu:>7.3f}s")


if __name__ == "__main__":
    main()
