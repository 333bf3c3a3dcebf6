"""From token lists to a sparse document-term matrix: raw counts and TF-IDF.

scikit-learn's CountVectorizer and TfidfTransformer do the work; this module keeps what a topic
model needs around them (terms, document ids, labels, the fitted idf for folding in new
documents) and turns their errors into messages that say which knob to turn.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

from ._validation import check_int
from .errors import InvalidParameterError, VocabularyError

__all__ = ["DocTermMatrix", "Vocabulary", "vectorize"]


def _tokens_as_given(tokens):
    # The documents arrive already tokenized; the vectorizer only counts them.
    return tokens


@dataclass
class Vocabulary:
    """The fitted terms and idf, and the options that made them: enough to vectorize new text."""

    terms: np.ndarray
    idf: np.ndarray
    settings: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.terms)

    def transform(self, token_lists) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """Counts and TF-IDF of new documents on this vocabulary (unknown terms are ignored)."""
        counter = CountVectorizer(analyzer=_tokens_as_given, dtype=np.int64,
                                  vocabulary={t: i for i, t in enumerate(self.terms)})
        counts = counter.transform(list(token_lists)).tocsr()
        return counts, _tfidf_transformer(self.settings, self.idf).transform(counts).tocsr()


@dataclass
class DocTermMatrix:
    """Counts and TF-IDF of a corpus, documents x terms (scikit-learn's orientation).

    ``counts`` (int64 CSR) feeds the probabilistic models, ``tfidf`` (float64 CSR, rows l2
    normalized) feeds LSA and NMF.
    """

    counts: sp.csr_matrix
    tfidf: sp.csr_matrix
    vocabulary: Vocabulary
    doc_ids: list[str]
    labels: list[str] | None = None
    pruned_terms: int = 0

    @property
    def terms(self) -> np.ndarray:
        return self.vocabulary.terms

    @property
    def n_docs(self) -> int:
        return self.counts.shape[0]

    @property
    def n_terms(self) -> int:
        return self.counts.shape[1]

    def matrix_for(self, input_kind: str) -> sp.csr_matrix:
        """The matrix a model of the given input kind ("counts" or "tfidf") is fitted on."""
        return self.counts if input_kind == "counts" else self.tfidf

    def empty_rows(self) -> np.ndarray:
        """Indices of documents that have no term left after pruning."""
        return np.flatnonzero(np.diff(self.counts.indptr) == 0)

    def select(self, rows) -> "DocTermMatrix":
        """The same matrix restricted to the given documents (same vocabulary and idf)."""
        rows = np.asarray(rows)
        return DocTermMatrix(
            counts=self.counts[rows], tfidf=self.tfidf[rows], vocabulary=self.vocabulary,
            doc_ids=[self.doc_ids[i] for i in rows],
            labels=None if self.labels is None else [self.labels[i] for i in rows],
            pruned_terms=self.pruned_terms,
        )


def _tfidf_transformer(settings: dict, idf: np.ndarray | None = None) -> TfidfTransformer:
    transformer = TfidfTransformer(norm="l2", use_idf=True, smooth_idf=True,
                                   sublinear_tf=bool(settings.get("sublinear_tf", False)))
    if idf is not None:
        transformer.idf_ = idf
    return transformer


def vectorize(token_lists, *, doc_ids=None, labels=None, min_df=2, max_df=0.5,
              max_terms=None, sublinear_tf=False) -> DocTermMatrix:
    """Count the tokens of every document and weight them by TF-IDF (smooth idf, l2 norm).

    min_df: a term must occur in at least this many documents (an int >= 1) or this share of
    them (a float in (0, 1)). max_df: drop terms in more than this share (float in (0, 1]) or
    number (int) of documents. max_terms: keep only the most frequent terms. Documents are never
    dropped here: a document whose terms were all pruned has a zero row.
    """
    token_lists = list(token_lists)
    n_docs = len(token_lists)
    min_df = _check_df(min_df, "min_df")
    max_df = _check_df(max_df, "max_df")
    max_terms = check_int(max_terms, "max_terms", low=1, allow_none=True)
    if n_docs == 0:
        raise VocabularyError("There are no documents to vectorize.")
    if not any(token_lists):
        raise VocabularyError(
            "No terms are left after tokenization: every document is empty or all stopwords; "
            "check --lang and --stopwords."
        )
    low = min_df if isinstance(min_df, int) else int(np.ceil(min_df * n_docs))
    high = max_df if isinstance(max_df, int) else int(np.floor(max_df * n_docs))
    if high < low:
        raise VocabularyError(
            f"max_df={max_df} keeps terms in at most {high} of the {n_docs} documents, fewer than "
            f"min_df={min_df} requires; lower --min-df or raise --max-df."
        )
    counter = CountVectorizer(analyzer=_tokens_as_given, min_df=min_df, max_df=max_df,
                              max_features=max_terms, dtype=np.int64)
    try:
        counts = counter.fit_transform(token_lists).tocsr()
    except ValueError as exc:  # scikit-learn: "After pruning, no terms remain"
        raise VocabularyError(
            f"After pruning, no terms remain (min_df={min_df}, max_df={max_df}, {n_docs} "
            f"documents); try a lower --min-df or a higher --max-df."
        ) from exc
    counts.sort_indices()
    settings = {"min_df": min_df, "max_df": max_df, "max_terms": max_terms,
                "sublinear_tf": bool(sublinear_tf), "norm": "l2", "smooth_idf": True}
    transformer = _tfidf_transformer(settings)
    tfidf = transformer.fit_transform(counts).tocsr()
    vocabulary = Vocabulary(terms=counter.get_feature_names_out(), idf=transformer.idf_,
                            settings=settings)
    distinct_tokens = len(set().union(*map(set, token_lists)))
    return DocTermMatrix(
        counts=counts, tfidf=tfidf, vocabulary=vocabulary,
        doc_ids=list(doc_ids) if doc_ids is not None else [str(i) for i in range(n_docs)],
        labels=list(labels) if labels is not None else None,
        pruned_terms=distinct_tokens - len(vocabulary),
    )


def _check_df(value, name):
    """An int counts documents; a float in (0, 1] is a share of them (1.0 means all)."""
    if isinstance(value, float) and 0.0 < value <= 1.0:
        return value
    if isinstance(value, float) and value.is_integer() and value > 1:
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise InvalidParameterError(
        f"The '{name}' parameter must be an int >= 1 (a number of documents) or a float in "
        f"(0, 1] (a share of the documents). Got {value!r} instead."
    )
