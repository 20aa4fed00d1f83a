"""One contest, many file formats: the same ranking to the byte (SPEC §2 "scores": .csv, .parquet
or .xlsx; every CSV in UTF-8, UTF-8 with BOM or CP949), and bad cells in a workbook or a
Parquet file reported at the row the user sees (XLSX: the header is row 1; Parquet: the first
record is row 1).

All the runs are independent; a module fixture starts them side by side.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from conftest import ContestFiles, assert_refused, copy_demo, csv_bytes, run_batch

SCORE_SCHEMA = {"candidate_id": pl.String, "evaluator_id": pl.String, "indicator_id": pl.String, "score": pl.Float64}
BOM = b"\xef\xbb\xbf"


def scores_frame(contest: ContestFiles) -> pl.DataFrame:
    return pl.read_csv(contest.path("scores.csv"), schema=SCORE_SCHEMA)


def reencode(contest: ContestFiles, name: str, encoding: str, bom: bool = False) -> None:
    data = csv_bytes(contest.rows(name), encoding)
    contest.path(name).write_bytes((BOM if bom else b"") + data)


def use(contest: ContestFiles, key: str, suffix: str) -> Path:
    """Point ``[contest] key`` at data/<key><suffix> and return that path."""
    return contest.point(key, f"data/{key}{suffix}")


# -- the same contest in every format -------------------------------------------------------------


def _utf8(contest):
    pass


def _utf8_bom(contest):
    for name in ("candidates.csv", "indicators.csv", "scores.csv"):
        reencode(contest, name, "utf-8", bom=True)


def _cp949(contest):
    for name in ("candidates.csv", "indicators.csv", "scores.csv"):
        reencode(contest, name, "cp949")
    # The point of the variant: Hangul really is in CP949 now, not UTF-8.
    raw = contest.path("candidates.csv").read_bytes()
    assert "인천광역시".encode("cp949") in raw and "인천광역시".encode() not in raw


def _scores_parquet(contest):
    scores_frame(contest).write_parquet(use(contest, "scores", ".parquet"))


_WORKBOOK: dict[str, bytes] = {}


def _scores_xlsx(contest):
    # polars' write_excel takes about a second for 17,764 rows: write it once, copy it after.
    if "scores" not in _WORKBOOK:
        scores_frame(contest).write_excel(contest.data / "written.xlsx")
        _WORKBOOK["scores"] = (contest.data / "written.xlsx").read_bytes()
        (contest.data / "written.xlsx").unlink()
    use(contest, "scores", ".xlsx").write_bytes(_WORKBOOK["scores"])


def _everything_parquet(contest):
    for key in ("candidates", "indicators"):
        pl.read_csv(contest.path(f"{key}.csv")).write_parquet(use(contest, key, ".parquet"))
    _scores_parquet(contest)


def _everything_xlsx(contest):
    for key in ("candidates", "indicators"):
        pl.read_csv(contest.path(f"{key}.csv")).write_excel(use(contest, key, ".xlsx"))
    _scores_xlsx(contest)


VARIANTS: dict[str, Callable[[ContestFiles], None]] = {
    "csv utf-8": _utf8,
    "csv utf-8 with BOM": _utf8_bom,
    "csv cp949": _cp949,
    "scores parquet": _scores_parquet,
    "scores xlsx": _scores_xlsx,
    "candidates, indicators and scores parquet": _everything_parquet,
    "candidates, indicators and scores xlsx": _everything_xlsx,
}


# -- bad cells in a workbook or a Parquet score sheet ---------------------------------------------
# A short sheet (the first 300 scores) is enough: a bad cell is refused before completeness
# matters, and it keeps the workbooks quick to write.

ROWS = 300


def sheet(contest: ContestFiles) -> list[list]:
    return [list(r) for r in scores_frame(contest).head(ROWS).iter_rows()]


def write_xlsx(
    path: Path, rows: list[list | None], header=("candidate_id", "evaluator_id", "indicator_id", "score")
) -> None:
    """A workbook as a person makes one: numbers as numbers, text as text; ``None`` leaves a
    cell (or, for a whole row, the row) empty."""
    book = xlsxwriter.Workbook(str(path))
    page = book.add_worksheet("scores")
    page.write_row(0, 0, header)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row or ()):
            if value is not None:
                page.write(r, c, value)
    book.close()


def xlsx_cell(record: int, column: int, value) -> Callable[[ContestFiles], None]:
    """``value`` in the sheet's ``record``-th score (0-based), which is workbook row record + 2."""

    def make(contest):
        rows = sheet(contest)
        rows[record][column] = value
        write_xlsx(use(contest, "scores", ".xlsx"), rows)

    return make


