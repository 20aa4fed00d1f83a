"""Odd files and odd ids are refused cleanly (issue 11, points 2 and 7; SPEC §2 "Bad input").

Ids with a hidden character or a space at either end; files that are not regular files
(FIFOs, devices, directories, symbolic-link loops, dangling links); CR-only CSV; line numbers
after a quoted line break; Parquet columns of unusable types; XLSX formulas without a real
stored value; file names that are not UTF-8; a full disk or the file size limit while the
session is written. Every case runs the real command (``python -m panel_tui``) on its own
copy of the demo and checks exit status 2, the file, line/row and column named, no
traceback, and the offending character shown visibly, never raw.

As in test_bad_input.py, a module fixture prepares every case and runs them side by side.
"""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from conftest import ContestFiles, _env, assert_refused, copy_demo, run_cases, run_cli

SCORES, CANDIDATES, INDICATORS, CONFLICTS, CONFIG = (
    "scores.csv",
    "candidates.csv",
    "indicators.csv",
    "conflicts.csv",
    "config.toml",
)
DEEP = 12000  # past the first 64 KiB of scores.csv
ZWSP, RLO, ESC, NBSP = "\u200b", "\u202e", "\x1b", "\u00a0"


@dataclass(frozen=True)
class Expect:
    file: str | None
    where: str | None = None
    column: str | None = None
    mentions: tuple[str, ...] = ()
    raw: str | None = None  # a character that must not appear raw in the message
    args: tuple[str, ...] | None = None  # the command, instead of validate --config <config>
    cwd: Path | None = None


CASES: dict[str, Callable[[ContestFiles], Expect]] = {}


def case(name: str):
    def register(make):
        assert name not in CASES, name
        CASES[name] = make
        return make

    return register


# -- point 2: identifiers -------------------------------------------------------------------------

ID_CELLS = [
    # (name, file, line, column, value, what the message shows)
    ("candidate_id with a zero-width space in candidates.csv", CANDIDATES, 9, "candidate_id", "C08" + ZWSP, "U+200B"),
    (
        "category with a trailing no-break space in candidates.csv",
        CANDIDATES,
        12,
        "category",
        "small_city" + NBSP,
        "leading or trailing",
    ),
    ("candidate_id with a zero-width space in scores.csv", SCORES, 40, "candidate_id", "C01" + ZWSP, "U+200B"),
    ("candidate_id with a leading space in scores.csv", SCORES, DEEP, "candidate_id", " C05", "leading or trailing"),
    ("evaluator_id with a bidi override in scores.csv", SCORES, DEEP, "evaluator_id", "E0" + RLO + "1", "U+202E"),
    # A variation selector draws nothing: "E01" + VS16 looks like "E01" (found by an attack on the cache).
    ("evaluator_id with a variation selector in scores.csv", SCORES, 777, "evaluator_id", "E01\ufe0f", "U+FE0F"),
    (
        "candidate_id with a variation selector in candidates.csv",
        CANDIDATES,
        9,
        "candidate_id",
        "C08\U000e0100",
        "U+E0100",
    ),
    ("evaluator_id with a trailing space in scores.csv", SCORES, 777, "evaluator_id", "E03 ", "leading or trailing"),
    ("indicator_id with ESC in scores.csv", SCORES, 15000, "indicator_id", "CI0" + ESC + "1", "U+001B"),
    (
        "indicator_id with a trailing space in indicators.csv",
        INDICATORS,
        9,
        "indicator_id",
        "CI08 ",
        "leading or trailing",
    ),
    ("area_id with an escape sequence in indicators.csv", INDICATORS, 5, "area_id", "A1" + ESC + "[31m", "U+001B"),
    (
        "indicator_set with a leading space in indicators.csv",
        INDICATORS,
        20,
        "indicator_set",
        " city",
        "leading or trailing",
    ),
    ("evaluator_id with a zero-width joiner in conflicts.csv", CONFLICTS, 2, "evaluator_id", "E05\u200d", "U+200D"),
    ("candidate_id with a BOM inside in conflicts.csv", CONFLICTS, 2, "candidate_id", "C0\ufeff4", "U+FEFF"),
]


