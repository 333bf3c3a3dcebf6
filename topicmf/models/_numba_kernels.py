"""Compiled versions of the sparse passes in ``_kernels`` (numba, parallel).

No pass gathers an (nnz x n_topics) array, and none keeps a copy of X or per-thread
(n_terms x n_topics) sums. There are two shapes of pass over the stored entries of CSR X:

- **by rows** (the documents): one chunk of rows per numba thread, with about equal stored
  entries; each row's statistics are its own, so the document factors are updated in place;
- **by terms** (:func:`_kernels.term_plan`): each thread owns a range of terms, cut into
  sub-ranges whose sums fit a small buffer. For each sub-range the thread walks every row from
  a per-row cursor (rows' column indices are sorted, so a cursor only moves forward) and adds
  the entries that fall in it; once the sub-range is done its rows of H are updated in place.
  Every term's sum runs over the documents in order, whatever the threads.

Neither shape depends on the number of threads for its sums, so a fit gives the same numbers
on any machine with the same numba build.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from ._kernels import ALIGN, chunk_bounds, n_threads

# Every fast-math liberty but "arcp" (division by multiplying with an approximate reciprocal):
# with it, KL-NMF gave different last digits when freshly compiled than when loaded from
# numba's cache (20 Newsgroups, 4,000 documents, K = 10, 30 iterations: 106086.5047 against
# 106086.5034), so a first run and later runs disagreed. Without it both agree; "reassoc"
# alone (what vectorizes the dot products) was 40 % slower.
_FASTMATH = {"reassoc", "nnan", "ninf", "nsz", "contract", "afn"}


# ------------------------------------------------------------ prefetching
# Both shapes of pass jump around memory in ways the CPU cannot guess: a pass by rows reads
# the factor row of each entry's term, a pass by terms resumes every row where its cursor
# stopped. Telling the CPU a few steps ahead where it will read hides much of the wait:
# alternating the passes with and without it, 200 times each on the Chinese news corpus
# (K = 20, float32, padded to 24; median of the paired ratios), the Frobenius pass by rows
# took 0.76-0.83 of its time and the pass by terms 0.88-0.94 (0.67 and 0.94 on
# 20 Newsgroups). A prefetch never changes a result and never faults, even past the end.
#: Entries ahead that a pass by rows asks for the factor row of.
_ENTRIES_AHEAD = 16
#: Rows ahead that a pass by terms asks for the next stored entries of.
_ROWS_AHEAD = 16


@intrinsic
def _prefetch(typingctx, array, index, offset):
    """Ask the CPU to bring the cache line at byte ``offset`` of ``array[index]`` (an entry
    of a 1-D array, a row of a 2-D one) into its caches (LLVM's ``llvm.prefetch``: read,
    kept close, data)."""
    if not (isinstance(array, types.Array) and isinstance(index, types.Integer)
            and isinstance(offset, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        array_type, index_type, offset_type = signature.args
        data = context.make_array(array_type)(context, builder, args[0])
        stride = cgutils.unpack_tuple(builder, data.strides, array_type.ndim)[0]
        where = builder.add(
            builder.mul(context.cast(builder, args[1], index_type, types.intp), stride),
            context.cast(builder, args[2], offset_type, types.intp))
        address = builder.gep(builder.bitcast(data.data, cgutils.voidptr_t), [where])
        i32 = ir.IntType(32)
        prefetch = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [cgutils.voidptr_t, i32, i32, i32]),
            "llvm.prefetch.p0i8")
        builder.call(prefetch, [address, i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(array, index, offset), codegen


@njit(inline="always", cache=True)
def _prefetch_row(A, i):
    """Prefetch every cache line of row ``i`` of the C-ordered 2-D ``A``."""
    size = A.shape[1] * A.itemsize
    for offset in range(0, size, 64):
        _prefetch(A, i, offset)
    _prefetch(A, i, size - 1)


@njit(inline="always", cache=True)
def _prefetch_entries(indices, data, p):
    """Prefetch the stored entry at position ``p`` of CSR X (its column and its value)."""
    _prefetch(indices, p, 0)
    _prefetch(data, p, 0)


@njit(inline="always", cache=True, fastmath=_FASTMATH)
def _dot(A, d, BT, t):
    """(A @ BT.T)[d, t]: one entry of W H, summed in the same order in every kernel. (The
    sum starts from 0 over all K products: with the first product taken out of the loop, the
    loop's K - 1 left a scalar tail at every K, and KL-NMF and PLSA iterations at K = 20 were
    a sixth to a fifth slower.)"""
    total = A.dtype.type(0)
    for j in range(A.shape[1]):
        total += A[d, j] * BT[t, j]
    return total


@njit(parallel=True, cache=True, fastmath=_FASTMATH)
def _ratio_pass(indptr, indices, data, W, HT, offset, bounds, want_rows, want_cols, loglik, RHt,
                parts):
    k = W.shape[1]
    tiny = np.finfo(W.dtype).tiny
    n_stored = len(indices)
    for c in prange(len(bounds) - 1):
        for d in range(bounds[c], bounds[c + 1]):
            row_ll = 0.0
            for p in range(indptr[d], indptr[d + 1]):
                if p + _ENTRIES_AHEAD < n_stored:
                    _prefetch_row(HT, indices[p + _ENTRIES_AHEAD])
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
    """Compiled ``_kernels.ratio_pass``: (sum x log (WH + offset) per row, R @ HT, R.T @ W).

    R.T @ W (``cols``) is summed in one (n_terms x K) buffer per thread, added in thread order;
    the fits use the passes by terms below instead."""
    dtype = W.dtype
    offset = (np.zeros(X.shape[1], dtype=dtype) if offset is None
              else np.ascontiguousarray(offset, dtype=dtype))
    W, HT = np.ascontiguousarray(W), np.ascontiguousarray(HT, dtype=dtype)
    bounds = chunk_bounds(X.indptr, n_threads())
    loglik = np.zeros(X.shape[0], dtype=np.float64)
    RHt = np.zeros((X.shape[0] if rows else 0, W.shape[1]), dtype=dtype)
    # Unused outputs get zero-size buffers, so one compiled function serves every case.
    parts = np.zeros((len(bounds) - 1, X.shape[1] if cols else 0, W.shape[1]), dtype=dtype)
    _ratio_pass(X.indptr, X.indices, X.data.astype(dtype, copy=False), W, HT, offset, bounds,
                rows, cols, loglik, RHt, parts)
    return loglik, (RHt if rows else None), (_sum_parts(parts) if cols else None)


def _sum_parts(parts: np.ndarray) -> np.ndarray:
    """The chunks' partial sums added in chunk order, in place into the first (no copy)."""
    total = parts[0]
    for part in parts[1:]:
        total += part
    return total


