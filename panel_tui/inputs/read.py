"""Reading one input file (CSV, Parquet or XLSX) into a typed frame, every cell checked.

Every defect is refused with an ``InputError`` naming the file, the line or row, and the
column. The reader is built for the common case, a good file, to be fast: CSV is parsed
once by polars straight into its final types (candidate and indicator ids as ``Enum`` of the
known ids, so an unknown id fails the parse itself). Only when that parse fails does a
slower second pass read everything as text to find and name the offending cell.

Row numbers follow what the user sees: a CSV's *line* (the header is line 1) and a
workbook's *row* (the header is row 1); a Parquet file has no header, so its first record
is row 1.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import polars as pl

from panel_tui.config import file_words, open_regular
from panel_tui.errors import InputError, shown_value
from panel_tui.i18n import _
from panel_tui.inputs.formulas import check_formulas
from panel_tui.text import POLARS_ID_PATTERN, identifier_problem

FORMATS = (".csv", ".parquet", ".xlsx")
_NON_BLANK = re.compile(rb"\S")
_BOM = b"\xef\xbb\xbf"
_HEAD = 1 << 16


@dataclass(frozen=True)
class TableSpec:
    """The columns a file must have, may have, and how each is typed."""

    label: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    numeric: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()  # few distinct values, many rows: stored as codes
    keep_extra: bool = False  # candidates.csv may carry any further columns; a score sheet may not
    ids: tuple[str, ...] = ()  # identifiers: compared exactly, so no hidden characters, no stray spaces


# A value that may not be an id (text.identifier_problem says why): a hidden character, or a
# space at either end. Run by polars over a column's distinct values.
_ID_SUSPECT = r"^\s|\s$|" + POLARS_ID_PATTERN


def has_suspect_ids(values: pl.Series) -> bool:
    """Whether any of these ids may not be an id (``_ID_SUSPECT``, or empty: ``_check_ids``
    names it)."""
    return bool((values.str.contains(_ID_SUSPECT) | (values == "")).any())


@dataclass(frozen=True)
class Lookup:
    """A column whose values must be among known ids, with the words to say so."""

    values: tuple[str, ...]
    what: str  # e.g. "candidate (not in candidates.csv)"

    @property
    def dtype(self) -> pl.Enum:
        return pl.Enum(self.values)


def where(path: Path, index: int) -> str:
    """The place of the record at 0-based ``index`` as the user sees it in that file."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return f"line {csv_line(path, index)}"
    if suffix == ".xlsx":
        return f"row {index + 2}"
    return f"row {index + 1}"


def read_table(
    path: Path,
    spec: TableSpec,
    lookups: dict[str, Lookup] | None = None,
    frame: pl.DataFrame | None = None,
    *,
    data: bytes | None = None,
) -> pl.DataFrame:
    """Read one input file into a frame with the spec's columns, typed, every cell checked.

    Text columns come back as ``String`` (or ``Enum`` where a lookup is given), numeric ones
    as ``Float64``, a ``categorical`` one as a ``Categorical`` of its own (codes 0, 1, ... in
    this file's order); required columns have no missing values. Given ``frame``, that frame
    is checked as if it had been read from ``path`` (for tests and generated contests); given
    ``data``, the file's bytes already read (``inputs.cache``, which hashes the very bytes it
    parses), those are parsed instead of opening the file again.
    """
    lookups = lookups or {}
    if frame is not None:
        _check_columns(path, frame.columns, spec, "the header")
        return _checked(path, _coerce(path, frame, spec, lookups), spec)
    suffix = path.suffix.lower()
    if data is not None:
        if suffix not in FORMATS:
            raise InputError(
                path,
                _("unsupported file type {suffix} (expected .csv, .parquet or .xlsx)").format(
                    suffix=repr(suffix or "(none)")
                ),
            )
        return _checked(
            path, _coerce(path, _read_format(path, io.BytesIO(data), spec, lookups, data), spec, lookups), spec
        )
    # Only a regular file is read: a FIFO, a device, a directory or a broken link is named
    # before anything is read. The one descriptor opened here is all the readers use.
    with open_regular(path, spec.label) as handle:
        if suffix not in FORMATS:
            raise InputError(
                path,
                _("unsupported file type {suffix} (expected .csv, .parquet or .xlsx)").format(
                    suffix=repr(suffix or "(none)")
                ),
            )
        frame = _read_format(path, handle, spec, lookups, None)
    return _checked(path, _coerce(path, frame, spec, lookups), spec)


