"""Non-negative matrix factorization X ~ W H by multiplicative updates (Lee & Seung)."""

from __future__ import annotations

from functools import partial

import numpy as np
from scipy.special import xlogy

from .. import _validation
from . import _kernels
from ._seeds import DEFAULT_STRENGTH, Seeds, check_seeds
from ._svd import randomized_svd_blocks
from .base import MAX_TOPICS, LatentFactorModel

BETA_LOSSES = ("frobenius", "kullback-leibler")
INITS = ("nndsvda", "nndsvd", "random")


class NMF(LatentFactorModel):
    """Non-negative matrix factorization of a document-term matrix.

    ``doc_topic_`` is W (documents x topics) and ``components_`` is H (topics x terms).
    ``engine`` picks the kernels: ``"numba"`` (compiled, multi-threaded, one copy of the
    factors updated in place), ``"numpy"`` (numpy/scipy, same numbers up to rounding) or
    ``"auto"`` (numba when installed). Computation runs in the dtype of X: pass float32 for
    speed and half the memory.
    The loss is 0.5 * ||X - W H||_F^2 (``beta_loss="frobenius"``) or the generalized
    Kullback-Leibler divergence D(X || W H); it never rises from one iteration to the next.

    ``n_init`` fits from different starts (the first from ``init``, the others random) keep
    the one of lowest loss; ``restart_objectives_`` lists each one's.

    ``seed_topics`` (guided topics): a list of lists of term indices; topic z is pulled
    towards the terms of list z, with ``seed_strength`` (see :mod:`topicmf.models._seeds`),
    and the loss then includes the seeds' penalty.

    Fitted attributes: ``components_``, ``doc_topic_``, ``n_iter_``, ``history_`` (loss
    after each iteration), ``reconstruction_err_`` (Frobenius norm of X - W H, or the
    divergence, without the seeds' penalty), ``n_features_in_``.
    """

    positive_input = True
    mergeable = True
    fits_blocks = True
    seedable = True
    _state_scalars = (*LatentFactorModel._state_scalars, "reconstruction_err_")

    def __init__(self, n_topics=10, *, beta_loss="frobenius", init="nndsvda", max_iter=200,
                 tol=1e-4, random_state=None, callback=None, engine="auto", seed_topics=None,
                 seed_strength=DEFAULT_STRENGTH, n_init=1):
        self.n_topics = n_topics
        self.beta_loss = beta_loss
        self.init = init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.callback = callback
        self.engine = engine
        self.seed_topics = seed_topics
        self.seed_strength = seed_strength
        self.n_init = n_init

    def _check_params(self) -> None:
        _validation.check_int(self.n_topics, "n_topics", low=1, high=MAX_TOPICS, owner="NMF")
        _validation.check_choice(self.engine, "engine", _kernels.ENGINES, owner="NMF")
        _validation.check_choice(self.beta_loss, "beta_loss", BETA_LOSSES, owner="NMF")
        _validation.check_choice(self.init, "init", INITS, owner="NMF")
        check_seeds(self.seed_topics, self.seed_strength, self.n_topics, None, "NMF")
        _validation.check_int(self.n_init, "n_init", low=1, high=100, owner="NMF")
        self._check_iteration_params()

    def fit(self, X, y=None):
        """Factorize the non-negative matrix ``X`` (documents x terms): a sparse matrix, or a
        :class:`topicmf.engine.BlockSource` (shards on disk, a cluster)."""
        self._check_params()
        source = self._check_source(X)
        k = self._check_n_topics(source)
        engine = _kernels.resolve_engine(self.engine, work=source.nnz * k)
        frobenius = self.beta_loss == "frobenius"
        with _kernels.quiet_blas():
            # The compiled passes get rows padded with zero columns to a width they run
            # fastest on; the zeros stay zero under the multiplicative updates.
            width = _kernels.padded_width(k, source.dtype) if engine == "numba" else k
            seed_terms = check_seeds(self.seed_topics, self.seed_strength, k, source.n_terms,
                                     "NMF")
            rng = self._rng()
            # The part of the loss that depends on X alone, once per fit.
            constant = source.map_reduce(_frobenius_constant if frobenius else _kl_constant_step)
            seeds = None
            if seed_terms is not None:
                # Pseudo-documents of the RMS norm (Frobenius) or mean mass (KL) of X's rows.
                size = (np.sqrt(constant / source.n_docs) if frobenius
                        else source.map_reduce(_data_sum) / source.n_docs)
                seeds = Seeds.for_fit(seed_terms, self.seed_strength, k, source.n_docs, size)

            def fit_once(init):
                HT = _initialize(source, k, init, rng, engine, width=width)
                if seeds is not None:
                    seeds.arrange(source, HT, k)
                    if frobenius:  # KL-NMF keeps its own start (see _seeds)
                        seeds.start(source, HT, "l2")
                        seeds.calibrate(HT)
                sweep = (partial(_frobenius_sweep, source, engine=engine, constant=constant,
                                 seeds=seeds)
                         if frobenius else
                         partial(_kl_sweep, source, engine=engine, constant=constant, k=k,
                                 seeds=seeds))
                objective = partial(_frobenius_objective if frobenius else _kl_objective,
                                    source, engine=engine, constant=constant, seeds=seeds)
                return (*self._iterate(sweep, HT, objective), width)

            HT, history = self._best_of_restarts(source, fit_once)
            W = source.gather("W", columns=k)
            source.release("W")
            HT = _kernels.shrink_columns(HT, k)
        # H^T is kept as it was fitted (terms x topics): components_ is its transpose, a view.
        self.doc_topic_, self.components_ = W, HT.T
        self.history_, self.n_iter_ = history, len(history)
        loss = history[-1]
        if seeds is not None:
            loss -= (seeds.frobenius_penalty(HT) if frobenius else seeds.kl_penalty(HT))
        self.reconstruction_err_ = (np.sqrt(2.0 * max(loss, 0.0))
                                    if self.beta_loss == "frobenius" else loss)
        return self

    def transform(self, X):
        """Document vectors of new documents ``X`` with ``components_`` held fixed."""
        self._check_fitted()
        self._check_params()
        X = self._check_input(X, reset=False)
        H = self.components_.astype(X.dtype, copy=False)
        engine = _kernels.resolve_engine(self.engine, work=X.nnz * H.shape[0])
        if self.beta_loss == "frobenius":
            step = partial(_frobenius_w_step, HT=np.ascontiguousarray(H.T), HHt=H @ H.T)
        else:
            step = partial(_kl_w_step, HT=np.ascontiguousarray(H.T), h_sums=H.sum(axis=1),
                           engine=engine)
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


