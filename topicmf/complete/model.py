"""BiasedMF: biases and latent factors fitted to the observed entries of a ratings matrix."""

from __future__ import annotations

import numbers
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.extmath import randomized_svd
from threadpoolctl import threadpool_limits

from .. import __version__, _validation
from ..errors import InvalidParameterError, ModelFileError, NotFittedError
from .kernels import ENGINES, HAVE_NUMBA
from .ratings import DampedBiases, Ratings, as_ratings, lookup, rmse, split_ratings

#: With engine="auto", numba is used from this many ratings on (below, compiling costs more).
NUMBA_MIN_RATINGS = 20_000
MAX_FACTORS = 1000
#: reg_factors=None: per solver, chosen on a validation split (benchmarks/complete.py).
DEFAULT_REG_FACTORS = {"als": 0.2, "sgd": 0.1}
MAX_DENSE_CELLS = 10_000_000
FORMAT, FORMAT_VERSION = "topicmf-complete", 1


class BiasedMF(BaseEstimator):
    """Latent factors with biases for a ratings matrix with missing entries.

    Parameters
    ----------
    n_factors : number of latent factors K (at most the number of users and of items).
    solver : "als" (alternating least squares) or "sgd" (stochastic gradient descent).
    n_epochs : maximum passes; None: 100. With early stopping this is only a ceiling.
    lr : SGD learning rate; ``lr_decay`` multiplies it after every epoch.
    reg_bias : L2 penalty of each user / item bias (a fixed amount, like the damping of the
        baseline: a user with 3 ratings keeps half of its mean offset, one with 300 all).
    reg_factors : L2 penalty on the factors per rating of their user / item; None: 0.2 for
        als, 0.1 for sgd (chosen on a validation split, see the README).
    init : "svd" starts the biases from the damped baseline and the factors from a truncated
        SVD of the ratings it leaves unexplained (random when n_factors is not below the
        number of users and items); "random" starts biases at 0 and factors at
        N(0, init_scale^2).
    cg_steps : als only; None solves each system exactly, an int takes that many
        warm-started conjugate-gradient steps instead (fast for many factors).
    early_stopping : hold out ``validation_fraction`` of the ratings, stop when their RMSE has
        not improved by ``tol`` for ``n_iter_no_change`` epochs and keep the best epoch;
        "auto": only with at least 1,000 ratings.
    clip : clip predictions to the range of the training ratings.
    engine : "auto" (numba when installed and there are at least 20,000 ratings), "numba"
        or "numpy"; both give the same numbers up to rounding.
    random_state : seed of the initial factors, the validation split and the SGD order.

    After fit, ``history_`` holds per epoch "train_rmse" (unclipped, collected during the
    epoch at little cost: for als after the item step, for sgd each rating's error just
    before its update), "validation_rmse" and "seconds" (the epoch's update).
    """

    def __init__(self, n_factors=10, *, solver="als", n_epochs=None, lr=0.01, lr_decay=1.0,
                 reg_bias=3.0, reg_factors=None, init="svd", init_scale=0.1, cg_steps=None,
                 early_stopping="auto", validation_fraction=0.1, n_iter_no_change=5,
                 tol=1e-4, clip=True, engine="auto", random_state=None):
        self.n_factors = n_factors
        self.solver = solver
        self.n_epochs = n_epochs
        self.lr = lr
        self.lr_decay = lr_decay
        self.reg_bias = reg_bias
        self.reg_factors = reg_factors
        self.init = init
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
        _validation.check_float(self.lr_decay, "lr_decay", low=0.0, high=1.0, low_open=True,
                                owner=own)
        for name in ("reg_bias", "reg_factors", "init_scale", "tol"):
            _validation.check_float(getattr(self, name), name, low=0.0, owner=own,
                                    allow_none=name == "reg_factors")
        _validation.check_int(self.cg_steps, "cg_steps", low=1, owner=own, allow_none=True)
        _validation.check_choice(self.early_stopping, "early_stopping", ("auto", True, False),
                                 owner=own)
        _validation.check_float(self.validation_fraction, "validation_fraction", low=0.0,
                                high=0.5, low_open=True, owner=own)
        _validation.check_int(self.n_iter_no_change, "n_iter_no_change", low=1, owner=own)
        _validation.check_choice(self.clip, "clip", (True, False), owner=own)
        _validation.check_choice(self.init, "init", ("svd", "random"), owner=own)
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
        # BLAS works on small matrices here, and the ALS kernel already runs a thread per
        # core: BLAS threads on top only compete for the cores (10x slower on a busy machine)
        with threadpool_limits(1, user_api="blas"):
            return self._fit(ratings)

    def _fit(self, ratings) -> "BiasedMF":
        self._check_params()
        data = as_ratings(ratings)
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
        kernels = ENGINES[engine]
        n_users, n_items = data.shape
        mu = float(train.values.mean())
        bu, bi, P, Q = self._start(train, rng)
        step = self._als_step(train, kernels) if self.solver == "als" else \
            self._sgd_step(train, kernels, rng)
        n_epochs = self.n_epochs or 100
        bounds = (float(data.values.min()), float(data.values.max())) if self.clip else None
        history = {"train_rmse": [], "validation_rmse": [], "seconds": []}
        best, best_score, since_best = None, np.inf, 0
        for epoch in range(1, n_epochs + 1):
            params = (mu, bu, bi, P, Q)
            started = time.perf_counter()
            train_score = step(*params)
            history["seconds"].append(time.perf_counter() - started)
            history["train_rmse"].append(train_score)
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

    def _start(self, train: Ratings, rng):
        """Initial (user biases, item biases, user factors, item factors).

        "svd": the damped biases, and the leading singular vectors of what they leave
        unexplained (missing entries as 0), so that the factors start along the strongest
        tastes: from a small random start SGD first drifts for many epochs (a saddle
        point at zero) and early stopping may end it there.
        """
        k, (n_users, n_items) = self.n_factors, train.shape
        if self.init == "svd" and k < min(train.shape):
            biases = DampedBiases().fit(train)
            resid = train.values - biases.predict(train.users, train.items)
            matrix = sp.csr_array((resid, (train.users, train.items)), shape=train.shape)
            U, s, Vt = randomized_svd(matrix, k, n_iter=2, random_state=rng)  # a start only
            root = np.sqrt(s)
            return (biases.user_bias_, biases.item_bias_, np.ascontiguousarray(U * root),
                    np.ascontiguousarray(Vt.T * root))
        P = rng.normal(0.0, self.init_scale, (n_users, k))
        Q = rng.normal(0.0, self.init_scale, (n_items, k))
        return np.zeros(n_users), np.zeros(n_items), P, Q

    def _reg_factors(self) -> float:
        if self.reg_factors is not None:
            return float(self.reg_factors)
        return DEFAULT_REG_FACTORS[self.solver]

    def _sgd_step(self, train: Ratings, kernels, rng):
        users, items, values = train.users, train.items, train.values
        lr, reg_f = float(self.lr), self._reg_factors()
        # a bias is updated once per rating of its user (item): spread its penalty over them
        reg_bu = self.reg_bias / np.maximum(np.bincount(users, minlength=train.shape[0]), 1)
        reg_bi = self.reg_bias / np.maximum(np.bincount(items, minlength=train.shape[1]), 1)

        epochs_done = [0]

        def step(mu, bu, bi, P, Q):
            # gathered in shuffled order so that the kernel reads the ratings sequentially
            order = rng.permutation(len(values))
            rate = lr * self.lr_decay ** epochs_done[0]
            epochs_done[0] += 1
            sse = kernels["sgd"](users[order], items[order], values[order], mu, bu, bi, P, Q,
                                 rate, reg_bu, reg_bi, reg_f)
            # the error of each rating just before its update: free, and close to a full pass
            return float(np.sqrt(sse / len(values)))
        return step

    def _als_step(self, train: Ratings, kernels):
        by_user = _compressed(train.users, train.items, train.values, train.shape[0])
        by_item = _compressed(train.items, train.users, train.values, train.shape[1])
        reg_b, reg_f = float(self.reg_bias), self._reg_factors()
        cg = int(self.cg_steps or 0)

        user_sse, item_sse = np.empty(train.shape[0]), np.empty(train.shape[1])

        def step(mu, bu, bi, P, Q):
            kernels["als"](*by_user, mu, bu, P, bi, Q, reg_b, reg_f, cg, user_sse)
            kernels["als"](*by_item, mu, bi, Q, bu, P, reg_b, reg_f, cg, item_sse)
            # the item half-step came last: its errors are those of the epoch's model
            return float(np.sqrt(item_sse.sum() / len(train)))
        return step

    # ------------------------------------------------------------------- predict
    def predict(self, users, items) -> np.ndarray:
        """Predicted ratings of the (user, item) index pairs; unseen ones fall back to biases."""
        self._check_fitted()
        users, items = np.broadcast_arrays(self._indices(users, "users"),
                                           self._indices(items, "items"))
        pred = (self.global_mean_ + lookup(self.user_bias_, users)
                + lookup(self.item_bias_, items)
                + np.einsum("...k,...k->...", lookup(self.user_factors_, users),
                            lookup(self.item_factors_, items)))
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
        from ..io import write_array_file

        self._check_fitted()
        arrays = {name: np.asarray(getattr(self, name)) for name in self._arrays}
        for name in ("user_labels_", "item_labels_"):
            if getattr(self, name) is not None:
                arrays[name] = np.asarray(getattr(self, name), dtype=str)
        params = self.get_params()
        if not isinstance(params["random_state"], (numbers.Integral, type(None))):
            params["random_state"] = None
        header = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "library_version": __version__,
            "params": params, "global_mean": self.global_mean_,
            "rating_range": list(self.rating_range_), "history": self.history_,
            "n_iter": self.n_iter_, "best_epoch": self.best_epoch_, "engine": self.engine_,
        }
        return write_array_file(directory, header, arrays)

    @classmethod
    def load(cls, directory) -> "BiasedMF":
        """Read a model written by :meth:`save`; ModelFileError if anything is off."""
        from ..io import read_array_file

        header, arrays = read_array_file(directory, FORMAT, FORMAT_VERSION,
                                         what="topicmf completion model",
                                         fix="save the model again")
        try:
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
        except (KeyError, TypeError, ValueError) as exc:
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
