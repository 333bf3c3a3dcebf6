"""Finding documents by topic: a query folded into the model and the documents ranked by the
cosine of their topic vectors to its, the documents most like one of them, or a topic's
documents by their weight on it.

    from topicmf.search import search, similar, topic_documents
    search(result, "central bank raises rates", n=10)   # [{"doc_id", "label", "score", "topic"}]
    similar(result, "finance/001.txt", n=10)            # like a fitted document (id or row)
    topic_documents(result, 3, n=10)                    # the documents most about topic 3

``result`` is a :class:`topicmf.pipeline.TopicResult`, fresh or read back with
:func:`topicmf.runs.load_run`; the same functions are ``result.search``, ``result.similar``
and ``result.topic_documents``. The vectors are the ones every output shows (the model's
``display_weights``): topic mixtures for NMF, PLSA and LDA, LSA's coordinates, for which
cosine ranking is classic latent semantic indexing. Which model, weighting and K to use for search
and similarity is in the README, measured by ``benchmarks/search.py`` and
``benchmarks/similarity.py``.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from ._validation import check_int
from .errors import InvalidParameterError, TopicmfWarning

__all__ = ["search", "similar", "topic_documents", "rank_by_cosine"]


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
    return _ranked(result, _folded(result, query), n)


def similar(result, doc, n: int = 10, *, allow_text: bool = True) -> list[dict]:
    """The ``n`` fitted documents whose vectors are closest (cosine) to ``doc``'s, as
    :func:`search` gives them. ``doc`` is a fitted document, by its id (a str) or its row in
    ``result.doc_weights`` (an int), and is left out of its own list; or any other str, a
    text folded in as a query is (unless ``allow_text`` is False: then a str must be an id).
    A document id wins over the same text."""
    n = check_int(n, "n", low=1, owner="similar")
    row = _fitted_row(result, doc, allow_text)
    if row is None:
        return _ranked(result, _folded(result, doc), n)
    vector = np.asarray(result.doc_weights[row], dtype=np.float64)
    return _ranked(result, vector, n, exclude=row)


def _fitted_row(result, doc, allow_text: bool) -> int | None:
    """The row of the fitted document ``doc`` names, or None for a text."""
    n_fitted = result.doc_weights.shape[0]
    if isinstance(doc, numbers.Integral) and not isinstance(doc, bool):
        return check_int(doc, "doc", low=0, high=n_fitted - 1, owner="similar")
    if not isinstance(doc, str) or not doc.strip():
        raise InvalidParameterError(
            f"The 'doc' parameter of similar must be a document id, the row of a fitted "
            f"document (an int) or some text, e.g. 'interest rates'. Got {doc!r} instead.")
    ids = result.fitted_ids(range(n_fitted))
    if doc in ids:
        return ids.index(doc)
    if doc in result.excluded:
        raise InvalidParameterError(f"The document {doc!r} has no term left after stopwords "
                                    f"and pruning, so no vector to compare; give another.")
    if not allow_text:
        raise InvalidParameterError(f"No fitted document has the id {doc!r}; give one of the "
                                    f"ids in doc_topics.csv.")
    return None


def _folded(result, text: str) -> np.ndarray | None:
    """A text's folded-in vector, or None (with a TopicmfWarning) when it has no known term."""
    vectors, known = result.analysis.doc_vectors([text])
    if not known[0]:
        warnings.warn(f"the query {text[:60]!r} shares no term with the model's vocabulary; "
                      f"nothing matches it.", TopicmfWarning, stacklevel=3)
        return None
    return vectors[0]


def _ranked(result, query: np.ndarray | None, n: int, exclude: int | None = None) -> list[dict]:
    if query is None:
        return []
    rows, scores = rank_by_cosine(np.asarray(result.doc_weights, dtype=np.float64), query, n,
                                  exclude)
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
