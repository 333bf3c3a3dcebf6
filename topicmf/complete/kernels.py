"""Inner loops of BiasedMF: one SGD epoch, one ALS half-step, predictions.

Each has a compiled numba version and a numpy version that gives the same numbers up to
rounding. The numba loops are written out element by element, so that they run without
temporary arrays, except the Gram matrices of ALS, which go to BLAS; ``fastmath`` lets numba
use SIMD for the dot products (it only reorders sums).

ALS solves every user (item) on its own, so the numba version spreads them over threads
without changing the result. SGD runs on one thread: its updates depend on each other in
order, which is what makes a fit reproducible from its seed.
"""

from __future__ import annotations

import numpy as np

try:
    import numba
except ImportError:  # pragma: no cover - exercised by engine="numpy"
    numba = None

HAVE_NUMBA = numba is not None
#: Rows solved by one thread at a time in the ALS kernel (buffers are allocated per block).
ALS_BLOCK = 64


# ---------------------------------------------------------------------------------- SGD

def _sgd_epoch_loop(users, items, values, mu, bu, bi, P, Q, lr, reg_bu, reg_bi, reg_f):
    """One SGD pass over the ratings in the given (already shuffled) order.

    Returns the sum of squared errors seen just before each update.
    """
    K = P.shape[1]
    total = 0.0
    for j in range(values.shape[0]):
        u, i = users[j], items[j]
        dot = 0.0
        for k in range(K):
            dot += P[u, k] * Q[i, k]
        e = values[j] - (mu + bu[u] + bi[i] + dot)
        total += e * e
        bu[u] += lr * (e - reg_bu[u] * bu[u])
        bi[i] += lr * (e - reg_bi[i] * bi[i])
        for k in range(K):
            p, q = P[u, k], Q[i, k]
            P[u, k] = p + lr * (e * q - reg_f * p)
            Q[i, k] = q + lr * (e * p - reg_f * q)
    return total


def _sgd_epoch_numpy(users, items, values, mu, bu, bi, P, Q, lr, reg_bu, reg_bi, reg_f):
    """The same pass, vectorized over runs of ratings that share no user and no item.

    Within such a run the sequential updates touch disjoint parameters, so doing them at
    once gives the sequential result; a run ends where a user or item comes back.
    """
    clash = np.maximum(_previous_same(users), _previous_same(items))
    n, start, total = len(values), 0, 0.0
    while start < n:
        width, stop = 64, n
        while start + 1 < n:
            hits = np.flatnonzero(clash[start + 1:start + width] >= start)
            if hits.size:
                stop = start + 1 + int(hits[0])
                break
            if start + width >= n:
                break
            width *= 2
        u, i, r = users[start:stop], items[start:stop], values[start:stop]
        p, q = P[u], Q[i]
        e = r - (mu + bu[u] + bi[i] + np.einsum("ij,ij->i", p, q))
        total += float(e @ e)
        bu[u] += lr * (e - reg_bu[u] * bu[u])
        bi[i] += lr * (e - reg_bi[i] * bi[i])
        P[u] = p + lr * (e[:, None] * q - reg_f * p)
        Q[i] = q + lr * (e[:, None] * p - reg_f * q)
        start = stop
    return total


def _previous_same(seq: np.ndarray) -> np.ndarray:
    """For each position, the last earlier position holding the same value, or -1."""
    order = np.argsort(seq, kind="stable")
    prev = np.full(len(seq), -1, np.int64)
    same = seq[order[1:]] == seq[order[:-1]]
    prev[order[1:][same]] = order[:-1][same]
    return prev


# ---------------------------------------------------------------------------------- ALS
#
# Row x = (bias, factors) of one user solves the ridge problem
#     min |y - Z x|^2 + x' D x,   Z = [1, Y[idx]],  y = r - mu - Yb[idx],
#     D = diag(reg_b, reg_f * n, ..., reg_f * n),
# i.e. (Z'Z + D) x = Z'y. With n ratings and K factors, forming Z'Z costs n K^2; when n is
# at most K + 1 the same x comes cheaper from the n x n system (I + Z D^-1 Z') a = y,
# x = D^-1 Z' a (push-through identity), which costs n^2 K: most users rate few items.

