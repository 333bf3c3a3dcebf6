"""Non-negative matrix factorization X ~ W H by multiplicative updates (Lee & Seung)."""

from __future__ import annotations

from functools import partial

import numpy as np
from scipy.special import xlogy
from sklearn.utils.extmath import randomized_svd

from .. import _validation
from . import _kernels
from .base import MAX_TOPICS, LatentFactorModel

BETA_LOSSES = ("frobenius", "kullback-leibler")
INITS = ("nndsvda", "nndsvd", "random")


class NMF(LatentFactorModel):
    """Non-negative matrix factorization of a document-term matrix.

    ``doc_topic_`` is W (documents x topics) and ``components_`` is H (topics x terms).
    The loss is 0.5 * ||X - W H||_F^2 (``beta_loss="frobenius"``) or the generalized
    Kullback-Leibler divergence D(X || W H); it never rises from one iteration to the next.

    Fitted attributes: ``components_``, ``doc_topic_``, ``n_iter_``, ``history_`` (loss
    after each iteration), ``reconstruction_err_`` (Frobenius norm of X - W H, or the
    divergence), ``n_features_in_``.
    """

    _positive_input = True
    _state_scalars = (*LatentFactorModel._state_scalars, "reconstruction_err_")

    def __init__(self, n_topics=10, *, beta_loss="frobenius", init="nndsvda", max_iter=200,
                 tol=1e-4, random_state=None, callback=None):
        self.n_topics = n_topics
        self.beta_loss = beta_loss
        self.init = init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.callback = callback

    def _check_params(self) -> None:
        _validation.check_int(self.n_topics, "n_topics", low=1, high=MAX_TOPICS, owner="NMF")
        _validation.check_choice(self.beta_loss, "beta_loss", BETA_LOSSES, owner="NMF")
        _validation.check_choice(self.init, "init", INITS, owner="NMF")
        self._check_iteration_params()

    def fit(self, X, y=None):
        """Factorize the non-negative matrix ``X`` (documents x terms)."""
        self._check_params()
        X = self._check_input(X, reset=True)
        k = self._check_n_topics(X)
        W, H = _initialize(X, k, self.init, self._rng())
        sweep = _frobenius_sweep if self.beta_loss == "frobenius" else _kl_sweep
        blocks = _kernels.row_blocks(X, k)
        (W, H), history = self._iterate(partial(sweep, X, blocks), (W, H))
        self.doc_topic_, self.components_ = W, H
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
        if self.beta_loss == "frobenius":
            step = partial(_frobenius_w_step, HT=np.ascontiguousarray(H.T), HHt=H @ H.T)
        else:
            step = partial(_kl_w_step, HT=np.ascontiguousarray(H.T), h_sums=H.sum(axis=1))
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


def _frobenius_w_step(X, W, HT, HHt):
    """Per-row loss 0.5 * ||x - w H||^2 of ``W`` and the multiplicative update of ``W``."""
    XHt = X @ HT
    WHHt = W @ HHt
    loss = 0.5 * (_kernels.row_sq_norms(X) - 2.0 * np.einsum("ij,ij->i", W, XHt)
                  + np.einsum("ij,ij->i", W, WHHt))
    return loss, W * XHt / (WHHt + _eps(W.dtype))


def _kl_w_step(X, W, HT, h_sums):
    """Per-row divergence D(x || w H) of ``W`` and the multiplicative update of ``W``."""
    R, wh = _kernels.ratio_at_nonzeros(X, W, HT)
    x = X.data
    at_nonzeros = xlogy(x, x) - xlogy(x, np.maximum(wh, np.finfo(wh.dtype).tiny)) - x
    loss = _kernels.sum_by_row(X, at_nonzeros) + W @ h_sums
    return loss, W * (R @ HT) / (h_sums + _eps(W.dtype))


def _frobenius_sweep(X, blocks, state):
    """One iteration: W updated block by block, then H from the summed statistics."""
    W, H = state
    HT, HHt = np.ascontiguousarray(H.T), H @ H.T
    W_next = np.empty_like(W)
    XtW = np.zeros_like(HT)
    WtW = np.zeros_like(HHt)
    loss = 0.0
    for block in blocks:
        X_block = _kernels.take_rows(X, block)
        block_loss, W_block = _frobenius_w_step(X_block, W[block], HT, HHt)
        W_next[block] = W_block
        loss += block_loss.sum()
        XtW += X_block.T @ W_block
        WtW += W_block.T @ W_block
    H_next = H * XtW.T / (WtW @ H + _eps(H.dtype))
    return loss, (W_next, H_next)


def _kl_sweep(X, blocks, state):
    """One iteration: W updated block by block, then H from the summed statistics."""
    W, H = state
    HT, h_sums = np.ascontiguousarray(H.T), H.sum(axis=1)
    W_next = np.empty_like(W)
    RtW = np.zeros_like(HT)
    w_sums = np.zeros_like(h_sums)
    loss = 0.0
    for block in blocks:
        X_block = _kernels.take_rows(X, block)
        block_loss, W_block = _kl_w_step(X_block, W[block], HT, h_sums)
        W_next[block] = W_block
        loss += block_loss.sum()
        # The H update sees the new W, as in the alternating Lee-Seung scheme.
        R, _ = _kernels.ratio_at_nonzeros(X_block, W_block, HT)
        RtW += R.T @ W_block
        w_sums += W_block.sum(axis=0)
    H_next = H * RtW.T / (w_sums[:, None] + _eps(H.dtype))
    return loss, (W_next, H_next)


# ------------------------------------------------------------------ initialization
def _initialize(X, k, init, rng):
    """Starting W, H in the dtype of X: NNDSVD (Boutsidis & Gallopoulos 2008) or random."""
    n_docs, n_terms = X.shape
    mean = X.sum() / (n_docs * n_terms)
    if init == "random":
        high = 2.0 * np.sqrt(mean / k)  # so that W H has the mean of X on average
        H = rng.uniform(0.0, high, size=(k, n_terms)).astype(X.dtype)
        W = rng.uniform(0.0, high, size=(n_docs, k)).astype(X.dtype)
        return W, H
    return nndsvd(X, k, rng, fill=init == "nndsvda")


def nndsvd(X, k, rng, *, fill: bool):
    """NNDSVD factors (Boutsidis & Gallopoulos 2008); with ``fill`` zeros become the mean of X
    (NNDSVDa), which multiplicative updates need, as they can never move an entry off zero."""
    n_docs, n_terms = X.shape
    W = np.zeros((n_docs, k), dtype=X.dtype)
    H = np.zeros((k, n_terms), dtype=X.dtype)
    if X.nnz:
        U, S, VT = randomized_svd(X, k, random_state=rng, flip_sign=False)
        for j in range(k):
            W[:, j], H[j] = _nndsvd_pair(U[:, j], S[j], VT[j])
    if fill:
        mean = X.sum() / (n_docs * n_terms)
        W[W == 0] = mean
        H[H == 0] = mean
    return W, H


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
