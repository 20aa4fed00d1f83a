"""Bad input is refused with exit status 2 and a message naming the file, line and column (SPEC §2, §5).

Each defect below is introduced, alone, into its own copy of the bundled demo contest; the
real command (``python -m panel_tui validate``, and for a representative subset also
``rank --format json``) runs on it. CSV lines count the header as line 1.

The runs are independent, so a module fixture starts them all side by side (about half a
second of Python and polars start-up each) and every test then checks its own outcome.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ContestFiles, assert_refused, csv_bytes, run_cases, run_cli, validate_and_rank

SCORES, CANDIDATES, INDICATORS, CONFIG = "scores.csv", "candidates.csv", "indicators.csv", "config.toml"
LAST_SCORE_LINE = 17765  # the demo's scores.csv: the header and 17,764 scores
DEEP = 12000  # a line well past the first 64 KiB of scores.csv, which the loader sniffs separately
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    + bytes(range(256))
)
NEITHER = b"\xff\xfe\x80\xff"  # bytes that are neither UTF-8 nor CP949


@dataclass(frozen=True)
class Expect:
    """What the refusal must name; ``commands`` replaces the default validate (+ rank)."""

    file: str | None
    where: str | None = None
    column: str | None = None
    mentions: tuple[str, ...] = ()
    commands: tuple[tuple[str, ...], ...] | None = None


DEFECTS: dict[str, Callable[[ContestFiles], Expect]] = {}
ALSO_RANK: set[str] = set()  # defects also run through `rank --format json`


def defect(name: str, *, rank: bool = False):
    def register(make: Callable[[ContestFiles], Expect]):
        assert name not in DEFECTS, name
        DEFECTS[name] = make
        if rank:
            ALSO_RANK.add(name)
        return make

    return register


def zip_bytes() -> bytes:
    """A zip archive, which is what an XLSX workbook saved under a .csv name looks like."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        z.writestr("xl/worksheets/sheet1.xml", "<worksheet>" + "<row/>" * 200 + "</worksheet>")
    return buffer.getvalue()


# -- one bad cell ---------------------------------------------------------------------------------

CELLS = [
    # (name, file, line, column, new value, also rank)
    ("non-numeric score", SCORES, 5, "score", "abc", True),
    ("non-numeric score past the first 64 KiB", SCORES, DEEP, "score", "12.5.1", False),
    ("NaN score", SCORES, 777, "score", "NaN", False),
    ("negative score", SCORES, 9001, "score", "-0.5", False),
    ("unknown candidate in scores", SCORES, 9001, "candidate_id", "C99", False),
    ("unknown indicator in scores", SCORES, 15000, "indicator_id", "CI99", False),
    ("missing score", SCORES, 777, "score", "", False),
    ("missing candidate_id in scores", SCORES, 5, "candidate_id", "", False),
    ("missing evaluator_id", SCORES, LAST_SCORE_LINE, "evaluator_id", "", False),
    ("unknown category in candidates", CANDIDATES, 7, "category", "mega_city", False),
    ("missing name in candidates", CANDIDATES, 30, "name", "", False),
    ("non-numeric max_points", INDICATORS, 9, "max_points", "ten", False),
    ("missing max_points", INDICATORS, 100, "max_points", "", False),
    # An area id names its subtotal's column on the board: one of the board's own is refused.
    ("area id named like a board column", INDICATORS, 9, "area_id", "rank", True),
    ("area id named like a column beside the board", INDICATORS, 30, "area_id", "notes", False),
]


def _bad_cell(file: str, line: int, column: str, value: str) -> Callable[[ContestFiles], Expect]:
    def make(contest: ContestFiles) -> Expect:
        contest.set_cell(file, line, column, value)
        return Expect(file, f"line {line}", column)

    return make


for _name, _file, _line, _column, _value, _rank in CELLS:
    defect(_name, rank=_rank)(_bad_cell(_file, _line, _column, _value))


def _above_max(line: int) -> Callable[[ContestFiles], Expect]:
    def make(contest: ContestFiles) -> Expect:
        indicator = contest.rows(SCORES)[line - 1][2]
        contest.set_cell(SCORES, line, "score", f"{contest.max_points(indicator) + 0.5:g}")
        return Expect(SCORES, f"line {line}", "score")

    return make


defect("score above the indicator's max_points")(_above_max(5))