def _kl_constant(X) -> np.ndarray:
    """Per-row sum of x log x - x: the part of D(X || W H) that does not depend on W, H."""
    return _kernels.map_sum_by_row(X, lambda x: xlogy(x, x) - x)


def _frobenius_w_step(X, W, HT, HHt):
    """Per-row loss 0.5 * ||x - w H||^2 of ``W`` and the multiplicative update of ``W``."""
    XHt = np.asarray(X @ HT)
    WHHt = W @ HHt
    loss = 0.5 * (_kernels.row_sq_norms(X) - 2.0 * np.einsum("ij,ij->i", W, XHt)
                  + np.einsum("ij,ij->i", W, WHHt))
    return loss, W * XHt / (WHHt + _eps(W.dtype))


def _kl_w_step(X, W, HT, h_sums, engine):
    """Per-row divergence D(x || w H) of ``W`` and the multiplicative update of ``W``."""
    loglik, RHt, _ = _kernels.ratio_pass(X, W, HT, rows=True, cols=False, engine=engine)
    loss = _kl_constant(X) - loglik + W @ h_sums
    return loss, W * RHt / (h_sums + _eps(W.dtype))


def _frobenius_constant(ctx, X):
    return float(_kernels.row_sq_norms(X).sum())


def _kl_constant_step(ctx, X):
    return float(_kl_constant(X).sum())


def _column_sums(A: np.ndarray) -> np.ndarray:
    """Column sums of ``A``, added in float64, in A's dtype."""
    return A.sum(axis=0, dtype=np.float64).astype(A.dtype)


