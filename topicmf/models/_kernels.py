"""Sparse inner loops shared by the models.

Every fit is a sweep over row blocks of the document-term matrix X (CSR): each block
updates its own document factors and returns partial statistics for the topic factors,
which are summed once all blocks are done. The only temporaries proportional to the
number of stored entries are made here, one block at a time, so memory stays
O(nnz + (n_docs + n_terms) * n_topics).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

#: Budget for the per-block temporaries of shape (nnz in block, n_topics).
BLOCK_BYTES = 64 * 2**20


def row_blocks(X, n_topics: int, max_bytes: int | None = None) -> list[slice]:
    """Split the rows of CSR ``X`` into consecutive slices with bounded temporaries.

    A block's stored entries times ``n_topics`` (twice: one gather from each factor)
    stay under ``max_bytes``; a single row above the budget still gets its own block.
    """
    budget = BLOCK_BYTES if max_bytes is None else max_bytes
    n_rows = X.shape[0]
    indptr = X.indptr
    cap = max(1, budget // (2 * n_topics * X.dtype.itemsize))
    blocks, start = [], 0
    while start < n_rows:
        # Last row boundary whose block holds at most `cap` stored entries.
        stop = int(np.searchsorted(indptr, indptr[start] + cap, side="right")) - 1
        stop = min(max(stop, start + 1), n_rows)
        blocks.append(slice(start, stop))
        start = stop
    return blocks or [slice(0, 0)]


def take_rows(X, block: slice):
    """Rows ``block`` of CSR ``X``, without a copy when the block is the whole matrix."""
    if block.start == 0 and block.stop == X.shape[0]:
        return X
    return X[block]


def nonzero_rows(X) -> np.ndarray:
    """Row index of every stored entry of CSR ``X``, in storage order."""
    return np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))


def product_at_nonzeros(X, W: np.ndarray, HT: np.ndarray) -> np.ndarray:
    """Values of ``W @ HT.T`` at the stored entries of CSR ``X``, in storage order."""
    return np.einsum("ij,ij->i", W.take(nonzero_rows(X), axis=0), HT.take(X.indices, axis=0))


def ratio_at_nonzeros(X, W: np.ndarray, HT: np.ndarray):
    """The sparse matrix R = X / (W H) on the pattern of X, and W H at those entries.

    This is the E-step shared by Kullback-Leibler NMF and PLSA. Where W H is zero the
    ratio is taken as zero: no mass can flow through a product that vanished.
    """
    wh = product_at_nonzeros(X, W, HT)
    positive = wh > 0
    ratio = np.divide(X.data, wh, out=np.zeros_like(wh), where=positive)
    R = sp.csr_array((ratio, X.indices, X.indptr), shape=X.shape)
    return R, wh


def sum_by_row(X, values: np.ndarray) -> np.ndarray:
    """Sum ``values`` (one per stored entry of CSR ``X``) within each row."""
    sums = np.bincount(nonzero_rows(X), weights=values, minlength=X.shape[0])
    return sums.astype(values.dtype, copy=False)


def row_sq_norms(X) -> np.ndarray:
    """Squared Euclidean norm of each row of CSR ``X``."""
    return sum_by_row(X, X.data * X.data)


def normalize_rows(A: np.ndarray) -> np.ndarray:
    """Scale each row of ``A`` in place to sum to 1; rows summing to 0 become uniform."""
    sums = A.sum(axis=1, keepdims=True)
    empty = sums[:, 0] <= 0
    np.divide(A, sums, out=A, where=~empty[:, None])
    A[empty] = 1.0 / A.shape[1]
    return A
