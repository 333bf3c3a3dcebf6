"""What the three models share: input checks, the iteration loop, top terms, state."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from .. import _validation
from ..errors import ConvergenceWarning, InvalidParameterError, ModelFileError, NotFittedError
from . import _kernels
from ._estimator import EstimatorMixin, check_random_state

MAX_TOPICS = 1000

_REGISTRY: dict[str, type] = {}


STOP_WINDOW = 10


class LatentFactorModel(EstimatorMixin):
    """Base of the topic models: X (documents x terms) ~ doc_topic_ @ components_.

    Subclasses implement ``fit`` and ``transform`` and list the fitted attributes that
    make up their saved state in ``_state_arrays`` and ``_state_scalars``.

    What only the model knows is declared once, as the class attributes below; the
    pipeline, ``compare``, the report and the command line read them instead of testing a
    model's name.
    """

    #: The matrix the model is fitted on: ``"tfidf"`` or ``"counts"`` (term counts).
    input_kind = "tfidf"
    #: Whether ``fit`` takes a :class:`topicmf.engine.BlockSource` (shards, a cluster) as X.
    fits_blocks = False
    #: Whether X must be non-negative (also scikit-learn's ``positive_only`` tag).
    positive_input = False
    #: How document vectors are shown: ``"mixture"`` (each row scaled to sum to 1) or
    #: ``"coordinates"`` (signed, as fitted).
    doc_weights_kind = "mixture"
    #: The parameter that caps the fit's iterations (``"max_iter"``, ``"passes"``), or None.
    iteration_param = "max_iter"
    #: What ``history_`` holds, and whether a fit raises it (a likelihood) or lowers it (a loss).
    objective_name = "loss"
    maximize_objective = False
    #: Whether the model is a probability model of the counts: its rows are distributions,
    #: and it has a log-likelihood and a held-out perplexity.
    probabilistic = False
    #: Whether topics can be merged (:meth:`merged`): the model is a sum of non-negative
    #: topics, and ``transform`` folds documents in from ``components_`` alone.
    mergeable = False
    #: Whether the model takes seed words (``seed_topics``) for guided topics.
    seedable = False

    @classmethod
    def display_weights(cls, doc_topic) -> np.ndarray:
        """Document vectors as reported (float64): mixtures have each row scaled to sum to 1
        (rows summing to 0 stay 0), coordinates are kept as they are."""
        doc_topic = np.asarray(doc_topic, dtype=np.float64)
        if cls.doc_weights_kind == "coordinates":
            return doc_topic
        sums = doc_topic.sum(axis=1, keepdims=True)
        return np.divide(doc_topic, sums, out=np.zeros_like(doc_topic), where=sums > 0)
    _state_arrays = ("components_", "doc_topic_")
    _state_scalars = ("n_features_in_", "n_iter_", "history_")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _REGISTRY[cls.__name__] = cls

    # ----------------------------------------------------------------- sklearn glue
    def _positive_only_tag(self) -> bool:
        return self.positive_input

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "components_")

    def fit_transform(self, X, y=None):
        """Fit the model and return the document vectors of ``X`` (``doc_topic_``)."""
        return self.fit(X).doc_topic_.copy()

    # ------------------------------------------------------------------ checks
    def _check_fitted(self) -> None:
        if not self.__sklearn_is_fitted__():
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet; call fit(X) "
                "first or load a saved model."
            )

    def _check_input(self, X, *, reset: bool):
        """Validate X and return it as canonical CSR, float32 kept, anything else float64."""
        name = type(self).__name__
        if (sp.issparse(X) and X.format == "csr" and X.ndim == 2
                and X.dtype.kind in "iub"):  # counts: float64, as scikit-learn converts them
            X = X.astype(np.float64)
        try:
            if _plain_csr(X) and (reset or not hasattr(self, "feature_names_in_")):
                self._check_csr(X, reset=reset)  # what the pipeline passes: no sklearn import
            else:
                from sklearn.utils.validation import validate_data
                X = validate_data(self, X, reset=reset, accept_sparse="csr",
                                  dtype=[np.float64, np.float32])
        except ValueError as exc:
            raise InvalidParameterError(f"Invalid X passed to {name}: {exc}") from exc
        X = sp.csr_array(X)
        if not X.has_canonical_format:
            X = X.copy()
            X.sum_duplicates()
        if self.positive_input and X.nnz and X.data.min() < 0:
            raise InvalidParameterError(
                f"Negative values in data passed to {name}; it needs non-negative X "
                "(term counts or tf-idf weights), or use LSA for signed data."
            )
        return X

    def _check_csr(self, X, *, reset: bool) -> None:
        """scikit-learn's checks of a float CSR matrix: samples, features, finite values, and
        the number of features against the fit's (the messages are scikit-learn's)."""
        name = type(self).__name__
        for count, what in ((X.shape[0], "sample"), (X.shape[1], "feature")):
            if count < 1:
                raise ValueError(f"Found array with {count} {what}(s) (shape={X.shape}) while "
                                 f"a minimum of 1 is required by {name}.")
        if not np.isfinite(X.data).all():
            kind = "NaN" if np.isnan(X.data).any() else "infinity or a value too large"
            raise ValueError(f"Input X contains {kind}.")
        if reset:
            self.n_features_in_ = X.shape[1]
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        elif X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but {name} is expecting "
                             f"{self.n_features_in_} features as input.")

    def _check_source(self, X):
        """X as a :class:`topicmf.engine.BlockSource`: a sparse matrix is checked as by
        :meth:`_check_input` and put in memory; a source is checked for its dtype and, for a
        model that needs it, non-negative values."""
        from ..engine import BlockSource, InMemoryBlocks
        if not isinstance(X, BlockSource):
            return InMemoryBlocks(self._check_input(X, reset=True))
        name = type(self).__name__
        if np.dtype(X.dtype) not in (np.float32, np.float64):
            raise InvalidParameterError(
                f"{name} fits float32 or float64 data; the block source holds {X.dtype}.")
        if self.positive_input and X.non_negative is False:
            raise InvalidParameterError(
                f"Negative values in data passed to {name}; it needs non-negative X "
                "(term counts or tf-idf weights), or use LSA for signed data.")
        self.n_features_in_ = X.shape[1]
        if hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        return X

    def _check_n_topics(self, X, *, strict: bool = False, why: str = "") -> int:
        """Check n_topics against the shape of X; ``strict`` demands fewer than both sides."""
        name = type(self).__name__
        k = _validation.check_int(self.n_topics, "n_topics", low=1, high=MAX_TOPICS, owner=name)
        for count, what, axis in ((X.shape[0], "documents", "n_samples"),
                                  (X.shape[1], "terms", "n_features")):
            limit = count - 1 if strict else count
            if k > limit:
                bound = "at least as large as" if strict else "larger than"
                raise InvalidParameterError(
                    f"n_topics={k} is {bound} the number of {what} ({axis}={count}){why}; "
                    f"ask for at most {max(limit, 1)} topics."
                )
        return k

    def _check_iteration_params(self) -> None:
        name = type(self).__name__
        _validation.check_int(self.max_iter, "max_iter", low=1, owner=name)
        _validation.check_float(self.tol, "tol", low=0.0, owner=name)
        if self.callback is not None and not callable(self.callback):
            raise InvalidParameterError(
                f"The 'callback' parameter of {name} must be a callable or None. "
                f"Got {self.callback!r} instead."
            )

    def _rng(self) -> np.random.RandomState:
        try:
            return check_random_state(self.random_state)
        except ValueError as exc:
            raise InvalidParameterError(
                f"The 'random_state' parameter of {type(self).__name__} must be None, an int "
                f"in [0, 2**32 - 1] or a numpy RandomState. Got {self.random_state!r} instead."
            ) from exc

    # ------------------------------------------------------------ iteration
    def _iterate(self, sweep, state, objective, *, maximize: bool = False):
        """Repeat ``sweep`` until the objective settles; return (state, history).

        ``sweep(state)`` returns the objective of ``state`` and the next state, which may be
        ``state`` itself updated in place (the fits keep one copy of their factors);
        ``objective(state)`` computes the objective alone. ``history[i - 1]`` is the
        objective after i iterations and the state returned is the one whose objective was
        recorded last: when the fit stops, the objective of the last state is computed on
        its own (one pass, instead of a last sweep).

        The fit stops when the improvement over the last ``STOP_WINDOW`` iterations is at most
        ``tol`` times the objective at the start (scikit-learn's NMF rule, checked every
        iteration with the threshold scaled to windows shorter at the start). Judging one
        iteration alone stops multiplicative updates too early: they improve slowly but
        steadily, and on 20 Newsgroups that rule ended NMF at 18 iterations, sklearn's at 40.
        """
        history: list[float] = []
        objectives: list[float] = []
        for n_iter in range(self.max_iter + 1):
            last = n_iter == self.max_iter
            if last:
                value = float(objective(state))
            else:
                value, state = sweep(state)  # the objective of the state before this sweep
                value = float(value)
            objectives.append(value)
            if n_iter == 0:
                continue
            history.append(value)
            if self.callback is not None:
                self.callback(n_iter, value)
            window = min(n_iter, STOP_WINDOW)
            earlier = objectives[n_iter - window]
            gain = value - earlier if maximize else earlier - value
            if gain <= self.tol * abs(objectives[0]) * window / STOP_WINDOW:
                if not last:  # the sweep has moved on: record where it stands
                    history.append(float(objective(state)))
                    if self.callback is not None:
                        self.callback(n_iter + 1, history[-1])
                return state, history
        self._warn_not_converged(f"{type(self).__name__}.fit")
        return state, history

    def _best_of_restarts(self, source, fit_once, *, maximize: bool = False):
        """Fit ``n_init`` times and keep the fit of the best objective: the first from
        ``init``, the others from random starts (drawn in turn from the one random state, so
        the whole is deterministic). ``fit_once(init)`` returns (state, history, width) and
        leaves its document-side array in ``source`` as "W" (``width`` columns); the best one
        is left there as "W". ``restart_objectives_`` holds each fit's last objective."""
        n_init = int(self.n_init)  # checked by _check_params
        best = None
        objectives = []
        for restart in range(n_init):
            state, history, width = fit_once(self.init if restart == 0 else "random")
            value = history[-1]
            objectives.append(float(value))
            if n_init == 1:
                best = (state, history)
                break
            if best is None or (value > best[1][-1] if maximize else value < best[1][-1]):
                best = (state.copy(), history)
                if restart == 0:
                    source.allocate("W_best", width, source.dtype, fill=None)
                source.map_reduce(_copy_step, "W", "W_best")
            source.release("W")
        if n_init > 1:
            source.allocate("W", width, source.dtype, fill=None)
            source.map_reduce(_copy_step, "W_best", "W")
            source.release("W_best")
        self.restart_objectives_ = objectives
        return best

    def _fold_in(self, X, W, step, *, maximize: bool = False) -> np.ndarray:
        """Update the rows of ``W`` with ``step`` until each row's own objective settles.

        ``step(X_rows, W_rows)`` returns per-row objectives of ``W_rows`` and the updated
        rows. Deciding convergence per document makes a document's vector independent of
        the batch it arrives in.
        """
        unsettled = 0
        for block in _kernels.row_blocks(X, W.shape[1]):
            X_block = _kernels.take_rows(X, block)
            W[block], n_left = self._fold_in_block(X_block, W[block], step, maximize)
            unsettled += n_left
        if unsettled:
            self._warn_not_converged(f"{type(self).__name__}.transform",
                                     f" for {unsettled} of {X.shape[0]} documents")
        return W

    def _fold_in_block(self, X, W, step, maximize):
        active = np.arange(X.shape[0])
        reference = previous = None
        for n_iter in range(self.max_iter + 1):
            objective, W_next = step(X, W[active])
            if n_iter == 0:
                reference = np.abs(objective)
            else:
                gain = objective - previous if maximize else previous - objective
                going = np.flatnonzero(gain > self.tol * reference)
                if going.size < active.size:
                    active, objective, W_next = active[going], objective[going], W_next[going]
                    reference, X = reference[going], X[going]
            if n_iter == self.max_iter or active.size == 0:
                break
            W[active] = W_next
            previous = objective
        return W, active.size

    def _warn_not_converged(self, where: str, scope: str = "") -> None:
        warnings.warn(
            f"{where} reached max_iter={self.max_iter} before the relative change of its "
            f"objective fell below tol={self.tol:g}{scope}; raise max_iter or tol.",
            ConvergenceWarning,
            stacklevel=4,  # the caller of fit or transform
        )

    # ----------------------------------------------------------------- output
    def top_terms(self, terms, n: int = 10) -> list[list[tuple[str, float]]]:
        """Per topic, the ``n`` terms of highest weight as (term, weight), highest first."""
        self._check_fitted()
        name = type(self).__name__
        n = _validation.check_int(n, "n", low=1, owner=f"{name}.top_terms")
        terms = list(terms)
        if len(terms) != self.components_.shape[1]:
            raise InvalidParameterError(
                f"top_terms got {len(terms)} terms but {name} was fitted on "
                f"{self.components_.shape[1]}; pass the vocabulary the model was fitted on."
            )
        n = min(n, len(terms))
        result = []
        for weights in self.components_:
            best = np.argpartition(-weights, n - 1)[:n]
            best = best[np.lexsort((best, -weights[best]))]  # ties: lower term index first
            result.append([(terms[i], float(weights[i])) for i in best])
        return result

    # ------------------------------------------------------------------ state
    def get_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """Return (JSON-serializable settings and scalars, numpy arrays) of the fitted model.

        A ``callback`` is not saved, nor a ``random_state`` that is not an int.
        """
        self._check_fitted()
        params = {name: _plain(value) for name, value in self.get_params().items()
                  if name != "callback"}
        if not isinstance(params.get("random_state"), (numbers.Integral, type(None))):
            params["random_state"] = None
        scalars = {name: _plain(getattr(self, name)) for name in self._state_scalars}
        arrays = {name: getattr(self, name) for name in self._state_arrays}
        if hasattr(self, "feature_names_in_"):
            arrays["feature_names_in_"] = np.asarray(self.feature_names_in_, dtype=str)
        return {"model": type(self).__name__, "params": params, "attributes": scalars}, arrays

    @classmethod
    def from_state(cls, params: dict, arrays: dict) -> "LatentFactorModel":
        """Rebuild a fitted model from the output of :meth:`get_state`, without refitting.

        Called on the base class, the model class is taken from the saved state.
        """
        try:
            saved = params["model"]
            model_cls = _REGISTRY.get(saved) if cls is LatentFactorModel else cls
            if model_cls is None or saved != model_cls.__name__:
                raise ModelFileError(
                    f"The saved model is a {saved!r}, not a {cls.__name__}; load it with "
                    "the matching model class."
                )
            params, arrays = model_cls._upgrade_state(params, arrays)
            model = model_cls(**params["params"])
            model._check_params()
            for name in model_cls._state_scalars:
                setattr(model, name, params["attributes"][name])
            for name in model_cls._state_arrays:
                setattr(model, name, np.asarray(arrays[name]))
            if "feature_names_in_" in arrays:
                model.feature_names_in_ = np.asarray(arrays["feature_names_in_"], dtype=object)
            model._check_state()
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ModelFileError):
                raise
            raise ModelFileError(
                f"The saved {cls.__name__} state is incomplete or invalid ({exc}); "
                "fit and save the model again."
            ) from exc
        return model

    @classmethod
    def _upgrade_state(cls, params: dict, arrays: dict) -> tuple[dict, dict]:
        """Bring a state saved by an earlier version of the model up to date (no change here)."""
        return params, arrays

    def merged(self, groups) -> "LatentFactorModel":
        """A copy of this fitted model with each group of topics (lists of topic numbers that
        together cover every topic once) made one topic, in the order of ``groups``.

        A merged topic's term weights are its topics' weights averaged by how much of the
        corpus each holds (the column sums of ``doc_topic_``: for PLSA, p(w|merged) is the
        p(z)-weighted mixture of its topics' p(w|z)); a document's weight on it is the sum of
        its weights on them. The copy folds in new documents like any fitted model; its
        ``history_`` is the original fit's.
        """
        self._check_fitted()
        if not self.mergeable:
            raise InvalidParameterError(
                f"{type(self).__name__} topics cannot be merged: its topics are not a sum of "
                f"non-negative parts (merge NMF or PLSA topics).")
        k = self.components_.shape[0]
        groups = [[int(t) for t in group] for group in groups]
        flat = sorted(t for group in groups for t in group)
        if flat != list(range(k)) or not all(groups):
            raise InvalidParameterError(
                f"'groups' must hold every topic 0..{k - 1} once, in non-empty groups; got "
                f"{groups}.")
        mass = self.doc_topic_.sum(axis=0).astype(np.float64)
        components, doc_topic = [], []
        for group in groups:
            weights = mass[group] / mass[group].sum() if mass[group].sum() > 0 else \
                np.full(len(group), 1.0 / len(group))
            components.append(weights @ self.components_[group])
            doc_topic.append(self.doc_topic_[:, group].sum(axis=1))
        import copy

        model = copy.copy(self)
        model.n_topics = len(groups)
        model.components_ = np.asarray(components, dtype=self.components_.dtype)
        model.doc_topic_ = np.stack(doc_topic, axis=1).astype(self.doc_topic_.dtype)
        return model

    def _check_state(self) -> None:
        H, W = self.components_, self.doc_topic_
        ok = (H.ndim == 2 and W.ndim == 2 and H.shape[1] == self.n_features_in_
              and W.shape[1] == H.shape[0] and np.isfinite(H).all() and np.isfinite(W).all())
        if not ok:
            raise ModelFileError(
                f"The saved {type(self).__name__} arrays have inconsistent shapes or "
                "non-finite values; fit and save the model again."
            )


def _copy_step(ctx, X, name, target):
    ctx.local[target][...] = ctx.local[name]


def _plain_csr(X) -> bool:
    """Whether X is a 2-D float32/float64 CSR matrix or array."""
    return (sp.issparse(X) and X.format == "csr" and X.ndim == 2
            and X.dtype in (np.float32, np.float64))


def _plain(value):
    """Convert numpy scalars and lists of them into plain JSON-ready Python values."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