def _term_plan(ctx, X, width, budget=None):
    """The block's term plan for the compiled passes by terms, kept where the source can."""
    key = ("plan", width, budget)
    plan = ctx.cache.get(key)
    if plan is None:
        plan = ctx.cache[key] = _kernels.term_plan(X, width, budget=budget)
    return plan


# --------------------------------------------------------------------- Frobenius
def _frobenius_sweep(source, HT, engine, constant, seeds=None):
    """One iteration: every block updates its rows of W and returns its part of X^T W and
    W^T W; then H^T is updated from their sums. The loss 0.5 * ||X - W H||^2 is expanded so
    that X is only touched through X @ H^T and X^T @ W (``constant``: the squared norm of X).
    With one block in memory, the compiled pass by terms updates H^T itself, sub-range by
    sub-range, with no n_terms x K sums (not with seeds, whose pseudo-documents add to
    those sums)."""
    penalty = 0.0 if seeds is None else seeds.frobenius_penalty(HT)
    gain, WtW, XtW = source.map_reduce(_frobenius_step, HT, HT.T @ HT, engine, seeds is None)
    if XtW is not None:
        before = None if seeds is None else seeds.before_frobenius(HT, XtW)
        _kernels.frobenius_h_update(HT, XtW, WtW, engine)
        if seeds is not None:
            seeds.frobenius_update(HT, before, WtW)
    return 0.5 * (constant - gain) + penalty, HT


def _frobenius_step(ctx, X, HT, HHt, engine, fuse=True):
    W = ctx.local["W"]
    gain = float(_kernels.frobenius_rows(X, W, HT, HHt, engine, update=True).sum())
    WtW = W.T @ W
    if engine == "numba":
        from . import _numba_kernels
        plan = _term_plan(ctx, X, W.shape[1])
        if ctx.fused and fuse:
            _numba_kernels.frobenius_terms(X, W, HT, WtW, plan)
            return gain, None, None
        return gain, WtW, _kernels.product_t(X, W, np.empty_like(HT), engine, plan)
    return gain, WtW, _kernels.product_t(X, W, np.empty_like(HT), engine)


def _frobenius_objective(source, HT, engine="numpy", constant=None, seeds=None):
    """0.5 * ||X - W H||^2 (plus the seeds' penalty) for the W in ``source`` and ``HT``;
    ``constant`` is the squared norm of X when known."""
    constant = source.map_reduce(_frobenius_constant) if constant is None else constant
    penalty = 0.0 if seeds is None else seeds.frobenius_penalty(HT)
    return 0.5 * (constant - source.map_reduce(_frobenius_gain_step, HT, HT.T @ HT, engine)) \
        + penalty


def _frobenius_gain_step(ctx, X, HT, HHt, engine):
    return float(_kernels.frobenius_rows(X, ctx.local["W"], HT, HHt, engine,
                                         update=False).sum())


# ------------------------------------------------------------------ Kullback-Leibler
def _kl_sweep(source, HT, engine, constant, k, seeds=None):
    """One iteration: every block updates its rows of W from the ratios X / (W H) and returns
    its part of R^T W for the ratios with the new W; then H^T is updated from the sums.
    With one block in memory, the compiled pass by terms updates H^T itself. Seeds then redo
    their entries with the pseudo-documents' parts."""
    h_sums = _column_sums(HT)
    penalty = 0.0 if seeds is None else seeds.kl_penalty(HT)
    part, w_sums, RtW = source.map_reduce(_kl_step, HT, h_sums, engine, k)
    w_sums = w_sums + _eps(HT.dtype)
    if RtW is not None:
        _kernels.scale_h_update(HT, RtW, 1.0 / w_sums, engine)
    if seeds is not None:
        seeds.kl_update(HT, w_sums, h_sums)
    return constant + part + penalty, HT