@defect("indicator of the service set on a city candidate")
def _(contest):
    assert contest.rows(SCORES)[776][0] == "C02"  # a large city
    contest.set_cell(SCORES, 777, "indicator_id", "SV01")
    return Expect(SCORES, "line 777", "indicator_id", mentions=("SV01",))


# -- duplicates -----------------------------------------------------------------------------------


@defect("duplicate (candidate, evaluator, indicator) score row", rank=True)
def _(contest):
    row = contest.rows(SCORES)[776]
    line = contest.append_row(SCORES, row[:3] + ["1"])
    return Expect(SCORES, f"line {line}")


@defect("duplicate (candidate, indicator) in a consolidated sheet without evaluator_id")
def _(contest):
    seen, sheet = set(), [["candidate_id", "indicator_id", "score"]]
    for candidate, _evaluator, indicator, score in contest.rows(SCORES)[1:]:
        if (candidate, indicator) not in seen:
            seen.add((candidate, indicator))
            sheet.append([candidate, indicator, score])
    sheet.append(list(sheet[40]))
    contest.write_rows(SCORES, sheet)
    return Expect(SCORES, f"line {len(sheet)}")


@defect("duplicate candidate_id")
def _(contest):
    line = contest.append_row(CANDIDATES, ["C04", "Another Siheung", "large_city", "1", "Gyeonggi", "", ""])
    return Expect(CANDIDATES, f"line {line}", "candidate_id", mentions=("C04",))


@defect("duplicate indicator")
def _(contest):
    row = contest.rows(INDICATORS)[9]
    line = contest.append_row(INDICATORS, row)
    return Expect(INDICATORS, f"line {line}", "indicator_id", mentions=(row[1],))


# -- the header and the shape of the rows ---------------------------------------------------------


def _missing_column(file: str, column: str) -> Callable[[ContestFiles], Expect]:
    def make(contest: ContestFiles) -> Expect:
        contest.drop_column(file, column)
        return Expect(file, "line 1", column)

    return make


defect("missing column score")(_missing_column(SCORES, "score"))
defect("missing column category in candidates")(_missing_column(CANDIDATES, "category"))
defect("missing column max_points in indicators")(_missing_column(INDICATORS, "max_points"))


@defect("extra column in the score sheet")
def _(contest):
    contest.add_column(SCORES, "comment", "ok")
    return Expect(SCORES, "line 1", "comment")


@defect("column named twice in the score sheet")
def _(contest):
    contest.add_column(SCORES, "score", "1")
    return Expect(SCORES, "line 1", "score")


@defect("a row with one field too many")
def _(contest):
    lines = contest.path(SCORES).read_bytes().split(b"\n")
    lines[DEEP - 1] += b",extra"
    contest.path(SCORES).write_bytes(b"\n".join(lines))
    return Expect(SCORES, f"line {DEEP}")


@defect("an unclosed quote")
def _(contest):
    lines = contest.path(SCORES).read_bytes().split(b"\n")
    lines[DEEP - 1] = lines[DEEP - 1].replace(b",", b',"', 1)
    contest.path(SCORES).write_bytes(b"\n".join(lines))
    return Expect(SCORES, f"line {DEEP}")


@defect("a quoted empty evaluator_id is a missing value", rank=True)
def _(contest):
    lines = contest.path(SCORES).read_bytes().split(b"\n")
    fields = lines[776].split(b",")
    fields[1] = b'""'
    lines[776] = b",".join(fields)
    contest.path(SCORES).write_bytes(b"\n".join(lines))
    return Expect(SCORES, "line 777", "evaluator_id", mentions=("missing value",))


# -- whole files ----------------------------------------------------------------------------------

WHOLE = [
    (SCORES, "empty", b"", False),
    (CANDIDATES, "empty", b"", False),
    (INDICATORS, "empty", b"", False),
    (SCORES, "PNG bytes", PNG, False),
    (CANDIDATES, "a zip archive (a workbook renamed .csv)", zip_bytes(), False),
]


def _whole(file: str, content: bytes) -> Callable[[ContestFiles], Expect]:
    def make(contest: ContestFiles) -> Expect:
        contest.path(file).write_bytes(content)
        return Expect(file)

    return make


for _file, _what, _content, _rank in WHOLE:
    defect(f"{_file}: {_what}", rank=_rank)(_whole(_file, _content))


def _header_only(file: str) -> Callable[[ContestFiles], Expect]:
    def make(contest: ContestFiles) -> Expect:
        contest.write_rows(file, contest.rows(file)[:1])
        return Expect(file)

    return make


