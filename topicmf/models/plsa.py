"""Probabilistic latent semantic analysis fitted by EM (Hofmann 1999)."""

from __future__ import annotations

from functools import partial

import numpy as np

from .. import _validation
from . import _kernels
from ._seeds import DEFAULT_STRENGTH, Seeds, check_seeds
from .base import MAX_TOPICS, LatentFactorModel
from .nmf import _random_rows_step, nndsvd

INITS = ("nndsvd", "random")


class PLSA(LatentFactorModel):
    """PLSA on term counts: P(w | d) = b P_B(w) + (1 - b) sum_z P(z | d) P(w | z).

    ``doc_topic_`` rows are P(z | d) and ``components_`` rows are P(w | z); both sum to 1.
    The log-likelihood sum x_dw log P(w | d) never falls from one iteration to the next.

    ``background`` (b, in [0, 1)) is the weight of a fixed background distribution P_B,
    the term frequencies of the training corpus, in every document (the background
    component of Zhai, Velivelli & Yu 2004, "A cross-collection mixture model for
    comparative text mining"). Words every text uses ("people", "like", "think") are then
    explained by the background instead of filling the top of every topic. ``background=0``
    is Hofmann's PLSA. The default 0.8 was chosen on five corpora (``benchmarks/background.py``,
    results in benchmarks/RESULTS.md): against b = 0 it raised NPMI on every one (20 Newsgroups
    0.080 to 0.158) and diversity (0.70 to 0.91), kept agreement with the labels within 0.01
    on four, and lowered it on Reuters-21578 (NMI 0.554 to 0.522).

    Fitted attributes: ``components_``, ``doc_topic_``, ``background_`` (P_B), ``n_iter_``,
    ``history_`` (log-likelihood after each iteration), ``log_likelihood_``,
    ``n_features_in_``. Documents without terms get a uniform P(z | d).

    ``init="nndsvd"`` (default) starts EM from the normalized NNDSVDa factors of the counts,
    as NMF does; EM from a random start stalls in poor optima: on THUCNews headlines
    (finance + stocks vs politics, 2 topics) purity 0.68 from random against 0.90 from NNDSVD,
    with a higher likelihood too.

    ``engine`` picks the sparse kernels as in :class:`NMF` (``"auto"``, ``"numba"``,
    ``"numpy"``); pass float32 counts for speed.

    ``n_init`` fits from different starts (the first from ``init``, the others random) keep
    the one of highest likelihood; ``restart_objectives_`` lists each one's.

    ``seed_topics`` (guided topics): a list of lists of term indices; topic z gets a
    Dirichlet prior on P(w | z) that favours the terms of list z, of ``seed_strength`` times
    an average topic's tokens (see :mod:`topicmf.models._seeds`); EM then maximizes the
    posterior, and ``history_`` includes the log prior.
    """

    input_kind = "counts"
    positive_input = True
    mergeable = True
    fits_blocks = True
    seedable = True
    objective_name = "log-likelihood"
    maximize_objective = True
    probabilistic = True
    _state_arrays = (*LatentFactorModel._state_arrays, "background_")
    _state_scalars = (*LatentFactorModel._state_scalars, "log_likelihood_")

    def __init__(self, n_topics=10, *, background=0.8, init="nndsvd", max_iter=200, tol=1e-5,
                 random_state=None, callback=None, engine="auto", seed_topics=None,
                 seed_strength=DEFAULT_STRENGTH, n_init=1):
        self.n_topics = n_topics
        self.background = background
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
        _validation.check_int(self.n_topics, "n_topics", low=1, high=MAX_TOPICS, owner="PLSA")
        _validation.check_choice(self.engine, "engine", _kernels.ENGINES, owner="PLSA")
        _validation.check_choice(self.init, "init", INITS, owner="PLSA")
        _validation.check_float(self.background, "background", low=0.0, high=1.0,
                                high_open=True, owner="PLSA")
        check_seeds(self.seed_topics, self.seed_strength, self.n_topics, None, "PLSA")
        _validation.check_int(self.n_init, "n_init", low=1, high=100, owner="PLSA")
        self._check_iteration_params()

    @classmethod
    def _upgrade_state(cls, params: dict, arrays: dict) -> tuple[dict, dict]:
        """States saved before the background existed are plain PLSA: background 0."""
        if "background" in params["params"]:
            return params, arrays
        n_terms = np.asarray(arrays["components_"]).shape[1]
        params = {**params, "params": {**params["params"], "background": 0.0}}
        return params, {**arrays, "background_": np.zeros(n_terms)}

    def _check_state(self) -> None:
        super()._check_state()
        P = np.asarray(self.background_)
        if P.shape != (self.n_features_in_,) or not np.isfinite(P).all() or (P < 0).any():
            from ..errors import ModelFileError
            raise ModelFileError("The saved PLSA background distribution does not match its "
                                 "terms; fit and save the model again.")

    def _offset(self, dtype) -> np.ndarray | None:
        """The background's share of P(w | d) over the topics' share, per term: the E-step
        ratios are x / (theta phi + offset), which differ from x / P(w | d) by a constant."""
        if self.background == 0:
            return None
        return (self.background / (1.0 - self.background) * self.background_).astype(dtype)

    def fit(self, X, y=None):
        """Fit P(z | d) and P(w | z) to the non-negative count matrix ``X``: a sparse matrix,
        or a :class:`topicmf.engine.BlockSource` (shards on disk, a cluster)."""
        self._check_params()
        source = self._check_source(X)
        k = self._check_n_topics(source)
        seeds = check_seeds(self.seed_topics, self.seed_strength, k, source.n_terms, "PLSA")
        rng = self._rng()
        engine = _kernels.resolve_engine(self.engine, work=source.nnz * k)
        totals = source.map_reduce(_column_totals)
        self.background_ = totals / totals.sum() if totals.sum() > 0 else totals
        n_tokens = float(totals.sum())
        del totals
        if seeds is not None:
            # Pseudo-documents of a mean document's tokens that the topics explain.
            size = n_tokens / source.n_docs * (1.0 - self.background)
            seeds = Seeds.for_fit(seeds, self.seed_strength, k, source.n_docs, size)
        offset = self._offset(source.dtype)
        log_scale = float(np.log1p(-self.background) * n_tokens) if self.background else 0.0

        def fit_once(init):
            if init == "nndsvd":
                phiT = nndsvd(source, k, rng, fill=True, engine=engine)
            else:
                phiT = np.ascontiguousarray(rng.uniform(size=(k, source.shape[1]))
                                            .astype(source.dtype).T)
                source.allocate("W", k, source.dtype)
                source.map_reduce(_random_rows_step, "W", k, 1.0, rng.randint(2**31))
            if seeds is not None:
                seeds.arrange(source, phiT, k)
                seeds.start(source, phiT, "l1")
            _kernels.normalize_rows(phiT.T)
            source.map_reduce(_start_rows_step)
            sweep = partial(_em_sweep, source, engine=engine, offset=offset,
                            log_scale=log_scale, seeds=seeds)
            objective = partial(_log_likelihood, source, engine=engine, offset=offset,
                                log_scale=log_scale, seeds=seeds)
            return (*self._iterate(sweep, phiT, objective, maximize=True), k)

        with _kernels.quiet_blas():
            phiT, history = self._best_of_restarts(source, fit_once, maximize=True)
            theta = source.gather("W")
            source.release("W")
        # P(w | z)^T is kept as it was fitted (terms x topics): components_ is its transpose.
        self.doc_topic_, self.components_ = theta, phiT.T
        self.history_, self.n_iter_ = history, len(history)
        self.log_likelihood_ = history[-1] - (0.0 if seeds is None else seeds.log_prior(phiT))
        return self

    def transform(self, X):
        """P(z | d) of new documents ``X`` by EM with ``components_`` held fixed (fold-in)."""
        self._check_fitted()
        self._check_params()
        X = self._check_input(X, reset=False)
        phi = self.components_.astype(X.dtype, copy=False)
        theta = np.full((X.shape[0], phi.shape[0]), 1.0 / phi.shape[0], dtype=X.dtype)
        step = partial(_fold_in_step, phiT=np.ascontiguousarray(phi.T),
                       engine=_kernels.resolve_engine(self.engine, work=X.nnz * phi.shape[0]),
                       offset=self._offset(X.dtype))
        return self._fold_in(X, theta, step, maximize=True)


