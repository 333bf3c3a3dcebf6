"""Latent semantic analysis: truncated SVD of the document-term matrix."""

from __future__ import annotations

import numpy as np

from .. import _validation
from . import _kernels
from ..errors import InvalidParameterError
from ._svd import randomized_svd_blocks
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
    fits_blocks = True
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
        """Compute the leading ``n_topics`` singular triplets of ``X`` (documents x terms): a
        sparse matrix, or a :class:`topicmf.engine.BlockSource` (randomized algorithm only)."""
        self._check_params()
        source = self._check_source(X)
        rng = self._rng()
        arpack = self.algorithm == "arpack"
        k = self._check_n_topics(source, strict=arpack,
                                 why=" and algorithm='arpack' needs fewer" if arpack else "")
        if arpack and not hasattr(source, "X"):
            raise InvalidParameterError(
                "LSA(algorithm='arpack') needs the matrix in memory; use algorithm="
                "'randomized' for shards or a cluster.")
        if source.nnz == 0:  # any orthonormal basis fits, and the solvers fail on it
            U = np.zeros((source.shape[0], k), dtype=source.dtype)
            S = np.zeros(k, dtype=source.dtype)
            VT = np.eye(k, source.shape[1], dtype=source.dtype)
        elif arpack:
            v0 = rng.uniform(-1.0, 1.0, size=min(source.shape)).astype(source.dtype)
            from scipy.sparse.linalg import svds  # 0.06 s to import: only where it runs

            U, S, VT = svds(source.X, k=k, v0=v0)
            order = np.argsort(S)[::-1]
            U, S, VT = U[:, order], S[order], VT[order]
        else:
            engine = _kernels.resolve_engine("auto", work=source.nnz * k)
            with _kernels.quiet_blas():
                S, V = randomized_svd_blocks(source, k, rng, n_oversamples=self.n_oversamples,
                                             n_iter=self.n_iter, engine=engine)
            S, VT = S.astype(source.dtype), V.T  # V^T as a view: no copy of the terms' factor
        # The sign of each component's largest-magnitude loading, one component at a time:
        # VT may be a transposed view, and a reduction over its rows would copy it whole.
        signs = np.ones(k, dtype=VT.dtype)
        for j in range(k):
            high, low = VT[j, VT[j].argmax()], VT[j, VT[j].argmin()]
            signs[j] = np.sign(high if abs(high) >= abs(low) else low) or 1
        VT *= signs[:, None]
        if arpack or source.nnz == 0:
            U *= signs * S  # U S, in place
            moments = (U.sum(axis=0, dtype=np.float64),
                       np.square(U, dtype=np.float64).sum(axis=0))
        else:
            moments = source.map_reduce(_scale_rows_step, (signs * S).astype(source.dtype))
            U = source.gather("U")
            source.release("U")
        n_docs = source.shape[0]
        mean, mean_sq = moments[0] / n_docs, moments[1] / n_docs
        column_sums, column_sq, sq_norm = source.map_reduce(_column_moments)
        total = float(np.maximum(column_sq / n_docs - (column_sums / n_docs) ** 2, 0).sum())

        self.components_ = VT
        self.singular_values_ = S
        self.doc_topic_ = U
        # The variance of each column of U S over its total in X (no variance: every ratio 0).
        self.explained_variance_ratio_ = (np.maximum(mean_sq - mean**2, 0)
                                          / (total if total > 0 else np.inf)).astype(U.dtype)
        self.n_iter_ = self.n_iter if self.algorithm == "randomized" else 1
        # Exact for an orthonormal factorization; never forms X - U S V^T.
        residual = max(sq_norm - float((S.astype(np.float64) ** 2).sum()), 0.0)
        self.history_ = [float(np.sqrt(residual / sq_norm)) if sq_norm > 0 else 0.0]
        return self

    def transform(self, X):
        """Project documents ``X`` onto the topics: ``X @ components_.T``."""
        self._check_fitted()
        X = self._check_input(X, reset=False)
        return np.asarray(X @ self.components_.T.astype(X.dtype, copy=False))


def _scale_rows_step(ctx, X, factors):
    """U_b <- U_b * factors (U S with the signs fixed); the block's column sums and sums of
    squares of the result (float64), for the explained variance."""
    U = ctx.local["U"]
    U *= factors
    squares = np.zeros(U.shape[1])
    for start in range(0, U.shape[0], 4096):  # no float64 copy of U
        part = U[start:start + 4096]
        squares += np.einsum("ij,ij->j", part, part, dtype=np.float64)
    return U.sum(axis=0, dtype=np.float64), squares


def _column_moments(ctx, X):
    """The block's per-term sums and sums of squares of X, and its squared norm."""
    squares = _kernels.map_sum_by_column(X, np.square)
    return _kernels.map_sum_by_column(X, lambda x: x), squares, float(squares.sum())
