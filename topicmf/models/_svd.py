"""A randomized truncated SVD of a sparse matrix, as passes over its row blocks.

The range finder of Halko, Martinsson & Tropp (2011, "Finding structure with randomness",
Algorithms 4.4 and 5.1), as in scikit-learn's ``randomized_svd``, but in the dtype of X, with
the document side Y (documents x l, l = k + oversamples) kept block by block where the blocks
live (:mod:`topicmf.engine`) and only the term side Z (terms x l) in this process, one buffer
reused by every pass. scikit-learn's draws an n_terms x l Gaussian matrix in float64 and keeps
two more of that size; on 20 Newsgroups (62,107 terms) at K = 100 its peak was 86.6 MB against
30 MB here.

- Each power iteration is Z = X^T Y (the blocks' X_b^T Y_b summed), orthonormalized, then
  Y = X Z, orthonormalized. Orthonormalizing works in place: G = A^T A summed in float64,
  G = E diag(lam) E^T, A <- A E diag(lam)^-1/2 ("SVQB", Stathopoulos & Wu 2002); directions
  with lam below the rounding of A are dropped (set to 0). For Y, the blocks return their part
  of G, and the rotation is applied at the start of the next pass over the block.
- At the end, Z = X^T Q is B^T for B = Q^T X; its Gram matrix gives B = U_B S V^T, and
  U = Q U_B (by blocks), V = Z U_B S^-1 (in Z's memory).

The numbers depend on the random state, the dtype and the row blocks, never on the number of
threads or on where the blocks ran.
"""

from __future__ import annotations

import numpy as np

from . import _kernels
from ._kernels import padded_width

#: Rows per block in the dense steps (Gram sums, products with small matrices, the draw).
_BLOCK_ROWS = 4096


def sketch_width(k: int, shape, dtype, n_oversamples: int = 10) -> int:
    """Columns of the sketch: at least k + n_oversamples, rounded up to the row width the
    compiled products run fastest on (a multiple of 8 in float32; float64 as it is): on the
    Chinese news corpus, X @ Z and X^T Y at K = 20 took 19 ms each with 32 columns against
    26 and 32 ms with 30."""
    return max(1, min(padded_width(k + n_oversamples, dtype), shape[0], shape[1]))


def randomized_svd_blocks(source, k: int, rng: np.random.RandomState, *, name: str = "U",
                          n_oversamples: int = 10, n_iter: int | str = "auto",
                          engine: str = "numpy", width: int | None = None):
    """The leading ``k`` singular triplets of the matrix behind ``source``: U is left in the
    source as the document-side array ``name`` (documents x ``width``), and (S, V) are
    returned, S descending (float64), V terms x ``width`` (C-ordered, in X's dtype).

    ``n_iter="auto"`` is scikit-learn's rule: 7 power iterations when k < 0.1 min(X.shape),
    else 4. Singular values that vanish to rounding come back as 0 with zero vectors.
    ``width`` (at least k, default k) gives U and V that many columns, those beyond k zero
    (the padded rows of :func:`_kernels.padded_width`).
    """
    width = k if width is None else width
    n_docs, n_terms = source.shape
    dtype = np.dtype(source.dtype)
    size = sketch_width(k, source.shape, dtype, n_oversamples)
    if n_iter == "auto":
        n_iter = 7 if k < 0.1 * min(source.shape) else 4

    Z = np.empty((n_terms, size), dtype=dtype)
    for start in range(0, n_terms, _BLOCK_ROWS):  # the Gaussian test matrix, block by block
        stop = min(start + _BLOCK_ROWS, n_terms)
        Z[start:stop] = rng.standard_normal(size=(stop - start, size))
    source.allocate("_Y", size, dtype, fill=None)
    T = _svqb(source.map_reduce(_range_step, Z, engine), dtype)
    for _ in range(n_iter):
        Z = source.map_reduce(_project_step, T, Z, engine)
        _orthonormalize(Z)
        T = _svqb(source.map_reduce(_range_step, Z, engine), dtype)
    # Twice for the final basis: orthogonal to the dtype's rounding.
    T = _svqb(source.map_reduce(_rotate_step, T), dtype)
    Z = source.map_reduce(_project_step, T, Z, engine)  # Z = B^T

    lam, vectors = np.linalg.eigh(_gram(Z))
    order = np.argsort(lam)[::-1][:k]
    lam, vectors = np.maximum(lam[order], 0.0), vectors[:, order]
    S = np.sqrt(lam)
    keep = S > S[0] * np.sqrt(size) * np.finfo(dtype).eps if S.size and S[0] > 0 else S > 0
    S[~keep] = 0.0
    inverse = np.zeros_like(S)
    inverse[keep] = 1.0 / S[keep]
    source.multiply_local("_Y", _kernels.pad_columns(vectors * keep, width), name)
    V = _times_small(Z, _kernels.pad_columns(vectors * inverse, width), width)
    if width > size:  # wider than the sketch (more triplets than the matrix has): zeros
        V = _kernels.pad_columns(V, width)
    if k > size:
        S = np.concatenate((S, np.zeros(k - size)))
    return S, V