for _file in (SCORES, CANDIDATES, INDICATORS):
    defect(f"{_file}: header only")(_header_only(_file))


def _header_and_empty_rows(file: str) -> Callable[[ContestFiles], Expect]:
    def make(contest: ContestFiles) -> Expect:
        header = contest.rows(file)[0]
        contest.write_rows(file, [header, [""] * len(header), [""] * len(header)])
        return Expect(file, mentions=("header but no",))

    return make


for _file in (SCORES, CANDIDATES, INDICATORS):
    defect(f"{_file}: a header, then rows of empty fields only", rank=_file == SCORES)(_header_and_empty_rows(_file))


@defect("candidates.csv not found")
def _(contest):
    contest.path(CANDIDATES).unlink()
    return Expect(CANDIDATES)


@defect("scores file named in the config does not exist")
def _(contest):
    contest.point("scores", "data/scores-final.csv")
    return Expect("scores-final.csv")


@defect("a directory instead of scores.csv")
def _(contest):
    contest.path(SCORES).unlink()
    contest.path(SCORES).mkdir()
    return Expect(SCORES)


@defect("unreadable scores.csv (chmod 000)")
def _(contest):
    path = contest.path(SCORES)
    path.chmod(0)
    if os.access(path, os.R_OK):
        path.chmod(0o644)
        pytest.skip("this user reads a chmod 000 file anyway (root)")
    return Expect(SCORES)


@defect("wrong file type: scores.txt")
def _(contest):
    contest.point("scores", "data/scores.txt").write_bytes(contest.path(SCORES).read_bytes())
    return Expect("scores.txt")


@defect("wrong file type: an .xlsx that is really CSV text")
def _(contest):
    contest.point("scores", "data/scores.xlsx").write_bytes(contest.path(SCORES).read_bytes())
    return Expect("scores.xlsx")


@defect("wrong file type: a .parquet that is garbage")
def _(contest):
    contest.point("scores", "data/scores.parquet").write_bytes(b"PAR1 this is not parquet at all PAR1" * 3)
    return Expect("scores.parquet")


# -- text encodings and line counting -------------------------------------------------------------


def _with_bytes_neither(contest: ContestFiles, file: str, line: int, encoding: str) -> None:
    lines = csv_bytes(contest.rows(file), encoding).split(b"\n")
    lines[line - 1] = lines[line - 1].replace(b",", b"," + NEITHER, 1)
    contest.path(file).write_bytes(b"\n".join(lines))


@defect("text neither UTF-8 nor CP949 in a UTF-8 file")
def _(contest):
    _with_bytes_neither(contest, CANDIDATES, 20, "utf-8")
    return Expect(CANDIDATES, "line 20")


@defect("text neither UTF-8 nor CP949 in a CP949 file")
def _(contest):
    # Hangul in CP949 on every line from line 2 on (valid), bytes that are neither on line 20.
    _with_bytes_neither(contest, CANDIDATES, 20, "cp949")
    return Expect(CANDIDATES, "line 20")


@defect("text neither UTF-8 nor CP949 past the first 64 KiB")
def _(contest):
    _with_bytes_neither(contest, SCORES, DEEP, "utf-8")
    return Expect(SCORES, f"line {DEEP}")


@defect("a leading blank line is refused: the header must be line 1")
def _(contest):
    contest.path(SCORES).write_bytes(b"\n" + contest.path(SCORES).read_bytes())
    return Expect(SCORES, "line 1", mentions=("blank line",))


@defect("line numbers with CRLF line endings")
def _(contest):
    contest.set_cell(SCORES, DEEP, "score", "abc")
    contest.path(SCORES).write_bytes(contest.path(SCORES).read_bytes().replace(b"\n", b"\r\n"))
    return Expect(SCORES, f"line {DEEP}", "score")


@defect("line numbers in a CP949 file")
def _(contest):
    contest.set_cell(CANDIDATES, 25, "category", "mega_city")
    contest.path(CANDIDATES).write_bytes(csv_bytes(contest.rows(CANDIDATES), "cp949"))
    return Expect(CANDIDATES, "line 25", "category")


# -- config.toml ----------------------------------------------------------------------------------


@defect("invalid TOML", rank=True)
def _(contest):
    line = contest.edit_config("threshold = 70.0", "threshold = 70.0.0")
    return Expect(CONFIG, f"line {line}")