def _kl_step(ctx, X, HT, h_sums, engine, k):
    """The block's part of the loss sum(W H) - sum x log(W H) before its W step, and after
    it the column sums of its new W and its R^T W (None when H^T was updated in place)."""
    W = ctx.local["W"]
    total = float(W.sum(axis=0, dtype=np.float64) @ h_sums)  # the sum of W H, before W changes
    if engine != "numba":
        loglik, W_next, RtW = _kernels.kl_update(X, W, HT, h_sums, engine)
        W[...] = _kernels.flush_subnormals(W_next)
        return total - float(loglik.sum()), _column_sums(W), RtW
    from . import _numba_kernels
    if "kl" not in ctx.cache:
        ctx.cache["kl"] = _kl_plan(X, k, W.shape[1])
    plan, ratios = ctx.cache["kl"]
    loglik = _numba_kernels.kl_rows(X, W, HT, h_sums + _eps(W.dtype), ratios)
    w_sums = _column_sums(W)
    if ctx.fused:
        _numba_kernels.ratio_terms(X, W, HT, 1.0 / (w_sums + _eps(W.dtype)), plan, ratios)
        return total - float(loglik.sum()), w_sums, None
    RtW = _numba_kernels.ratio_terms(X, W, HT, w_sums, plan, ratios, out=np.empty_like(HT))
    return total - float(loglik.sum()), w_sums, RtW


def _kl_objective(source, HT, engine="numpy", constant=None, seeds=None):
    """D(X || W H) (plus the seeds' penalty) for the W in ``source`` and ``HT``;
    ``constant`` is the sum of :func:`_kl_constant` of X when known."""
    constant = source.map_reduce(_kl_constant_step) if constant is None else constant
    penalty = 0.0 if seeds is None else seeds.kl_penalty(HT)
    return constant + source.map_reduce(_kl_divergence_step, HT, _column_sums(HT), engine) \
        + penalty


def _kl_divergence_step(ctx, X, HT, h_sums, engine):
    W = ctx.local["W"]
    loglik, _, _ = _kernels.ratio_pass(X, W, HT, rows=False, cols=False, engine=engine)
    return float(W.sum(axis=0, dtype=np.float64) @ h_sums) - float(loglik.sum())


def _kl_plan(X, k, width=None):
    """The term plan of compiled KL-NMF and the slots for its stored ratios: one for each
    entry of the first rows that fit :func:`_kernels.work_allowance` beside a buffer of
    1 MB for the pass by terms, which recomputes the other entries' ratios (on
    20 Newsgroups at K = 20 storing all of them made an iteration a fifth to a third
    faster, in runs on a machine whose speed moved). ``width`` is that of the factors'
    rows when they are padded beyond ``k``: the padding comes out of the allowance."""
    width = k if width is None else width
    padding = (X.shape[0] + X.shape[1]) * (width - k) * X.dtype.itemsize
    room = _kernels.work_allowance(X, k) - padding
    capacity = max(room - 2**20, 0) // X.dtype.itemsize
    n_rows = np.searchsorted(X.indptr, capacity, side="right") - 1  # whole rows only
    stored = int(X.indptr[n_rows])
    # The buffer gets the rest of the room, at least 1 MB (smaller ones cut the terms into
    # so many sub-ranges that the walks over the rows' cursors dominate).
    budget = max(room - stored * X.dtype.itemsize, 2**20)
    return _kernels.term_plan(X, width, budget=budget), np.empty(stored, dtype=X.dtype)


# ------------------------------------------------------------------ initialization
def _initialize(source, k, init, rng, engine="numpy", width=None):
    """The starting H^T (terms x ``width``) in the dtype of X, with the starting W left in
    ``source`` as "W": NNDSVD (Boutsidis & Gallopoulos 2008) or random; ``width`` (at least
    k) pads their rows with zero columns."""
    n_docs, n_terms = source.shape
    width = k if width is None else width
    if init == "random":
        mean = source.map_reduce(_data_sum) / (n_docs * n_terms)
        high = 2.0 * np.sqrt(mean / k)  # so that W H has the mean of X on average
        H = rng.uniform(0.0, high, size=(k, n_terms)).astype(source.dtype)
        source.allocate("W", width, source.dtype)
        source.map_reduce(_random_rows_step, "W", k, high, rng.randint(2**31))
        return _kernels.pad_columns(np.ascontiguousarray(H.T), width)
    return nndsvd(source, k, rng, fill=init == "nndsvda", engine=engine, width=width)


