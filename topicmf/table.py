"""Small labelled matrices from CSV: first row column labels, first column row labels."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .corpus import decode_bytes
from .errors import CorpusError

__all__ = ["LabelledTable", "read_table"]


@dataclass
class LabelledTable:
    row_labels: list[str]
    column_labels: list[str]
    values: np.ndarray


def read_table(path) -> LabelledTable:
    """Read a full numeric table; an empty or non-numeric cell is an error naming the cell."""
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"{path} does not exist or is not a file; give a CSV table.")
    rows = [r for r in csv.reader(io.StringIO(decode_bytes(path.read_bytes(), name=str(path))))
            if any(cell.strip() for cell in r)]
    if len(rows) < 2 or len(rows[0]) < 2:
        raise CorpusError(f"{path} needs a header row of column labels and at least one row "
                          f"of a label and numbers.")
    columns = [c.strip() for c in rows[0][1:]]
    labels, values = [], []
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(columns) + 1:
            raise CorpusError(f"{path}, line {line}: {len(row)} cells where the header has "
                              f"{len(columns) + 1}.")
        labels.append(row[0].strip())
        numbers = []
        for column, cell in zip(columns, row[1:]):
            cell = cell.strip()
            if cell in ("", "-", "?"):
                raise CorpusError(
                    f"{path}: row '{row[0].strip()}', column '{column}' is missing; factorize "
                    f"needs every cell (a missing rating is not a zero): fill it or drop the row.")
            try:
                number = float(cell)
            except ValueError:
                number = math.nan
            if not math.isfinite(number):
                raise CorpusError(f"{path}: row '{row[0].strip()}', column '{column}' is "
                                  f"{cell!r}, not a finite number.")
            numbers.append(number)
        values.append(numbers)
    return LabelledTable(row_labels=labels, column_labels=columns, values=np.array(values))
