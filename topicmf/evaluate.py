"""How good are the topics? Coherence, diversity, fit, agreement with labels, stability.

Every function takes plain inputs (token lists, term lists, matrices, label lists) so that the
numbers can be reproduced outside topicmf. Coherence goes through gensim's CoherenceModel, with
the settings that decide its value (``topn``, the window size) returned beside it.

    scorer = Coherence(token_lists, vocabulary.terms)
    scorer.score(model.top_terms(vocabulary.terms, 10))["c_npmi"].value
"""

from __future__ import annotations

import itertools
import math
import os
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ._validation import check_choice, check_int
from .errors import InvalidParameterError
from .models import _kernels

__all__ = ["Coherence", "CoherenceResult", "MEASURES", "WINDOW_SIZES", "topic_diversity",
           "reconstruction_error", "log_likelihood", "model_log_likelihood",
           "heldout_perplexity", "purity", "label_agreement", "match_topics", "stability",
           "topic_recurrence"]

MEASURES = ("c_npmi", "c_v", "u_mass")
#: gensim's default windows (tokens); u_mass counts whole documents.
WINDOW_SIZES = {"c_npmi": 10, "c_v": 110, "u_mass": None}
#: Value given to a topic whose score gensim cannot define (e.g. a word that never occurs).
FLOOR = {"c_npmi": -1.0, "c_v": 0.0, "u_mass": math.log(1e-12)}
#: Below this many tokens a second process costs more than it saves.
PARALLEL_TOKENS = 500_000


@dataclass
class CoherenceResult:
    """One coherence measure of one set of topics, with the settings that produced it."""

    measure: str
    value: float                 # mean over topics
    per_topic: list[float]
    topn: int
    window_size: int | None      # None: whole documents (u_mass)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"measure": self.measure, "value": self.value, "per_topic": self.per_topic,
                "topn": self.topn, "window_size": self.window_size, "notes": self.notes}


