"""The robustness analysis against the plain rank, as whole processes, in the same run.

    python bench/bench_analysis.py [--rounds 3]

For the bundled demo and for the 10,000-candidate bench data (bench/data, made by
make_data.py if missing): `panel-tui rank --format json` and the same with `--analysis`,
alternating round by round; median wall time and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PANEL = Path(sys.executable).parent / "panel-tui"


def timed(args: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, cwd=HERE.parent)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not (HERE / "data" / "config.toml").exists():
        subprocess.run([sys.executable, str(HERE / "make_data.py")], check=True)
    contests = {"demo (34 candidates)": str(HERE.parent / "panel_tui" / "demo" / "config.toml"),
                "10,000 candidates x 12 evaluators": str(HERE / "data" / "config.toml")}
    print(f"{'contest':<36} {'rank':>8} {'rank --analysis':>16} {'ratio':>7}")
    for name, config in contests.items():
        plain, analysed = [], []
        for _ in range(args.rounds):
            plain.append(timed([str(PANEL), "rank", "--format", "json", "--config", config]))
            analysed.append(timed([str(PANEL), "rank", "--format", "json", "--analysis", "--config", config]))
        p, a = statistics.median(plain), statistics.median(analysed)
        print(f"{name:<36} {p:>7.2f}s {a:>15.2f}s {a / p:>6.1f}x")


if __name__ == "__main__":
    main()
