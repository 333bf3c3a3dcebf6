"""Dates of documents: read from a csv/jsonl column or from a file name, never guessed.

Read as dates: ``YYYY-MM-DD`` (a time after it, ``T12:00`` or `` 12:00:00``, is dropped),
``YYYYMMDD``, ``YYYY/MM/DD`` and ``YYYY-MM`` (the first of that month). A file name holds a
date when it has ``YYYY-MM-DD``, ``YYYYMMDD`` or ``YYYY_MM_DD`` between non-digits, as in
``20220924_00.txt``. Anything else, or a day the calendar does not have, is not a date.
"""

from __future__ import annotations

import datetime
import re

__all__ = ["parse_date", "date_in_name"]

_FORMS = (
    re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
               r"(?:Z|[+-]\d{2}:?\d{2})?)?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
    re.compile(r"(\d{4})/(\d{2})/(\d{2})"),
    re.compile(r"(\d{4})-(\d{2})()"),
)
_IN_NAME = re.compile(r"(?<!\d)(\d{4})([-_]?)(\d{2})\2(\d{2})(?!\d)")


def parse_date(value) -> datetime.date | None:
    """The date ``value`` (a str) writes in one of the forms above, or None."""
    text = str(value).strip()
    for form in _FORMS:
        match = form.fullmatch(text)
        if match:
            year, month, day = match.groups()
            return _calendar_date(year, month, day or "01")
    return None


def date_in_name(name: str) -> str | None:
    """The date-like part of a file name (``"2022-09-24"`` of ``"2022-09-24-news.txt"``),
    as written there, or None; :func:`parse_date` tells whether it is a real day."""
    match = _IN_NAME.search(name)
    if match is None:
        return None
    year, _, month, day = match.groups()
    return f"{year}{month}{day}"


def _calendar_date(year: str, month: str, day: str) -> datetime.date | None:
    try:
        return datetime.date(int(year), int(month), int(day))
    except ValueError:
        return None