def _id_cell(file: str, line: int, column: str, value: str, shown: str):
    def make(contest: ContestFiles) -> Expect:
        contest.set_cell(file, line, column, value)
        hidden = next((c for c in value if not (c.isascii() and c.isprintable())), None)
        return Expect(file, f"line {line}", column, mentions=(shown,), raw=hidden)

    return make


for _name, _file, _line, _column, _value, _shown in ID_CELLS:
    case(_name)(_id_cell(_file, _line, _column, _value, _shown))


@case("C01 and C01 with a zero-width space do not become two candidates")
def _(contest):
    line = contest.append_row(CANDIDATES, ["C01" + ZWSP, "Incheon again", "large_city", "1", "Incheon", "", ""])
    return Expect(CANDIDATES, f"line {line}", "candidate_id", mentions=("U+200B", "C01\\u200b"), raw=ZWSP)


@case("config: category id with a zero-width space")
def _(contest):
    contest.edit_config('id = "large_city"', 'id = "large_city\u200b"')
    return Expect(CONFIG, mentions=("[[categories]]", "id", "U+200B"), raw=ZWSP)


@case("config: tie_break area id with a trailing space")
def _(contest):
    contest.edit_config('tie_break = ["A1", "A2", "A3"]', 'tie_break = ["A1 ", "A2", "A3"]')
    return Expect(CONFIG, mentions=("tie_break", "leading or trailing"))


@case("config: indicator_set with a bidi control")
def _(contest):
    contest.edit_config('indicator_set = "city"', 'indicator_set = "ci\u202ety"')
    return Expect(CONFIG, mentions=("indicator_set", "U+202E"), raw=RLO)


@case("a column name with a hidden character is shown visibly")
def _(contest):
    rows = contest.rows(SCORES)
    rows[0][3] = "sc\u200bore"
    contest.write_rows(SCORES, rows)
    return Expect(SCORES, "line 1", mentions=("sc\\u200bore",), raw=ZWSP)


# -- point 7: only regular files ------------------------------------------------------------------


def _fifo(contest: ContestFiles, name: str) -> Path:
    path = contest.path(name)
    path.unlink()
    os.mkfifo(path)
    return path


def _link(contest: ContestFiles, name: str, target: str) -> Path:
    path = contest.path(name)
    path.unlink()
    path.symlink_to(target)
    return path


for _file in (SCORES, CANDIDATES, INDICATORS, CONFLICTS):
    case(f"{_file} is a FIFO")(lambda contest, f=_file: (_fifo(contest, f), Expect(f, mentions=("FIFO",)))[1])

for _file, _device in (
    (SCORES, "/dev/zero"),
    (SCORES, "/dev/urandom"),
    (INDICATORS, "/dev/zero"),
    (CONFLICTS, "/dev/null"),
):
    case(f"{_file} is a link to {_device}")(
        lambda contest, f=_file, d=_device: (_link(contest, f, d), Expect(f, mentions=("character device",)))[1]
    )


@case("scores.csv is a loop of symbolic links")
def _(contest):
    (contest.data / "other.csv").symlink_to(SCORES)
    _link(contest, SCORES, "other.csv")
    return Expect(SCORES, mentions=("loop",))


@case("scores.csv is a dangling symbolic link")
def _(contest):
    _link(contest, SCORES, "scores-moved-away.csv")
    return Expect(SCORES, mentions=("dangling", "scores-moved-away.csv"))


@case("the scores file in the config is /dev/zero")
def _(contest):
    contest.edit_config('scores = "data/scores.csv"', 'scores = "/dev/zero"')
    return Expect("/dev/zero", mentions=("character device",))


@case("--config /dev/zero")
def _(contest):
    return Expect("/dev/zero", mentions=("character device",), args=("validate", "--config", "/dev/zero"))


@case("--config names a FIFO")
def _(contest):
    contest.config.unlink()
    os.mkfifo(contest.config)
    return Expect(CONFIG, mentions=("FIFO",))


