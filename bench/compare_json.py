"""Compare two ``rank --format json`` documents: parse both and list where they differ.

    python bench/compare_json.py EXPECTED.json ACTUAL.json [--limit 20]

Exit status 0 when the parsed documents are equal, 1 when they differ (each difference
printed as a path such as ``categories[0].entries[12](K00013).total: 1.5 != 1.51``), 2 on
bad usage. Numbers compare by value (70 equals 70.0), but a boolean never equals a number.
The benchmark runs this in its own process, so the harness's memory stays small.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def differences(expected: Any, actual: Any, path: str = "$") -> Iterator[str]:
    """Yield one line per difference between two parsed JSON values."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key, value in expected.items():
            if key in actual:
                yield from differences(value, actual[key], f"{path}.{key}")
            else:
                yield f"{path}.{key}: missing in the second document"
        for key in actual.keys() - expected.keys():
            yield f"{path}.{key}: only in the second document"
    elif isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            yield f"{path}: {len(expected)} items != {len(actual)} items"
        for i, (a, b) in enumerate(zip(expected, actual, strict=False)):
            label = f"({a['candidate_id']})" if isinstance(a, dict) and "candidate_id" in a else ""
            yield from differences(a, b, f"{path}[{i}]{label}")
    elif isinstance(expected, bool) != isinstance(actual, bool) or expected != actual:
        yield f"{path}: {json.dumps(expected, ensure_ascii=False)} != {json.dumps(actual, ensure_ascii=False)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("expected", type=Path)
    parser.add_argument("actual", type=Path)
    parser.add_argument("--limit", type=int, default=20, help="print at most this many differences")
    args = parser.parse_args(argv)
    found = list(differences(json.loads(args.expected.read_bytes()), json.loads(args.actual.read_bytes())))
    for line in found[: args.limit]:
        print(line)
    if len(found) > args.limit:
        print(f"... and {len(found) - args.limit} more")
    print(f"{len(found)} difference{'s' if len(found) != 1 else ''}" if found else "equal")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
