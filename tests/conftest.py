"""Shared helpers for tests that run the real command on files.

``contest`` (fixture): a copy of the bundled demo contest (config.toml + data/*.csv) in a
temporary directory, with small editors to introduce one defect at a time.
``run_cli`` / ``run_many``: the real ``python -m panel_tui`` as a subprocess.
``assert_refused``: exit status 2, the file, line/row and column named, no traceback.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

DEMO = Path(__file__).resolve().parent.parent / "panel_tui" / "demo"
TIMEOUT = 120


@dataclass
class ContestFiles:
    """A writable copy of the demo contest; CSV files are addressed by name inside data/."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.toml"

    @property
    def data(self) -> Path:
        return self.root / "data"

    def path(self, name: str) -> Path:
        return self.data / name

    # -- CSV files as rows of cells (header is row 0, i.e. line 1) -------------------------

    def rows(self, name: str, encoding: str = "utf-8") -> list[list[str]]:
        text = self.path(name).read_text(encoding=encoding)
        return list(csv.reader(io.StringIO(text, newline="")))

    def write_rows(self, name: str, rows: list[list[str]], encoding: str = "utf-8") -> Path:
        self.path(name).write_bytes(csv_bytes(rows, encoding))
        return self.path(name)

    def set_cell(self, name: str, line: int, column: str, value: str) -> list[str]:
        """Put ``value`` in ``column`` on CSV ``line`` (the header is line 1); return the old row."""
        rows = self.rows(name)
        index = rows[0].index(column)
        old = list(rows[line - 1])
        rows[line - 1][index] = value
        self.write_rows(name, rows)
        return old

    def drop_column(self, name: str, column: str) -> None:
        rows = self.rows(name)
        index = rows[0].index(column)
        self.write_rows(name, [r[:index] + r[index + 1 :] for r in rows])

    def add_column(self, name: str, column: str, value: str = "") -> None:
        rows = self.rows(name)
        self.write_rows(name, [rows[0] + [column]] + [r + [value] for r in rows[1:]])

    def append_row(self, name: str, row: list[str]) -> int:
        """Append a row; return its line number."""
        rows = self.rows(name)
        rows.append(row)
        self.write_rows(name, rows)
        return len(rows)

    def max_points(self, indicator_id: str) -> float:
        rows = self.rows("indicators.csv")
        head = rows[0]
        for row in rows[1:]:
            if row[head.index("indicator_id")] == indicator_id:
                return float(row[head.index("max_points")])
        raise KeyError(indicator_id)

    # -- config.toml -----------------------------------------------------------------------

    def config_text(self) -> str:
        return self.config.read_text(encoding="utf-8")

    def edit_config(self, old: str, new: str, count: int = 1) -> int:
        """Replace the first ``count`` occurrences of ``old``; return the line of the first."""
        text = self.config_text()
        assert text.count(old) >= count, f"{old!r} not in the demo config"
        line = text[: text.index(old)].count("\n") + 1
        self.config.write_text(text.replace(old, new, count), encoding="utf-8")
        return line

    def point(self, key: str, target: str) -> Path:
        """Make ``[contest] key`` (candidates, scores, indicators) name ``target`` (relative to the config)."""
        default = f'{key} = "data/{key}.csv"'
        self.edit_config(default, f'{key} = "{target}"')
        return self.root / target


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode(encoding)


DEMO_PENDING_EVALUATORS = tuple(f"E{e:02d}" for e in range(1, 10))  # C24's nine evaluators in the demo


def lower_scores(scores: Path, candidate: str = "C05", indicator: str = "CI01") -> None:
    """Every evaluator gives ``candidate`` 0 on ``indicator``: a valid sheet with a new total."""
    lines = scores.read_text(encoding="utf-8").splitlines()
    lines = [
        ",".join(line.split(",")[:3] + ["0"]) if line.startswith(f"{candidate},") and f",{indicator}," in line else line
        for line in lines
    ]
    scores.write_text("\n".join(lines) + "\n", encoding="utf-8")


def score_the_pending_candidate(scores: Path, score: float) -> None:
    """The demo's pending candidate, C24 (Seoul Gangseo-gu), gets its four missing indicators
    (CI53-CI56, 30 points each) from each of its nine evaluators, appended to ``scores``."""
    with scores.open("a", encoding="utf-8") as f:
        for indicator in ("CI53", "CI54", "CI55", "CI56"):
            for evaluator in DEMO_PENDING_EVALUATORS:
                f.write(f"C24,{evaluator},{indicator},{score:g}\n")


