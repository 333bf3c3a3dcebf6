"""Matrix completion: fill the missing entries of a users x items ratings matrix.

    from topicmf.complete import BiasedMF, ratings_from_triples
    data = ratings_from_triples(["ann", "ann", "bob"], ["tea", "jam", "tea"], [5, 1, 4])
    model = BiasedMF(n_factors=1).fit(data)
    model.predict([1], [0])                   # bob's rating of jam (users/items sorted)

The model predicts ``r_ui = mu + b_u + b_i + p_u . q_i`` and learns only from the observed
entries: a missing rating is not a zero. Both solvers minimise the same objective,

    sum over observed (u, i) of  (r_ui - prediction)^2
                                 + reg_bias (b_u^2 + b_i^2) + reg_factors (|p_u|^2 + |q_i|^2)

so the penalty of a user grows with the number of its ratings (as in SGD, where every rating
applies the penalty once). ``solver="sgd"`` is Funk's stochastic gradient descent in a fresh
random order each epoch; ``solver="als"`` alternates exact ridge solves of the (K+1) x (K+1)
normal equations per user and per item (bias included), or ``cg_steps`` conjugate-gradient
steps on them, warm-started, which is much cheaper for many factors.

Input: a scipy sparse matrix whose *stored non-zero* entries are the observed ratings (explicit
zeros are dropped, because scipy's own operations drop them too), or :class:`Ratings` from
:func:`ratings_from_triples`, where a rating of 0 is a rating like any other.

A user or item with no training rating (an index past the fitted shape, or one whose ratings
all went to the validation split) is predicted from the biases it has: ``mu + b_i`` for an
unknown user, ``mu + b_u`` for an unknown item, ``mu`` for both.
"""

from __future__ import annotations

import hashlib
import io as _io
import json
import numbers
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state

from . import __version__, _validation
from .errors import InvalidParameterError, ModelFileError, NotFittedError

try:  # numba compiles the SGD loop; without it a vectorized numpy path gives the same numbers
    import numba
except ImportError:  # pragma: no cover - exercised by engine="numpy"
    numba = None

__all__ = ["BiasedMF", "DampedBiases", "Ratings", "ratings_from_triples", "ratings_from_sparse",
           "split_ratings", "rmse", "mae", "HAVE_NUMBA"]

HAVE_NUMBA = numba is not None
#: With engine="auto", numba is used from this many ratings on (below, compiling costs more).
NUMBA_MIN_RATINGS = 20_000
MAX_FACTORS = 1000
MAX_DENSE_CELLS = 10_000_000
FORMAT, FORMAT_VERSION = "topicmf-complete", 1
HEADER, ARRAYS = "model.json", "model.npz"


# ------------------------------------------------------------------------------ ratings

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
    return values


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


def _as_ratings(ratings) -> Ratings:
    return ratings if isinstance(ratings, Ratings) else ratings_from_sparse(ratings)


def split_ratings(ratings, fraction: float, random_state=None) -> tuple[Ratings, Ratings]:
    """Split observed ratings at random into (kept, held out ``fraction`` of them)."""
    ratings = _as_ratings(ratings)
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
        data = _as_ratings(ratings)
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
        return (self.global_mean_ + _lookup(self.user_bias_, users)
                + _lookup(self.item_bias_, items))