def _fold_in_step(X, theta, phiT, engine, offset=None):
    """Per-row log-likelihood of ``theta`` and its EM update with P(w | z) fixed."""
    loglik, RHt, _ = _kernels.ratio_pass(X, theta, phiT, rows=True, cols=False, engine=engine,
                                         offset=offset)
    return loglik, _kernels.normalize_rows(theta * RHt)


def _column_totals(ctx, X):
    """The block's sum of each term's counts (float64)."""
    return _kernels.map_sum_by_column(X, lambda x: x)


def _start_rows_step(ctx, X):
    """Rows of P(z | d) normalized; a document without terms gets a uniform P(z | d)."""
    theta = ctx.local["W"]
    theta[np.diff(X.indptr) == 0] = 1.0
    _kernels.normalize_rows(theta)


def _log_likelihood(source, phiT, engine="numpy", offset=None, log_scale=0.0, seeds=None):
    """The log-likelihood of the P(z | d) in ``source`` and ``phiT`` (plus the seeds' log
    prior)."""
    prior = 0.0 if seeds is None else seeds.log_prior(phiT)
    return log_scale + source.map_reduce(_log_likelihood_step, phiT, engine, offset) + prior


def _log_likelihood_step(ctx, X, phiT, engine, offset):
    loglik, _, _ = _kernels.ratio_pass(X, ctx.local["W"], phiT, rows=False, cols=False,
                                       engine=engine, offset=offset)
    return float(loglik.sum())