def _read_format(
    path: Path, handle: BinaryIO, spec: TableSpec, lookups: dict[str, Lookup], data: bytes | None
) -> pl.DataFrame:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path, handle, spec, lookups, data)
    if suffix == ".parquet":
        return _read_parquet(path, handle, spec, lookups, data)
    return _read_xlsx(path, handle, spec)


def _checked(path: Path, frame: pl.DataFrame, spec: TableSpec) -> pl.DataFrame:
    if frame[spec.required[0]].null_count():
        blank = frame.select(pl.all_horizontal(pl.all().is_null()).alias("blank"))["blank"]
        if blank.any():
            # Blank lines at the end (a common leftover of hand editing) are not data; one in
            # the middle is refused by its line, since dropping it would shift every number after.
            last = frame.height - (blank.not_().arg_true()[-1] + 1 if (~blank).any() else 0)
            frame = frame.head(frame.height - last)
            if frame.height == 0:  # (a header, then only empty rows: ",,," in CSV)
                raise InputError(path, _("the file has a header but no {what}").format(what=file_words(spec.label)))
            blank = blank.head(frame.height)
            if blank.any():
                index = blank.arg_true()[0]
                raise InputError(path, _("blank line inside the data (remove it)"), where=where(path, index))
    for column in spec.required:
        if frame[column].null_count():
            index = frame[column].is_null().arg_true()[0]
            raise InputError(path, _("missing value"), where=where(path, index), column=column)
    return frame


def _check_columns(path: Path, columns: list[str], spec: TableSpec, where_header: str) -> None:
    seen = set()
    for name in columns:
        if not name:
            raise InputError(path, _("a column has no name in the header"), where=where_header)
        if name in seen:
            raise InputError(path, _("the header names this column twice"), where=where_header, column=name)
        seen.add(name)
    for name in spec.required:
        if name not in seen:
            raise InputError(
                path,
                _("required column is missing (the header has: {columns})").format(
                    columns=", ".join(map(shown_value, columns))
                ),
                where=where_header,
                column=name,
            )
    if not spec.keep_extra:
        known = set(spec.required) | set(spec.optional)
        for name in columns:
            if name not in known:
                allowed = ", ".join(spec.required + spec.optional)
                raise InputError(
                    path,
                    _("unexpected column (a {what} file has: {allowed})").format(
                        what=file_words(spec.label), allowed=allowed
                    ),
                    where=where_header,
                    column=name,
                )


def read_bytes(path: Path, handle: BinaryIO, limit: int = -1, *, start: int | None = None) -> bytes:
    """Up to ``limit`` bytes of an open file (all: -1), from ``start`` if given; ``InputError``
    naming the file when it cannot be read."""
    try:
        if start is not None:
            handle.seek(start)
        return handle.read(limit)
    except OSError as exc:
        raise InputError(path, _("cannot read the file: {why}").format(why=exc.strerror)) from None


def _size(handle: BinaryIO) -> int:
    if isinstance(handle, io.BytesIO):
        return handle.getbuffer().nbytes
    return os.fstat(handle.fileno()).st_size


def _cr_only(head: bytes) -> bool:
    """Old Mac line endings: carriage returns and no line feed at all."""
    return b"\r" in head and b"\n" not in head


