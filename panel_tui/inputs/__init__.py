"""Reading the contest's files: one loader for CSV, Parquet and XLSX (the README's "The contest files").

Every defect is refused with an ``InputError`` naming the file, the line or row, and the
column. By what each part does:

- ``read``: one file, whatever its format, into a typed frame with every cell checked
  (``read_table``, the ``TableSpec`` it follows, ``where`` a record is as the user sees it),
  and ``file_digest``, what the lock records of a file;
- ``formulas``: a workbook's formula cells whose value it does not really hold;
- ``contest``: the contest's files together (``load_contest`` into ``ContestData``): what
  each holds and the checks across them;
- ``cells``: where scores become cells, one per scored (candidate, indicator)
  (``group_cells``, ``cell_key``), for the engine and the analysis.

The names the rest of the package uses are importable from here.
"""

from panel_tui.inputs.cells import cell_key, group_cells
from panel_tui.inputs.contest import CANDIDATES, CONFLICTS, INDICATORS, SCORES, ContestData, load_contest
from panel_tui.inputs.read import FORMATS, Lookup, TableSpec, csv_line, decode_text, file_digest, read_table, where

__all__ = [
    "CANDIDATES",
    "CONFLICTS",
    "FORMATS",
    "INDICATORS",
    "SCORES",
    "ContestData",
    "Lookup",
    "TableSpec",
    "cell_key",
    "csv_line",
    "decode_text",
    "file_digest",
    "group_cells",
    "load_contest",
    "read_table",
    "where",
]
