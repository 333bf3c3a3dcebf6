"""Observed entries of a ratings matrix, held-out splits, error measures and a baseline."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from .. import _validation
from ..errors import InvalidParameterError


@dataclass(frozen=True)
class Ratings:
    """Observed entries of a ratings matrix: parallel arrays of row, column and value.

    ``user_labels`` / ``item_labels`` name the rows / columns when the input used labels.
    """

    users: np.ndarray
    items: np.ndarray
    values: np.ndarray
    shape: tuple[int, int]
    user_labels: np.ndarray | None = None
    item_labels: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.values)

    def subset(self, rows) -> "Ratings":
        """The ratings at positions ``rows``, same shape and labels."""
        return Ratings(self.users[rows], self.items[rows], self.values[rows], self.shape,
                       self.user_labels, self.item_labels)


def ratings_from_triples(users, items, values, *, duplicates: str = "error",
                         shape: tuple[int, int] | None = None) -> Ratings:
    """Build :class:`Ratings` from (user, item, rating) triples.

    Integer users (items) are row (column) indices, so ids with no rating still get a row; any
    other users (items), e.g. strings, are labels, numbered in sorted order. A repeated
    (user, item) pair is an error, or with ``duplicates="mean"`` / ``"last"`` averaged / the
    last one kept. ``shape`` enlarges the matrix for integer ids.
    """
    _validation.check_choice(duplicates, "duplicates", ("error", "mean", "last"),
                             owner="ratings_from_triples")
    values = _as_values(values)
    users, user_labels = _encode(users, "users", len(values))
    items, item_labels = _encode(items, "items", len(values))
    n_users = len(user_labels) if user_labels is not None else int(users.max(initial=-1)) + 1
    n_items = len(item_labels) if item_labels is not None else int(items.max(initial=-1)) + 1
    if shape is not None:
        if shape[0] < n_users or shape[1] < n_items:
            raise InvalidParameterError(f"shape={tuple(shape)} is smaller than the ids given "
                                        f"need ({n_users}, {n_items}); leave shape out.")
        n_users, n_items = int(shape[0]), int(shape[1])
    data = Ratings(users, items, values, (n_users, n_items), user_labels, item_labels)
    return _resolve_duplicates(data, duplicates)


def ratings_from_sparse(matrix) -> Ratings:
    """Build :class:`Ratings` from the stored non-zero entries of a scipy sparse matrix."""
    if not sp.issparse(matrix):
        raise InvalidParameterError(
            f"Ratings must be a scipy sparse matrix of observed entries or Ratings from "
            f"ratings_from_triples; got {type(matrix).__name__} (a dense array cannot tell "
            f"missing from zero).")
    coo = sp.coo_array(matrix)
    keep = coo.data != 0
    rows, cols = np.asarray(coo.row, np.int64)[keep], np.asarray(coo.col, np.int64)[keep]
    data = Ratings(rows, cols, _as_values(coo.data[keep]), tuple(int(n) for n in coo.shape))
    return _resolve_duplicates(data, "error")


def _as_values(values) -> np.ndarray:
    try:
        values = np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise InvalidParameterError("Ratings must be numbers; convert or drop non-numeric "
                                    "ratings.") from None
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise InvalidParameterError(f"Rating number {bad[0]} is {values[bad[0]]}; ratings must "
                                    f"be finite numbers (drop or fix {bad.size} NaN/inf).")
    huge = np.flatnonzero(np.abs(values) > MAX_RATING)
    if huge.size:
        raise InvalidParameterError(f"Rating number {huge[0]} is {values[huge[0]]:g}; ratings "
                                    f"must be within +-{MAX_RATING:g} (their squares are summed); "
                                    f"drop or rescale {huge.size} rating(s).")
    return values


#: The largest rating magnitude taken: squares and sums of squares of larger ones overflow.
MAX_RATING = 1e12


def _encode(ids, name: str, n: int):
    ids = np.asarray(ids).ravel()
    if len(ids) != n:
        raise InvalidParameterError(f"Got {len(ids)} {name} for {n} ratings; give one user, "
                                    f"one item and one rating per observed entry.")
    if ids.dtype.kind in "iu":
        if ids.size and ids.min() < 0:
            raise InvalidParameterError(f"Negative index {ids.min()} in {name}; integer ids are "
                                        f"row/column indices and must be >= 0.")
        return ids.astype(np.int64), None
    labels, codes = np.unique(ids.astype(str), return_inverse=True)
    return codes.astype(np.int64), labels


def _resolve_duplicates(data: Ratings, duplicates: str) -> Ratings:
    keys = data.users * data.shape[1] + data.items
    unique, first, inverse, counts = np.unique(keys, return_index=True, return_inverse=True,
                                               return_counts=True)
    if len(unique) == len(keys):
        return data
    if duplicates == "error":
        at = np.flatnonzero(counts > 1)[0]
        user, item = data.users[first[at]], data.items[first[at]]
        if data.user_labels is not None:
            user = data.user_labels[user]
        if data.item_labels is not None:
            item = data.item_labels[item]
        raise InvalidParameterError(
            f"User {user!s} rated item {item!s} {counts[at]} times ({(counts > 1).sum()} "
            f"repeated pairs); remove the repeats or choose duplicates 'mean' or 'last'.")
    if duplicates == "mean":
        values = np.bincount(inverse, weights=data.values) / counts
    else:
        last = np.zeros(len(unique), np.int64)
        np.maximum.at(last, inverse, np.arange(len(keys)))
        values = data.values[last]
    return Ratings(data.users[first], data.items[first], values, data.shape,
                   data.user_labels, data.item_labels)


def as_ratings(ratings) -> Ratings:
    return ratings if isinstance(ratings, Ratings) else ratings_from_sparse(ratings)


def split_ratings(ratings, fraction: float, random_state=None) -> tuple[Ratings, Ratings]:
    """Split observed ratings at random into (kept, held out ``fraction`` of them)."""
    ratings = as_ratings(ratings)
    _validation.check_float(fraction, "fraction", low=0.0, high=1.0, low_open=True,
                            high_open=True, owner="split_ratings")
    n_out = int(round(fraction * len(ratings)))
    if not 0 < n_out < len(ratings):
        raise InvalidParameterError(f"Holding out {fraction:g} of {len(ratings)} ratings leaves "
                                    f"none on one side; give more ratings or another fraction.")
    order = check_random_state(random_state).permutation(len(ratings))
    return ratings.subset(np.sort(order[n_out:])), ratings.subset(np.sort(order[:n_out]))


def rmse(truth, predicted) -> float:
    """Root mean squared error."""
    return float(np.sqrt(np.mean((np.asarray(truth) - np.asarray(predicted)) ** 2)))


def mae(truth, predicted) -> float:
    """Mean absolute error."""
    return float(np.mean(np.abs(np.asarray(truth) - np.asarray(predicted))))


class DampedBiases:
    """Baseline ``mu + b_u + b_i``: item then user mean offsets, shrunk towards 0.

    ``b_i = sum(r - mu) / (n_i + item_damping)``, then ``b_u`` the same on ``r - mu - b_i``.
    """

    def __init__(self, item_damping: float = 25.0, user_damping: float = 10.0):
        self.item_damping, self.user_damping = item_damping, user_damping

    def fit(self, ratings) -> "DampedBiases":
        data = as_ratings(ratings)
        self.global_mean_ = float(data.values.mean())
        resid = data.values - self.global_mean_
        n_users, n_items = data.shape
        self.item_bias_ = (np.bincount(data.items, resid, n_items)
                           / (np.bincount(data.items, minlength=n_items) + self.item_damping))
        resid = resid - self.item_bias_[data.items]
        self.user_bias_ = (np.bincount(data.users, resid, n_users)
                           / (np.bincount(data.users, minlength=n_users) + self.user_damping))
        return self

    def predict(self, users, items) -> np.ndarray:
        users, items = np.asarray(users, np.int64), np.asarray(items, np.int64)
        return (self.global_mean_ + lookup(self.user_bias_, users)
                + lookup(self.item_bias_, items))


def lookup(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``values[index]``, 0 where the index is past the end (an unseen user or item)."""
    known = index < len(values)
    out = np.zeros(index.shape + values.shape[1:])
    out[known] = values[index[known]]
    return out

