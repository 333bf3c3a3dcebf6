"""Non-negative matrix factorization X ~ W H by multiplicative updates (Lee & Seung)."""

from __future__ import annotations

from functools import partial

import numpy as np
from scipy.special import xlogy

from .. import _validation
from . import _kernels
from ._svd import randomized_svd
from .base import MAX_TOPICS, LatentFactorModel

BETA_LOSSES = ("frobenius", "kullback-leibler")
_H_BLOCK_BYTES = 1 << 20  # the Frobenius H update's blocks of H^T
INITS = ("nndsvda", "nndsvd", "random")


class NMF(LatentFactorModel):
    """Non-negative matrix factorization of a document-term matrix.

    ``doc_topic_`` is W (documents x topics) and ``components_`` is H (topics x terms).
    ``engine`` picks the kernels: ``"numba"`` (compiled, multi-threaded, one copy of the
    factors updated in place), ``"numpy"`` (numpy/scipy, same numbers up to rounding) or
    ``"auto"`` (numba when installed). Computation runs in the dtype of X: pass float32 for
    speed and half the memory.
    The loss is 0.5 * ||X - W H||_F^2 (``beta_loss="frobenius"``) or the generalized
    Kullback-Leibler divergence D(X || W H); it never rises from one iteration to the next.

    Fitted attributes: ``components_``, ``doc_topic_``, ``n_iter_``, ``history_`` (loss
    after each iteration), ``reconstruction_err_`` (Frobenius norm of X - W H, or the
    divergence), ``n_features_in_``.
    """

    positive_input = True
    _state_scalars = (*LatentFactorModel._state_scalars, "reconstruction_err_")

    def __init__(self, n_topics=10, *, beta_loss="frobenius", init="nndsvda", max_iter=200,
                 tol=1e-4, random_state=None, callback=None, engine="auto"):
        self.n_topics = n_topics
        self.beta_loss = beta_loss
        self.init = init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.callback = callback
        self.engine = engine

    def _check_params(self) -> None:
        _validation.check_int(self.n_topics, "n_topics", low=1, high=MAX_TOPICS, owner="NMF")
        _validation.check_choice(self.engine, "engine", _kernels.ENGINES, owner="NMF")
        _validation.check_choice(self.beta_loss, "beta_loss", BETA_LOSSES, owner="NMF")
        _validation.check_choice(self.init, "init", INITS, owner="NMF")
        self._check_iteration_params()

    def fit(self, X, y=None):
        """Factorize the non-negative matrix ``X`` (documents x terms)."""
        self._check_params()
        X = self._check_input(X, reset=True)
        k = self._check_n_topics(X)
        engine = _kernels.resolve_engine(self.engine)
        with _kernels.quiet_blas():
            # The compiled passes get rows padded with zero columns to a width they run
            # fastest on; the zeros stay zero under the multiplicative updates.
            width = _kernels.padded_width(k, X.dtype) if engine == "numba" else k
            W, HT = _initialize(X, k, self.init, self._rng(), engine, width=width)
            frobenius = self.beta_loss == "frobenius"
            # The part of the loss that depends on X alone, once per fit.
            constant = _kernels.row_sq_norms(X) if frobenius else _kl_constant(X)
            if engine == "numba":
                # One copy of the factors, updated in place: W by rows, H by terms.
                if frobenius:
                    sweep = partial(_frobenius_sweep_compiled, X, _kernels.term_plan(X, width),
                                    constant=constant)
                else:
                    plan, ratios = _kl_plan(X, k, width)
                    sweep = partial(_kl_sweep_compiled, X, plan, constant=constant,
                                    ratios=ratios)
                    del plan, ratios  # the sweep holds them, and lets them go
            elif frobenius:
                sweep = partial(_frobenius_sweep, X,
                                _kernels.balanced_blocks(X, _kernels.n_threads()),
                                constant=constant)
            else:
                sweep = partial(_kl_sweep, X, _kernels.row_blocks(X, k), engine=engine,
                                constant=constant)
            objective = partial(_frobenius_objective if frobenius else _kl_objective, X,
                                engine=engine, constant=constant)
            (W, HT), history = self._iterate(sweep, (W, HT), objective)
            del sweep  # and with it the buffers of the passes
            W, HT = _kernels.shrink_columns(W, k), _kernels.shrink_columns(HT, k)
        # H^T is kept as it was fitted (terms x topics): components_ is its transpose, a view.
        self.doc_topic_, self.components_ = W, HT.T
        self.history_, self.n_iter_ = history, len(history)
        loss = history[-1]
        self.reconstruction_err_ = (np.sqrt(2.0 * max(loss, 0.0))
                                    if self.beta_loss == "frobenius" else loss)
        return self

    def transform(self, X):
        """Document vectors of new documents ``X`` with ``components_`` held fixed."""
        self._check_fitted()
        self._check_params()
        X = self._check_input(X, reset=False)
        H = self.components_.astype(X.dtype, copy=False)
        engine = _kernels.resolve_engine(self.engine)
        if self.beta_loss == "frobenius":
            step = partial(_frobenius_w_step, HT=np.ascontiguousarray(H.T), HHt=H @ H.T)
        else:
            step = partial(_kl_w_step, HT=np.ascontiguousarray(H.T), h_sums=H.sum(axis=1),
                           engine=engine)
        # A constant start per document whose total mass matches the document's, so each
        # document's result does not depend on the other documents in the batch.
        total = H.sum()
        scale = X.sum(axis=1) / total if total > 0 else np.zeros(X.shape[0])
        W = np.repeat(scale.astype(X.dtype)[:, None], H.shape[0], axis=1)
        return self._fold_in(X, W, step)