class Coherence:
    """Topic coherence against a tokenized reference corpus (usually the corpus itself).

    Measures (Röder, Both & Hinneburg 2015, "Exploring the space of topic coherence measures"):

    - ``c_npmi``: mean over the pairs of a topic's top terms of the normalized pointwise mutual
      information NPMI(a, b) = log(P(a, b) / (P(a) P(b))) / -log P(a, b), with P counted over
      sliding windows of ``window_size`` tokens (default 10). Range [-1, 1]. (Bouma 2009.)
    - ``c_v``: cosine similarity between each top term's NPMI vector against the topic's top
      terms and the sum of those vectors, over windows of 110 tokens. Range about [0, 1].
    - ``u_mass``: mean of log((D(a, b) + 1e-12) / D(b)) over ordered pairs, D counting
      documents (Mimno et al. 2011). At most 0; closer to 0 is more coherent.

    The co-occurrence counts of a measure are gathered once for every term of every topic
    scored together (:meth:`score_many`), and reused as long as later topics use no other term;
    gensim counts sliding windows in two processes when the corpus is large enough.

    ``token_lists`` are restricted to ``terms`` before counting, so the windows run over the
    vocabulary the models saw. A pair that never co-occurs gets gensim's smoothed value (for
    NPMI between -1 and 0, from its epsilon of 1e-12), never NaN; the result's notes say how
    many pairs that was. A topic gensim still cannot score gets the measure's floor (NPMI -1,
    C_V 0, UMass log 1e-12) and a note.
    """

    def __init__(self, token_lists, terms, *, topn: int = 10, window_sizes: dict | None = None,
                 processes: int | None = None):
        from gensim.corpora import Dictionary

        self.topn = check_int(topn, "topn", low=2, owner="Coherence")
        self.window_sizes = {**WINDOW_SIZES, **(window_sizes or {})}
        for measure in ("c_npmi", "c_v"):
            check_int(self.window_sizes[measure], f"window_sizes['{measure}']", low=2,
                      owner="Coherence")
        self.terms = [str(t) for t in terms]
        if len(self.terms) < 2:
            raise InvalidParameterError("Coherence needs a vocabulary of at least 2 terms.")
        known = set(self.terms)
        self.texts = [[t for t in tokens if t in known] for tokens in token_lists]
        self.dictionary = Dictionary()
        self.dictionary.token2id = {t: i for i, t in enumerate(self.terms)}
        n_tokens = sum(map(len, self.texts))
        if processes is None:
            processes = min(2, os.cpu_count() or 1) if n_tokens >= PARALLEL_TOKENS else 1
        self.processes = check_int(processes, "processes", low=1, owner="Coherence")
        self._bow = None
        self._models = {}    # measure -> gensim CoherenceModel holding the counts
        self._covered = {}   # measure -> term ids the counts cover

    def score(self, topics, measures=("c_npmi",)) -> dict[str, CoherenceResult]:
        """Score one set of topics; ``topics`` are lists of terms or of (term, weight)."""
        return self.score_many([topics], measures)[0]

    def score_many(self, topic_sets, measures=("c_npmi",)) -> list[dict[str, CoherenceResult]]:
        """Score several sets of topics (e.g. one per model) from one pass over the texts."""
        topic_sets = [[self._topic_ids(topic) for topic in topics] for topics in topic_sets]
        if not topic_sets or not all(topic_sets):
            raise InvalidParameterError("Coherence.score needs at least one topic per set.")
        results = [{} for _ in topic_sets]
        for measure in measures:
            check_choice(measure, "measure", MEASURES, owner="Coherence")
            model = self._counted(measure, [t for topics in topic_sets for t in topics])
            for result, topics in zip(results, topic_sets):
                result[measure] = self._score_one(model, measure, topics)
        return results

    # ------------------------------------------------------------------ internals
    def _topic_ids(self, topic) -> np.ndarray:
        words = [w[0] if isinstance(w, (tuple, list)) else w for w in topic][: self.topn]
        ids = [self.dictionary.token2id.get(str(w)) for w in words]
        missing = [w for w, i in zip(words, ids) if i is None]
        if missing:
            raise InvalidParameterError(
                f"Topic terms {missing[:3]} are not in the vocabulary given to Coherence; "
                "pass the vocabulary the model was fitted on.")
        return np.array(ids)

    def _counted(self, measure, all_topics):
        """The CoherenceModel for ``measure``, its counts covering every term of all_topics."""
        from gensim.models.coherencemodel import CoherenceModel

        needed = {int(i) for topic in all_topics for i in topic}
        model = self._models.get(measure)
        if model is not None and needed <= self._covered[measure]:
            return model
        # Count once for the union of what was covered before and what is needed now.
        covered = needed | self._covered.get(measure, set())
        union = [np.array(sorted(covered))]
        if measure == "u_mass" and self._bow is None:
            self._bow = [self.dictionary.doc2bow(text) for text in self.texts]
        model = CoherenceModel(
            topics=union, texts=self.texts, corpus=self._bow if measure == "u_mass" else None,
            dictionary=self.dictionary, coherence=measure, topn=max(len(covered), 1),
            window_size=self.window_sizes[measure], processes=self.processes)
        model.estimate_probabilities()
        self._models[measure], self._covered[measure] = model, covered
        return model

    def _score_one(self, model, measure, topics) -> CoherenceResult:
        model.topics = topics  # keeps the counts: they cover these terms
        values = model.get_coherence_per_topic()
        notes, per_topic = [], []
        for k, (value, topic) in enumerate(zip(values, topics)):
            if not np.isfinite(value):
                notes.append(f"topic {k}: {measure} undefined (a term never occurs in the "
                             f"reference texts); set to {FLOOR[measure]:g}")
                value = FLOOR[measure]
            per_topic.append(float(value))
            apart = self._pairs_never_together(model, topic)
            if apart:
                pairs = len(topic) * (len(topic) - 1) // 2
                where = ("document" if measure == "u_mass"
                         else f"window of {self.window_sizes[measure]} tokens")
                notes.append(f"topic {k}: {apart} of {pairs} term pairs never share a "
                             f"{where}; each counts with gensim's smoothed value")
        window = self.window_sizes[measure]
        return CoherenceResult(measure=measure, value=float(np.mean(per_topic)),
                               per_topic=per_topic, topn=self.topn, window_size=window,
                               notes=notes)

    @staticmethod
    def _pairs_never_together(model, topic) -> int:
        counts = model._accumulator
        return sum(1 for a, b in itertools.combinations(topic.tolist(), 2)
                   if counts[a, b] == 0)