def _lf(data: bytes) -> bytes:
    """Every line ending as ``\\n`` (CR LF and a lone CR alike); CR is never a byte of a
    UTF-8 or CP949 character, so this is safe before decoding."""
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def csv_line(path: Path, index: int) -> int:
    """The physical line of a CSV file where its data record at 0-based ``index`` starts.

    Without a quote in the file every record is one line (``index + 2``: the header is
    line 1); a quoted field may hold line breaks, so then the file is walked record by record
    (only when an error is being reported). Falls back to ``index + 2`` if the file cannot
    be read again (e.g. a frame checked as if it were that file)."""
    try:
        with open_regular(path, "CSV") as handle:
            data = handle.read()
        if b'"' not in data:
            return index + 2
        text = decode_text(path, data).decode("utf-8")
    except (InputError, OSError, UnicodeDecodeError):
        return index + 2
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    try:
        for number, _record in enumerate(reader):
            if number == index + 1:
                return start
            start = reader.line_num + 1
    except csv.Error:
        pass
    return index + 2


def decode_text(path: Path, data: bytes) -> bytes:
    """Return the file's text as UTF-8 bytes, whether it was UTF-8, UTF-8 with BOM or CP949."""
    if b"\x00" in data[:65536]:
        raise InputError(
            path, _("this is a binary file, not CSV text (is it a workbook or Parquet file with a .csv name?)")
        )
    if data.startswith(_BOM):
        data = data[3:]
    if data.isascii():
        return data
    try:
        data.decode("utf-8")
        return data
    except UnicodeDecodeError as utf8_error:
        try:
            return data.decode("cp949").encode("utf-8")
        except UnicodeDecodeError as cp949_error:
            # The later of the two failures: a CP949 file fails UTF-8 at its first Hangul,
            # a UTF-8 file fails CP949 at its first UTF-8 sequence that CP949 lacks.
            at = max(utf8_error.start, cp949_error.start)
            line = data[:at].count(b"\n") + 1
            raise InputError(path, _("the text is neither UTF-8 nor CP949"), where=f"line {line}") from None


def scan_table(path: Path, spec: TableSpec, lookups: dict[str, Lookup], data: bytes) -> pl.LazyFrame | None:
    """A plan that reads a file's bytes (``data``) straight into the types ``read_table`` gives,
    for a caller that reduces the rows as they are read (``inputs.contest``: the score sheet's
    cells, grouped by polars' streaming engine, the rows never all held): every column of the
    file is read (a row with more fields than the header fails it). Its defects in the file's
    header and shape are refused here as ``read_table`` refuses them. Collecting it fails on a
    value that does not convert (an unknown id, a score that is not a number); its missing
    values and suspect ids are the caller's to look for: on any of these, ``read_table`` names
    the cell (CR line endings are made LF first, as ``read_table`` makes them). None when only
    ``read_table`` reads such a file (no header line in its first 64 KiB, columns
    ``read_table`` leaves out, Parquet of unusual types, a workbook)."""
    suffix = path.suffix.lower()
    handle = io.BytesIO(data)
    if suffix == ".csv":
        source, header, wanted, fast = _csv_prelude(path, handle, spec, lookups, data)
        if not fast or not isinstance(source, bytes) or set(header) - {*spec.required, *spec.optional}:
            return None
        return pl.scan_csv(source, new_columns=header, schema_overrides=wanted, infer_schema=False, glob=False)
    if suffix == ".parquet":
        schema = _parquet_schema(path, handle, spec, data)
        if set(schema) - {*spec.required, *spec.optional}:
            return None
        return _typed_parquet_plan(data, schema, spec, lookups)
    return None