# ------------------------------------------------------------ products (the SVD's passes)
@njit(parallel=True, cache=True, fastmath=_FASTMATH)
def _rows_product(indptr, indices, data, B, bounds, out):
    k = B.shape[1]
    n_stored = len(indices)
    for c in prange(len(bounds) - 1):
        for d in range(bounds[c], bounds[c + 1]):
            for j in range(k):
                out[d, j] = 0
            for p in range(indptr[d], indptr[d + 1]):
                if p + _ENTRIES_AHEAD < n_stored:
                    _prefetch_row(B, indices[p + _ENTRIES_AHEAD])
                x = data[p]
                t = indices[p]
                for j in range(k):
                    out[d, j] += x * B[t, j]


def rows_product(X, B, out):
    """``out[:] = X @ B`` for CSR ``X`` and C-ordered ``B`` and ``out``, by rows."""
    _rows_product(X.indptr, X.indices, X.data, B, chunk_bounds(X.indptr, n_threads()), out)
    return out


@njit(inline="always", cache=True)
def _first_at_least(indices, start, stop, value):
    """The first position in indices[start:stop] (sorted) holding at least ``value``."""
    while start < stop:
        middle = (start + stop) >> 1
        if indices[middle] < value:
            start = middle + 1
        else:
            stop = middle
    return start


@njit(inline="always", cache=True)
def _start_cursors(indptr, indices, value, cursor):
    for d in range(len(indptr) - 1):
        cursor[d] = _first_at_least(indices, indptr[d], indptr[d + 1], value)


@njit(parallel=True, cache=True, fastmath=_FASTMATH)
def _cols_product(indptr, indices, data, A, parts, sub, cursors, out):
    n_docs = len(indptr) - 1
    k = A.shape[1]
    for c in prange(len(parts) - 1):
        if parts[c] == parts[c + 1]:
            continue
        cursor = cursors[c]
        _start_cursors(indptr, indices, sub[parts[c]], cursor)
        for s in range(parts[c], parts[c + 1]):
            hi = sub[s + 1]
            for t in range(sub[s], hi):
                for j in range(k):
                    out[t, j] = 0
            for d in range(n_docs):
                if d + _ROWS_AHEAD < n_docs:
                    _prefetch_entries(indices, data, cursor[d + _ROWS_AHEAD])
                p = cursor[d]
                end = indptr[d + 1]
                while p < end and indices[p] < hi:
                    x = data[p]
                    t = indices[p]
                    for j in range(k):
                        out[t, j] += x * A[d, j]
                    p += 1
                cursor[d] = p