# ----------------------------------------------------------------------- updates
def _eps(dtype) -> float:
    # Keeps 0 / 0 at 0 without changing any denominator that is not already zero.
    return np.finfo(dtype).tiny


def _kl_constant(X) -> np.ndarray:
    """Per-row sum of x log x - x: the part of D(X || W H) that does not depend on W, H."""
    return _kernels.map_sum_by_row(X, lambda x: xlogy(x, x) - x)


def _frobenius_w_step(X, W, HT, HHt):
    """Per-row loss 0.5 * ||x - w H||^2 of ``W`` and the multiplicative update of ``W``."""
    XHt = np.asarray(X @ HT)
    WHHt = W @ HHt
    loss = 0.5 * (_kernels.row_sq_norms(X) - 2.0 * np.einsum("ij,ij->i", W, XHt)
                  + np.einsum("ij,ij->i", W, WHHt))
    return loss, W * XHt / (WHHt + _eps(W.dtype))


def _kl_w_step(X, W, HT, h_sums, engine):
    """Per-row divergence D(x || w H) of ``W`` and the multiplicative update of ``W``."""
    loglik, RHt, _ = _kernels.ratio_pass(X, W, HT, rows=True, cols=False, engine=engine)
    loss = _kl_constant(X) - loglik + W @ h_sums
    return loss, W * RHt / (h_sums + _eps(W.dtype))


def _frobenius_objective(X, state, engine="numpy", constant=None):
    """0.5 * ||X - W H||^2 of ``state`` = (W, H^T), through X @ H^T only; ``constant`` is
    :func:`_kernels.row_sq_norms` of X when known."""
    W, HT = state
    HHt = HT.T @ HT
    if engine == "numba":
        from . import _numba_kernels
        gain = _numba_kernels.frobenius_rows(X, W, HT, HHt, update=False)
    else:
        XHt = np.asarray(X @ HT)
        gain = 2.0 * np.einsum("ij,ij->i", W, XHt) - np.einsum("ij,ij->i", W, W @ HHt)
    x_sq = _kernels.row_sq_norms(X) if constant is None else constant
    return 0.5 * (x_sq.sum() - gain.sum())


def _kl_objective(X, state, engine="numpy", constant=None):
    """D(X || W H) of ``state`` = (W, H^T); ``constant`` is :func:`_kl_constant` of X when
    known."""
    W, HT = state
    constant = _kl_constant(X) if constant is None else constant
    loglik, _, _ = _kernels.ratio_pass(X, W, HT, rows=False, cols=False, engine=engine)
    return constant.sum() - loglik.sum() + W.sum(axis=0) @ _column_sums(HT)


def _column_sums(A: np.ndarray) -> np.ndarray:
    """Column sums of ``A``, added in float64, in A's dtype."""
    return A.sum(axis=0, dtype=np.float64).astype(A.dtype)


def _frobenius_sweep_compiled(X, plan, state, constant):
    """One iteration, compiled, in place: W row by row (X @ H^T and W H H^T per row), then
    H^T term by term (X^T W per sub-range of terms, see ``_numba_kernels``)."""
    from . import _numba_kernels
    W, HT = state
    gain = _numba_kernels.frobenius_rows(X, W, HT, HT.T @ HT, update=True)
    loss = 0.5 * (constant.sum() - gain.sum())  # constant: the squared row norms of X
    _numba_kernels.frobenius_terms(X, W, HT, W.T @ W, plan)
    return loss, (W, HT)