@case("--config names a dangling symbolic link")
def _(contest):
    contest.config.unlink()
    contest.config.symlink_to("config-elsewhere.toml")
    return Expect(CONFIG, mentions=("dangling",))


def _local_config(make_it: Callable[[Path], None], mentions: tuple[str, ...]):
    """./config.toml (no --config) that is there but not a regular file: refused, not the demo."""

    def make(contest: ContestFiles) -> Expect:
        contest.config.unlink()
        make_it(contest.config)
        return Expect(CONFIG, mentions=mentions, args=("rank", "--format", "json"), cwd=contest.root)

    return make


case("./config.toml is a directory")(_local_config(lambda p: p.mkdir(), ("directory",)))
case("./config.toml is a FIFO")(_local_config(os.mkfifo, ("FIFO",)))
case("./config.toml is a dangling symbolic link")(_local_config(lambda p: p.symlink_to("gone.toml"), ("dangling",)))
case("./config.toml is a link to /dev/zero")(_local_config(lambda p: p.symlink_to("/dev/zero"), ("character device",)))
case("./config.toml is a symbolic-link loop")(_local_config(lambda p: p.symlink_to(p.name), ("loop",)))


# -- point 7: CSV line endings and line numbers ---------------------------------------------------


@case("CR-only line endings: a bad cell is named by its physical line")
def _(contest):
    contest.set_cell(SCORES, DEEP, "score", "abc")
    contest.path(SCORES).write_bytes(contest.path(SCORES).read_bytes().replace(b"\n", b"\r"))
    return Expect(SCORES, f"line {DEEP}", "score")


@case("after a quoted line break, lines are physical lines")
def _(contest):
    rows = contest.rows(CANDIDATES)
    rows[3][1] = "Goyang\n(고양시)\nline three"  # line 4 now spans lines 4-6
    rows[10][2] = "mega_city"  # record 11: line 11 + 2
    contest.write_rows(CANDIDATES, rows)
    return Expect(CANDIDATES, "line 13", "category", mentions=("mega_city",))


@case("after a quoted line break in a CRLF file, lines are physical lines")
def _(contest):
    rows = contest.rows(CANDIDATES)
    rows[2][1] = "Suwon\r\n(수원시)"
    rows[20][0] = "C20" + ZWSP
    contest.write_rows(CANDIDATES, rows)
    contest.path(CANDIDATES).write_bytes(
        contest.path(CANDIDATES).read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    )
    return Expect(CANDIDATES, "line 22", "candidate_id", mentions=("U+200B",))


# -- point 7: Parquet column types ----------------------------------------------------------------

SCORE_SCHEMA = {"candidate_id": pl.String, "evaluator_id": pl.String, "indicator_id": pl.String, "score": pl.Float64}


def _parquet_column(column: str, make_values: Callable[[pl.Series], pl.Series], type_name: str):
    def make(contest: ContestFiles) -> Expect:
        frame = pl.read_csv(contest.path(SCORES), schema=SCORE_SCHEMA)
        frame = frame.with_columns(make_values(frame[column]).alias(column))
        path = contest.point("scores", "data/scores.parquet")
        frame.write_parquet(path)
        return Expect("scores.parquet", column=column, mentions=(type_name,))

    return make


PARQUET_TYPES = [
    ("score", lambda s: pl.Series([date(2022, 1, 1) + timedelta(days=int(v)) for v in s]), "Date"),
    ("score", lambda s: pl.Series([datetime(2022, 1, 1, 9) for _ in s]), "Datetime"),
    ("score", lambda s: pl.Series([time(9, 30) for _ in s]), "Time"),
    ("score", lambda s: pl.Series([timedelta(seconds=v) for v in s]), "Duration"),
    ("score", lambda s: s.cast(pl.String).cast(pl.Binary), "Binary"),
    ("score", lambda s: s.reshape((-1, 1)).cast(pl.List(pl.Float64)), "List"),
    ("score", lambda s: pl.select(pl.struct(v=pl.lit(s))).to_series(), "Struct"),
    ("score", lambda s: s.reshape((-1, 1)), "Array"),
    ("candidate_id", lambda s: pl.select(pl.concat_list(pl.lit(s))).to_series(), "List"),
    ("candidate_id", lambda s: pl.Series([date(2022, 1, 1) for _ in s]), "Date"),
    ("evaluator_id", lambda s: pl.select(pl.struct(e=pl.lit(s))).to_series(), "Struct"),
]
for _column, _values, _type in PARQUET_TYPES:
    case(f"Parquet: a {_type} column as {_column}")(_parquet_column(_column, _values, _type))


