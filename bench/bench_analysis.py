"""The robustness analysis against the plain rank, in the same run.

    python bench/bench_analysis.py [--rounds 3]

For the bundled demo and for the 10,000-candidate bench data (bench/data, made by
make_data.py if missing):

1. Whole processes, alternating round by round: `panel-tui rank --format json` and the same
   with `--analysis` (what a secretary types); median wall time and the ratio.
2. In one process, after loading the contest once: the engine's `standings` (the plain
   ranking), `analysis.robustness` (every variant as a scenario of one ranking pass), and the
   analysis by its definition (tests/reference_analysis.py: the whole contest re-ranked from a
   variant score sheet 17 times), alternating; median seconds, the ratios to `standings`, and
   whether the fast analysis equals the definition.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PANEL = Path(sys.executable).parent / "panel-tui"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def timed(args: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - t0


def clock(function):
    t0 = time.perf_counter()
    result = function()
    return time.perf_counter() - t0, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not (HERE / "data" / "config.toml").exists():
        subprocess.run([sys.executable, str(HERE / "make_data.py")], check=True)
    contests = {
        "demo (34 candidates)": ROOT / "panel_tui" / "demo" / "config.toml",
        "10,000 candidates x 12 evaluators": HERE / "data" / "config.toml",
    }

    print("1. Whole processes (median wall time):")
    print(f"   {'contest':<36} {'rank':>8} {'rank --analysis':>16} {'ratio':>7}")
    for name, config in contests.items():
        plain, analysed = [], []
        for _ in range(args.rounds):
            plain.append(timed([str(PANEL), "rank", "--format", "json", "--config", str(config)]))
            analysed.append(timed([str(PANEL), "rank", "--format", "json", "--analysis", "--config", str(config)]))
        p, a = statistics.median(plain), statistics.median(analysed)
        print(f"   {name:<36} {p:>7.2f}s {a:>15.2f}s {a / p:>6.1f}x", flush=True)

    from reference_analysis import reference_robustness

    from panel_tui.analysis import robustness
    from panel_tui.config import load_config
    from panel_tui.engine import standings
    from panel_tui.inputs import load_contest

    print("\n2. In one process, the contest loaded once (median seconds; ratio to standings):")
    print(f"   {'contest':<36} {'standings':>10} {'robustness':>18} {'by definition':>20}  equal")
    for name, config in contests.items():
        data = load_contest(load_config(config))
        plain, fast, slow, equal = [], [], [], True
        for _ in range(args.rounds):
            plain.append(clock(lambda: standings(data))[0])
            seconds, mine = clock(lambda: robustness(data))
            fast.append(seconds)
            seconds, theirs = clock(lambda: reference_robustness(data))
            slow.append(seconds)
            equal = equal and mine == theirs
        p, f, s = (statistics.median(x) for x in (plain, fast, slow))
        print(
            f"   {name:<36} {p:>9.3f}s {f:>8.3f}s {f / p:>6.1f}x {s:>10.3f}s {s / p:>6.1f}x  {'yes' if equal else 'NO'}",
            flush=True,
        )


if __name__ == "__main__":
    main()
