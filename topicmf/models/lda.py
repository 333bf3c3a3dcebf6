"""Latent Dirichlet allocation: gensim's online variational Bayes behind the topicmf interface."""

from __future__ import annotations

import numbers

import numpy as np

from .. import _validation
from ..errors import InvalidParameterError
from . import _kernels
from .base import MAX_TOPICS, LatentFactorModel

ALPHAS = ("symmetric", "asymmetric", "auto")


class LDA(LatentFactorModel):
    """LDA (Blei, Ng & Jordan 2003) fitted by gensim's ``LdaModel`` (Hoffman et al. 2010).

    The reference probabilistic topic model, on term counts. ``components_`` rows are the
    expected P(term | topic) and ``doc_topic_`` rows the expected P(topic | document), both
    summing to 1, as for PLSA.

    ``transform`` runs gensim's per-document variational update (the same equations as
    ``LdaModel.inference``, with ``iterations`` and ``tol`` as its ``gamma_threshold``) for all
    documents at once from a fixed start instead of gensim's random one, so a document's
    vector depends neither on the batch it comes in nor on earlier calls. ``doc_topic_`` is
    that inference on the training documents.

    Fitted attributes: ``components_``, ``doc_topic_``, ``lambda_`` (variational topic-term
    parameters), ``alpha_`` (document-topic prior), ``n_iter_`` (passes), ``history_`` (one
    value: the log-likelihood sum x log P(w | d) of the training counts under ``doc_topic_ @
    components_``), ``n_features_in_``. ``callback(pass, nan)`` is called after each pass.
    """

    input_kind = "counts"
    positive_input = True
    iteration_param = "passes"
    fits_blocks = True
    objective_name = "log-likelihood"
    maximize_objective = True
    probabilistic = True
    _state_arrays = (*LatentFactorModel._state_arrays, "lambda_", "alpha_")

    def __init__(self, n_topics=10, *, passes=10, iterations=50, alpha="symmetric", eta=None,
                 chunksize=2000, tol=1e-3, random_state=None, callback=None):
        self.n_topics = n_topics
        self.passes = passes
        self.iterations = iterations
        self.alpha = alpha
        self.eta = eta
        self.chunksize = chunksize
        self.tol = tol
        self.random_state = random_state
        self.callback = callback

    def _check_params(self) -> None:
        check = _validation
        check.check_int(self.n_topics, "n_topics", low=1, high=MAX_TOPICS, owner="LDA")
        check.check_int(self.passes, "passes", low=1, owner="LDA")
        check.check_int(self.iterations, "iterations", low=1, owner="LDA")
        check.check_int(self.chunksize, "chunksize", low=1, owner="LDA")
        check.check_float(self.tol, "tol", low=0.0, owner="LDA")
        for name, value, words in (("alpha", self.alpha, ALPHAS),
                                   ("eta", self.eta, ("symmetric", "auto"))):
            is_number = (isinstance(value, numbers.Real) and not isinstance(value, bool)
                         and value > 0)
            if not (is_number or value in words or (name == "eta" and value is None)):
                raise InvalidParameterError(
                    f"The '{name}' parameter of LDA must be a positive float or one of "
                    f"{', '.join(map(repr, words))}{' or None' if name == 'eta' else ''}. "
                    f"Got {value!r} instead.")
        if self.callback is not None and not callable(self.callback):
            raise InvalidParameterError(
                f"The 'callback' parameter of LDA must be a callable or None. "
                f"Got {self.callback!r} instead.")

    def fit(self, X, y=None):
        """Fit LDA to the non-negative term counts ``X`` (documents x terms): a sparse
        matrix, or a :class:`topicmf.engine.BlockSource` in this process (shards on disk),
        which gensim reads as a stream, one block at a time."""
        self._check_params()
        source = self._check_source(X)
        if not hasattr(source, "iter_blocks"):
            raise InvalidParameterError(
                "LDA runs gensim in this process: fit it from shards on disk or in memory, "
                "not on a cluster.")
        k = self._check_n_topics(source)
        rng = self._rng()
        dtype = np.dtype(source.dtype)
        if source.nnz == 0:  # nothing to learn, and gensim divides by the corpus size
            self.lambda_ = np.ones((k, source.shape[1]), dtype=dtype)
            self.alpha_ = np.full(k, 1.0 / k)
        else:
            self.lambda_, self.alpha_ = self._fit_gensim(_BlockCorpus(source), source.shape[1],
                                                         k, rng)
        self.lambda_ = self.lambda_.astype(dtype, copy=False)
        self.components_ = _kernels.normalize_rows(self.lambda_.copy())
        source.allocate("W", k, dtype, fill=None)
        phiT = np.ascontiguousarray(self.components_.astype(np.float64).T)
        loglik = source.map_reduce(_infer_step, self, phiT)
        self.doc_topic_ = source.gather("W")
        source.release("W")
        self.n_iter_ = self.passes
        self.history_ = [float(loglik)]
        return self

    def transform(self, X):
        """Expected P(topic | document) of new documents ``X`` with the topics held fixed."""
        self._check_fitted()
        self._check_params()
        return self._infer(self._check_input(X, reset=False))

    # ------------------------------------------------------------------ internals
    def _fit_gensim(self, corpus, n_terms, k, rng):
        from gensim.models import LdaModel

        model = LdaModel(
            corpus, num_topics=k, id2word={i: str(i) for i in range(n_terms)},
            passes=self.passes, iterations=self.iterations, alpha=self.alpha, eta=self.eta,
            chunksize=self.chunksize, gamma_threshold=self.tol, eval_every=None,
            random_state=rng, dtype=np.float64,
            callbacks=None if self.callback is None else [_PassMetric(self.callback)])
        return model.state.get_lambda().copy(), np.asarray(model.alpha, dtype=np.float64)

    def _infer(self, X) -> np.ndarray:
        """Variational E-step per document; each row stops when its own gamma settles."""
        from scipy.special import digamma  # 0.08 s to import: only where LDA infers

        k = self.lambda_.shape[0]
        lam = self.lambda_.astype(np.float64)
        exp_elog_beta_T = np.ascontiguousarray(
            np.exp(digamma(lam) - digamma(lam.sum(axis=1, keepdims=True))).T)
        alpha = np.asarray(self.alpha_, dtype=np.float64)
        gamma = np.ones((X.shape[0], k))  # gensim draws its start from Gamma(100, 1/100)
        for block in _kernels.row_blocks(X, k):
            gamma[block] = self._infer_block(_kernels.take_rows(X, block).astype(np.float64),
                                             gamma[block], alpha, exp_elog_beta_T)
        theta = _kernels.normalize_rows(gamma)
        theta[np.diff(X.indptr) == 0] = 1.0 / k  # no evidence: uniform, as PLSA
        return theta.astype(X.dtype, copy=False)

    def _infer_block(self, X, gamma, alpha, exp_elog_beta_T):
        from scipy.special import digamma

        active = np.arange(X.shape[0])
        for _ in range(self.iterations):
            g = gamma[active]
            exp_elog_theta = np.exp(digamma(g) - digamma(g.sum(axis=1, keepdims=True)))
            R, _ = _kernels.ratio_at_nonzeros(X, exp_elog_theta, exp_elog_beta_T)
            g_next = alpha + exp_elog_theta * (R @ exp_elog_beta_T)
            gamma[active] = g_next
            going = np.abs(g_next - g).mean(axis=1) >= self.tol
            if not going.any():
                break
            active, X = active[going], X[going]
        return gamma


class _BlockCorpus:
    """The documents of a block source as gensim's bag-of-words stream, a block at a time."""

    def __init__(self, source):
        self.source = source

    def __len__(self) -> int:
        return self.source.shape[0]

    def __iter__(self):
        for X in self.source.iter_blocks():
            data = X.data.astype(np.float64)
            for d in range(X.shape[0]):
                lo, hi = X.indptr[d], X.indptr[d + 1]
                yield list(zip(X.indices[lo:hi].tolist(), data[lo:hi].tolist()))


def _infer_step(ctx, X, model, phiT):
    """The block's expected P(topic | document) into its rows of W, and its part of the
    log-likelihood sum x log P(w | d) under them."""
    theta = model._infer(X)
    ctx.local["W"][...] = theta
    p = _kernels.product_at_nonzeros(X, theta.astype(np.float64), phiT)
    return float(X.data.astype(np.float64) @ np.log(np.maximum(p, 1e-300)))


class _PassMetric:
    """A gensim callback metric that only reports the end of each pass to ``callback``."""

    logger = None
    title = "pass"

    def __init__(self, callback):
        self._callback = callback
        self._passes = 0

    def get_value(self, **kwargs):
        self._passes += 1
        self._callback(self._passes, float("nan"))
        return self._passes