def _read_csv(
    path: Path, handle: BinaryIO, spec: TableSpec, lookups: dict[str, Lookup], data: bytes | None = None
) -> pl.DataFrame:
    source, header, wanted, fast = _csv_prelude(path, handle, spec, lookups, data)
    if fast:
        try:
            # Fast path: polars reads the file itself (UTF-8, BOM or not), straight into the
            # final types. Anything else (CP949, a bad cell, an unknown id) takes the slow path.
            if not isinstance(source, bytes):
                source.seek(0)
            return pl.read_csv(source, new_columns=header, schema_overrides=wanted, infer_schema=False)
        except pl.exceptions.PolarsError:
            pass
    data = decode_text(path, source if isinstance(source, bytes) else read_bytes(path, handle, start=0))
    try:
        # Slow path, only for a bad or non-UTF-8 file: everything as text, so _coerce can
        # name the cell.
        return pl.read_csv(data, new_columns=header, infer_schema=False)
    except pl.exceptions.PolarsError as exc:
        _locate_malformed(path, data, len(header))
        first_line = str(exc).strip().splitlines()[0]
        raise InputError(path, _("not a well-formed CSV file: {why}").format(why=first_line)) from None


def _csv_prelude(
    path: Path, handle: BinaryIO, spec: TableSpec, lookups: dict[str, Lookup], data: bytes | None
) -> tuple[BinaryIO | bytes, list[str], dict[str, pl.DataType | type[pl.DataType]], bool]:
    """A CSV file's header checked (``InputError`` on a defect): what to parse (the handle, or
    bytes), the column names, the types to read them into, and whether the fast path may
    read it (not when 64 KiB of blank lead to its header: the slow path says why)."""
    head = read_bytes(path, handle, _HEAD)
    if b"\x00" in head:
        raise InputError(
            path, _("this is a binary file, not CSV text (is it a workbook or Parquet file with a .csv name?)")
        )
    source: BinaryIO | bytes = handle if data is None else data  # bytes already read: polars parses them in place
    if _cr_only(head):
        # Old Mac line endings (CR only): polars and the csv module split lines on LF, so
        # the whole file is read once and its line endings made LF.
        source = _lf(data if data is not None else head + read_bytes(path, handle))
        head = source[:_HEAD]
    text = head[3:] if head.startswith(_BOM) else head
    first = _NON_BLANK.search(text)
    if first is None and len(head) < _HEAD:
        raise InputError(path, _("the file is empty"))
    end_of_header = text.find(b"\n", first.start() if first else 0)
    header_bytes = text[first.start() if first else 0 : end_of_header if end_of_header >= 0 else None]
    try:
        header_line = header_bytes.decode("utf-8")
    except UnicodeDecodeError:
        header_line = header_bytes.decode("cp949", errors="replace")
    header = [name.strip() for name in next(csv.reader([header_line.rstrip("\r")]))]
    _check_columns(path, header, spec, "line 1")
    if len(head) < _HEAD and (end_of_header < 0 or _NON_BLANK.search(text, end_of_header) is None):
        raise InputError(path, _("the file has a header but no {what}").format(what=file_words(spec.label)))
    wanted: dict[str, pl.DataType | type[pl.DataType]] = {
        **{c: pl.String for c in header},
        **{c: pl.Float64 for c in spec.numeric},
    }
    wanted.update({c: own_categorical() for c in spec.categorical if c in wanted})
    wanted.update({c: lookup.dtype for c, lookup in lookups.items() if c in wanted})
    if first is not None and first.start() != 0:
        raise InputError(path, _("the file starts with a blank line: the header must be on line 1"), where="line 1")
    return source, header, wanted, first is not None


def _locate_malformed(path: Path, data: bytes, columns: int) -> None:
    """Find the record polars could not parse (wrong field count, unclosed quote) and name its line."""
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    start = 1
    try:
        for record in reader:
            if record and len(record) != columns:
                raise InputError(
                    path,
                    _("this row has {fields} fields, the header has {columns}").format(
                        fields=len(record), columns=columns
                    ),
                    where=f"line {start}",
                )
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(
            path, _("malformed CSV ({why}; an unclosed quote?)").format(why=exc), where=f"line {start}"
        ) from None