def cols_product(X, A, out, plan):
    """``out[:] = X.T @ A`` for CSR ``X`` and C-ordered ``A`` and ``out``, by terms
    (``plan`` from :func:`_kernels.term_plan`; its buffers are not used)."""
    _cols_product(X.indptr, X.indices, X.data, A, plan.parts, plan.sub, plan.cursors, out)
    return out


# ------------------------------------------------------------ the fits' updates
# The dense products with a K x K matrix (W H H^T, H^T W^T W) run in blocks of ALIGN rows,
# aligned to multiples of it, so every block is the same whatever the threads: through BLAS
# from K = BLAS_MIN_K on, else in loops. On 20 Newsgroups, whole Frobenius fits alternated
# between the two five times, an iteration at K = 20 (float32, padded to 24) took a median
# of 27.5-31.6 ms through BLAS against 32.8-35.1 ms in loops, 14.5-18.5 against 21-23 ms at
# K = 10 (padded to 16), 29.5-44.7 against 41-52 ms in float64 at K = 20; at K = 5 (padded to
# 8) the two were even. (Measured once on the pass by rows alone, before the padding, loops
# had looked faster at K = 20.) Below 8, a BLAS call per block costs more than its work.
BLAS_MIN_K = 8


@njit(inline="always", cache=True, fastmath=_FASTMATH)
def _times_gram(A, first, last, G, scratch):
    """A[first:last] @ G (G a K x K Gram matrix), through BLAS for large K, else into
    ``scratch`` (at least ALIGN x K) by loops."""
    k = A.shape[1]
    if k >= BLAS_MIN_K:
        return np.dot(A[first:last], G)
    for r in range(last - first):
        for j in range(k):
            scratch[r, j] = 0
        for i in range(k):
            a = A[first + r, i]
            for j in range(k):
                scratch[r, j] += a * G[i, j]
    return scratch


@njit(parallel=True, cache=True, fastmath=_FASTMATH)
def _frobenius_rows(indptr, indices, data, W, HT, HHt, bounds, scratch, update, gain):
    k = W.shape[1]
    n_stored = len(indices)
    tiny = np.finfo(W.dtype).tiny
    for c in prange(len(bounds) - 1):
        num = np.empty(k, dtype=W.dtype)  # its own array: no aliasing with the scratch
        for first in range(bounds[c], bounds[c + 1], ALIGN):
            last = min(first + ALIGN, bounds[c + 1])
            den = _times_gram(W, first, last, HHt, scratch[c])  # W H H^T for these rows
            for d in range(first, last):
                for j in range(k):
                    num[j] = 0
                for p in range(indptr[d], indptr[d + 1]):
                    if p + _ENTRIES_AHEAD < n_stored:
                        _prefetch_row(HT, indices[p + _ENTRIES_AHEAD])
                    x = data[p]
                    t = indices[p]
                    for j in range(k):
                        num[j] += x * HT[t, j]
                g = 0.0
                for j in range(k):
                    g += W[d, j] * (2.0 * num[j] - den[d - first, j])
                gain[d] = g
                if update:
                    for j in range(k):
                        v = W[d, j] * num[j] / (den[d - first, j] + tiny)
                        W[d, j] = v if v >= tiny else 0