# ---------------------------------------------------------------------------- diversity

def topic_diversity(topics, topn: int = 25) -> float:
    """Share of unique terms among all topics' top ``topn`` terms (Dieng, Ruiz & Blei 2020,
    "Topic modeling in embedding spaces"). 1 means no term is shared; K identical topics give
    1/K. ``topics`` are lists of terms or of (term, weight), best first."""
    topn = check_int(topn, "topn", low=1, owner="topic_diversity")
    tops = [[w[0] if isinstance(w, (tuple, list)) else w for w in topic][:topn]
            for topic in topics]
    total = sum(map(len, tops))
    if total == 0:
        raise InvalidParameterError("topic_diversity needs at least one topic with terms.")
    return len(set(itertools.chain.from_iterable(tops))) / total


# ----------------------------------------------------------------------------- model fit

def reconstruction_error(X, W, H, *, relative: bool = False) -> float:
    """Frobenius norm ||X - W H|| (divided by ||X|| if ``relative``), for LSA and NMF.

    Computed as ||X||^2 - 2 tr(W^T X H^T) + tr(W^T W H H^T), never forming X - W H.
    """
    X = sp.csr_array(X, dtype=np.float64)
    W, H = np.asarray(W, dtype=np.float64), np.asarray(H, dtype=np.float64)
    sq_x = float((X.data ** 2).sum())
    cross = float(np.einsum("ij,ij->", W, np.asarray(X @ H.T)))
    sq_wh = float(np.einsum("ij,ji->", W.T @ W, H @ H.T))
    error = math.sqrt(max(sq_x - 2.0 * cross + sq_wh, 0.0))
    if relative:
        return error / math.sqrt(sq_x) if sq_x > 0 else 0.0
    return error


def log_likelihood(X, theta, phi, *, background: float = 0.0,
                   background_distribution=None) -> float:
    """Log-likelihood sum_dw x_dw log P(w | d) of counts X under a topic model whose rows of
    ``theta`` (P(topic | document)) and ``phi`` (P(term | topic)) sum to 1.

    P(w | d) is sum_k theta_dk phi_kw, or with a background (PLSA's ``background`` and
    ``background_``) b P_B(w) + (1 - b) sum_k theta_dk phi_kw. :func:`model_log_likelihood`
    takes both from a fitted model."""
    X = sp.csr_array(X, dtype=np.float64)
    theta, phi = np.asarray(theta, dtype=np.float64), np.asarray(phi, dtype=np.float64)
    p = _kernels.product_at_nonzeros(X, theta, np.ascontiguousarray(phi.T))
    if background:
        p = (1.0 - background) * p + background * np.asarray(
            background_distribution, dtype=np.float64)[X.indices]
    return float(X.data @ np.log(np.maximum(p, np.finfo(float).tiny)))


def model_log_likelihood(model, X, theta) -> float:
    """:func:`log_likelihood` of counts ``X`` with P(topic | document) ``theta`` under the
    fitted probabilistic ``model`` (PLSA, LDA), its background included if it has one."""
    background = float(getattr(model, "background", 0.0) or 0.0)
    return log_likelihood(X, theta, model.components_, background=background,
                          background_distribution=getattr(model, "background_", None))


