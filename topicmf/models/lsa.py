"""Latent semantic analysis: truncated SVD of the document-term matrix."""

from __future__ import annotations

import numpy as np
from scipy.sparse.linalg import svds

from .. import _validation
from . import _kernels
from ._svd import randomized_svd
from .base import MAX_TOPICS, LatentFactorModel

ALGORITHMS = ("randomized", "arpack")


class LSA(LatentFactorModel):
    """Truncated SVD X ~ U S V^T; works on signed data too.

    ``components_`` are the rows of V^T, each flipped so its largest-magnitude loading is
    positive; ``doc_topic_`` is U S and ``transform(X)`` is ``X @ components_.T``.

    Fitted attributes: ``components_``, ``doc_topic_``, ``singular_values_``,
    ``explained_variance_ratio_``, ``n_iter_`` (power iterations, or 1 for arpack),
    ``history_`` (one value: ||X - U S V^T||_F / ||X||_F), ``n_features_in_``.

    ``n_oversamples`` is a minimum: in float32 the randomized sketch's width (n_topics +
    n_oversamples) is rounded up to a multiple of 8, which the compiled products run fastest on.
    """

    doc_weights_kind = "coordinates"
    iteration_param = None  # n_iter counts power iterations, not a fit's steps
    objective_name = "relative residual"

    _state_arrays = (*LatentFactorModel._state_arrays, "singular_values_",
                     "explained_variance_ratio_")

    def __init__(self, n_topics=10, *, algorithm="randomized", n_iter=5, n_oversamples=10,
                 random_state=None):
        self.n_topics = n_topics
        self.algorithm = algorithm
        self.n_iter = n_iter
        self.n_oversamples = n_oversamples
        self.random_state = random_state

    def _check_params(self) -> None:
        _validation.check_int(self.n_topics, "n_topics", low=1, high=MAX_TOPICS, owner="LSA")
        _validation.check_choice(self.algorithm, "algorithm", ALGORITHMS, owner="LSA")
        _validation.check_int(self.n_iter, "n_iter", low=0, owner="LSA")
        _validation.check_int(self.n_oversamples, "n_oversamples", low=0, owner="LSA")

    def fit(self, X, y=None):
        """Compute the leading ``n_topics`` singular triplets of ``X`` (documents x terms)."""
        self._check_params()
        X = self._check_input(X, reset=True)
        rng = self._rng()
        arpack = self.algorithm == "arpack"
        k = self._check_n_topics(X, strict=arpack,
                                 why=" and algorithm='arpack' needs fewer" if arpack else "")
        if X.nnz == 0:  # any orthonormal basis fits, and the solvers fail on it
            U = np.zeros((X.shape[0], k), dtype=X.dtype)
            S = np.zeros(k, dtype=X.dtype)
            VT = np.eye(k, X.shape[1], dtype=X.dtype)
        elif arpack:
            v0 = rng.uniform(-1.0, 1.0, size=min(X.shape)).astype(X.dtype)
            U, S, VT = svds(X, k=k, v0=v0)
            order = np.argsort(S)[::-1]
            U, S, VT = U[:, order], S[order], VT[order]
        else:
            with _kernels.quiet_blas():
                U, S, V = randomized_svd(X, k, rng, n_oversamples=self.n_oversamples,
                                         n_iter=self.n_iter,
                                         engine=_kernels.resolve_engine("auto"))
            S, VT = S.astype(X.dtype), V.T  # V^T as a view: no copy of the terms' factor
        # The sign of each component's largest-magnitude loading, one component at a time:
        # VT may be a transposed view, and a reduction over its rows would copy it whole.
        signs = np.ones(k, dtype=VT.dtype)
        for j in range(k):
            high, low = VT[j, VT[j].argmax()], VT[j, VT[j].argmin()]
            signs[j] = np.sign(high if abs(high) >= abs(low) else low) or 1
        VT *= signs[:, None]
        U *= signs * S  # U S, in place

        self.components_ = VT
        self.singular_values_ = S
        self.doc_topic_ = U
        self.explained_variance_ratio_ = self.doc_topic_.var(axis=0) / _total_variance(X)
        self.n_iter_ = self.n_iter if self.algorithm == "randomized" else 1
        sq_norm = float(_kernels.row_sq_norms(X).sum())
        # Exact for an orthonormal factorization; never forms X - U S V^T.
        residual = max(sq_norm - float((S.astype(np.float64) ** 2).sum()), 0.0)
        self.history_ = [float(np.sqrt(residual / sq_norm)) if sq_norm > 0 else 0.0]
        return self

    def transform(self, X):
        """Project documents ``X`` onto the topics: ``X @ components_.T``."""
        self._check_fitted()
        X = self._check_input(X, reset=False)
        return np.asarray(X @ self.components_.T.astype(X.dtype, copy=False))


def _total_variance(X) -> float:
    """Sum of the column variances of sparse ``X``, as E[x^2] - E[x]^2 per column."""
    n_docs = X.shape[0]
    mean = np.asarray(X.sum(axis=0)).ravel() / n_docs
    mean_sq = _kernels.map_sum_by_column(X, np.square) / n_docs
    total = float(np.maximum(mean_sq - mean**2, 0).sum())
    return total if total > 0 else np.inf  # no variance: every ratio is 0