def _als_half_loop(indptr, indices, values, mu, Xb, X, Yb, Y, reg_b, reg_f, cg_steps, sse):
    """Solve every row of (Xb, X) given the other side (Yb, Y), rows spread over threads.

    ``sse[row]`` receives the squared error of the row's ratings after its solve.
    """
    n_rows, K1 = X.shape[0], X.shape[1] + 1
    n_blocks = (n_rows + ALS_BLOCK - 1) // ALS_BLOCK
    for block in _prange(n_blocks):
        first, last = block * ALS_BLOCK, min(n_rows, (block + 1) * ALS_BLOCK)
        max_n = 0
        for row in range(first, last):
            max_n = max(max_n, indptr[row + 1] - indptr[row])
        Z = np.empty((max_n, K1))
        y, w = np.empty(max_n), np.empty(max_n)
        x, r, p, Ap = np.empty(K1), np.empty(K1), np.empty(K1), np.empty(K1)
        d = np.empty(K1)
        for row in range(first, last):
            start, n = indptr[row], indptr[row + 1] - indptr[row]
            sse[row] = 0.0
            if n == 0:
                Xb[row] = 0.0
                X[row, :] = 0.0
                continue
            for j in range(n):
                other = indices[start + j]
                y[j] = values[start + j] - mu - Yb[other]
                Z[j, 0] = 1.0
                for k in range(1, K1):
                    Z[j, k] = Y[other, k - 1]
            d[0] = reg_b
            for k in range(1, K1):
                d[k] = reg_f * n
            if cg_steps > 0:
                x[0] = Xb[row]
                for k in range(1, K1):
                    x[k] = X[row, k - 1]
                _cg(Z, y, d, n, K1, x, r, p, Ap, w, cg_steps)
            elif n <= K1 and reg_b > 0 and reg_f > 0:
                _dual_solve(Z[:n], y, d, n, K1, w, x)
            else:
                _primal_solve(Z[:n], y[:n], d, K1, x)
            Xb[row] = x[0]
            for k in range(1, K1):
                X[row, k - 1] = x[k]
            total = 0.0
            for j in range(n):  # the ratings are at hand: the training error costs little
                e = y[j]
                for k in range(K1):
                    e -= Z[j, k] * x[k]
                total += e * e
            sse[row] = total


def _primal_solve(Z, y, d, K1, x):
    """x = (Z'Z + D)^-1 Z'y through the Cholesky factor of the K1 x K1 matrix."""
    A = np.dot(Z.T, Z)  # BLAS: the costly part for an item with thousands of ratings
    x[:] = np.dot(Z.T, y)
    for a in range(K1):
        A[a, a] += d[a] + 1e-12  # keeps a zero penalty on an unrated direction solvable
    _cholesky_solve(A, K1, x)


def _dual_solve(Z, y, d, n, K1, w, x):
    """The same x from the n x n system (I + Z D^-1 Z') w = y, x = D^-1 Z' w."""
    # Z[:, 0] is all ones and d[1:] all equal: Z D^-1 Z' = 1 / d0 + (Z Z' - 1) / d1
    A = np.dot(Z, Z.T)
    for a in range(n):
        w[a] = y[a]
        for b in range(a + 1):
            A[a, b] = 1.0 / d[0] + (A[a, b] - 1.0) / d[1]
        A[a, a] += 1.0
    _cholesky_solve(A, n, w)
    for k in range(K1):
        s = 0.0
        for j in range(n):
            s += Z[j, k] * w[j]
        x[k] = s / d[k]


def _cholesky_solve(A, m, b):
    """Solve A z = b in place of b, A symmetric positive definite (its lower triangle used)."""
    for j in range(m):
        for i in range(j, m):
            s = A[i, j]
            for k in range(j):
                s -= A[i, k] * A[j, k]
            if i == j:
                # rounding can leave a zero pivot (no penalty, too few ratings) a hair
                # below zero: clamp it rather than take the root of a negative number
                A[j, j] = np.sqrt(max(s, 1e-300))
            else:
                A[i, j] = s / A[j, j]
    for i in range(m):  # L z = b
        s = b[i]
        for k in range(i):
            s -= A[i, k] * b[k]
        b[i] = s / A[i, i]
    for i in range(m - 1, -1, -1):  # L' x = z
        s = b[i]
        for k in range(i + 1, m):
            s -= A[k, i] * b[k]
        b[i] = s / A[i, i]