def heldout_perplexity(model, X_heldout, *, random_state=0) -> float:
    """Perplexity exp(-log-likelihood / tokens) of held-out documents ("document completion",
    Wallach et al. 2009, "Evaluation methods for topic models").

    ``model`` is a fitted probabilistic model (PLSA, LDA) that never saw these documents. Each
    held-out document's tokens are split at random in two halves: its topic mixture is folded
    in from the first half and the second half is scored. Scoring the tokens that were folded
    in would reward a model for memorizing them (PLSA especially). Lower is better, and only
    comparable between models on the same vocabulary and the same held-out documents.

    Terms the model never saw in training (all of their P(w|z) zero, as PLSA leaves them) are
    not scored: each would add log 0 and make the perplexity infinite, which says nothing
    about the topics. Models with a smoothed P(w|z) (LDA) are scored on the same tokens.
    """
    X = sp.csr_array(X_heldout)
    if X.nnz and (X.data < 0).any():
        raise InvalidParameterError("heldout_perplexity needs term counts (no negative values).")
    rng = np.random.RandomState(random_state)
    counts = np.rint(X.data).astype(np.int64)
    first = rng.binomial(counts, 0.5)
    observed = sp.csr_array((first.astype(np.float64), X.indices, X.indptr), shape=X.shape)
    scored = sp.csr_array(((counts - first).astype(np.float64), X.indices, X.indptr),
                          shape=X.shape)
    usable = (np.diff(observed.indptr) > 0) & (np.asarray(scored.sum(axis=1)).ravel() > 0)
    observed.eliminate_zeros()
    rows = np.flatnonzero(usable)
    if rows.size == 0:
        raise InvalidParameterError("heldout_perplexity needs held-out documents with at "
                                    "least two tokens in the vocabulary.")
    theta = model.transform(observed[rows])
    scored = scored[rows]
    seen = np.asarray(model.components_).max(axis=0) > 0
    if getattr(model, "background", 0):
        seen |= np.asarray(model.background_) > 0
    unseen = ~seen
    scored.data[unseen[scored.indices]] = 0
    scored.eliminate_zeros()
    total = scored.sum()
    if total == 0:
        raise InvalidParameterError("heldout_perplexity: no held-out token is of a term the "
                                    "model saw in training.")
    return float(np.exp(-model_log_likelihood(model, scored, theta) / total))


# -------------------------------------------------------------------------------- labels

def purity(labels, assignments) -> float:
    """Share of documents whose topic's most common label is their own label (Manning et
    al. 2008, "Introduction to Information Retrieval", 16.3). 1 is perfect; with one topic
    it is the share of the largest class."""
    return _purity(_contingency(labels, assignments))


def label_agreement(labels, assignments) -> dict[str, float]:
    """NMI (arithmetic normalization), adjusted Rand index (Hubert & Arabie 1985) and purity
    between the labels and each document's dominant topic, by scikit-learn's definitions
    (a test holds them to its functions; computed here from the contingency table because
    importing scikit-learn takes longer than a small run)."""
    labels, assignments = _as_list(labels), _as_list(assignments)
    if len(labels) != len(assignments) or not labels:
        raise InvalidParameterError(
            f"label_agreement got {len(labels)} labels and {len(assignments)} topic "
            "assignments; give one label per fitted document.")
    table = _contingency(labels, assignments)
    return {"nmi": _nmi(table), "ari": _ari(table), "purity": _purity(table)}


def _purity(table: np.ndarray) -> float:
    return float(table.max(axis=0).sum() / table.sum())


def _contingency(labels, assignments) -> np.ndarray:
    """Documents per (label, topic): labels x topics, int64."""
    _, label_codes = np.unique(np.asarray(_as_list(labels)), return_inverse=True)
    topics, topic_codes = np.unique(np.asarray(_as_list(assignments)), return_inverse=True)
    table = np.zeros((label_codes.max() + 1, len(topics)), dtype=np.int64)
    np.add.at(table, (label_codes.ravel(), topic_codes.ravel()), 1)
    return table


def _entropy(counts: np.ndarray) -> float:
    counts = counts[counts > 0].astype(np.float64)
    if counts.size <= 1:
        return 0.0
    total = counts.sum()
    return float(-np.sum((counts / total) * (np.log(counts) - np.log(total))))