def parquet_cell(record: int, column: str, value, dtype=None) -> Callable[[ContestFiles], None]:
    """``value`` in the ``record``-th score (0-based), which is Parquet row record + 1."""

    def make(contest):
        frame = scores_frame(contest).head(ROWS)
        if dtype is not None:
            frame = frame.with_columns(pl.col(column).cast(dtype))
        values = frame[column].to_list()
        values[record] = value
        frame.with_columns(pl.Series(column, values, dtype=frame.schema[column])).write_parquet(
            use(contest, "scores", ".parquet")
        )

    return make


def _xlsx_empty_row_then_bad_cell(contest):
    rows = sheet(contest)
    rows[98] = None  # workbook row 100 left empty
    rows[148][3] = "abc"  # workbook row 150
    write_xlsx(use(contest, "scores", ".xlsx"), rows)


BAD = {
    # name: (make, file, where, column)
    "xlsx: text in a score cell": (xlsx_cell(148, 3, "abc"), "scores.xlsx", "row 150", "score"),
    "xlsx: negative score": (xlsx_cell(198, 3, -2.5), "scores.xlsx", "row 200", "score"),
    "xlsx: empty score cell": (xlsx_cell(118, 3, None), "scores.xlsx", "row 120", "score"),
    "xlsx: unknown candidate": (xlsx_cell(75, 0, "C99"), "scores.xlsx", "row 77", "candidate_id"),
    "xlsx: empty row 100, text score on row 150": (_xlsx_empty_row_then_bad_cell, "scores.xlsx", None, None),
    "parquet: NaN score": (parquet_cell(149, "score", math.nan), "scores.parquet", "row 150", "score"),
    "parquet: negative score": (parquet_cell(199, "score", -1.0), "scores.parquet", "row 200", "score"),
    "parquet: null score": (parquet_cell(99, "score", None), "scores.parquet", "row 100", "score"),
    "parquet: text in a text score column": (
        parquet_cell(49, "score", "abc", pl.String),
        "scores.parquet",
        "row 50",
        "score",
    ),
    "parquet: unknown indicator": (parquet_cell(9, "indicator_id", "CI99"), "scores.parquet", "row 10", "indicator_id"),
}


# -- running them ---------------------------------------------------------------------------------


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")[:40]


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict:
    """Every variant's `rank --format json` and every bad sheet's `validate`, run side by side."""
    jobs, names = [], []
    for name, make in VARIANTS.items():
        contest = copy_demo(tmp_path_factory.mktemp(_slug(name)))
        make(contest)
        jobs.append((["rank", "--format", "json", "--config", str(contest.config)], contest.root))
        names.append(("good", name))
    for name, (make, *_expect) in BAD.items():
        contest = copy_demo(tmp_path_factory.mktemp(_slug(name)))
        make(contest)
        jobs.append((["validate", "--config", str(contest.config)], contest.root))
        names.append(("bad", name))
    return dict(zip(names, run_batch(jobs), strict=False))


def test_reference_output_is_a_ranking(outcomes):
    result = outcomes[("good", "csv utf-8")]
    assert result.returncode == 0, result.stderr.decode()
    report = json.loads(result.stdout)
    assert [c["id"] for c in report["categories"]] == ["large_city", "small_city", "service"]
    assert sum(len(c["entries"]) for c in report["categories"]) == 34
    assert "인천광역시" in result.stdout.decode("utf-8")


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v != "csv utf-8"])
def test_same_json_to_the_byte(outcomes, variant):
    reference = outcomes[("good", "csv utf-8")]
    result = outcomes[("good", variant)]
    assert b"Traceback" not in result.stderr, result.stderr.decode()
    assert result.returncode == 0, result.stderr.decode()
    if result.stdout != reference.stdout:
        a, b = json.loads(reference.stdout), json.loads(result.stdout)
        assert a == b  # shows where they differ
        pytest.fail("same values, different bytes")


@pytest.mark.parametrize("name", [n for n in BAD if BAD[n][2] is not None])
def test_bad_cell_reported_at_its_row(outcomes, name):
    _make, file, where, column = BAD[name]
    assert_refused(outcomes[("bad", name)], file, where, column)


def test_xlsx_empty_row_does_not_shift_row_numbers(outcomes):
    """Row 100 is empty, row 150 holds text in the score column. Refusing the empty row (row
    100) or the text (row 150) is right; naming any other row is not."""
    name = "xlsx: empty row 100, text score on row 150"
    err = assert_refused(outcomes[("bad", name)], "scores.xlsx")
    rows = re.findall(r"\brow (\d+)", err)
    assert rows and rows[0] in ("100", "150"), err
    if "abc" in err:
        assert rows[0] == "150", err
