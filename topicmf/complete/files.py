"""Ratings tables on disk: read a CSV of ratings, write recommendations.

The input CSV needs a header row and is either

* triples: one observed rating a line; the header names a user column (``user``, ``user_id``,
  ``customer``...), an item column (``item``, ``movie``, ``product``, ``book``...) and a rating
  column (``rating``, ``score``, ``stars``, ``value``); other columns are ignored; or
* a table: first column the user labels, header the item labels; a blank, ``-`` or ``?`` cell is
  missing.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
from pathlib import Path

import numpy as np

from .._csv import writer as csv_writer
from ..corpus import decode_bytes
from ..errors import CorpusError
from .ratings import MAX_RATING, Ratings, ratings_from_triples

__all__ = ["read_ratings", "write_recommendations"]

MISSING = ("", "-", "?")
_ROLES = {"user": ("user", "customer", "reader", "viewer", "rater"),
          "item": ("item", "movie", "film", "product", "book", "song", "title"),
          "rating": ("rating", "score", "stars", "value", "grade")}


def read_ratings(path, *, duplicates: str = "error") -> Ratings:
    """Read a ratings CSV (triples or a table, see the module doc) into labelled Ratings."""
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"{path} does not exist or is not a file; give a ratings CSV.")
    text = decode_bytes(path.read_bytes(), name=str(path))
    rows = [(n, r) for n, r in enumerate(csv.reader(io.StringIO(text)), start=1)
            if any(cell.strip() for cell in r)]
    if len(rows) < 2:
        raise CorpusError(f"{path} has no ratings; give a header row, then user,item,rating "
                          f"rows or table rows.")
    header = [cell.strip() for cell in rows[0][1]]
    roles = _triple_columns(header)
    users, items, values = (_read_triples(path, rows[1:], roles) if roles
                            else _read_table(path, rows[1:], header))
    if not values:
        raise CorpusError(f"{path} has no observed rating (every cell is missing).")
    user_labels, user_ids = _codes(users)
    item_labels, item_ids = _codes(items)
    if duplicates == "error":
        _refuse_repeats(path, user_ids, item_ids, user_labels, item_labels)
    data = ratings_from_triples(user_ids, item_ids, values, duplicates=duplicates,
                                shape=(len(user_labels), len(item_labels)))
    return dataclasses.replace(data, user_labels=np.asarray(user_labels, dtype=str),
                               item_labels=np.asarray(item_labels, dtype=str))


def _refuse_repeats(path, user_ids, item_ids, user_labels, item_labels) -> None:
    keys = user_ids * len(item_labels) + item_ids
    unique, first = np.unique(keys, return_index=True)
    if len(unique) < len(keys):
        repeat = np.setdiff1d(np.arange(len(keys)), first)[0]
        raise CorpusError(
            f"{path}: user '{user_labels[user_ids[repeat]]}' rated item "
            f"'{item_labels[item_ids[repeat]]}' more than once ({len(keys) - len(unique)} "
            f"repeats); remove them or pass duplicates='mean' (or 'last').")


def _triple_columns(header: list[str]) -> dict | None:
    """Positions of the user, item and rating columns, if the header names each once."""
    found = {}
    for role, words in _ROLES.items():
        hits = [k for k, name in enumerate(header) if any(w in name.lower() for w in words)]
        if len(hits) != 1:
            return None
        found[role] = hits[0]
    return found if len(set(found.values())) == 3 else None


def _read_triples(path, rows, roles):
    users, items, values = [], [], []
    width = max(roles.values()) + 1
    for line, row in rows:
        if len(row) < width:
            raise CorpusError(f"{path}, line {line}: {len(row)} cells; a rating line needs the "
                              f"user, item and rating columns of the header.")
        users.append(row[roles["user"]].strip())
        items.append(row[roles["item"]].strip())
        values.append(_number(row[roles["rating"]], f"{path}, line {line}"))
    return users, items, values


def _read_table(path, rows, header):
    if len(header) < 2:
        raise CorpusError(f"{path}: the header has one column; give user,item,rating columns "
                          f"or a table whose header lists the items after a first cell.")
    users, items, values = [], [], []
    columns = header[1:]
    row_labels = [row[0].strip() for _, row in rows]
    for line, row in rows:
        if len(row) != len(header):
            raise CorpusError(f"{path}, line {line}: {len(row)} cells where the header has "
                              f"{len(header)}.")
        for column, cell in zip(columns, row[1:]):
            if cell.strip() in MISSING:
                continue
            users.append(row[0].strip())
            items.append(column)
            values.append(_number(cell, f"{path}: row '{row[0].strip()}', column '{column}'"))
    # users and items with no rating at all still belong to the table
    items_all = list(dict.fromkeys(columns))
    return (users, row_labels), (items, items_all), values


def _number(cell: str, where: str) -> float:
    try:
        value = float(cell.strip())
    except ValueError:
        raise CorpusError(f"{where}: rating {cell.strip()!r} is not a number; fix or remove "
                          f"it.") from None
    if not math.isfinite(value):
        raise CorpusError(f"{where}: rating {cell.strip()!r} is not a finite number; fix or "
                          f"remove it.")
    if abs(value) > MAX_RATING:
        raise CorpusError(f"{where}: rating {cell.strip()!r} is beyond +-{MAX_RATING:g}, too "
                          f"large to be a rating; fix or rescale it.")
    return value


def _codes(labels):
    """(labels in first-seen order, integer code of each entry)."""
    labels, every = labels if isinstance(labels, tuple) else (labels, labels)
    order = {label: k for k, label in enumerate(dict.fromkeys([*every, *labels]))}
    return list(order), np.array([order[label] for label in labels], dtype=np.int64)


def write_recommendations(path, data: Ratings, top_items, top_scores) -> Path:
    """Write the top items per user (``BiasedMF.recommend``) as user,rank,item,prediction
    rows, in place at once."""
    from ..io import staged_output

    path = Path(path)
    with staged_output(path.parent if str(path.parent) else Path(".")) as staging:
        with (staging / path.name).open("w", newline="", encoding="utf-8") as handle:
            writer = csv_writer(handle)
            writer.writerow(["user", "rank", "item", "prediction"])
            for user, items, scores in zip(data.user_labels, top_items, top_scores):
                for rank, (item, score) in enumerate(zip(items, scores), start=1):
                    if item >= 0:
                        writer.writerow([user, rank, data.item_labels[item], f"{score:.4f}"])
    return path
