"""Compiled versions of the sparse passes in ``_kernels`` (numba, parallel over rows).

Each pass walks the rows of a CSR matrix once (``kl_update`` visits each row twice in a row,
while it is in cache) and never gathers an (nnz x n_topics) array. Rows are split into one
chunk per numba thread, with about equal stored entries; a chunk's partial sums of the term
statistics go to its own (n_terms x n_topics) buffer and the buffers are added in chunk order,
so the result depends on the number of threads (``NUMBA_NUM_THREADS``), never on their timing.
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


def ratio_pass(X, W, HT, *, rows: bool, cols: bool, offset=None):
    """Compiled ``_kernels.ratio_pass``: (sum x log (WH + offset) per row, R @ HT, R.T @ W)."""
    dtype = W.dtype
    offset = (np.zeros(X.shape[1], dtype=dtype) if offset is None
              else np.ascontiguousarray(offset, dtype=dtype))
    bounds = chunk_bounds(X.indptr, n_threads())
    loglik = np.zeros(X.shape[0], dtype=np.float64)
    RHt = np.zeros((X.shape[0] if rows else 0, W.shape[1]), dtype=dtype)
    # Unused outputs get zero-size buffers, so one compiled function serves every case.
    parts = np.zeros((len(bounds) - 1, X.shape[1] if cols else 0, W.shape[1]), dtype=dtype)
    _ratio_pass(X.indptr, X.indices, X.data.astype(dtype, copy=False),
                np.ascontiguousarray(W), np.ascontiguousarray(HT, dtype=dtype), offset, bounds,
                rows, cols, loglik, RHt, parts)
    WtR = _sum_parts(parts) if cols else None
    return loglik, (RHt if rows else None), WtR


@njit(parallel=True, cache=True, fastmath=_FASTMATH)
def _kl_update(indptr, indices, data, W, HT, h_sums, bounds, loglik, W_next, parts):
    k = W.shape[1]
    tiny = np.finfo(W.dtype).tiny
    for c in prange(len(bounds) - 1):
        for d in range(bounds[c], bounds[c + 1]):
            row_ll = 0.0
            for p in range(indptr[d], indptr[d + 1]):
                t = indices[p]
                wh = _dot(W, d, HT, t)
                row_ll += data[p] * np.log(max(wh, tiny))
                if wh <= 0:
                    continue
                r = data[p] / wh
                for j in range(k):
                    W_next[d, j] += r * HT[t, j]
            loglik[d] = row_ll
            for j in range(k):
                W_next[d, j] = W[d, j] * W_next[d, j] / (h_sums[j] + tiny)
            # Second visit of the row, still in cache: ratios with the new row of W.
            for p in range(indptr[d], indptr[d + 1]):
                t = indices[p]
                wh = _dot(W_next, d, HT, t)
                if wh <= 0:
                    continue
                r = data[p] / wh
                for j in range(k):
                    parts[c, t, j] += r * W_next[d, j]


def kl_update(X, W, HT, h_sums):
    """Compiled ``_kernels.kl_update``: (loglik per row, new W, R_new.T @ new W)."""
    dtype = W.dtype
    bounds = chunk_bounds(X.indptr, n_threads())
    loglik = np.zeros(X.shape[0], dtype=np.float64)
    W_next = np.zeros_like(W)
    parts = np.zeros((len(bounds) - 1, X.shape[1], W.shape[1]), dtype=dtype)
    _kl_update(X.indptr, X.indices, X.data.astype(dtype, copy=False), np.ascontiguousarray(W),
               np.ascontiguousarray(HT, dtype=dtype), h_sums.astype(dtype), bounds, loglik,
               W_next, parts)
    return loglik, W_next, _sum_parts(parts)


def _sum_parts(parts: np.ndarray) -> np.ndarray:
    """The chunks' partial sums added in chunk order, in place into the first (no copy)."""
    total = parts[0]
    for part in parts[1:]:
        total += part
    return total