def _kl_sweep_compiled(X, plan, state, constant, ratios):
    """One iteration, compiled, in place: W from the ratios X / (W H) by rows, then H^T from
    the ratios with the new W, by terms: the pass by rows leaves them in ``ratios`` for the
    entries it has slots for, and the pass by terms recomputes the others."""
    from . import _numba_kernels
    W, HT = state
    h_sums = _column_sums(HT)
    total = W.sum(axis=0) @ h_sums  # the sum of W H, before W changes
    loglik = _numba_kernels.kl_rows(X, W, HT, h_sums + _eps(W.dtype), ratios)
    loss = constant.sum() - loglik.sum() + total
    w_sums = _column_sums(W)
    _numba_kernels.ratio_terms(X, W, HT, 1.0 / (w_sums + _eps(W.dtype)), plan, ratios)
    return loss, (W, HT)


def _kl_plan(X, k, width=None):
    """The term plan of compiled KL-NMF and the slots for its stored ratios: one for each
    entry of the first rows that fit :func:`_kernels.work_allowance` beside a buffer of
    1 MB for the pass by terms, which recomputes the other entries' ratios (on
    20 Newsgroups at K = 20 storing all of them made an iteration a fifth to a third
    faster, in runs on a machine whose speed moved). ``width`` is that of the factors'
    rows when they are padded beyond ``k``: the padding comes out of the allowance."""
    width = k if width is None else width
    padding = (X.shape[0] + X.shape[1]) * (width - k) * X.dtype.itemsize
    room = _kernels.work_allowance(X, k) - padding
    capacity = max(room - 2**20, 0) // X.dtype.itemsize
    n_rows = np.searchsorted(X.indptr, capacity, side="right") - 1  # whole rows only
    stored = int(X.indptr[n_rows])
    # The buffer gets the rest of the room, at least 1 MB (smaller ones cut the terms into
    # so many sub-ranges that the walks over the rows' cursors dominate).
    budget = max(room - stored * X.dtype.itemsize, 2**20)
    return _kernels.term_plan(X, width, budget=budget), np.empty(stored, dtype=X.dtype)


