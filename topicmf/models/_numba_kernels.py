"""Compiled versions of the sparse passes in ``_kernels`` (numba, parallel).

Each pass walks the stored entries of a CSR matrix once and never gathers an
(nnz x n_topics) array. The per-document statistics come from a pass over the rows of X, split
into one chunk per numba thread with about equal stored entries. The per-term statistics come
either from the same pass, each chunk summing into its own (n_terms x n_topics) buffer, the
buffers then added in chunk order, or, given X^T as CSR, from a pass over the rows of X^T (the
terms): each thread then writes its own terms and no partial buffers are kept. That second
form recomputes W H at every entry, and was still faster on 20 Newsgroups (KL-NMF, which needs
the ratios with the new W anyway: K = 20 36 against 47 ms, K = 100 95 against 161 ms; PLSA at
K = 100 95 against 145 ms, equal at K = 20). Results depend on the number of threads
(``NUMBA_NUM_THREADS``), never on their timing.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._kernels import chunk_bounds, n_threads

# Every fast-math liberty but "arcp" (division by multiplying with an approximate reciprocal):
# with it, KL-NMF gave different last digits when freshly compiled than when loaded from
# numba's cache (20 Newsgroups, 4,000 documents, K = 10, 30 iterations: 106086.5047 against
# 106086.5034), so a first run and later runs disagreed. Without it both agree; "reassoc"
# alone (what vectorizes the dot products) was 40 % slower.
_FASTMATH = {"reassoc", "nnan", "ninf", "nsz", "contract", "afn"}


@njit(inline="always", cache=True, fastmath=_FASTMATH)
def _dot(A, d, BT, t):
    """(A @ BT.T)[d, t]: one entry of W H, summed in the same order in every kernel."""
    total = A[d, 0] * BT[t, 0]
    for j in range(1, A.shape[1]):
        total += A[d, j] * BT[t, j]
    return total


@njit(parallel=True, cache=True, fastmath=_FASTMATH)
def _ratio_pass(indptr, indices, data, W, HT, offset, bounds, want_rows, want_cols, loglik, RHt,
                parts):
    k = W.shape[1]
    tiny = np.finfo(W.dtype).tiny
    for c in prange(len(bounds) - 1):
        for d in range(bounds[c], bounds[c + 1]):
            row_ll = 0.0
            for p in range(indptr[d], indptr[d + 1]):
                t = indices[p]
                wh = _dot(W, d, HT, t) + offset[t]
                row_ll += data[p] * np.log(max(wh, tiny))
                if wh <= 0:
                    continue  # no mass flows through a vanished product
                r = data[p] / wh
                if want_rows:
                    for j in range(k):
                        RHt[d, j] += r * HT[t, j]
                if want_cols:
                    for j in range(k):
                        parts[c, t, j] += r * W[d, j]
            loglik[d] = row_ll


def ratio_pass(X, W, HT, *, rows: bool, cols: bool, offset=None, XT=None):
    """Compiled ``_kernels.ratio_pass``: (sum x log (WH + offset) per row, R @ HT, R.T @ W).
    With ``XT`` (X^T as CSR), R.T @ W comes from a pass over its rows."""
    dtype = W.dtype
    offset = (np.zeros(X.shape[1], dtype=dtype) if offset is None
              else np.ascontiguousarray(offset, dtype=dtype))
    W, HT = np.ascontiguousarray(W), np.ascontiguousarray(HT, dtype=dtype)
    gather = cols and XT is not None
    bounds = chunk_bounds(X.indptr, n_threads())
    loglik = np.zeros(X.shape[0], dtype=np.float64)
    RHt = np.zeros((X.shape[0] if rows else 0, W.shape[1]), dtype=dtype)
    # Unused outputs get zero-size buffers, so one compiled function serves every case.
    scatter = cols and not gather
    parts = np.zeros((len(bounds) - 1, X.shape[1] if scatter else 0, W.shape[1]), dtype=dtype)
    _ratio_pass(X.indptr, X.indices, X.data.astype(dtype, copy=False), W, HT, offset, bounds,
                rows, scatter, loglik, RHt, parts)
    WtR = _sum_parts(parts) if scatter else ratio_cols(XT, W, HT, offset) if gather else None
    return loglik, (RHt if rows else None), WtR


@njit(parallel=True, cache=True, fastmath=_FASTMATH)
def _ratio_cols(indptr, indices, data, W, HT, offset, bounds, WtR):
    k = W.shape[1]
    for c in prange(len(bounds) - 1):
        for t in range(bounds[c], bounds[c + 1]):
            for p in range(indptr[t], indptr[t + 1]):
                d = indices[p]
                wh = _dot(W, d, HT, t) + offset[t]
                if wh <= 0:
                    continue  # no mass flows through a vanished product
                r = data[p] / wh
                for j in range(k):
                    WtR[t, j] += r * W[d, j]


def ratio_cols(XT, W, HT, offset=None):
    """R.T @ W for R = X / (W H + offset), from XT = X^T as CSR: one pass over its rows."""
    dtype = W.dtype
    offset = (np.zeros(XT.shape[0], dtype=dtype) if offset is None
              else np.ascontiguousarray(offset, dtype=dtype))
    WtR = np.zeros((XT.shape[0], W.shape[1]), dtype=dtype)
    _ratio_cols(XT.indptr, XT.indices, XT.data.astype(dtype, copy=False),
                np.ascontiguousarray(W), np.ascontiguousarray(HT, dtype=dtype), offset,
                chunk_bounds(XT.indptr, n_threads()), WtR)
    return WtR


def _sum_parts(parts: np.ndarray) -> np.ndarray:
    """The chunks' partial sums added in chunk order, in place into the first (no copy)."""
    total = parts[0]
    for part in parts[1:]:
        total += part
    return total