@case("Parquet: a zero-byte file")
def _(contest):
    contest.point("scores", "data/scores.parquet").write_bytes(b"")
    return Expect("scores.parquet", mentions=("empty",))


# -- point 7: XLSX formulas and odd workbooks -----------------------------------------------------


def _workbook(contest: ContestFiles, path: Path, formula_row: int | None = None, formula_value=None) -> None:
    """The demo's first 200 score rows as a workbook; sheet row ``formula_row`` gets a formula
    as its score (xlsxwriter stores 0, or ``formula_value``, and asks Excel to recalculate)."""
    rows = contest.rows(SCORES)[:201]
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Scores")
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            if r and c == 3:
                if r + 1 == formula_row:
                    sheet.write_formula(
                        r, c, f"=D{r}+1", None, formula_value
                    ) if formula_value is not None else sheet.write_formula(r, c, f"=D{r}+1")
                else:
                    sheet.write_number(r, c, float(cell))
            else:
                sheet.write_string(r, c, cell)
    book.close()


def _rewrite_zip(path: Path, change: Callable[[str, bytes], bytes | None]) -> None:
    with zipfile.ZipFile(path) as z:
        members = [(info, z.read(info.filename)) for info in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in members:
            data = change(info.filename, data)
            if data is not None:
                z.writestr(info.filename, data)


def _scores_workbook(contest: ContestFiles, **kwargs) -> Path:
    path = contest.point("scores", "data/scores.xlsx")
    _workbook(contest, path, **kwargs)
    return path


@case("XLSX: a formula written by xlsxwriter without a value (stored as 0)")
def _(contest):
    _scores_workbook(contest, formula_row=57)
    return Expect("scores.xlsx", "row 57", "score", mentions=("D57", "Scores", "formula"))


@case("XLSX: a formula without any stored value (as openpyxl writes it)")
def _(contest):
    path = _scores_workbook(contest, formula_row=120, formula_value=12)

    def change(name: str, data: bytes) -> bytes:
        if name == "xl/workbook.xml":
            return re.sub(rb'\s*fullCalcOnLoad="1"', b"", data)
        if name.startswith("xl/worksheets/"):
            return re.sub(rb"(<f>[^<]*</f>)<v>[^<]*</v>", rb"\1", data)
        return data

    _rewrite_zip(path, change)
    return Expect("scores.xlsx", "row 120", "score", mentions=("D120", "no stored value"))


@case("XLSX: a workbook that lists no sheet")
def _(contest):
    path = _scores_workbook(contest)
    _rewrite_zip(
        path,
        lambda name, data: re.sub(rb"<sheets>.*</sheets>", b"<sheets/>", data) if name == "xl/workbook.xml" else data,
    )
    return Expect("scores.xlsx", mentions=("no sheet",))


@case("XLSX: an empty first sheet")
def _(contest):
    book = xlsxwriter.Workbook(str(contest.point("scores", "data/scores.xlsx")))
    book.add_worksheet()
    book.close()
    return Expect("scores.xlsx", mentions=("empty",))


@case("XLSX: a zero-byte file")
def _(contest):
    contest.point("scores", "data/scores.xlsx").write_bytes(b"")
    return Expect("scores.xlsx", mentions=("empty",))


# -- odd file names -------------------------------------------------------------------------------


@case("a file name with an escape character is shown visibly")
def _(contest):
    name = "scores" + ESC + "[2J.csv"
    contest.path(SCORES).rename(contest.data / name)
    contest.edit_config('scores = "data/scores.csv"', 'scores = "data/scores\\u001b[2J.csv"')
    contest.set_cell(name, 5, "score", "abc")
    return Expect("scores␛[2J.csv", "line 5", "score", raw=ESC)


@case("a contest folder whose name is not UTF-8")
def _(contest):
    folder = os.fsencode(contest.root) + b"-\xff\xfe"
    os.rename(os.fsencode(contest.root), folder)
    os.makedirs(contest.root)  # the fixture's cwd
    scores = Path(os.fsdecode(folder)) / "data" / SCORES
    scores.write_bytes(scores.read_bytes().replace(b"C01,E01,CI01,30.5", b"C01,E01,CI01,x", 1))
    config = os.fsdecode(folder) + "/config.toml"
    return Expect("\\xff\\xfe", "line 2", "score", args=("validate", "--config", config))


# -- running them ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def outcomes(request, tmp_path_factory) -> dict:
    def command(name: str, contest: ContestFiles, expect: Expect) -> list[tuple[list[str], Path]]:
        return [(list(expect.args or ("validate", "--config", str(contest.config))), expect.cwd or contest.root)]

    return run_cases(request, tmp_path_factory, "name", CASES, command)


@pytest.mark.parametrize("name", list(CASES))
def test_refused(outcomes, name):
    expect, (result,) = outcomes[name]
    err = assert_refused(result, expect.file, expect.where, expect.column, expect.mentions)
    assert result.stdout == b"", "a refused command printed results"
    if expect.raw is not None:
        assert expect.raw not in err, f"the message shows {expect.raw!r} raw instead of visibly"


# -- read correctly, not refused ------------------------------------------------------------------


def test_cr_only_line_endings_are_read(contest):
    """An old-Mac CSV (CR only) gives the same ranking as the LF original."""
    reference = run_cli(["rank", "--format", "json"], contest.root)
    assert reference.returncode == 0, reference.stderr
    for name in (SCORES, CANDIDATES, INDICATORS, CONFLICTS):
        path = contest.path(name)
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r"))
    again = run_cli(["rank", "--format", "json"], contest.root)
    assert again.returncode == 0, again.stderr.decode()
    assert again.stdout == reference.stdout


def test_a_contest_under_a_folder_whose_name_is_not_utf8_is_read(tmp_path):
    """polars cannot take such a path; the loader hands it an open file instead."""
    root = os.fsdecode(os.fsencode(tmp_path) + b"/contest-\xff")
    copy_demo(Path(root))
    result = run_cli(["rank", "--format", "json", "--config", root + "/config.toml"], tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    assert json.loads(result.stdout)["categories"]


def test_a_file_swapped_for_a_fifo_after_stat_is_refused_without_blocking(tmp_path, monkeypatch):
    """The race between the check and the read: os.stat sees a regular file, the FIFO that is
    there when the file is opened is found by its descriptor and refused, never read (a read
    would block forever without a writer)."""
    from panel_tui import config as config_module
    from panel_tui.errors import InputError

    regular = tmp_path / "regular.csv"
    regular.write_text("a\n")
    fifo = tmp_path / "scores.csv"
    os.mkfifo(fifo)
    real_stat = os.stat
    monkeypatch.setattr(config_module.os, "stat", lambda p, *a, **k: real_stat(regular if Path(p) == fifo else p))
    signal.alarm(10)  # a blocked open or read fails the test instead of hanging it
    try:
        with pytest.raises(InputError, match="now a named pipe"):
            config_module.open_regular(fifo, "scores")
    finally:
        signal.alarm(0)


# -- the session on a full disk -------------------------------------------------------------------


@pytest.fixture
def meeting(solo: Path) -> Path:
    first = run_cli(["note", "the meeting starts"], solo)
    assert first.returncode == 0, first.stderr
    return solo


def _journal(root: Path, session: Path | None = None) -> bytes:
    args = ["log"] + (["--session", str(session)] if session else [])
    result = run_cli(args, root)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _limited(limit: int) -> Callable[[], None]:
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of death by signal
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_file_size_limit_while_writing_the_session(meeting):
    """Under a file size limit (ulimit -f) the session cannot grow: exit 2 with the OS's reason,
    nothing recorded, the journal still verifies."""
    before = _journal(meeting)
    sessions = meeting / "sessions"
    limit = max(f.stat().st_size for f in sessions.iterdir())
    result = subprocess.run(
        [sys.executable, "-m", "panel_tui", "note", "x" * 50_000],
        cwd=meeting,
        env=_env(),
        capture_output=True,
        timeout=120,
        preexec_fn=_limited(limit),
    )
    err = assert_refused(result, "2022.sqlite", mentions=("File too large", "nothing was recorded"))
    assert "ulimit" in err
    assert _journal(meeting) == before
    verify = run_cli(["verify"], meeting)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    again = run_cli(["note", "after the limit"], meeting)
    assert again.returncode == 0, again.stderr


def test_file_size_limit_when_creating_the_session(solo):
    result = subprocess.run(
        [sys.executable, "-m", "panel_tui", "note", "first"],
        cwd=solo,
        env=_env(),
        capture_output=True,
        timeout=120,
        preexec_fn=_limited(1024),
    )
    assert_refused(result, "2022.sqlite", mentions=("File too large",))


@pytest.fixture
def tiny_disk(tmp_path: Path):
    mount = tmp_path / "tiny"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _fill(folder: Path) -> Path:
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while os.write(fd, b"\0" * 1024):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


def test_full_disk_while_writing_the_session(meeting, tiny_disk):
    """A real full filesystem: the note is refused with the OS's reason, nothing half-written;
    once there is room again the journal verifies and takes the next note."""
    session = tiny_disk / "2022.sqlite"
    for f in (meeting / "sessions").iterdir():
        (tiny_disk / f.name).write_bytes(f.read_bytes())
    before = _journal(meeting, session)
    filler = _fill(tiny_disk)
    result = run_cli(["note", "--session", str(session), "y" * 50_000], meeting)
    err = assert_refused(result, "2022.sqlite", mentions=("nothing was recorded",))
    assert "No space left on device" in err or "disk is full" in err, err
    filler.unlink()
    assert _journal(meeting, session) == before
    verify = run_cli(["verify", "--session", str(session)], meeting)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    again = run_cli(["note", "--session", str(session), "room again"], meeting)
    assert again.returncode == 0, again.stderr


def test_full_disk_when_creating_the_session(solo, tiny_disk):
    _fill(tiny_disk)
    result = run_cli(["note", "--session", str(tiny_disk / "new.sqlite"), "first"], solo)
    err = assert_refused(result, "new.sqlite", mentions=("nothing was recorded",))
    assert "No space left on device" in err or "disk is full" in err, err


def test_a_refused_evaluator_id_does_not_haunt_the_next_good_file(tmp_path):
    """Evaluator ids are checked on the Categorical dictionary, which polars shares across the
    process: in the console, a scores file refused for 'E0<RLO>1' is followed by a good one,
    which must load although the bad id stays in that dictionary."""
    from panel_tui.errors import InputError
    from panel_tui.inputs import SCORES as SCORES_SPEC
    from panel_tui.inputs import read_table

    scores = tmp_path / "scores.csv"
    scores.write_text(
        "candidate_id,evaluator_id,indicator_id,score\nC01,E01,CI01,1\nC01,E0\u202e2,CI01,2\n", encoding="utf-8"
    )
    with pytest.raises(InputError, match="U\\+202E") as refused:
        read_table(scores, SCORES_SPEC)
    assert refused.value.where == "line 3" and refused.value.column == "evaluator_id"
    scores.write_text(
        "candidate_id,evaluator_id,indicator_id,score\nC01,E01,CI01,1\nC01,E02,CI01,2\n", encoding="utf-8"
    )
    assert read_table(scores, SCORES_SPEC)["evaluator_id"].cast(pl.String).to_list() == ["E01", "E02"]