UNKNOWN_KEYS = [
    ("[scoring]", 'method = "trimmed_mean"', 'methd = "trimmed_mean"', "methd"),
    ("[[categories]]", "threshold = 70.0", "threshhold = 70.0", "threshhold"),
    ("the top level", "[roles]", "[extra]\nx = 1\n\n[roles]", "extra"),
]


def _unknown_key(old: str, new: str, key: str) -> Callable[[ContestFiles], Expect]:
    def make(contest: ContestFiles) -> Expect:
        contest.edit_config(old, new)
        return Expect(CONFIG, mentions=(key,))

    return make


for _table, _old, _new, _key in UNKNOWN_KEYS:
    defect(f"unknown key in {_table}", rank=False)(_unknown_key(_old, _new, _key))


@defect("unknown scoring method")
def _(contest):
    contest.edit_config('method = "trimmed_mean"', 'method = "average"')
    return Expect(CONFIG, mentions=("method", "average"))


@defect("threshold above 100")
def _(contest):
    contest.edit_config("threshold = 70.0", "threshold = 120.0")
    return Expect(CONFIG, mentions=("threshold",))


@defect("threshold below 0")
def _(contest):
    contest.edit_config("threshold = 70.0", "threshold = -5")
    return Expect(CONFIG, mentions=("threshold",))


@defect("tie_break area not in the set")
def _(contest):
    contest.edit_config('tie_break = ["A1", "A2", "A3"]', 'tie_break = ["A1", "A9"]')
    return Expect(CONFIG, mentions=("tie_break", "A9"))


@defect("config.toml not found")
def _(contest):
    contest.config.unlink()
    return Expect(CONFIG)


@defect("config.toml is a directory")
def _(contest):
    contest.config.unlink()
    contest.config.mkdir()
    return Expect(CONFIG)


@defect("config.toml empty")
def _(contest):
    contest.config.write_bytes(b"\n  \n")
    return Expect(CONFIG)


@defect("config.toml in CP949")
def _(contest):
    contest.config.write_bytes(contest.config_text().encode("cp949"))
    return Expect(CONFIG)


# -- usage ----------------------------------------------------------------------------------------


@defect("rank --category nope")
def _(contest):
    return Expect(
        None,
        mentions=("nope",),
        commands=(("rank", "--format", "json", "--category", "nope", "--config", str(contest.config)),),
    )


@defect("rank --format yaml")
def _(contest):
    return Expect(
        None, mentions=("--format",), commands=(("rank", "--format", "yaml", "--config", str(contest.config)),)
    )


# -- running them ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def outcomes(request, tmp_path_factory) -> dict:
    """Prepare every selected defect, then run all their commands side by side."""

    def commands(name: str, contest: ContestFiles, expect: Expect) -> list[tuple[list[str], Path]]:
        config = str(contest.config)
        default = (("validate", "--config", config),) + (
            (("rank", "--format", "json", "--config", config),) if name in ALSO_RANK else ()
        )
        return [(list(cmd), contest.root) for cmd in expect.commands or default]

    return run_cases(request, tmp_path_factory, "case", DEFECTS, commands)


@pytest.mark.parametrize("case", list(DEFECTS))
def test_refused(outcomes, case):
    outcome = outcomes[case]
    if isinstance(outcome, str):
        pytest.skip(outcome)
    expect, results = outcome
    for result in results:
        assert_refused(result, expect.file, expect.where, expect.column, expect.mentions)
        assert result.stdout == b"", "a refused command printed results"


def test_the_unchanged_demo_copy_is_valid(contest):
    """The baseline each defect above breaks in exactly one place."""
    for result in validate_and_rank(contest):
        assert result.returncode == 0, result.stderr.decode()
        assert b"Traceback" not in result.stderr


@defect("a blank line in the middle of the data is named")
def _(contest):
    rows = contest.rows(SCORES)
    rows.insert(99, [])  # becomes line 100
    contest.write_rows(SCORES, rows)
    return Expect(SCORES, "line 100", mentions=("blank line",))


def test_blank_lines_at_the_end_are_not_data(contest):
    """Hand-edited sheets often end in blank lines: they are ignored, the result unchanged."""
    reference = run_cli(["rank", "--format", "json"], contest.root)
    scores = contest.path(SCORES)
    scores.write_bytes(scores.read_bytes() + b"\n\n\n")
    again = run_cli(["rank", "--format", "json"], contest.root)
    assert again.returncode == 0, again.stderr
    assert again.stdout == reference.stdout