def _data_sum(ctx, X):
    return float(X.data.sum(dtype=np.float64))


def _random_rows_step(ctx, X, name, k, high, seed):
    """The block's rows of ``name``: uniform in [0, high) from the block's own generator."""
    from ..engine.base import block_seed
    rows = ctx.local[name]
    rows[:, :k] = block_seed(seed, ctx.block.index).uniform(0.0, high, size=(rows.shape[0], k))


def nndsvd(source, k, rng, *, fill: bool, engine: str = "numpy", width: int | None = None):
    """NNDSVD factors (Boutsidis & Gallopoulos 2008) of the matrix behind ``source``: returns
    H^T and leaves W in the source as "W". With ``fill`` zeros become the mean of X (NNDSVDa),
    which multiplicative updates need, as they can never move an entry off zero. The SVD is
    :func:`_svd.randomized_svd_blocks`; both factors have ``width`` columns (at least k;
    those beyond k zero).

    Each singular pair keeps its dominant sign part: the pair (u+, v+) or (u-, v-) with the
    larger product of norms. The leading triplet of a non-negative matrix has one sign
    throughout (Perron-Frobenius), so for it this is just |u| and |v| scaled by sqrt(sigma).
    """
    n_docs, n_terms = source.shape
    width = k if width is None else width
    mean = source.map_reduce(_data_sum) / (n_docs * n_terms)
    if not source.nnz:
        source.allocate("W", width, source.dtype)
        HT = np.zeros((n_terms, width), dtype=source.dtype)
    else:
        S, HT = randomized_svd_blocks(source, k, rng, name="W", engine=engine, width=width)
        u_positive, u_negative = np.sqrt(source.map_reduce(_sign_norms_step, k))
        signs = np.ones(k)
        w_scale = np.zeros(k)
        for j in range(k):
            v = HT[:, j]
            v_positive, v_negative = _norm(np.maximum(v, 0)), _norm(np.maximum(-v, 0))
            if u_negative[j] * v_negative > u_positive[j] * v_positive:
                signs[j], norm_u, norm_v, v = -1.0, u_negative[j], v_negative, -v
            else:
                norm_u, norm_v = u_positive[j], v_positive
            if norm_u * norm_v == 0:
                HT[:, j] = 0
                continue
            scale = np.sqrt(S[j] * norm_u * norm_v)
            HT[:, j] = scale * np.maximum(v, 0) / norm_v
            w_scale[j] = scale / norm_u
        source.map_reduce(_nndsvd_rows_step, signs, w_scale, mean if fill else None)
    if fill:
        if not source.nnz:
            source.map_reduce(_nndsvd_rows_step, np.ones(k), np.zeros(k), mean)
        top = HT[:, :k]  # a view: the padding stays zero
        top[top == 0] = mean
    return HT


def _sign_norms_step(ctx, X, k):
    """Squared norms of the positive and of the negative part of each of the first k columns
    of the block's rows of W, summed in float64 over chunks of rows (no float64 copy of W)."""
    sums = np.zeros((2, k))
    W = ctx.local["W"]
    for start in range(0, W.shape[0], _CHUNK_ROWS):
        U = W[start:start + _CHUNK_ROWS, :k]
        positive = np.maximum(U, 0)
        sums[0] += np.einsum("ij,ij->j", positive, positive, dtype=np.float64)
        np.minimum(U, 0, out=positive)
        sums[1] += np.einsum("ij,ij->j", positive, positive, dtype=np.float64)
    return sums


#: Rows per chunk of the dense steps on a block's factors, so temporaries stay small.
_CHUNK_ROWS = 4096


def _nndsvd_rows_step(ctx, X, signs, scale, fill):
    """W[:, j] <- scale_j * max(sign_j * u_j, 0) for the first k columns, zeros then set to
    ``fill`` (unless None)."""
    W = ctx.local["W"]
    k = len(signs)
    top = W[:, :k]
    np.multiply(top, signs.astype(W.dtype), out=top)
    np.maximum(top, 0, out=top)
    top *= scale.astype(W.dtype)
    if fill is not None:
        top[top == 0] = fill


_norm = np.linalg.norm
