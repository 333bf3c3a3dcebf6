"""Sparse inner loops shared by the models.

Every fit alternates a pass over the rows of the document-term matrix X (CSR), where each
document updates its own factors, and a pass that gathers the statistics of the terms. The
compiled engine (``_numba_kernels``) does both without any temporary proportional to the
stored entries and without a second copy of either factor; the numpy engine works on blocks
of rows with scipy's sparse products and sums the terms' statistics over the blocks. Memory
stays O(nnz + (n_docs + n_terms) * n_topics) either way.

Both engines give the same numbers up to rounding.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

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


def n_threads() -> int:
    """Threads a fit uses: numba's thread count when numba is installed (``NUMBA_NUM_THREADS``
    sets it), else the CPUs this process may run on. Results depend on this number (it fixes
    how sums are split), never on the threads' timing."""
    try:
        import numba
        return max(1, numba.get_num_threads())
    except ImportError:
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # not on macOS and Windows
            return os.cpu_count() or 1


def chunk_bounds(indptr: np.ndarray, n_chunks: int) -> np.ndarray:
    """Boundaries of ``n_chunks`` consecutive row ranges of a CSR matrix with index pointer
    ``indptr`` holding about equal stored entries (fewer chunks when there are fewer rows)."""
    n_rows = len(indptr) - 1
    n_chunks = max(1, min(n_chunks, n_rows))
    targets = np.linspace(0, indptr[-1], n_chunks + 1)[1:-1]
    inner = np.searchsorted(indptr, targets, side="left")
    return np.concatenate(([0], inner, [n_rows])).astype(np.int64)


def balanced_blocks(X, n_blocks: int) -> list[slice]:
    """``n_blocks`` consecutive row slices of CSR ``X`` holding about equal stored entries."""
    bounds = chunk_bounds(X.indptr, n_blocks)
    return [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]


def row_view(X, block: slice):
    """Rows ``block`` of CSR ``X`` sharing its data and indices (only indptr is new).

    scipy's constructor copies the arrays it is given, so they are attached afterwards.
    """
    start, stop = block.start, block.stop
    if start == 0 and stop == X.shape[0]:
        return X
    first, last = X.indptr[start], X.indptr[stop]
    view = sp.csr_array((stop - start, X.shape[1]), dtype=X.dtype)
    view.indices = X.indices[first:last]
    view.data = X.data[first:last]
    view.indptr = (X.indptr[start:stop + 1] - first).astype(X.indptr.dtype, copy=False)
    view.has_canonical_format = X.has_canonical_format
    return view


_POOL: dict[int, ThreadPoolExecutor] = {}


def parallel_map(fn, items, workers: int | None = None) -> list:
    """``[fn(item) for item in items]``, on up to ``workers`` threads (default: one per item)
    when there is more than one item.

    For work that releases the GIL: scipy's sparse products and numpy's array operations.
    """
    items = list(items)
    workers = min(len(items), workers or len(items))
    if workers <= 1:
        return [fn(item) for item in items]
    pool = _POOL.get(workers)
    if pool is None:
        pool = _POOL[workers] = ThreadPoolExecutor(max_workers=workers,
                                                   thread_name_prefix="topicmf")
    return list(pool.map(fn, items))


#: Rows per block of the compiled passes' dense products (BLAS), and the multiple that the
#: cuts between threads' rows and terms are made at, so those blocks never depend on threads.
ALIGN = 64

#: Budget for the buffers of a pass by terms (all threads together): the sums of one
#: sub-range of terms per thread, before they update that range of H in place. Smaller
#: budgets mean more sub-ranges, and each costs every thread one more walk over the rows'
#: cursors: on 20 Newsgroups at K = 100 a product by terms took 78 ms with 1 MB, 29 ms with
#: 4 MB. PLSA, which also keeps one (documents x K) sum per thread, asks for an eighth of its
#: factors' size within [1 MB, this].
TERM_BUFFER_BYTES = 4 * 2**20


#: Share of (X + factors) that a compiled fit may use for its own working memory (the
#: buffers of its passes, cursors, per-row sums), so that its peak stays within 1.5x of what
#: it must hold anyway. Optional buffers (KL-NMF's stored ratios) are sized to fit it.
WORK_SHARE = 0.5
#: The part of that share left for small temporaries and the allocator's rounding: with 5 %
#: KL-NMF's resident peak on 20 Newsgroups at K = 20 was 1.53x (traced 1.45x).
WORK_MARGIN = 0.1


