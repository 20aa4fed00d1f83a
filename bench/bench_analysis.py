"""The robustness analysis against the plain rank, in the same run.

    python bench/bench_analysis.py [--rounds 3] [--no-definition]

For the bundled demo and for the 10,000-candidate bench data (bench/data, made by
make_data.py if missing):

1. Whole processes, alternating round by round: `panel-tui rank --format json` and the same
   with `--analysis` (what a secretary types); median wall time and CPU time (user + system,
   all threads) and their ratios. Issue 16 asks for `rank --analysis` <= 1.5x `rank` at 10,000.
2. In one process, after loading the contest once: the engine's `standings` (the plain
   ranking), `analysis.robustness` (every variant as a scenario of one ranking pass), and the
   analysis by its definition (tests/reference_analysis.py: the whole contest re-ranked from a
   variant score sheet 17 times), alternating; median seconds, the ratios to `standings`, and
   whether the fast analysis equals the definition. Also the 10,000-candidate contest with its
   score rows shuffled (the bench sheet comes in cell order, which favours any grouping): the
   robustness must not depend on the order, and its time should not either.

The load average is printed before and after: on a busy machine the wall times stretch, the
CPU times much less.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
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


def timed(args: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one process."""
    cpu, t0 = children_cpu(), time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - t0, children_cpu() - cpu


def clock(function):
    t0 = time.perf_counter()
    result = function()
    return time.perf_counter() - t0, result


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-definition", action="store_true", help="skip re-ranking by the definition (slow)")
    args = parser.parse_args()
    if not (HERE / "data" / "config.toml").exists():
        subprocess.run([sys.executable, str(HERE / "make_data.py")], check=True)
    contests = {
        "demo (34 candidates)": ROOT / "panel_tui" / "demo" / "config.toml",
        "10,000 candidates x 12 evaluators": HERE / "data" / "config.toml",
    }
    print(f"{os.cpu_count()} cores; at the start: {load()}")

    print("\n1. Whole processes (median of rounds; CPU: user + system):")
    print(f"   {'contest':<36} {'rank':>14} {'rank --analysis':>18} {'ratio wall':>11} {'ratio CPU':>10}")
    for name, config in contests.items():
        plain, analysed = [], []
        for _ in range(args.rounds):
            plain.append(timed([str(PANEL), "rank", "--format", "json", "--config", str(config)]))
            analysed.append(timed([str(PANEL), "rank", "--format", "json", "--analysis", "--config", str(config)]))
        pw, pc = (statistics.median(x[i] for x in plain) for i in (0, 1))
        aw, ac = (statistics.median(x[i] for x in analysed) for i in (0, 1))
        print(
            f"   {name:<36} {pw:>5.2f}s {pc:>4.2f}cpu {aw:>8.2f}s {ac:>5.2f}cpu {aw / pw:>10.2f}x {ac / pc:>9.2f}x",
            flush=True,
        )

    from reference_analysis import reference_robustness

    from panel_tui.analysis import robustness
    from panel_tui.config import load_config
    from panel_tui.engine import standings
    from panel_tui.inputs import load_contest

    print("\n2. In one process, the contest loaded once (median seconds; ratio to standings):")
    print(f"   {'contest':<36} {'standings':>10} {'robustness':>18} {'by definition':>20}  equal")
    loaded = {name: load_contest(load_config(config)) for name, config in contests.items()}
    big = loaded["10,000 candidates x 12 evaluators"]
    shuffled = replace(big, scores=big.scores.sample(fraction=1.0, shuffle=True, seed=16))
    loaded["10,000 x 12, score rows shuffled"] = shuffled
    for name, data in loaded.items():
        definition = not args.no_definition and name != "10,000 x 12, score rows shuffled"
        plain, fast, slow, equal = [], [], [], True
        for _ in range(args.rounds):
            plain.append(clock(lambda: standings(data))[0])  # noqa: B023 (called at once)
            seconds, mine = clock(lambda: robustness(data))  # noqa: B023
            fast.append(seconds)
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
    print(f"\nAt the end: {load()}")


if __name__ == "__main__":
    main()
