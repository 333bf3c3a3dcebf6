"""CSV files safe to open in a spreadsheet.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a
formula by Excel, LibreOffice and Google Sheets; a document id, label or term from a corpus can
start that way (``=HYPERLINK(...)``, ``-rate``, ``@user``). Such a text cell gets a leading
``'``, which spreadsheets show as a text marker; numbers (``-0.25``, ``+3``, ``-1e-05``) are
left as they are, so numeric columns stay numeric.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

__all__ = ["safe_cell", "read_cell", "writer", "write_rows"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def safe_cell(value):
    """``value`` as written to a CSV cell: text a spreadsheet would run as a formula gets a
    leading ``'``; anything else, numbers included, is unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) \
            and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def read_cell(text: str) -> str:
    """The text :func:`safe_cell` was given, from the cell it wrote: the ``'`` it adds before
    a formula character is dropped. (A text that itself began with ``'`` and a formula
    character reads back without its ``'``: the one case the marker cannot tell apart.)"""
    if text.startswith("'") and safe_cell(text[1:]) != text[1:]:
        return text[1:]
    return text


class _SafeWriter:
    def __init__(self, handle):
        self._writer = csv.writer(handle)

    def writerow(self, row) -> None:
        self._writer.writerow([safe_cell(cell) for cell in row])

    def writerows(self, rows) -> None:
        for row in rows:
            self.writerow(row)


def writer(handle) -> _SafeWriter:
    """A ``csv.writer`` on ``handle`` whose every cell goes through :func:`safe_cell`."""
    return _SafeWriter(handle)


def write_rows(path: Path, rows: list[dict]) -> None:
    """Write dicts as a CSV with a header of every key seen (first-seen order); a list value
    is joined with ``"; "``, None is an empty cell."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        out = writer(handle)
        out.writerow(columns)
        for row in rows:
            values = (row.get(c) for c in columns)
            out.writerow(["; ".join(map(str, v)) if isinstance(v, list) else
                          ("" if v is None else v) for v in values])