def _read_parquet(
    path: Path, handle: BinaryIO, spec: TableSpec, lookups: dict[str, Lookup], data: bytes | None = None
) -> pl.DataFrame:
    source: BinaryIO | bytes = handle if data is None else data
    schema = _parquet_schema(path, handle, spec, data)
    typed = _typed_parquet(source, schema, spec, lookups)
    if typed is not None:
        if typed.height == 0:
            raise InputError(path, _("the file has no {what}").format(what=file_words(spec.label)))
        return typed
    try:
        if not isinstance(source, bytes):
            source.seek(0)
        frame = pl.read_parquet(source)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(path, _("not a readable Parquet file ({why})").format(why=first)) from None
    if frame.height == 0:
        raise InputError(path, _("the file has no {what}").format(what=file_words(spec.label)))
    return frame


def _parquet_schema(path: Path, handle: BinaryIO, spec: TableSpec, data: bytes | None) -> dict[str, pl.DataType]:
    """A Parquet file's schema, its columns checked (the footer only: a wrong column is named
    before any data is read); ``InputError`` for an empty or unreadable file."""
    if _size(handle) == 0:
        raise InputError(path, _("the file is empty"))
    try:
        schema = pl.read_parquet_schema(handle if data is None else data)
    except Exception as exc:  # polars' errors, OSError, and whatever a damaged footer provokes
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(path, _("not a readable Parquet file ({why})").format(why=first)) from None
    _check_columns(path, list(schema), spec, "the schema")
    return schema


def _typed_parquet(
    source: BinaryIO | bytes, schema: dict[str, pl.DataType], spec: TableSpec, lookups: dict[str, Lookup]
) -> pl.DataFrame | None:
    """Fast path for a Parquet file of the usual types (text ids, numeric scores): read into
    the final types in one streaming plan (``_typed_parquet_plan``), so the 6.7 million id
    strings are never all held at once. None (the slow path, which names the cell) when a
    type is unusual or a value does not convert."""
    plan = _typed_parquet_plan(source, schema, spec, lookups)
    if plan is None:
        return None
    try:
        return plan.collect(engine="streaming")
    except Exception:  # an unknown id, a damaged page: the slow path says which
        return None


def _typed_parquet_plan(
    source: BinaryIO | bytes, schema: dict[str, pl.DataType], spec: TableSpec, lookups: dict[str, Lookup]
) -> pl.LazyFrame | None:
    """A plan reading a Parquet file of the usual types into the final types, each column cast
    only if it is not of its type already; None when a type is unusual."""
    exprs = []
    for column, dtype in schema.items():
        if column in lookups:
            wanted: pl.DataType = lookups[column].dtype
            if dtype != wanted and dtype != pl.String:
                return None
        elif column in spec.numeric:
            if not (dtype.is_float() or dtype.is_integer()):
                return None
            wanted = pl.Float64()
        elif column in spec.categorical:
            if own_categories(dtype):
                exprs.append(pl.col(column))
                continue
            if dtype != pl.String:
                return None
            wanted = own_categorical()
        elif dtype == pl.String:
            wanted = pl.String()
        else:
            return None
        exprs.append(pl.col(column) if dtype == wanted else pl.col(column).cast(wanted))
    if not isinstance(source, bytes):
        source.seek(0)
    return pl.scan_parquet(source).select(exprs)