def work_allowance(X, k: int) -> int:
    """Bytes left of :data:`WORK_SHARE` (X + factors) for optional buffers, after the fixed
    ones of a fit of width ``k`` (the cursors of a term plan, a few per-row float64 sums) and
    :data:`WORK_MARGIN` of (X + factors)."""
    itemsize = X.dtype.itemsize
    held = (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
            + (X.shape[0] + X.shape[1]) * k * itemsize)
    fixed = (n_threads() + 4) * X.shape[0] * 8
    return int((WORK_SHARE - WORK_MARGIN) * held) - fixed


#: Row width, in bytes, that the compiled NMF passes run fastest on (see
#: :func:`padded_width`).
ROW_BYTES = 32


def padded_width(k: int, dtype) -> int:
    """Columns to give factors of ``k`` topics in ``dtype`` for the compiled NMF passes:
    float32 rows are padded with zero columns to a multiple of :data:`ROW_BYTES` (8 floats),
    float64 rows are left as they are.

    A row of K float32 whose width is not a multiple of 8 leaves the compiled inner loops a
    scalar remainder: on 20 Newsgroups a Frobenius sweep at K = 20 took 29-31 ms with 24
    columns (4 of them zero) against 32-36 ms with 20, and K = 30 padded to 32 took 35-42
    against 48-58 ms; a KL-NMF iteration at K = 20, 40-50 ms padded against 47-66 ms.
    float64 rows measured no faster padded, so they are not.
    """
    dtype = np.dtype(dtype)
    if dtype != np.float32:
        return k
    per_row = ROW_BYTES // dtype.itemsize
    return -(-k // per_row) * per_row


def pad_columns(A: np.ndarray, width: int) -> np.ndarray:
    """``A`` with zero columns appended up to ``width`` (``A`` itself when it is that wide)."""
    if A.shape[1] == width:
        return A
    out = np.zeros((A.shape[0], width), dtype=A.dtype)
    out[:, :A.shape[1]] = A
    return out


def shrink_columns(A: np.ndarray, k: int) -> np.ndarray:
    """The first ``k`` columns of C-ordered ``A`` as a C-ordered array, packed into A's own
    memory, which is then given back beyond them (no second copy of A at any moment). ``A``,
    and any other view of its memory, must not be used afterwards: the memory may move. When
    A is a view into a larger or non-contiguous array, a copy is returned instead."""
    rows, width = A.shape
    if width == k:
        return A
    owner = A if A.base is None else A.base
    if not (A.flags.c_contiguous and isinstance(owner, np.ndarray) and owner.base is None
            and owner.flags.c_contiguous and owner.flags.owndata and owner.size == A.size):
        return np.ascontiguousarray(A[:, :k])
    flat = owner.reshape(-1)
    block_rows = 4096
    for start in range(0, rows, block_rows):
        stop = min(start + block_rows, rows)
        block = A[start:stop, :k].copy()  # before the packed rows overwrite these
        flat[start * k:stop * k] = block.reshape(-1)
    del A, flat
    owner.resize((rows * k,), refcheck=False)  # realloc: shrinks in place
    return owner.reshape(rows, k)


class TermPlan:
    """How the compiled passes by terms (see ``_numba_kernels``) split the terms of CSR X.

    Thread c owns the sub-ranges [sub[s], sub[s + 1]) for s in parts[c]:parts[c + 1], the
    threads' ranges holding about equal stored entries; ``cursors`` holds one position per
    row and thread. A sub-range has at most ``max_terms`` terms (at least ``align``), and
    every cut but the last is a multiple of ``align``.
    """

    def __init__(self, X, n_parts: int, max_terms: int, align: int = ALIGN):
        counts = column_counts(X)
        bounds = chunk_bounds(np.concatenate(([0], np.cumsum(counts))), n_parts)
        sub, parts = [0], [0]
        n_terms = X.shape[1]
        # Every cut at a multiple of ALIGN (the compiled passes' blocks for BLAS).
        inner = np.unique((bounds[1:-1] + align // 2) // align * align)
        bounds = np.concatenate(([0], inner[(inner > 0) & (inner < n_terms)], [n_terms]))
        step = max(align, max_terms // align * align)
        for a, b in zip(bounds[:-1], bounds[1:]):
            sub.extend(list(range(int(a) + step, int(b), step)) + [int(b)])
            parts.append(len(sub) - 1)
        parts += [parts[-1]] * (n_parts + 1 - len(parts))  # threads left without terms
        self.sub = np.asarray(sub, dtype=np.int64)
        self.parts = np.asarray(parts, dtype=np.int64)
        self.longest = int(np.diff(self.sub).max()) if len(self.sub) > 1 else 0
        self.cursors = np.empty((len(self.parts) - 1, X.shape[0]), dtype=np.int64)
        self._buffer = None

    def buffer(self, k: int, dtype) -> np.ndarray:
        """The threads' sums: (threads, longest sub-range + ALIGN spare rows, k), kept."""
        shape = (len(self.parts) - 1, self.longest + ALIGN, k)
        if self._buffer is None or self._buffer.shape != shape or self._buffer.dtype != dtype:
            self._buffer = np.empty(shape, dtype=dtype)
        return self._buffer


def term_plan(X, k: int, budget: int | None = None) -> TermPlan:
    """The :class:`TermPlan` of CSR ``X`` for sums of width ``k``: one range of terms per
    thread, cut so that the threads' buffers stay within ``budget`` bytes (at most
    :data:`TERM_BUFFER_BYTES`)."""
    n = n_threads()
    budget = TERM_BUFFER_BYTES if budget is None else min(budget, TERM_BUFFER_BYTES)
    max_terms = budget // (n * max(k, 1) * X.dtype.itemsize)
    return TermPlan(X, n, max_terms)


def product(X, B: np.ndarray, out: np.ndarray, engine: str = "numpy") -> np.ndarray:
    """``out[:] = X @ B`` (CSR ``X``); the compiled engine writes straight into ``out``."""
    if engine == "numba":
        from . import _numba_kernels
        return _numba_kernels.rows_product(X, B, out)
    out[...] = X @ B
    return out


def product_t(X, A: np.ndarray, out: np.ndarray, engine: str = "numpy",
              plan: TermPlan | None = None) -> np.ndarray:
    """``out[:] = X.T @ A`` (CSR ``X``); the compiled engine works by terms (``plan``)."""
    if engine == "numba":
        from . import _numba_kernels
        return _numba_kernels.cols_product(X, A, out, plan or term_plan(X, A.shape[1]))
    out[...] = X.T @ A
    return out


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


def ratio_at_nonzeros(X, W: np.ndarray, HT: np.ndarray, offset: np.ndarray | None = None):
    """The sparse matrix R = X / (W H + offset) on the pattern of X, and the denominators.

    This is the E-step shared by Kullback-Leibler NMF and PLSA; ``offset`` (one value per
    term, added to every row of W H) is PLSA's background distribution. Where the
    denominator is zero the ratio is taken as zero: no mass can flow through a product that
    vanished.
    """
    wh = product_at_nonzeros(X, W, HT)
    if offset is not None:
        wh += offset[X.indices].astype(wh.dtype, copy=False)
    positive = wh > 0
    ratio = np.divide(X.data, wh, out=np.zeros_like(wh), where=positive)
    R = sp.csr_array((ratio, X.indices, X.indptr), shape=X.shape)
    return R, wh


def sum_by_row(X, values: np.ndarray) -> np.ndarray:
    """Sum ``values`` (one per stored entry of CSR ``X``) within each row."""
    sums = np.bincount(nonzero_rows(X), weights=values, minlength=X.shape[0])
    return sums.astype(values.dtype, copy=False)


#: Stored entries per block when a per-entry function is summed by row.
_MAP_BLOCK = 2**16


def map_sum_by_row(X, fn) -> np.ndarray:
    """Per row of CSR ``X``, the float64 sum of ``fn(data)`` over its stored entries,
    computed on blocks of rows, so the temporaries stay small whatever nnz."""
    sums = np.zeros(X.shape[0])
    for block in row_blocks(X, 1, max_bytes=2 * _MAP_BLOCK * X.dtype.itemsize):
        first, last = X.indptr[block.start], X.indptr[block.stop]
        values = fn(X.data[first:last]).astype(np.float64, copy=False)
        lengths = np.diff(X.indptr[block.start:block.stop + 1])
        rows = np.repeat(np.arange(block.stop - block.start), lengths)
        sums[block] = np.bincount(rows, weights=values, minlength=block.stop - block.start)
    return sums


def column_counts(X) -> np.ndarray:
    """Stored entries per column of CSR ``X``, counted on blocks of entries."""
    counts = np.zeros(X.shape[1], dtype=np.int64)
    for first in range(0, X.nnz, _MAP_BLOCK):
        counts += np.bincount(X.indices[first:first + _MAP_BLOCK], minlength=X.shape[1])
    return counts


def map_sum_by_column(X, fn) -> np.ndarray:
    """Per column of CSR ``X``, the float64 sum of ``fn(data)``, on blocks of entries."""
    sums = np.zeros(X.shape[1])
    for first in range(0, X.nnz, _MAP_BLOCK):
        last = min(first + _MAP_BLOCK, X.nnz)
        sums += np.bincount(X.indices[first:last], minlength=X.shape[1],
                            weights=fn(X.data[first:last]).astype(np.float64, copy=False))
    return sums


def row_sq_norms(X) -> np.ndarray:
    """Squared Euclidean norm of each row of CSR ``X`` (float64)."""
    return map_sum_by_row(X, np.square)


def flush_subnormals(A: np.ndarray) -> np.ndarray:
    """Set the entries of non-negative ``A`` below the smallest normal number to 0, in place.

    Multiplicative updates drive many entries towards zero; once subnormal they weigh nothing
    but make every product with them slow on x86 (on 20 Newsgroups 3 % of H was subnormal
    after 100 Frobenius iterations, and X @ H.T took 16 ms instead of 12).
    """
    A[A < np.finfo(A.dtype).tiny] = 0
    return A


def normalize_rows(A: np.ndarray) -> np.ndarray:
    """Scale each row of ``A`` in place to sum to 1; rows summing to 0 become uniform."""
    sums = A.sum(axis=1, keepdims=True)
    empty = sums[:, 0] <= 0
    np.divide(A, sums, out=A, where=~empty[:, None])
    A[empty] = 1.0 / A.shape[1]
    return A


# ------------------------------------------------------------------ engines
ENGINES = ("auto", "numba", "numpy")


def numba_available() -> bool:
    """Whether the compiled kernels can be used (numba importable)."""
    try:
        from . import _numba_kernels  # noqa: F401
    except ImportError:
        return False
    return True


#: Below this much work per iteration (non-zeros of X times topics), "auto" runs the numpy
#: kernels: loading the compiled ones costs about 0.4 s on a process's first fit (8 s to
#: compile them with an empty cache), more than they save on a fit this small (at most
#: 0.2 s over 20 iterations on 20 Newsgroups slices; benchmarks/startup.py --kernels).
SMALL_FIT_WORK = 1_000_000


def resolve_engine(engine: str, work: int | None = None) -> str:
    """The engine a fit runs on: ``"auto"`` means numba when it is installed, except for a
    fit whose ``work`` (non-zeros times topics) is below :data:`SMALL_FIT_WORK`."""
    if engine == "auto":
        if work is not None and work < SMALL_FIT_WORK:
            return "numpy"
        return "numba" if numba_available() else "numpy"
    if engine == "numba" and not numba_available():
        from ..errors import InvalidParameterError
        raise InvalidParameterError(
            "engine='numba' needs the numba package; install it or use engine='numpy'."
        )
    return engine


def quiet_blas():
    """Context keeping BLAS on one thread during a fit.

    The dense products of a fit are small (n x K x K); idle BLAS threads spinning between
    them took the cores from the sparse kernels: on 20 Newsgroups, the NNDSVD start and one
    Frobenius iteration took 4.1 s with the default BLAS threads and 0.7 s with one (2 busy
    cores).
    """
    return threadpool_limits(limits=1, user_api="blas")


def ratio_pass(X, W: np.ndarray, HT: np.ndarray, *, rows: bool = True, cols: bool = True,
               engine: str = "numpy", offset: np.ndarray | None = None):
    """One sweep of the E-step shared by KL-NMF and PLSA over CSR ``X``.

    With R = X / (W H + offset) on the pattern of X (zero where that vanishes; ``offset``
    is one value per term, None for none), returns ``(loglik, R @ HT, R.T @ W)``:
    ``loglik[d]`` is sum_w x_dw log (W H + offset)_dw, and either product is None when not
    asked for. ``engine`` is ``"numpy"`` or ``"numba"``.
    """
    if engine == "numba":
        from . import _numba_kernels
        return _numba_kernels.ratio_pass(X, W, HT, rows=rows, cols=cols, offset=offset)
    loglik = np.zeros(X.shape[0])
    RHt = np.zeros((X.shape[0], W.shape[1]), dtype=W.dtype) if rows else None
    WtR = np.zeros_like(HT) if cols else None
    for block in row_blocks(X, W.shape[1]):
        X_block, W_block = take_rows(X, block), W[block]
        R, wh = ratio_at_nonzeros(X_block, W_block, HT, offset)
        log_wh = np.log(np.maximum(wh, np.finfo(wh.dtype).tiny))
        loglik[block] = sum_by_row(X_block, X_block.data * log_wh)
        if rows:
            RHt[block] = R @ HT
        if cols:
            WtR += R.T @ W_block
    return loglik, RHt, WtR


def kl_update(X, W: np.ndarray, HT: np.ndarray, h_sums: np.ndarray, engine: str = "numpy"):
    """The Lee-Seung Kullback-Leibler step for the rows of CSR ``X``.

    Returns ``(loglik, W_next, RtW)``: ``loglik`` as in :func:`ratio_pass` for ``W``,
    ``W_next = W * (R @ HT) / h_sums`` and ``RtW = R_next.T @ W_next``, where R_next are the
    ratios with ``W_next``, which the H update needs: two passes.
    """
    loglik, RHt, _ = ratio_pass(X, W, HT, cols=False, engine=engine)
    RHt *= W
    RHt /= h_sums + np.finfo(W.dtype).tiny
    _, _, RtW = ratio_pass(X, RHt, HT, rows=False, engine=engine)
    return loglik, RHt, RtW


def frobenius_update(X, W: np.ndarray, HT: np.ndarray, HHt: np.ndarray):
    """The Lee-Seung Frobenius step for the rows of CSR ``X``.

    Returns ``(gain, W_next)``: per row 2 w.(x H^T) - w H H^T w^T, so that the loss
    0.5 * ||x - w H||^2 is 0.5 * (||x||^2 - gain); and ``W_next = W * (X @ HT) / (W @ HHt)``
    with subnormal entries set to 0. The sparse product is scipy's: on 20 Newsgroups it beat
    numba versions of the same loop, alone and fused per row (9 against 14 ms for X @ HT on
    one core). It releases the GIL, so the Frobenius sweep runs blocks of rows on threads.
    """
    XHt = np.asarray(X @ HT)
    WHHt = W @ HHt
    gain = 2.0 * np.einsum("ij,ij->i", W, XHt) - np.einsum("ij,ij->i", W, WHHt)
    XHt *= W
    WHHt += np.finfo(W.dtype).tiny
    XHt /= WHHt
    flush_subnormals(XHt)
    return gain.astype(np.float64), XHt


# ------------------------------------------------------- the fits' steps, either engine
def frobenius_rows(X, W: np.ndarray, HT: np.ndarray, HHt: np.ndarray, engine: str,
                   update: bool = True) -> np.ndarray:
    """Per row the gain 2 w.(x H^T) - w H H^T w^T (float64) of ``W``, and with ``update`` the
    Lee-Seung step W <- W * (X H^T) / (W H H^T) in place."""
    if engine == "numba":
        from . import _numba_kernels
        return _numba_kernels.frobenius_rows(X, W, HT, HHt, update=update)
    gain, W_next = frobenius_update(X, W, HT, HHt)
    if update:
        W[...] = W_next
    return gain


#: The numpy engine's H update works on blocks of about this many bytes of H^T.
_H_BLOCK_BYTES = 1 << 20


def frobenius_h_update(HT: np.ndarray, XtW: np.ndarray, WtW: np.ndarray, engine: str) -> None:
    """H^T <- H^T * (X^T W) / (H^T W^T W) in place, given X^T W; results below the smallest
    normal number become 0. ``XtW`` may be overwritten."""
    if engine == "numba":
        from . import _numba_kernels
        _numba_kernels.frobenius_apply(HT, XtW, WtW)
        return
    per_block = max(1, _H_BLOCK_BYTES // (HT.shape[1] * HT.itemsize))
    for start in range(0, HT.shape[0], per_block):
        block = slice(start, start + per_block)
        numerator = XtW[block]
        numerator *= HT[block]
        denominator = HT[block] @ WtW
        denominator += np.finfo(HT.dtype).tiny
        np.divide(numerator, denominator, out=numerator)
        HT[block] = flush_subnormals(numerator)


def scale_h_update(HT: np.ndarray, S: np.ndarray, scale: np.ndarray, engine: str) -> None:
    """H^T <- H^T * S * ``scale`` (one factor per topic) in place; results below the smallest
    normal number become 0 (KL-NMF's H step; PLSA's M step with scale 1, before normalizing).
    ``S`` may be overwritten."""
    if engine == "numba":
        from . import _numba_kernels
        _numba_kernels.scale_apply(HT, S, scale)
        return
    S *= HT
    S *= np.asarray(scale, dtype=HT.dtype)
    HT[...] = flush_subnormals(S)