def copy_demo(root: Path) -> ContestFiles:
    """Copy the bundled demo contest into ``root`` (created if needed)."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy2(DEMO / "config.toml", root / "config.toml")
    shutil.copytree(DEMO / "data", root / "data")
    return ContestFiles(root)


@pytest.fixture
def contest(tmp_path: Path) -> ContestFiles:
    return copy_demo(tmp_path / "contest")


def sheet_read_counters(cache: Any, calls: list[str]) -> dict[str, Callable[..., Any]]:
    """Stand-ins for the cache's ``read_bytes``, ``_sha256`` and ``_digest`` (by those names)
    that note in ``calls`` every read of a score sheet's bytes ("read") and every hash of them
    ("hash"; "check" when it is a claim's check, ``cache._check_claim``), then do it."""
    import threading

    read_bytes, sha256, digest = cache.read_bytes, cache._sha256, cache._digest

    def reading(path, handle, limit=-1, *, start=None):
        calls.append("read")
        return read_bytes(path, handle, limit, start=start)

    def hashing(data):
        calls.append("hash")
        return sha256(data)

    def hashing_blocks(path, handle):
        calls.append("check" if threading.current_thread().name == "panel-tui claim check" else "hash")
        return digest(path, handle)

    return {"read_bytes": reading, "_sha256": hashing, "_digest": hashing_blocks}


@pytest.fixture(autouse=True)
def _claims_as_in_a_new_process(monkeypatch: pytest.MonkeyPatch):
    """Each test starts as a new process would: taking no claims (a console in an earlier test
    switched them on for its process: ``cache.take_claims``), none refuted; and leaves no check
    of a claim running (``cache._check_claim``'s threads), which could refute into the next."""
    from panel_tui.inputs import cache

    monkeypatch.setattr(cache, "_TAKES_CLAIMS", [False])
    monkeypatch.setattr(cache, "_REFUTED", [])
    monkeypatch.setattr(cache, "_REFUTED_CLAIMS", set())
    yield
    claim_checks_done(30.0)


def claim_checks_done(timeout: float = 10.0) -> None:
    """Wait (``timeout`` seconds at most) for this process's checks of claims
    (``cache._check_claim``'s threads)."""
    import threading
    import time

    end = time.monotonic() + timeout
    while any(t.name == "panel-tui claim check" for t in threading.enumerate()) and time.monotonic() < end:
        time.sleep(0.02)


@pytest.fixture
def cached(contest: ContestFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ContestFiles:
    """The demo contest with the cache on for any size, in a folder of this test's own."""
    from panel_tui.inputs import cache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("PANEL_TUI_CACHE", raising=False)
    monkeypatch.setattr(cache, "MIN_SIZE", 0)
    return contest


def counted_parses(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every score sheet the cache parses from now on (its calls of ``read_table``)."""
    from panel_tui.inputs import cache

    calls: list[Path] = []
    original = cache.read_table

    def counting(path, spec, lookups=None, frame=None, *, data=None):
        calls.append(path)
        return original(path, spec, lookups, frame, data=data)

    monkeypatch.setattr(cache, "read_table", counting)
    return calls


# A console of the account computing its boards from a sheet (inside ``cache.writes_afterwards``,
# the cache on for any size), held there: it prints "loading" and how its rows came (its
# ``ContestData.rows`` type) once loaded; a line on its stdin ends its block (it prints "done"),
# another one lets it exit once what it keeps is written.
_IN_ITS_BLOCK = """
import sys
from pathlib import Path
from panel_tui.config import load_config
from panel_tui.inputs import cache, load_contest
cache.MIN_SIZE = 0
with cache.writes_afterwards():
    data = load_contest(load_config(Path(sys.argv[1])))
    print("loading", type(data.rows).__name__, flush=True)
    sys.stdin.readline()
print("done", flush=True)
cache.wait_for_writes()
sys.stdin.readline()
"""


def noted_at_each_call(monkeypatch: pytest.MonkeyPatch, owner: object, name: str, note: Callable[[], object]) -> list:
    """``owner.name`` wrapped for the test: each call first appends ``note()`` to the list
    returned (when it was called, what held then), then runs as before."""
    function = getattr(owner, name)
    noted: list = []

    def noting(*args, **kwargs):
        noted.append(note())
        return function(*args, **kwargs)

    monkeypatch.setattr(owner, name, noting)
    return noted


def tell(child: subprocess.Popen, line: str = "") -> None:
    """Send a line to another process the test drives (its stdin a text pipe), at once."""
    assert child.stdin is not None
    child.stdin.write(line + "\n")
    child.stdin.flush()


def console_in_its_block(config: Path) -> subprocess.Popen:
    """Another process of the account loading ``config``'s contest as a console computing its
    boards does, held inside its block (``_IN_ITS_BLOCK``); the caller kills it when done."""
    return subprocess.Popen(
        [sys.executable, "-c", _IN_ITS_BLOCK, str(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )


# -- running the real command ------------------------------------------------------------------


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONIOENCODING"] = "utf-8"
    env.pop("PYTHONWARNINGS", None)
    return env


def run_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run ``python -m panel_tui ARGS`` in ``cwd``; stdout and stderr as bytes."""
    return subprocess.run(
        [sys.executable, "-m", "panel_tui", *map(str, args)], cwd=cwd, env=_env(), capture_output=True, timeout=TIMEOUT
    )


def run_batch(jobs: list[tuple[list[str], Path]]) -> list[subprocess.CompletedProcess]:
    """Run many ``(args, cwd)`` commands, as many at a time as there are CPUs; results in order.

    Each run costs about half a second of start-up (Python, polars), so a suite of dozens of
    bad inputs runs them side by side.
    """
    workers = max(2, os.cpu_count() or 2)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda job: run_cli(*job), jobs))


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")[:40] or "case"


def run_cases(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    param: str,
    cases: dict[str, Callable[[ContestFiles], Any]],
    commands: Callable[[str, ContestFiles, Any], list[tuple[list[str], Path]]],
) -> dict[str, str | tuple[Any, list[subprocess.CompletedProcess]]]:
    """For a module-scoped fixture of a table of bad inputs: prepare every case the session
    selected from the calling module (``cases[name]`` breaks a fresh copy of the demo and returns
    what to expect), then run all their commands (``commands(name, contest, expected)``) side by
    side. Per case: ``(expected, results)``, or the reason the case skipped."""
    selected = [
        item.callspec.params[param]
        for item in request.session.items
        if getattr(item, "module", None) is request.module
        and param in getattr(getattr(item, "callspec", None), "params", {})
    ]
    prepared: dict[str, str | tuple[Any, list[int]]] = {}
    jobs: list[tuple[list[str], Path]] = []
    for name in dict.fromkeys(selected):
        contest = copy_demo(tmp_path_factory.mktemp(_slug(name)))
        try:
            expected = cases[name](contest)
        except pytest.skip.Exception as skip:
            prepared[name] = str(skip)
            continue
        mine = commands(name, contest, expected)
        prepared[name] = (expected, list(range(len(jobs), len(jobs) + len(mine))))
        jobs.extend(mine)
    results = run_batch(jobs)
    return {
        name: entry if isinstance(entry, str) else (entry[0], [results[i] for i in entry[1]])
        for name, entry in prepared.items()
    }


def run_many(commands: list[list[str]], cwd: Path) -> list[subprocess.CompletedProcess]:
    """Run several commands side by side in one directory; results in the same order."""
    return run_batch([(cmd, cwd) for cmd in commands])


def validate_and_rank(contest: ContestFiles, config: Path | None = None) -> list[subprocess.CompletedProcess]:
    """``validate`` and ``rank --format json`` on the contest, run side by side."""
    cfg = str(config or contest.config)
    return run_many([["validate", "--config", cfg], ["rank", "--format", "json", "--config", cfg]], contest.root)


def _word(text: str, word: str) -> bool:
    return re.search(rf"(?<![\w]){re.escape(word)}(?![\w])", text) is not None


def assert_refused(
    result: subprocess.CompletedProcess,
    file: str | None = None,
    where: str | None = None,
    column: str | None = None,
    mentions: tuple[str, ...] = (),
) -> str:
    """Exit status 2, no traceback, and stderr names ``file`` (its name), ``where`` (e.g.
    "line 5", "row 7") and ``column``; return stderr."""
    err = result.stderr.decode("utf-8", errors="replace") if isinstance(result.stderr, bytes) else result.stderr
    cmd = " ".join(map(str, result.args[3:])) if isinstance(result.args, list) else result.args
    context = f"\ncommand: {cmd}\nexit status: {result.returncode}\nstderr:\n{err[-3000:]}"
    assert "Traceback" not in err, "a traceback instead of a message" + context
    assert result.returncode == 2, "expected exit status 2" + context
    assert err.strip(), "exit status 2 without any message" + context
    if file is not None:
        assert file in err, f"the message does not name the file {file!r}" + context
    if where is not None:
        assert re.search(rf"(?<!\w){re.escape(where)}(?!\d)", err), f"the message does not say {where!r}" + context
    if column is not None:
        # The column's name on its own, not as part of the file's name (score vs scores.csv).
        rest = err.replace(file, " ") if file else err
        assert _word(rest, column), f"the message does not name the column {column!r}" + context
    for word in mentions:
        assert word in err, f"the message does not mention {word!r}" + context
    return err


@pytest.fixture
def solo(tmp_path: Path) -> Path:
    """The demo in tmp_path with this process's account as the secretary and no chair
    confirmation needed: one account can run a whole meeting."""
    me = __import__("pwd").getpwuid(os.geteuid()).pw_name
    shutil.copytree(DEMO / "data", tmp_path / "data")
    text = (DEMO / "config.toml").read_text(encoding="utf-8")
    text = text.replace('secretary = ["kim"]', f'secretary = ["{me}"]')
    text = text.replace("require_chair_confirmation = true", "require_chair_confirmation = false")
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")
    return tmp_path


@pytest.fixture(autouse=True)
def console_failures_fail_tests():
    """A console failure that the running app would report in a banner fails the test instead
    (``PanelApp.raise_failures``); the tests of that banner switch it off themselves."""
    app = sys.modules.get("panel_tui.tui.app")
    if app is not None:
        app.PanelApp.raise_failures = True
    yield


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that need the real system (OS accounts, a mounted filesystem) carry the ``system``
    marker, found by the fixtures that provide it, so that ``-m "not system"`` leaves them out."""
    for item in items:
        if {"panel", "tiny_disk"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.system)


@pytest.fixture
def korean():
    """Korean for one test (the console's language is set before the app is built), English
    again after it."""
    from panel_tui import i18n

    i18n.set_language("ko")
    try:
        yield
    finally:
        i18n.set_language("en")