def _nmi(table: np.ndarray) -> float:
    """Mutual information over the arithmetic mean of the two entropies; 1 when neither
    side splits the documents, 0 when they share no information."""
    if table.shape[0] == table.shape[1] == 1:
        return 1.0
    rows, cols = np.nonzero(table)
    joint = table[rows, cols].astype(np.float64)
    total = joint.sum()
    p_row, p_col = table.sum(axis=1).astype(np.float64), table.sum(axis=0).astype(np.float64)
    share = joint / total
    log_outer = -np.log(p_row[rows] * p_col[cols]) + np.log(p_row.sum()) + np.log(p_col.sum())
    terms = share * (np.log(joint) - np.log(total)) + share * log_outer
    terms = np.where(np.abs(terms) < np.finfo(np.float64).eps, 0.0, terms)
    mi = max(float(terms.sum()), 0.0)
    if abs(mi) < np.finfo(np.float64).eps:
        return 0.0
    return float(mi / ((_entropy(p_row) + _entropy(p_col)) / 2))


def _ari(table: np.ndarray) -> float:
    """Adjusted Rand index from the pair counts of the contingency table."""
    n = int(table.sum())
    per_label, per_topic = table.sum(axis=1), table.sum(axis=0)
    squares = int((table ** 2).sum())
    same_both = squares - n
    same_topic_only = int((table @ per_topic).sum()) - squares
    same_label_only = int((table.T @ per_label).sum()) - squares
    neither = n * n - same_topic_only - same_label_only - squares
    if same_topic_only == 0 and same_label_only == 0:
        return 1.0
    return float(2.0 * (same_both * neither - same_label_only * same_topic_only)
                 / ((same_both + same_label_only) * (same_label_only + neither)
                    + (same_both + same_topic_only) * (same_topic_only + neither)))


def _as_list(values) -> list:
    return [str(v) for v in values]


# ----------------------------------------------------------------------------- stability

def match_topics(A, B) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pair the topics of two runs one to one (Hungarian algorithm, Kuhn 1955) so that the
    summed cosine similarity of their topic-term vectors is largest.

    Returns (rows of A, matched rows of B, their cosine similarities)."""
    A, B = np.asarray(A, dtype=np.float64), np.asarray(B, dtype=np.float64)
    if A.ndim != 2 or A.shape[1] != B.shape[1]:
        raise InvalidParameterError("match_topics needs two topic-term matrices over the same "
                                    "terms.")
    from scipy.optimize import linear_sum_assignment

    similarity = _unit_rows(A) @ _unit_rows(B).T
    rows, cols = linear_sum_assignment(similarity, maximize=True)
    return rows, cols, similarity[rows, cols]


def stability(components) -> float:
    """Mean matched cosine similarity over every pair of runs (Greene, O'Callaghan &
    Cunningham 2014, "How many topics? Stability analysis for topic models", with cosine
    matching in place of term-list agreement). ``components`` holds one topic-term matrix
    per run (e.g. one per seed). 1 means every run found the same topics."""
    components = list(components)
    if len(components) < 2:
        raise InvalidParameterError("stability needs the topics of at least two runs "
                                    "(give at least two seeds).")
    scores = [match_topics(a, b)[2].mean() for a, b in itertools.combinations(components, 2)]
    return float(np.mean(scores))


def topic_recurrence(reference, runs) -> np.ndarray:
    """How well each topic of ``reference`` (a topic-term matrix) recurs in the other
    ``runs`` (topic-term matrices of refits: other seeds, other samples of the documents):
    per topic, the mean over the runs of the cosine similarity with the topic it is paired
    with (:func:`match_topics`). 1 means every run found that topic again; a low value marks
    a topic the fit does not reliably find."""
    runs = list(runs)
    if not runs:
        raise InvalidParameterError("topic_recurrence needs the topics of at least one other "
                                    "run (give at least two seeds).")
    reference = np.asarray(reference, dtype=np.float64)
    total = np.zeros(reference.shape[0])
    for other in runs:
        rows, _, cosines = match_topics(reference, other)
        total[rows] += cosines
    return total / len(runs)


def _unit_rows(A: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(A, axis=1, keepdims=True)
    return np.divide(A, norms, out=np.zeros_like(A), where=norms > 0)