def _lookup(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``values[index]``, 0 where the index is past the end (an unseen user or item)."""
    known = index < len(values)
    out = np.zeros(index.shape + values.shape[1:])
    out[known] = values[index[known]]
    return out


# ------------------------------------------------------------------------------ kernels

def _sgd_epoch_loop(users, items, values, order, mu, bu, bi, P, Q, lr, reg_bu, reg_bi, reg_f):
    """One SGD pass in ``order``; compiled by numba (a plain loop over ratings otherwise)."""
    K = P.shape[1]
    for n in range(order.shape[0]):
        j = order[n]
        u, i = users[j], items[j]
        dot = 0.0
        for k in range(K):
            dot += P[u, k] * Q[i, k]
        e = values[j] - (mu + bu[u] + bi[i] + dot)
        bu[u] += lr * (e - reg_bu[u] * bu[u])
        bi[i] += lr * (e - reg_bi[i] * bi[i])
        for k in range(K):
            p, q = P[u, k], Q[i, k]
            P[u, k] = p + lr * (e * q - reg_f * p)
            Q[i, k] = q + lr * (e * p - reg_f * q)


def _sgd_epoch_numpy(users, items, values, order, mu, bu, bi, P, Q, lr, reg_bu, reg_bi, reg_f):
    """The same pass, vectorized over runs of ratings that share no user and no item.

    Within such a run the sequential updates touch disjoint parameters, so doing them at
    once gives the sequential result; a run ends where a user or item comes back.
    """
    u_seq, i_seq = users[order], items[order]
    clash = np.maximum(_previous_same(u_seq), _previous_same(i_seq))
    n, start = len(order), 0
    while start < n:
        width, stop = 64, n
        while start + 1 < n:
            hits = np.flatnonzero(clash[start + 1:start + width] >= start)
            if hits.size:
                stop = start + 1 + int(hits[0])
                break
            if start + width >= n:
                break
            width *= 2
        u, i, r = u_seq[start:stop], i_seq[start:stop], values[order[start:stop]]
        p, q = P[u], Q[i]
        e = r - (mu + bu[u] + bi[i] + np.einsum("ij,ij->i", p, q))
        bu[u] += lr * (e - reg_bu[u] * bu[u])
        bi[i] += lr * (e - reg_bi[i] * bi[i])
        P[u] = p + lr * (e[:, None] * q - reg_f * p)
        Q[i] = q + lr * (e[:, None] * p - reg_f * q)
        start = stop


def _previous_same(seq: np.ndarray) -> np.ndarray:
    """For each position, the last earlier position holding the same value, or -1."""
    order = np.argsort(seq, kind="stable")
    prev = np.full(len(seq), -1, np.int64)
    same = seq[order[1:]] == seq[order[:-1]]
    prev[order[1:][same]] = order[:-1][same]
    return prev


def _als_half_loop(indptr, indices, values, mu, Xb, X, Yb, Y, reg_b, reg_f, cg_steps):
    """Solve every row of (Xb, X) given the other side (Yb, Y); numpy calls per row."""
    K = X.shape[1]
    for row in _prange(X.shape[0]):
        start, stop = indptr[row], indptr[row + 1]
        n = stop - start
        if n == 0:
            Xb[row] = 0.0
            X[row, :] = 0.0
            continue
        idx = indices[start:stop]
        Z = np.empty((n, K + 1))
        Z[:, 0] = 1.0
        Z[:, 1:] = Y[idx]
        y = values[start:stop] - mu - Yb[idx]
        d = np.full(K + 1, reg_f * n + 1e-12)
        d[0] = reg_b + 1e-12
        if cg_steps == 0:
            A = Z.T @ Z
            for k in range(K + 1):
                A[k, k] += d[k]
            x = np.linalg.solve(A, Z.T @ y)
        else:
            x = np.empty(K + 1)
            x[0] = Xb[row]
            x[1:] = X[row]
            r = Z.T @ (y - Z @ x) - d * x
            p = r.copy()
            rs = r @ r
            for _ in range(cg_steps):
                if rs <= 1e-24:
                    break
                Ap = Z.T @ (Z @ p) + d * p
                alpha = rs / (p @ Ap)
                x += alpha * p
                r -= alpha * Ap
                rs_next = r @ r
                p = r + (rs_next / rs) * p
                rs = rs_next
        Xb[row] = x[0]
        X[row, :] = x[1:]


def _predict_loop(users, items, mu, bu, bi, P, Q, out):
    K = P.shape[1]
    for j in range(users.shape[0]):
        u, i = users[j], items[j]
        dot = 0.0
        for k in range(K):
            dot += P[u, k] * Q[i, k]
        out[j] = mu + bu[u] + bi[i] + dot


def _predict_numpy(users, items, mu, bu, bi, P, Q, out):
    for s in range(0, len(users), 16384):  # bounded temporaries
        u, i = users[s:s + 16384], items[s:s + 16384]
        out[s:s + 16384] = mu + bu[u] + bi[i] + np.einsum("ij,ij->i", P[u], Q[i])


_prange = range
_ENGINES = {"numpy": {"sgd": _sgd_epoch_numpy, "als": _als_half_loop, "predict": _predict_numpy}}
if HAVE_NUMBA:
    _prange = numba.prange
    _ENGINES["numba"] = {
        "sgd": numba.njit(cache=True, nogil=True)(_sgd_epoch_loop),
        # users (items) are solved independently, so threads do not change the result
        "als": numba.njit(cache=True, parallel=True)(_als_half_loop),
        "predict": numba.njit(cache=True, nogil=True)(_predict_loop),
    }


# ------------------------------------------------------------------------------ model

class BiasedMF(BaseEstimator):
    """Latent factors with biases for a ratings matrix with missing entries.

    Parameters
    ----------
    n_factors : number of latent factors K (at most the number of users and of items).
    solver : "als" (alternating least squares) or "sgd" (stochastic gradient descent).
    n_epochs : maximum passes; None: 50 for als, 100 for sgd.
    lr : SGD learning rate.
    reg_bias, reg_factors : L2 penalty per rating on the biases and on the factors.
    init_scale : standard deviation of the random initial factors.
    cg_steps : als only; None solves each system exactly, an int takes that many
        warm-started conjugate-gradient steps instead (fast for many factors).
    early_stopping : hold out ``validation_fraction`` of the ratings, stop when their RMSE has
        not improved by ``tol`` for ``n_iter_no_change`` epochs and keep the best epoch;
        "auto": only with at least 1,000 ratings.
    clip : clip predictions to the range of the training ratings.
    engine : "auto" (numba when installed and there are at least 20,000 ratings), "numba"
        or "numpy"; both give the same numbers up to rounding.
    random_state : seed of the initial factors, the validation split and the SGD order.
    """

    def __init__(self, n_factors=10, *, solver="als", n_epochs=None, lr=0.01, reg_bias=10.0,
                 reg_factors=0.2, init_scale=0.1, cg_steps=None, early_stopping="auto",
                 validation_fraction=0.1, n_iter_no_change=3, tol=1e-4, clip=True,
                 engine="auto", random_state=None):
        self.n_factors = n_factors
        self.solver = solver
        self.n_epochs = n_epochs
        self.lr = lr
        self.reg_bias = reg_bias
        self.reg_factors = reg_factors
        self.init_scale = init_scale
        self.cg_steps = cg_steps
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.clip = clip
        self.engine = engine
        self.random_state = random_state

    # -------------------------------------------------------------------- checks
    def _check_params(self) -> None:
        own = "BiasedMF"
        _validation.check_int(self.n_factors, "n_factors", low=1, high=MAX_FACTORS, owner=own)
        _validation.check_choice(self.solver, "solver", ("als", "sgd"), owner=own)
        _validation.check_int(self.n_epochs, "n_epochs", low=1, owner=own, allow_none=True)
        _validation.check_float(self.lr, "lr", low=0.0, high=1.0, low_open=True, owner=own)
        for name in ("reg_bias", "reg_factors", "init_scale", "tol"):
            _validation.check_float(getattr(self, name), name, low=0.0, owner=own)
        _validation.check_int(self.cg_steps, "cg_steps", low=1, owner=own, allow_none=True)
        _validation.check_choice(self.early_stopping, "early_stopping", ("auto", True, False),
                                 owner=own)
        _validation.check_float(self.validation_fraction, "validation_fraction", low=0.0,
                                high=0.5, low_open=True, owner=own)
        _validation.check_int(self.n_iter_no_change, "n_iter_no_change", low=1, owner=own)
        _validation.check_choice(self.clip, "clip", (True, False), owner=own)
        _validation.check_choice(self.engine, "engine", ("auto", "numba", "numpy"), owner=own)
        if self.engine == "numba" and not HAVE_NUMBA:
            raise InvalidParameterError("engine='numba' needs the numba package: pip install "
                                        "numba, or use engine='numpy'.")

    def _rng(self) -> np.random.RandomState:
        try:
            return check_random_state(self.random_state)
        except ValueError:
            raise InvalidParameterError(
                f"The 'random_state' parameter of BiasedMF must be None, an int in "
                f"[0, 2**32 - 1] or a numpy RandomState. Got {self.random_state!r} "
                f"instead.") from None

    def _check_fitted(self) -> None:
        if not hasattr(self, "user_factors_"):
            raise NotFittedError("This BiasedMF instance is not fitted yet; call fit(ratings) "
                                 "first or load a saved model.")

    # ----------------------------------------------------------------------- fit
    def fit(self, ratings, y=None) -> "BiasedMF":
        """Learn biases and factors from the observed ratings (sparse matrix or Ratings)."""
        self._check_params()
        data = _as_ratings(ratings)
        if len(data) == 0:
            raise InvalidParameterError("No observed ratings to fit; give at least one.")
        k = self.n_factors
        if k > min(data.shape):
            raise InvalidParameterError(
                f"n_factors={k} is more than the {data.shape[0]} users or {data.shape[1]} "
                f"items; ask for at most {min(data.shape)} factors.")
        rng = self._rng()
        stopping = (len(data) >= 1000) if self.early_stopping == "auto" else self.early_stopping
        train, valid = (split_ratings(data, self.validation_fraction, rng) if stopping
                        else (data, None))
        engine = self.engine
        if engine == "auto":
            engine = "numba" if HAVE_NUMBA and len(data) >= NUMBA_MIN_RATINGS else "numpy"
        kernels = _ENGINES[engine]
        n_users, n_items = data.shape
        mu = float(train.values.mean())
        P = rng.normal(0.0, self.init_scale, (n_users, k))
        Q = rng.normal(0.0, self.init_scale, (n_items, k))
        bu, bi = np.zeros(n_users), np.zeros(n_items)
        step = self._als_step(train, kernels) if self.solver == "als" else \
            self._sgd_step(train, kernels, rng)
        n_epochs = self.n_epochs or (50 if self.solver == "als" else 100)
        bounds = (float(data.values.min()), float(data.values.max())) if self.clip else None
        history = {"train_rmse": [], "validation_rmse": []}
        best, best_score, since_best = None, np.inf, 0
        for epoch in range(1, n_epochs + 1):
            step(mu, bu, bi, P, Q)
            params = (mu, bu, bi, P, Q)
            history["train_rmse"].append(_rmse(train, params, kernels, bounds))
            if valid is None:
                continue
            score = _rmse(valid, params, kernels, bounds)
            history["validation_rmse"].append(score)
            if score < best_score - self.tol:
                since_best = 0
            else:
                since_best += 1
            if score < best_score:
                best, best_score = (epoch, bu.copy(), bi.copy(), P.copy(), Q.copy()), score
            if since_best >= self.n_iter_no_change:
                break
        if best is not None:
            self.best_epoch_, bu, bi, P, Q = best
        else:
            self.best_epoch_ = epoch
        # parameters never touched by a training rating keep their random start: drop them
        user_counts = np.bincount(train.users, minlength=n_users)
        item_counts = np.bincount(train.items, minlength=n_items)
        P[user_counts == 0], bu[user_counts == 0] = 0.0, 0.0
        Q[item_counts == 0], bi[item_counts == 0] = 0.0, 0.0
        self.global_mean_, self.user_bias_, self.item_bias_ = mu, bu, bi
        self.user_factors_, self.item_factors_ = P, Q
        self.user_counts_, self.item_counts_ = user_counts, item_counts
        self.rating_range_ = (float(data.values.min()), float(data.values.max()))
        self.user_labels_, self.item_labels_ = data.user_labels, data.item_labels
        self.history_, self.n_iter_, self.engine_ = history, epoch, engine
        return self

    def _sgd_step(self, train: Ratings, kernels, rng):
        users, items, values = train.users, train.items, train.values
        lr, reg_f = float(self.lr), float(self.reg_factors)
        # a bias is updated once per rating of its user (item): spread its penalty over them
        reg_bu = self.reg_bias / np.maximum(np.bincount(users, minlength=train.shape[0]), 1)
        reg_bi = self.reg_bias / np.maximum(np.bincount(items, minlength=train.shape[1]), 1)

        def step(mu, bu, bi, P, Q):
            order = rng.permutation(len(values))
            kernels["sgd"](users, items, values, order, mu, bu, bi, P, Q, lr, reg_bu, reg_bi,
                           reg_f)
        return step

    def _als_step(self, train: Ratings, kernels):
        by_user = _compressed(train.users, train.items, train.values, train.shape[0])
        by_item = _compressed(train.items, train.users, train.values, train.shape[1])
        reg_b, reg_f = float(self.reg_bias), float(self.reg_factors)
        cg = int(self.cg_steps or 0)

        def step(mu, bu, bi, P, Q):
            kernels["als"](*by_user, mu, bu, P, bi, Q, reg_b, reg_f, cg)
            kernels["als"](*by_item, mu, bi, Q, bu, P, reg_b, reg_f, cg)
        return step

    # ------------------------------------------------------------------- predict
    def predict(self, users, items) -> np.ndarray:
        """Predicted ratings of the (user, item) index pairs; unseen ones fall back to biases."""
        self._check_fitted()
        users, items = np.broadcast_arrays(self._indices(users, "users"),
                                           self._indices(items, "items"))
        pred = (self.global_mean_ + _lookup(self.user_bias_, users)
                + _lookup(self.item_bias_, items)
                + np.einsum("...k,...k->...", _lookup(self.user_factors_, users),
                            _lookup(self.item_factors_, items)))
        return np.clip(pred, *self.rating_range_) if self.clip else pred

    def predict_matrix(self, users=None, items=None) -> np.ndarray:
        """Dense predictions for all (or the given) users x items; for small matrices only."""
        self._check_fitted()
        users = np.arange(len(self.user_bias_)) if users is None else self._indices(users, "users")
        items = np.arange(len(self.item_bias_)) if items is None else self._indices(items, "items")
        if users.size * items.size > MAX_DENSE_CELLS:
            raise InvalidParameterError(
                f"predict_matrix would make {users.size} x {items.size} cells (limit "
                f"{MAX_DENSE_CELLS:,}); pass fewer users or items, or use predict/recommend.")
        return self.predict(users[:, None], items[None, :])

    def recommend(self, users, n: int = 10, exclude: Ratings | None = None):
        """Top ``n`` items per user by prediction, skipping pairs in ``exclude``.

        Returns (items, scores), arrays of shape (len(users), n); -1 / NaN pad users with
        fewer than ``n`` candidate items.
        """
        self._check_fitted()
        users = self._indices(users, "users").ravel()
        n = _validation.check_int(n, "n", low=1, owner="BiasedMF.recommend")
        n_items = len(self.item_bias_)
        seen = None
        if exclude is not None:
            seen = sp.csr_array((np.ones(len(exclude)), (exclude.users, exclude.items)),
                                shape=(max(exclude.shape[0], users.max(initial=-1) + 1),
                                       n_items))
        m = min(n, n_items)
        top_items = np.full((len(users), n), -1, np.int64)
        top_scores = np.full((len(users), n), np.nan)
        step = max(1, 2_000_000 // max(n_items, 1))  # about 16 MB of scores at a time
        for s in range(0, len(users), step):
            block = users[s:s + step]
            scores = self.predict_matrix(block)
            if seen is not None:
                scores[seen[block].toarray() > 0] = -np.inf
            best = np.argsort(-scores, axis=1, kind="stable")[:, :m]
            best_scores = np.take_along_axis(scores, best, axis=1)
            valid = np.isfinite(best_scores)
            top_items[s:s + len(block), :m] = np.where(valid, best, -1)
            top_scores[s:s + len(block), :m] = np.where(valid, best_scores, np.nan)
        return top_items, top_scores

    def _indices(self, ids, name: str) -> np.ndarray:
        ids = np.asarray(ids)
        if ids.size and ids.dtype.kind not in "iu":
            raise InvalidParameterError(f"BiasedMF.predict takes integer {name} indices; got "
                                        f"{ids.dtype} values (map labels with user_labels_ / "
                                        f"item_labels_ first).")
        ids = ids.astype(np.int64)
        if ids.size and ids.min() < 0:
            raise InvalidParameterError(f"Negative {name} index {ids.min()}; indices start at 0.")
        return ids

    # ---------------------------------------------------------------------- state
    _arrays = ("user_bias_", "item_bias_", "user_factors_", "item_factors_", "user_counts_",
               "item_counts_")

    def save(self, directory) -> Path:
        """Write the fitted model into ``directory``: model.json (settings) + model.npz."""
        from .io import staged_output

        self._check_fitted()
        arrays = {name: np.asarray(getattr(self, name)) for name in self._arrays}
        for name in ("user_labels_", "item_labels_"):
            if getattr(self, name) is not None:
                arrays[name] = np.asarray(getattr(self, name), dtype=str)
        buffer = _io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        payload = buffer.getvalue()
        params = self.get_params()
        if not isinstance(params["random_state"], (numbers.Integral, type(None))):
            params["random_state"] = None
        header = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "library_version": __version__,
            "params": params, "global_mean": self.global_mean_,
            "rating_range": list(self.rating_range_), "history": self.history_,
            "n_iter": self.n_iter_, "best_epoch": self.best_epoch_, "engine": self.engine_,
            "arrays": {n: {"shape": list(a.shape), "dtype": a.dtype.str}
                       for n, a in arrays.items()},
            "arrays_sha256": hashlib.sha256(payload).hexdigest(),
        }
        directory = Path(directory)
        with staged_output(directory) as staging:
            (staging / ARRAYS).write_bytes(payload)
            (staging / HEADER).write_text(json.dumps(header, indent=1), encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory) -> "BiasedMF":
        """Read a model written by :meth:`save`; ModelFileError if anything is off."""
        directory = Path(directory)
        try:
            header = json.loads((directory / HEADER).read_text(encoding="utf-8"))
            payload = (directory / ARRAYS).read_bytes()
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise ModelFileError(f"{directory} holds no readable completion model ({exc}); "
                                 f"save the model again.") from None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise ModelFileError(f"{directory / HEADER} is not a topicmf completion model.")
        if header.get("format_version") != FORMAT_VERSION:
            raise ModelFileError(f"{directory / HEADER} has format version "
                                 f"{header.get('format_version')!r}; this topicmf reads "
                                 f"{FORMAT_VERSION}: refit and save again.")
        if hashlib.sha256(payload).hexdigest() != header.get("arrays_sha256"):
            raise ModelFileError(f"{directory / ARRAYS} does not match its checksum; the file "
                                 f"was truncated or changed: save the model again.")
        try:
            with np.load(_io.BytesIO(payload), allow_pickle=False) as npz:
                arrays = {name: npz[name] for name in npz.files}
            model = cls(**header["params"])
            model._check_params()
            for name in cls._arrays:
                setattr(model, name, arrays[name])
            for name in ("user_labels_", "item_labels_"):
                setattr(model, name, arrays.get(name))
            model.global_mean_ = float(header["global_mean"])
            model.rating_range_ = tuple(float(v) for v in header["rating_range"])
            model.history_, model.n_iter_ = header["history"], int(header["n_iter"])
            model.best_epoch_, model.engine_ = int(header["best_epoch"]), header["engine"]
            k = model.user_factors_.shape[1]
            ok = (model.item_factors_.shape[1] == k
                  and len(model.user_bias_) == len(model.user_factors_)
                  and len(model.item_bias_) == len(model.item_factors_)
                  and all(np.isfinite(getattr(model, n)).all() for n in cls._arrays))
            if not ok:
                raise ValueError("arrays of inconsistent shapes or non-finite values")
        except (KeyError, TypeError, ValueError, zipfile.BadZipFile) as exc:
            raise ModelFileError(f"{directory} holds an inconsistent completion model ({exc}); "
                                 f"save the model again.") from None
        return model


def _rmse(data: Ratings, params, kernels, bounds) -> float:
    out = np.empty(len(data))
    kernels["predict"](data.users, data.items, *params, out)
    if bounds is not None:
        np.clip(out, *bounds, out=out)
    return rmse(data.values, out)


def _compressed(rows, cols, values, n_rows):
    """CSR-style (indptr, indices, values) of the ratings grouped by ``rows``."""
    order = np.argsort(rows, kind="stable")
    indptr = np.zeros(n_rows + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
    return indptr, np.ascontiguousarray(cols[order]), np.ascontiguousarray(values[order])