def _frobenius_sweep(X, blocks, state, constant=None):
    """One iteration with scipy's products (the engine without numba): W updated block by
    block of rows, then H block of terms by block of terms, each on threads.

    The loss 0.5 * ||X - W H||^2 is expanded so that X is only touched through X @ H.T
    and X^T @ W, each one pass over the stored entries. ``constant`` holds the squared row
    norms of X, computed once per fit. X^T @ W is summed over the row blocks (X_b^T W_b,
    added in block order).
    """
    W, HT = state
    x_sq = _kernels.row_sq_norms(X) if constant is None else constant
    bounds = np.linspace(0, HT.shape[0], len(blocks) + 1).astype(int)
    term_blocks = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
    HHt = _sum_in_order(_kernels.parallel_map(lambda block: HT[block].T @ HT[block],
                                              term_blocks))
    # The H update's temporaries stay small: blocks of about 1 MB of H^T, len(blocks) threads.
    per_block = max(1, _H_BLOCK_BYTES // (HT.shape[1] * HT.itemsize))
    update_blocks = [slice(a, min(a + per_block, HT.shape[0]))
                     for a in range(0, HT.shape[0], per_block)]
    W_next = np.empty_like(W)

    def rows(block):
        X_block, W_block = _kernels.row_view(X, block), W[block]
        gain, W_block_next = _kernels.frobenius_update(X_block, W_block, HT, HHt)
        W_next[block] = W_block_next
        return gain.sum(), W_block_next.T @ W_block_next, np.asarray(X_block.T @ W_block_next)

    parts = _kernels.parallel_map(rows, blocks)
    loss = 0.5 * (x_sq.sum() - sum(part[0] for part in parts))
    WtW = _sum_in_order([part[1] for part in parts])
    XtW = _sum_in_order([part[2] for part in parts])

    def terms(block):  # H <- H * (W^T X) / (W^T W H), as H^T for contiguous term blocks
        numerator = XtW[block]
        numerator *= HT[block]
        denominator = HT[block] @ WtW
        denominator += _eps(HT.dtype)
        np.divide(numerator, denominator, out=numerator)
        _kernels.flush_subnormals(numerator)

    _kernels.parallel_map(terms, update_blocks, workers=len(blocks))
    return loss, (W_next, XtW)


def _sum_in_order(arrays: list[np.ndarray]) -> np.ndarray:
    """The sum of ``arrays``, added left to right into the first one."""
    total = arrays[0]
    for array in arrays[1:]:
        total += array
    return total


def _kl_sweep(X, blocks, state, engine="numpy", constant=None):
    """One iteration: W from the ratios X / (W H) block by block, then H from the summed
    ratios with the new W. ``constant`` is :func:`_kl_constant` of X, computed once per fit."""
    W, HT = state
    constant = _kl_constant(X) if constant is None else constant
    h_sums = _column_sums(HT)
    W_next = np.empty_like(W)
    RtW = None
    loss = 0.0
    for block in blocks:
        X_block, W_block = _kernels.take_rows(X, block), W[block]
        loglik, W_block_next, block_RtW = _kernels.kl_update(X_block, W_block, HT, h_sums,
                                                             engine)
        loss += constant[block].sum() - loglik.sum() + W_block.sum(axis=0) @ h_sums
        W_next[block] = W_block_next
        if RtW is None:
            RtW = block_RtW
        else:
            RtW += block_RtW
    _kernels.flush_subnormals(W_next)
    w_sums = _column_sums(W_next)
    RtW *= HT  # H_next^T = H^T * RtW / w_sums, in place: no (n_terms x K) temporaries
    RtW /= w_sums + _eps(HT.dtype)
    return loss, (W_next, _kernels.flush_subnormals(RtW))


# ------------------------------------------------------------------ initialization
def _initialize(X, k, init, rng, engine="numpy", width=None):
    """Starting (W, H^T) in the dtype of X: NNDSVD (Boutsidis & Gallopoulos 2008) or random;
    ``width`` (at least k) pads their rows with zero columns."""
    n_docs, n_terms = X.shape
    mean = X.sum() / (n_docs * n_terms)
    if init == "random":
        high = 2.0 * np.sqrt(mean / k)  # so that W H has the mean of X on average
        H = rng.uniform(0.0, high, size=(k, n_terms)).astype(X.dtype)
        W = rng.uniform(0.0, high, size=(n_docs, k)).astype(X.dtype)
        width = k if width is None else width
        return (_kernels.pad_columns(W, width),
                _kernels.pad_columns(np.ascontiguousarray(H.T), width))
    return nndsvd(X, k, rng, fill=init == "nndsvda", engine=engine, width=width)


def nndsvd(X, k, rng, *, fill: bool, engine: str = "numpy", width: int | None = None):
    """NNDSVD factors (W, H^T) (Boutsidis & Gallopoulos 2008); with ``fill`` zeros become
    the mean of X (NNDSVDa), which multiplicative updates need, as they can never move an
    entry off zero. The SVD is :func:`_svd.randomized_svd`; W and H^T are made in the
    memory of its U and V, with ``width`` columns (at least k; those beyond k zero)."""
    n_docs, n_terms = X.shape
    width = k if width is None else width
    if X.nnz:
        W, S, HT = randomized_svd(X, k, rng, engine=engine, width=width)
        for j in range(k):
            W[:, j], HT[:, j] = _nndsvd_pair(W[:, j], S[j], HT[:, j])
    else:
        W = np.zeros((n_docs, width), dtype=X.dtype)
        HT = np.zeros((n_terms, width), dtype=X.dtype)
    if fill:
        mean = X.sum() / (n_docs * n_terms)
        for A in (W[:, :k], HT[:, :k]):  # views: the padding stays zero
            A[A == 0] = mean
    return W, HT


_norm = np.linalg.norm


def _nndsvd_pair(u, sigma, v):
    """Non-negative factors from one singular triplet, keeping its dominant sign part.

    The leading triplet of a non-negative matrix has one sign throughout (Perron-Frobenius),
    so for it this is just |u| and |v| scaled by sqrt(sigma).
    """
    positive = (np.maximum(u, 0), np.maximum(v, 0))
    negative = (np.maximum(-u, 0), np.maximum(-v, 0))
    a, b = max(positive, negative, key=lambda pair: _norm(pair[0]) * _norm(pair[1]))
    norm_a, norm_b = _norm(a), _norm(b)
    if norm_a * norm_b == 0:
        return np.zeros_like(u), np.zeros_like(v)
    scale = np.sqrt(sigma * norm_a * norm_b)
    return scale * a / norm_a, scale * b / norm_b