def randomized_svd(X, k: int, rng: np.random.RandomState, *, n_oversamples: int = 10,
                   n_iter: int | str = "auto", engine: str = "numpy", width: int | None = None):
    """:func:`randomized_svd_blocks` of CSR ``X`` in memory, as (U, S, V) arrays."""
    from ..engine import InMemoryBlocks
    source = InMemoryBlocks(X)
    S, V = randomized_svd_blocks(source, k, rng, n_oversamples=n_oversamples, n_iter=n_iter,
                                 engine=engine, width=width)
    return source.gather("U"), S, V


# ---------------------------------------------------------------------- block steps
def _range_step(ctx, X, Z, engine):
    """Y_b = X_b Z; its part of Y^T Y."""
    Y = ctx.local["_Y"]
    _kernels.product(X, Z, Y, engine)
    return _gram(Y)


def _rotate_step(ctx, X, T):
    """Y_b <- Y_b T (the pending orthonormalization); its part of the new Y^T Y."""
    Y = ctx.local["_Y"]
    _times_in_place(Y, T)
    return _gram(Y)


def _project_step(ctx, X, T, Z, engine):
    """Y_b <- Y_b T, then its part of Z = X^T Y. With one block in this process the product
    goes straight into the caller's ``Z``; other blocks return their own."""
    Y = ctx.local["_Y"]
    _times_in_place(Y, T)
    out = Z if ctx.fused else np.empty_like(Z)
    plan = None
    if engine == "numba":
        plan = ctx.cache.get(("plan", Y.shape[1]))
        if plan is None:
            plan = ctx.cache[("plan", Y.shape[1])] = _kernels.term_plan(X, Y.shape[1])
    return _kernels.product_t(X, Y, out, engine, plan)


# --------------------------------------------------------------------- dense helpers
def _gram(A: np.ndarray) -> np.ndarray:
    """A^T A, summed in float64 over fixed blocks of rows."""
    G = np.zeros((A.shape[1], A.shape[1]))
    for start in range(0, A.shape[0], _BLOCK_ROWS):
        block = A[start:start + _BLOCK_ROWS].astype(np.float64)
        G += block.T @ block
    return G


def _svqb(G: np.ndarray, dtype) -> np.ndarray:
    """The T that makes A T orthonormal for a matrix A of ``dtype`` whose Gram matrix is
    ``G`` (float64); directions with eigenvalues below A's rounding become zero columns."""
    lam, vectors = np.linalg.eigh(G)
    top = lam.max() if lam.size else 0.0
    keep = lam > max(top, 0.0) * (G.shape[0] * np.finfo(dtype).eps) ** 2
    if top <= 0:
        keep[:] = False
    T = np.zeros_like(vectors)
    T[:, keep] = vectors[:, keep] / np.sqrt(lam[keep])
    return T


def _orthonormalize(A: np.ndarray) -> None:
    """Make the columns of ``A`` an orthonormal basis of their span, in place (SVQB)."""
    _times_in_place(A, _svqb(_gram(A), A.dtype))


def _times_in_place(A: np.ndarray, T: np.ndarray) -> None:
    """A <- A T for a square T, block of rows by block of rows."""
    T = T.astype(A.dtype)
    for start in range(0, A.shape[0], _BLOCK_ROWS):
        block = A[start:start + _BLOCK_ROWS]
        block[...] = block @ T


def _times_small(A: np.ndarray, M: np.ndarray, k: int) -> np.ndarray:
    """``A @ M`` (M small, at most A.shape[1] columns) in the memory of ``A``, returned as
    a C-ordered (rows x k') array, k' = min(k, A.shape[1]), that owns that memory."""
    rows, width = A.shape
    k = min(k, width)
    M = M[:, :k].astype(A.dtype)
    flat = A.reshape(-1)
    for start in range(0, rows, _BLOCK_ROWS):
        stop = min(start + _BLOCK_ROWS, rows)
        block = A[start:stop] @ M  # computed before the packed rows overwrite A's
        flat[start * k:stop * k] = block.reshape(-1)
    # Give the columns beyond k back: resize shrinks the buffer in place (realloc).
    A.resize((rows * k,), refcheck=False)
    return A.reshape(rows, k)
