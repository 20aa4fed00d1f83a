"""XLSX formula cells: refused when the workbook does not really hold their value.

The reader (``inputs.read``) reads a workbook's cells through calamine, which returns a
formula cell's cached value; this scans the first sheet's XML for formulas saved without one.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import NamedTuple

from panel_tui.errors import InputError, shown_value
from panel_tui.i18n import _

_XML_TAG = rb"<(?:[\w.-]+:)?"
_FORMULA = re.compile(_XML_TAG + rb"f[\s>/]")
_CELL = re.compile(_XML_TAG + rb"c\b([^>]*?)(?:/>|>(.*?)</(?:[\w.-]+:)?c>)", re.S)
_VALUE = re.compile(_XML_TAG + rb"v(?:\s[^>]*)?>([^<]*)<")
_REF = re.compile(rb'\br="([A-Z]+)([0-9]+)"')


class _Sheet(NamedTuple):
    """The sheet calamine reads (the workbook's first)."""

    name: str
    member: str  # its XML in the workbook's zip
    full_calc: bool  # the workbook asks to be recalculated when opened


def _first_sheet(book: zipfile.ZipFile) -> _Sheet | None:
    """The sheet calamine reads: the first one."""
    try:
        workbook = book.read("xl/workbook.xml")
        rels = book.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return None
    sheet = re.search(_XML_TAG + rb"sheet\b([^>]*)>", workbook)
    if sheet is None:
        return None
    name = re.search(rb'\bname="([^"]*)"', sheet.group(1))
    rid = re.search(rb'\br:id="([^"]*)"', sheet.group(1))
    if rid is None:
        return None
    target = None
    for rel in re.finditer(_XML_TAG + rb"Relationship\b([^>]*)>", rels):
        if re.search(rb'\bId="' + re.escape(rid.group(1)) + rb'"', rel.group(1)):
            found = re.search(rb'\bTarget="([^"]*)"', rel.group(1))
            target = found.group(1).decode("utf-8", "replace") if found else None
    if target is None:
        return None
    member = target.lstrip("/") if target.startswith("/") else "xl/" + target
    full_calc = re.search(_XML_TAG + rb'calcPr\b[^>]*\bfullCalcOnLoad="(?:1|true)"', workbook) is not None
    return _Sheet(name.group(1).decode("utf-8", "replace") if name else "?", member, full_calc)


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def check_formulas(path: Path, data: bytes, columns: list[str]) -> None:
    """Refuse a formula cell whose value the workbook does not really hold.

    calamine returns a formula cell's cached value, and a formula saved without one (openpyxl)
    or by a writer that never computes formulas (xlsxwriter stores 0 and marks the workbook
    ``fullCalcOnLoad`` so that Excel recalculates on opening) would be read as blank or as 0.
    The sheet's XML is scanned for ``<f>`` (fast, in C); only a sheet with formulas is parsed
    cell by cell."""
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
        sheet = _first_sheet(book)
        if sheet is None:
            return
        xml = book.read(sheet.member)
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, ValueError):
        return
    if _FORMULA.search(xml) is None:
        return
    dimension = re.search(_XML_TAG + rb'dimension\b[^>]*\bref="([A-Z]+)', xml)
    first_column = _column_number(dimension.group(1)) if dimension else 1
    for cell in _CELL.finditer(xml):
        inner = cell.group(2) or b""
        if _FORMULA.search(inner) is None:
            continue
        value = _VALUE.search(inner)
        if value is not None and value.group(1).strip() and not sheet.full_calc:
            continue
        ref = _REF.search(cell.group(1))
        letters, row = (ref.group(1).decode(), int(ref.group(2))) if ref else ("?", None)
        index = _column_number(letters.encode()) - first_column if ref else -1
        if value is None or not value.group(1).strip():
            message = _(
                "cell {cell} of sheet '{sheet}' is a formula that has no stored value: open the workbook in "
                "Excel or LibreOffice and save it, or paste the values instead of the formulas"
            )
        else:
            message = _(
                "cell {cell} of sheet '{sheet}' is a formula that has a stored value that was never calculated "
                "(the workbook was written by a program that does not calculate formulas and asks to be "
                "recalculated when opened): open the workbook in Excel or LibreOffice and save it, or paste the "
                "values instead of the formulas"
            )
        raise InputError(
            path,
            message.format(cell=f"{letters}{row or ''}", sheet=shown_value(sheet.name)),
            where=f"row {row}" if row else None,
            column=columns[index] if 0 <= index < len(columns) else None,
        )
