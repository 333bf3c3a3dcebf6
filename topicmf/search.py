"""Finding documents by topic: a query folded into the model and the documents ranked by the
cosine of their topic vectors to its, or a topic's documents by their weight on it.

    from topicmf.search import search, topic_documents
    search(result, "central bank raises rates", n=10)   # [{"doc_id", "label", "score", "topic"}]
    topic_documents(result, 3, n=10)                    # the documents most about topic 3

``result`` is a :class:`topicmf.pipeline.TopicResult`, fresh or read back with
:func:`topicmf.runs.load_run`; the same functions are ``result.search`` and
``result.topic_documents``. The vectors are the ones every output shows (the model's
``display_weights``): topic mixtures for NMF, PLSA and LDA, LSA's coordinates, for which
cosine ranking is classic latent semantic indexing. Which model and K to use for search is
in the README, measured by ``benchmarks/search.py``.
"""

from __future__ import annotations

import warnings

import numpy as np

from ._validation import check_int
from .errors import InvalidParameterError, TopicmfWarning

__all__ = ["search", "topic_documents", "rank_by_cosine"]


def rank_by_cosine(vectors: np.ndarray, query: np.ndarray, n: int,
                   exclude: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cosines) of the ``n`` rows of ``vectors`` closest to ``query`` by cosine, best
    first, ties by row; a zero row scores 0. ``exclude``: a row left out (the query's own)."""
    norms = np.linalg.norm(vectors, axis=1)
    scores = vectors @ query
    scale = norms * max(float(np.linalg.norm(query)), 1e-300)
    scores = np.divide(scores, scale, out=np.zeros_like(scores, dtype=np.float64),
                       where=scale > 0)
    if exclude is not None:
        scores[exclude] = -np.inf
    top = _top(scores, min(n, len(scores) - (exclude is not None)))
    return top, scores[top]


def search(result, query: str, n: int = 10) -> list[dict]:
    """The ``n`` fitted documents whose topic vectors are closest (cosine) to the query's
    folded-in vector: ``doc_id``, ``label`` (or None), ``score`` (the cosine) and ``topic``
    (the document's dominant topic), best first. A query with no term of the vocabulary
    matches nothing: an empty list and a TopicmfWarning."""
    if not isinstance(query, str) or not query.strip():
        raise InvalidParameterError("The query must be some text, e.g. 'interest rates'.")
    n = check_int(n, "n", low=1, owner="search")
    vectors, known = result.analysis.doc_vectors([query])
    if not known[0]:
        warnings.warn(f"the query {query[:60]!r} shares no term with the model's vocabulary; "
                      f"nothing matches it.", TopicmfWarning, stacklevel=2)
        return []
    rows, scores = rank_by_cosine(np.asarray(result.doc_weights, dtype=np.float64),
                                  vectors[0], n)
    return _hits(result, rows, scores)


def topic_documents(result, topic: int, n: int = 10) -> list[dict]:
    """The ``n`` fitted documents with the largest weight on ``topic``, best first (``score``:
    that weight)."""
    topic = check_int(topic, "topic", low=0, high=result.analysis.n_topics - 1,
                      owner="topic_documents")
    n = check_int(n, "n", low=1, owner="topic_documents")
    weights = np.asarray(result.doc_weights[:, topic], dtype=np.float64)
    rows = _top(weights, n)
    return _hits(result, rows, weights[rows])


def _top(scores: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` largest ``scores``, largest first, ties by lower index (what a
    stable sort would give), without sorting all of them."""
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    if n < len(scores):  # all above the n-th score, then the lowest rows tied with it
        cut = scores[np.argpartition(-scores, n - 1)[n - 1]]
        above = np.flatnonzero(scores > cut)
        top = np.concatenate([above, np.flatnonzero(scores == cut)[:n - len(above)]])
    else:
        top = np.arange(len(scores))
    return top[np.lexsort((top, -scores[top]))]


def _hits(result, rows, scores) -> list[dict]:
    ids = result.fitted_ids(rows)
    labels = result.fitted_labels
    # The dominant topics of the rows returned only, not of every fitted document.
    dominant = np.asarray(result.doc_weights[rows]).argmax(axis=1)
    return [{"doc_id": doc_id, "label": None if labels is None else labels[int(row)],
             "score": round(float(score), 6), "topic": int(topic)}
            for doc_id, row, score, topic in zip(ids, rows, scores, dominant)]