def _cg(Z, y, d, n, K1, x, r, p, Ap, w, steps):
    """``steps`` conjugate-gradient steps on (Z'Z + D) x = Z'y, starting from x."""
    _normal_product(Z, d, n, K1, x, Ap, w)
    for k in range(K1):
        s = 0.0
        for j in range(n):
            s += Z[j, k] * y[j]
        r[k] = s - Ap[k]
        p[k] = r[k]
    rs = 0.0
    for k in range(K1):
        rs += r[k] * r[k]
    for _ in range(steps):
        if rs <= 1e-24:
            break
        _normal_product(Z, d, n, K1, p, Ap, w)
        pAp = 0.0
        for k in range(K1):
            pAp += p[k] * Ap[k]
        alpha = rs / pAp
        rs_next = 0.0
        for k in range(K1):
            x[k] += alpha * p[k]
            r[k] -= alpha * Ap[k]
            rs_next += r[k] * r[k]
        for k in range(K1):
            p[k] = r[k] + (rs_next / rs) * p[k]
        rs = rs_next


def _normal_product(Z, d, n, K1, v, out, w):
    """out = (Z'Z + D) v without forming Z'Z."""
    for j in range(n):
        s = 0.0
        for k in range(K1):
            s += Z[j, k] * v[k]
        w[j] = s
    for k in range(K1):
        out[k] = d[k] * v[k]
    for j in range(n):
        for k in range(K1):
            out[k] += w[j] * Z[j, k]


def _als_half_numpy(indptr, indices, values, mu, Xb, X, Yb, Y, reg_b, reg_f, cg_steps, sse):
    """The ALS half-step with numpy's solver, one row at a time (the fallback)."""
    K1 = X.shape[1] + 1
    for row in range(X.shape[0]):
        start, stop = indptr[row], indptr[row + 1]
        sse[row] = 0.0
        if start == stop:
            Xb[row], X[row] = 0.0, 0.0
            continue
        idx = indices[start:stop]
        Z = np.hstack([np.ones((stop - start, 1)), Y[idx]])
        y = values[start:stop] - mu - Yb[idx]
        d = np.full(K1, reg_f * (stop - start))
        d[0] = reg_b
        if cg_steps == 0:
            x = np.linalg.solve(Z.T @ Z + np.diag(d + 1e-12), Z.T @ y)
        else:
            x = np.concatenate([[Xb[row]], X[row]])
            r = Z.T @ (y - Z @ x) - d * x
            p, rs = r.copy(), r @ r
            for _ in range(cg_steps):
                if rs <= 1e-24:
                    break
                Ap = Z.T @ (Z @ p) + d * p
                alpha = rs / (p @ Ap)
                x += alpha * p
                r -= alpha * Ap
                rs_next = r @ r
                p = r + (rs_next / rs) * p
                rs = rs_next
        Xb[row], X[row] = x[0], x[1:]
        sse[row] = np.sum((y - Z @ x) ** 2)


# ---------------------------------------------------------------------------- predict

def _predict_loop(users, items, mu, bu, bi, P, Q, out):
    K = P.shape[1]
    for j in _prange(users.shape[0]):
        u, i = users[j], items[j]
        dot = 0.0
        for k in range(K):
            dot += P[u, k] * Q[i, k]
        out[j] = mu + bu[u] + bi[i] + dot


def _predict_numpy(users, items, mu, bu, bi, P, Q, out):
    for s in range(0, len(users), 16384):  # bounded temporaries
        u, i = users[s:s + 16384], items[s:s + 16384]
        out[s:s + 16384] = mu + bu[u] + bi[i] + np.einsum("ij,ij->i", P[u], Q[i])


_prange = range
ENGINES = {"numpy": {"sgd": _sgd_epoch_numpy, "als": _als_half_numpy, "predict": _predict_numpy}}
if HAVE_NUMBA:
    _prange = numba.prange
    _jit = numba.njit(cache=True, nogil=True, fastmath=True)
    # compiled helpers first: the kernels that call them resolve them as globals
    _primal_solve, _dual_solve, _cholesky_solve, _cg, _normal_product = (
        _jit(f) for f in (_primal_solve, _dual_solve, _cholesky_solve, _cg, _normal_product))
    ENGINES["numba"] = {
        "sgd": _jit(_sgd_epoch_loop),
        "als": numba.njit(cache=True, nogil=True, fastmath=True, parallel=True)(_als_half_loop),
        "predict": numba.njit(cache=True, nogil=True, fastmath=True, parallel=True)(
            _predict_loop),
    }