def _read_xlsx(path: Path, handle: BinaryIO, spec: TableSpec) -> pl.DataFrame:
    if _size(handle) == 0:
        raise InputError(path, _("the file is empty"))
    data = read_bytes(path, handle)
    try:
        # Every cell as text: ids such as 007 keep their zeros; numbers are checked in _coerce.
        frame = pl.read_excel(data, engine="calamine", infer_schema_length=0, drop_empty_rows=False)
    except pl.exceptions.NoDataError:
        raise InputError(path, _("the workbook's first sheet is empty")) from None
    except IndexError:  # fastexcel, on a workbook that lists no sheet
        raise InputError(path, _("the workbook has no sheet")) from None
    except Exception as exc:  # fastexcel raises its own hierarchy, not polars'
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(path, _("not a readable XLSX workbook ({why})").format(why=first)) from None
    frame = frame.rename({c: c.strip() for c in frame.columns})
    _check_columns(path, frame.columns, spec, "row 1")
    if frame.height == 0:
        raise InputError(path, _("the workbook has a header but no {what}").format(what=file_words(spec.label)))
    check_formulas(path, data, frame.columns)
    return frame


def _coerce(path: Path, frame: pl.DataFrame, spec: TableSpec, lookups: dict[str, Lookup]) -> pl.DataFrame:
    """Bring every column to its final type, naming the first cell that cannot be converted."""
    keep = [c for c in frame.columns if spec.keep_extra or c in spec.required or c in spec.optional]
    frame = frame.select(keep)
    _check_types(path, frame, spec)
    casts = []
    for column in frame.columns:
        dtype = frame.schema[column]
        if column in spec.numeric:
            if dtype == pl.Float64:
                continue
            casts.append(_cast_checked(path, frame, column, pl.Float64, _("is not a number")))
        elif column in lookups:
            if dtype == lookups[column].dtype:
                continue  # every value is a known id, and the known ids were checked
            text = _as_text(frame[column])
            casts.append(
                _cast_checked(
                    path,
                    frame.with_columns(text),
                    column,
                    lookups[column].dtype,
                    _("unknown {what}").format(what=lookups[column].what),
                    ids=True,
                )
            )
        elif column in spec.categorical:
            if not own_categories(dtype):
                casts.append(_as_text(frame[column]).cast(own_categorical()))
        elif dtype != pl.String:
            casts.append(_as_text(frame[column]))
    frame = frame.with_columns(casts) if casts else frame
    _check_ids(path, frame, [c for c in spec.ids if c in frame.columns and c not in lookups])
    text_columns = [c for c in frame.columns if frame.schema[c] == pl.String]
    if text_columns and spec.label != "scores":
        # Stray spaces around names (common in hand-edited sheets) are not data; around an
        # id they were refused above (an id is compared exactly).
        names = [c for c in text_columns if c not in spec.ids]
        if names:
            frame = frame.with_columns(pl.col(names).str.strip_chars())
        frame = frame.with_columns(
            pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c) for c in text_columns
        )
    return frame


def own_categorical() -> pl.Categorical:
    """A ``Categorical`` with categories of its own, not the process's shared ones: its codes
    are 0, 1, ... in the order values first appear in this one column, so a sheet's evaluators
    fit the engine's one-word evaluator sets (``inputs.cells``), and an id refused in one file
    does not stay in the dictionary the next file is read with."""
    return pl.Categorical(pl.Categories.random())


def own_categories(dtype: pl.DataType) -> bool:
    """Whether a column is already a ``Categorical`` of its own (as read with
    ``own_categorical``, or kept in the cache): then it is not cast again."""
    return isinstance(dtype, pl.Categorical) and not dtype.categories.is_global()


def _check_types(path: Path, frame: pl.DataFrame, spec: TableSpec) -> None:
    """A typed file (Parquet) may hold columns no contest value can come from: nested values
    (List, Array, Struct), bytes, Python objects anywhere; dates, times and durations in an
    id or score column (a Date score would otherwise be read as its day number)."""
    for column, dtype in frame.schema.items():
        ours = column in spec.required or column in spec.optional
        if dtype.is_nested() or dtype in (pl.Binary, pl.Object) or (ours and dtype.is_temporal()):
            kind = (
                _("numbers") if column in spec.numeric else _("text or whole numbers") if ours else _("text or numbers")
            )
            raise InputError(
                path,
                _("the column holds values of type {dtype}; it must hold {kind}").format(dtype=dtype, kind=kind),
                where="the schema" if path.suffix.lower() == ".parquet" else None,
                column=column,
            )