def _em_sweep(source, phiT, engine="numpy", offset=None, log_scale=0.0, seeds=None):
    """One EM step: every block updates its rows of P(z | d) from the ratios
    X / (theta phi + offset) and returns its part of the expected term-topic counts
    (up to the factor phi); then phi is updated from their sums and normalized. With one
    block in memory the compiled pass by terms updates phi^T itself, term by term. Seeds add
    their pseudo-counts before phi is normalized (MAP EM)."""
    prior = 0.0 if seeds is None else seeds.log_prior(phiT)
    loglik, counts = source.map_reduce(_em_step, phiT, engine, offset)
    if counts is not None:
        _kernels.scale_h_update(phiT, counts, np.ones(phiT.shape[1]), engine)
    if seeds is not None:
        seeds.add_counts(phiT)
    _kernels.normalize_rows(phiT.T)
    return log_scale + loglik + prior, phiT


def _em_step(ctx, X, phiT, engine, offset):
    theta = ctx.local["W"]
    if engine == "numba":
        from . import _numba_kernels
        plan = ctx.cache.get("plan")
        if plan is None:
            # One pass by terms: its buffer an eighth of the factors' size, within [1, 4] MB.
            factors = (theta.nbytes + phiT.nbytes) // 8
            plan = ctx.cache["plan"] = _kernels.term_plan(X, theta.shape[1],
                                                          budget=max(2**20, factors))
        out = None if ctx.fused else np.empty_like(phiT)
        loglik, RHt = _numba_kernels.em_terms(X, theta, phiT, plan, offset=offset, out=out)
        counts = out
    else:
        loglik, RHt, counts = _kernels.ratio_pass(X, theta, phiT, engine=engine, offset=offset)
    theta *= RHt  # in place: the pass is done with the old theta
    del RHt  # a view of the threads' buffers, which it would keep
    _kernels.normalize_rows(theta)
    return float(loglik.sum()), counts