def aligned_chunks(indptr) -> np.ndarray:
    """Row chunks for the threads (about equal stored entries), cut at multiples of ALIGN."""
    bounds = chunk_bounds(indptr, n_threads())
    inner = np.unique((bounds[1:-1] + ALIGN // 2) // ALIGN * ALIGN)
    inner = inner[(inner > 0) & (inner < len(indptr) - 1)]
    return np.concatenate(([0], inner, [len(indptr) - 1])).astype(np.int64)


def frobenius_rows(X, W, HT, HHt, *, update: bool):
    """Per row 2 w.(x H^T) - w H H^T w^T (float64), and with ``update`` the Lee-Seung step
    W <- W * (X H^T) / (W H H^T) in place, subnormal results set to 0."""
    bounds = aligned_chunks(X.indptr)
    scratch = np.empty((len(bounds) - 1, ALIGN + 1, W.shape[1]), dtype=W.dtype)
    gain = np.zeros(X.shape[0], dtype=np.float64)
    _frobenius_rows(X.indptr, X.indices, X.data, W, HT, HHt, bounds, scratch, update, gain)
    return gain


@njit(parallel=True, cache=True, fastmath=_FASTMATH)
def _frobenius_terms(indptr, indices, data, W, HT, WtW, parts, sub, cursors, buf):
    n_docs = len(indptr) - 1
    k = W.shape[1]
    for c in prange(len(parts) - 1):
        if parts[c] == parts[c + 1]:
            continue
        cursor = cursors[c]
        acc = buf[c]
        _start_cursors(indptr, indices, sub[parts[c]], cursor)
        for s in range(parts[c], parts[c + 1]):
            lo = sub[s]
            hi = sub[s + 1]
            for i in range(hi - lo):
                for j in range(k):
                    acc[i, j] = 0
            for d in range(n_docs):
                if d + _ROWS_AHEAD < n_docs:
                    _prefetch_entries(indices, data, cursor[d + _ROWS_AHEAD])
                p = cursor[d]
                end = indptr[d + 1]
                while p < end and indices[p] < hi:
                    x = data[p]
                    i = indices[p] - lo
                    for j in range(k):
                        acc[i, j] += x * W[d, j]
                    p += 1
                cursor[d] = p
            _frobenius_finish(HT, acc, lo, hi, WtW, acc[acc.shape[0] - ALIGN:])


@njit(inline="always", cache=True, fastmath=_FASTMATH)
def _frobenius_finish(HT, S, lo, hi, WtW, scratch):
    """H^T[t] <- H^T[t] * S[t - lo] / (H^T[t] W^T W) for the terms lo:hi (lo a multiple of
    ALIGN), S their sums of X^T W; results below the smallest normal number become 0."""
    k = HT.shape[1]
    tiny = np.finfo(HT.dtype).tiny
    for first in range(lo, hi, ALIGN):
        last = min(first + ALIGN, hi)
        den = _times_gram(HT, first, last, WtW, scratch)
        for t in range(first, last):
            for j in range(k):
                v = HT[t, j] * S[t - lo, j] / (den[t - first, j] + tiny)
                HT[t, j] = v if v >= tiny else 0


@njit(parallel=True, cache=True, fastmath=_FASTMATH)
def _frobenius_apply(HT, XtW, WtW, bounds, scratch):
    for c in prange(len(bounds) - 1):
        _frobenius_finish(HT, XtW[bounds[c]:bounds[c + 1]], bounds[c], bounds[c + 1], WtW,
                          scratch[c])


def frobenius_terms(X, W, HT, WtW, plan):
    """The Lee-Seung step H^T <- H^T * (X^T W) / (H^T W^T W), in place, by terms."""
    _frobenius_terms(X.indptr, X.indices, X.data, W, HT, WtW, plan.parts, plan.sub,
                     plan.cursors, plan.buffer(W.shape[1], W.dtype))


def frobenius_apply(HT, XtW, WtW):
    """The same step given the sums X^T W (summed over row blocks), in place: the update of
    :func:`frobenius_terms` for a matrix that is not in one piece."""
    n = n_threads()
    step = max(ALIGN, -(-HT.shape[0] // (n * ALIGN)) * ALIGN)
    bounds = np.append(np.arange(0, HT.shape[0], step), HT.shape[0]).astype(np.int64)
    scratch = np.empty((len(bounds) - 1, ALIGN, HT.shape[1]), dtype=HT.dtype)
    _frobenius_apply(HT, np.ascontiguousarray(XtW, dtype=HT.dtype), WtW, bounds, scratch)


@njit(parallel=True, cache=True, fastmath=_FASTMATH)
def _kl_rows(indptr, indices, data, W, HT, den, bounds, scratch, ratios, loglik):
    k = W.shape[1]
    tiny = np.finfo(W.dtype).tiny
    n_stored = len(ratios)
    n_entries = len(indices)
    for c in prange(len(bounds) - 1):
        num = np.empty(k, dtype=W.dtype)
        wh = scratch[c]  # W H at the row's entries
        for d in range(bounds[c], bounds[c + 1]):
            lo = indptr[d]
            hi = indptr[d + 1]
            for p in range(lo, hi):
                if p + _ENTRIES_AHEAD < n_entries:
                    _prefetch_row(HT, indices[p + _ENTRIES_AHEAD])
                wh[p - lo] = _dot(W, d, HT, indices[p])
            ll = 0.0
            for p in range(lo, hi):
                ll += data[p] * np.log(max(wh[p - lo], tiny))
            loglik[d] = ll
            for j in range(k):
                num[j] = 0
            for p in range(lo, hi):
                v = wh[p - lo]
                if v > 0:  # no mass flows through a vanished product
                    r = data[p] / v
                    t = indices[p]
                    for j in range(k):
                        num[j] += r * HT[t, j]
            for j in range(k):
                v = W[d, j] * num[j] / den[j]
                W[d, j] = v if v >= tiny else 0
            if hi <= n_stored:  # the ratios with the new row of W, for the H step
                for p in range(lo, hi):
                    v = _dot(W, d, HT, indices[p])
                    ratios[p] = data[p] / v if v > 0 else 0


def kl_rows(X, W, HT, den, ratios):
    """KL-NMF's W step in place, by rows: W <- W * (R @ H^T) / ``den`` (``den`` one value per
    topic: the column sums of H^T), R = X / (W H), zero where W H vanishes; subnormal results
    become 0. Returns sum x log (W H) per row (float64) of the W it was given.

    ``ratios`` holds slots for the first stored entries (a whole number of rows, maybe none
    or all): they receive X / (W H) with the new W, for :func:`ratio_terms`."""
    bounds = chunk_bounds(X.indptr, n_threads())
    longest = 0 if X.nnz == 0 else int(np.diff(X.indptr).max())
    scratch = np.empty((len(bounds) - 1, longest), dtype=W.dtype)
    loglik = np.zeros(X.shape[0], dtype=np.float64)
    _kl_rows(X.indptr, X.indices, X.data.astype(W.dtype, copy=False), W, HT,
             np.ascontiguousarray(den, dtype=W.dtype), bounds, scratch, ratios, loglik)
    return loglik


@njit(parallel=True, cache=True, fastmath=_FASTMATH)
def _ratio_terms(indptr, indices, data, W, HT, scale, parts, sub, cursors, buf, ratios, out):
    n_docs = len(indptr) - 1
    k = W.shape[1]
    n_stored = len(ratios)  # the first entries' ratios are kept (whole rows)
    for c in prange(len(parts) - 1):
        if parts[c] == parts[c + 1]:
            continue
        cursor = cursors[c]
        acc = buf[c]
        _start_cursors(indptr, indices, sub[parts[c]], cursor)
        for s in range(parts[c], parts[c + 1]):
            lo = sub[s]
            hi = sub[s + 1]
            for i in range(hi - lo):
                for j in range(k):
                    acc[i, j] = 0
            for d in range(n_docs):
                if d + _ROWS_AHEAD < n_docs:
                    q = cursor[d + _ROWS_AHEAD]
                    _prefetch_entries(indices, data, q)
                    if q < n_stored:
                        _prefetch(ratios, q, 0)
                p = cursor[d]
                end = indptr[d + 1]
                while p < end and indices[p] < hi:
                    t = indices[p]
                    if p < n_stored:
                        r = ratios[p]
                    else:
                        wh = _dot(W, d, HT, t)
                        r = data[p] / wh if wh > 0 else 0  # no mass through a vanished product
                    if r != 0:
                        for j in range(k):
                            acc[t - lo, j] += r * W[d, j]
                    p += 1
                cursor[d] = p
            if out.shape[0]:
                _copy_sums(out, acc, lo, hi)
            else:
                _scale_terms(HT, acc, lo, hi, scale)


@njit(inline="always", cache=True)
def _copy_sums(out, acc, lo, hi):
    for t in range(lo, hi):
        for j in range(out.shape[1]):
            out[t, j] = acc[t - lo, j]


@njit(inline="always", cache=True, fastmath=_FASTMATH)
def _scale_terms(HT, S, lo, hi, scale):
    """H^T[t] <- H^T[t] * S[t - lo] * scale for the terms lo:hi; results below the smallest
    normal number become 0 (KL-NMF's H step, PLSA's M step before normalizing)."""
    tiny = np.finfo(HT.dtype).tiny
    for t in range(lo, hi):
        for j in range(HT.shape[1]):
            v = HT[t, j] * S[t - lo, j] * scale[j]
            HT[t, j] = v if v >= tiny else 0


@njit(parallel=True, cache=True, fastmath=_FASTMATH)
def _scale_apply(HT, S, scale, bounds):
    for c in prange(len(bounds) - 1):
        _scale_terms(HT, S[bounds[c]:bounds[c + 1]], bounds[c], bounds[c + 1], scale)


def scale_apply(HT, S, scale):
    """H^T <- H^T * S * ``scale`` (one factor per topic) in place, results below the
    smallest normal number set to 0: the update of :func:`ratio_terms` and
    :func:`em_terms` given sums S added over row blocks."""
    bounds = chunk_bounds(np.arange(HT.shape[0] + 1), n_threads())
    _scale_apply(HT, np.ascontiguousarray(S, dtype=HT.dtype),
                 np.ascontiguousarray(scale, dtype=HT.dtype), bounds)


def ratio_terms(X, W, HT, scale, plan, ratios=None, out=None):
    """In place, by terms: H^T <- H^T * (R^T W) * ``scale`` (one factor per topic), with
    R = X / (W H), zero where W H vanishes (KL-NMF's H step). R is read from ``ratios``
    for the entries it covers (the first ones, from :func:`kl_rows`), else computed.
    Results below the smallest normal number become 0. With ``out`` (n_terms x K), H^T is
    left as it is and R^T W is written there instead (a block of rows of a larger X)."""
    ratios = np.empty(0, dtype=W.dtype) if ratios is None else ratios
    out = np.empty((0, W.shape[1]), dtype=W.dtype) if out is None else out
    _ratio_terms(X.indptr, X.indices, X.data.astype(W.dtype, copy=False), W, HT,
                 np.ascontiguousarray(scale, dtype=W.dtype), plan.parts, plan.sub,
                 plan.cursors, plan.buffer(W.shape[1], W.dtype), ratios, out)
    return out


@njit(parallel=True, cache=True, fastmath=_FASTMATH)
def _em_terms(indptr, indices, data, theta, phiT, offset, parts, sub, cursors, buf, RHt,
              loglik, out):
    n_docs = len(indptr) - 1
    k = theta.shape[1]
    tiny = np.finfo(phiT.dtype).tiny
    ones = np.ones(k, dtype=phiT.dtype)
    for c in prange(len(parts) - 1):
        if parts[c] == parts[c + 1]:
            continue
        cursor = cursors[c]
        acc = buf[c]
        rows = RHt[c]
        ll = loglik[c]
        _start_cursors(indptr, indices, sub[parts[c]], cursor)
        for s in range(parts[c], parts[c + 1]):
            lo = sub[s]
            hi = sub[s + 1]
            for i in range(hi - lo):
                for j in range(k):
                    acc[i, j] = 0
            for d in range(n_docs):
                if d + _ROWS_AHEAD < n_docs:
                    _prefetch_entries(indices, data, cursor[d + _ROWS_AHEAD])
                p = cursor[d]
                end = indptr[d + 1]
                while p < end and indices[p] < hi:
                    t = indices[p]
                    wh = _dot(theta, d, phiT, t) + offset[t]
                    ll[d] += data[p] * np.log(max(wh, tiny))
                    if wh > 0:  # no mass flows through a vanished product
                        r = data[p] / wh
                        for j in range(k):
                            rows[d, j] += r * phiT[t, j]
                            acc[t - lo, j] += r * theta[d, j]
                    p += 1
                cursor[d] = p
            if out.shape[0]:
                _copy_sums(out, acc, lo, hi)
            else:  # every entry of these terms is done: update them
                _scale_terms(phiT, acc, lo, hi, ones)


def em_terms(X, theta, phiT, plan, offset=None, out=None):
    """One pass by terms for PLSA's EM step: with R = X / (theta phi + offset), returns
    (sum x log (theta phi + offset) per row, R @ phi^T) and sets phi^T <- phi^T * (R^T theta)
    in place (not normalized); with ``out`` (n_terms x K) phi^T is left as it is and
    R^T theta is written there instead. Each thread sums R @ phi^T for its terms in its own
    (documents x K) buffer; the buffers are added in thread order."""
    dtype = theta.dtype
    offset = (np.zeros(X.shape[1], dtype=dtype) if offset is None
              else np.ascontiguousarray(offset, dtype=dtype))
    out = np.empty((0, theta.shape[1]), dtype=dtype) if out is None else out
    n = len(plan.parts) - 1
    RHt = np.zeros((n,) + theta.shape, dtype=dtype)
    loglik = np.zeros((n, X.shape[0]))
    _em_terms(X.indptr, X.indices, X.data.astype(dtype, copy=False), theta, phiT, offset,
              plan.parts, plan.sub, plan.cursors, plan.buffer(theta.shape[1], dtype), RHt, loglik,
              out)
    return _sum_parts(loglik), _sum_parts(RHt)