def _check_ids(path: Path, frame: pl.DataFrame, columns: list[str]) -> None:
    """Refuse an id with a hidden character or a space at either end, naming its first row.

    Checked on each column's distinct values by polars' regex: a Categorical column (a score
    sheet's 6.7 million evaluator cells) by its dictionary, which costs nothing; it is the
    process's shared dictionary, so a suspect found there is confirmed on the column. Only
    the few suspects get ``identifier_problem``."""
    for column in columns:
        series = frame[column]
        if isinstance(series.dtype, pl.Categorical):
            values = series.dtype.categories.to_series()
        else:
            values = series.unique().drop_nulls()
            if values.dtype != pl.String:
                values = values.cast(pl.String)
        # (an empty id, "" quoted in a CSV file, is a missing value like an empty cell)
        suspects = values.filter(values.str.contains(_ID_SUSPECT) | (values == ""))
        if suspects.is_empty():
            continue
        first = None
        for value in suspects.to_list():
            problem = identifier_problem(value) if value else _("missing value")
            if problem is None:
                continue
            index = first_index(frame, pl.col(column).cast(pl.String) == value)
            if index is None:
                continue  # in the shared dictionary, from another file, not in this column
            if first is None or index < first[0]:
                first = (index, value, problem)
        if first is not None:
            index, value, problem = first
            raise InputError(
                path,
                _("the id '{value}' has {problem}").format(value=shown_value(value), problem=problem)
                if value
                else problem,
                where=where(path, index),
                column=column,
            )


def _as_text(series: pl.Series) -> pl.Series:
    """A column as text; whole numbers stored as floats (Parquet, XLSX) lose their '.0'."""
    if series.dtype.is_float():
        whole = series.is_finite() & (series == series.floor())
        return (
            pl.select(
                pl.when(whole)
                .then(series.cast(pl.Int64, strict=False).cast(pl.String))
                .otherwise(series.cast(pl.String))
            )
            .to_series()
            .alias(series.name)
        )
    return series.cast(pl.String)


def _cast_checked(
    path: Path,
    frame: pl.DataFrame,
    column: str,
    dtype: pl.DataType | type[pl.DataType],
    problem: str,
    *,
    ids: bool = False,
) -> pl.Series:
    source = frame[column]
    cast = (
        source.cast(dtype, strict=False)
        if source.dtype != pl.Boolean
        else source.cast(pl.String).cast(dtype, strict=False)
    )
    failed = cast.is_null() & source.is_not_null()
    if failed.any():
        index = failed.arg_true()[0]
        value = source[index]
        if ids and isinstance(value, str) and identifier_problem(value):
            # 'C01' followed by a zero-width space is not an unknown candidate: it looks like C01.
            problem = _("the id '{value}' has {problem}").format(
                value=shown_value(value), problem=identifier_problem(value)
            )
            raise InputError(path, problem, where=where(path, index), column=column)
        shown = f"'{shown_value(value)}'" if isinstance(value, str) else repr(value)
        raise InputError(path, f"{problem}: {shown}", where=where(path, index), column=column)
    return cast


def first_index(frame: pl.DataFrame, mask: pl.Expr) -> int:
    """The index of the first row ``mask`` selects (there is one)."""
    index: int = frame.select(mask.arg_true().first()).item()
    return index


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes, for the lock's record of what it was computed from (a
    regular file only: a FIFO or a device put in its place is refused, never read)."""
    digest = hashlib.sha256()
    with open_regular(path, "contest") as handle:
        try:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        except OSError as exc:
            raise InputError(path, _("cannot read the file ({why})").format(why=exc.strerror)) from None
    return digest.hexdigest()
