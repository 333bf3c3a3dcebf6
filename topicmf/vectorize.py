"""From token lists to a sparse document-term matrix: raw counts and TF-IDF.

The counting, pruning and weighting are scikit-learn's CountVectorizer and TfidfTransformer
rule for rule (sorted terms, its document-frequency bounds and ``max_features`` order, smooth
idf, l2-normalized rows), bit for bit, checked by a test against them. They are done here on
numpy arrays because they are a few lines there and importing scikit-learn costs 1.5 s; the
streaming ``build-matrix`` counts chunk by chunk with the same functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ._validation import check_int
from .errors import InvalidParameterError, VocabularyError

__all__ = ["DocTermMatrix", "Vocabulary", "vectorize"]


@dataclass
class Vocabulary:
    """The fitted terms and idf, and the options that made them: enough to vectorize new text."""

    terms: np.ndarray
    idf: np.ndarray
    settings: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.terms)

    def check(self) -> "Vocabulary":
        """Raise ValueError unless this is a vocabulary ``transform`` can use (as read back
        from a file): 1-D string terms, as many finite idf weights, settings a dict whose
        ``sublinear_tf`` is a bool."""
        if not isinstance(self.settings, dict):
            raise ValueError("the vocabulary settings are not an object")
        if not isinstance(self.settings.get("sublinear_tf", False), bool):
            raise ValueError("the vocabulary setting sublinear_tf is not true or false")
        terms, idf = np.asarray(self.terms), np.asarray(self.idf)
        if terms.ndim != 1 or terms.dtype.kind != "U":
            raise ValueError("the terms are not a list of strings")
        if idf.shape != terms.shape or idf.dtype.kind != "f" or not np.isfinite(idf).all():
            raise ValueError("the idf weights are not one finite number per term")
        return self

    def transform(self, token_lists) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """Counts and TF-IDF of new documents on this vocabulary (unknown terms are ignored)."""
        token_lists = list(token_lists)
        names, indptr, columns, counts = count_tokens(token_lists)
        index = {term: i for i, term in enumerate(self.terms.tolist())}
        remap = np.fromiter((index.get(name, -1) for name in names), dtype=np.int64,
                            count=len(names))
        lengths, columns, counts = keep_columns(np.diff(indptr), columns, counts, remap)
        matrix = counts_matrix(lengths, columns, counts, len(self.terms))
        return matrix, tfidf_weights(matrix, self)


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
            "check 'lang' and 'stopwords'."
        )
    names, indptr, columns, counts = count_tokens(token_lists)
    df = np.bincount(columns, minlength=len(names)).astype(np.int64)
    total = np.bincount(columns, weights=counts, minlength=len(names)).astype(np.int64)
    vocabulary, remap, pruned = prune_terms((names, df, total), n_docs, min_df=min_df,
                                            max_df=max_df, max_terms=max_terms,
                                            sublinear_tf=sublinear_tf)
    lengths, columns, counts = keep_columns(np.diff(indptr), columns, counts, remap)
    matrix = counts_matrix(lengths, columns, counts, len(vocabulary))
    return DocTermMatrix(
        counts=matrix, tfidf=tfidf_weights(matrix, vocabulary), vocabulary=vocabulary,
        doc_ids=list(doc_ids) if doc_ids is not None else [str(i) for i in range(n_docs)],
        labels=list(labels) if labels is not None else None,
        pruned_terms=pruned,
    )


# ------------------------------------------------ counting, pruning, weighting (also build.py)

def count_tokens(token_lists: list[list[str]]):
    """The distinct tokens of some documents, in order of first appearance, and the documents
    as rows in their ids: (terms, indptr, columns, counts), columns sorted within each row."""
    local: dict[str, int] = {}
    setdefault = local.setdefault
    flat = [setdefault(token, len(local)) for tokens in token_lists for token in tokens]
    n_docs, n_local = len(token_lists), len(local)
    indptr = np.zeros(n_docs + 1, dtype=np.int64)
    if not flat:
        return [], indptr, np.zeros(0, np.int32), np.zeros(0, np.int32)
    lengths = np.fromiter(map(len, token_lists), dtype=np.int64, count=n_docs)
    rows = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
    keys, counts = np.unique(rows * n_local + np.asarray(flat, dtype=np.int64),
                             return_counts=True)
    rows, columns = np.divmod(keys, n_local)
    np.cumsum(np.bincount(rows, minlength=n_docs), out=indptr[1:])
    return list(local), indptr, columns.astype(np.int32), counts.astype(np.int32)


def prune_terms(tokens, n_docs: int, *, min_df, max_df, max_terms, sublinear_tf):
    """The terms kept from (names, document frequencies, total counts): (Vocabulary, token id
    -> term index or -1, number of tokens pruned)."""
    names, df, total = tokens
    if n_docs == 0:
        raise VocabularyError("There are no documents to vectorize.")
    if not names:
        raise VocabularyError(
            "No terms are left after tokenization: every document is empty or all stopwords; "
            "check 'lang' and 'stopwords'.")
    low = min_df if isinstance(min_df, int) else int(np.ceil(min_df * n_docs))
    high = max_df if isinstance(max_df, int) else int(np.floor(max_df * n_docs))
    if high < low:
        raise VocabularyError(
            f"max_df={max_df} keeps terms in at most {high} of the {n_docs} documents, fewer than "
            f"min_df={min_df} requires; lower 'min_df' or raise 'max_df'.")
    # CountVectorizer's rules: terms in sorted order; document counts compared with max_df and
    # min_df as it computes them; with max_features, the most frequent terms by its own
    # argsort of the negated totals, whose order among ties this reproduces.
    order = np.array(sorted(range(len(names)), key=names.__getitem__), dtype=np.int64)
    dfs, tfs = df[order], total[order]
    mask = np.ones(len(order), dtype=bool)
    mask &= dfs <= (max_df if isinstance(max_df, int) else max_df * n_docs)
    mask &= dfs >= (min_df if isinstance(min_df, int) else min_df * n_docs)
    if max_terms is not None and mask.sum() > max_terms:
        keep = np.zeros(len(order), dtype=bool)
        keep[np.where(mask)[0][(-tfs[mask]).argsort()[:max_terms]]] = True
        mask = keep
    kept = np.where(mask)[0]
    if len(kept) == 0:
        raise VocabularyError(
            f"After pruning, no terms remain (min_df={min_df}, max_df={max_df}, {n_docs} "
            f"documents); try a lower 'min_df' or a higher 'max_df'.")
    remap = np.full(len(order), -1, dtype=np.int64)
    remap[order[kept]] = np.arange(len(kept))
    settings = {"min_df": min_df, "max_df": max_df, "max_terms": max_terms,
                "sublinear_tf": bool(sublinear_tf), "norm": "l2", "smooth_idf": True}
    terms = np.asarray([names[i] for i in order[kept]], dtype=str)
    return Vocabulary(terms=terms, idf=smooth_idf(dfs[kept], n_docs), settings=settings), \
        remap, len(names) - len(kept)


def smooth_idf(df: np.ndarray, n_docs: int) -> np.ndarray:
    """TfidfTransformer's smooth idf, ln((1 + n) / (1 + df)) + 1, in its order of operations."""
    df = df.astype(np.float64)
    df += 1.0
    idf = np.full_like(df, fill_value=n_docs + 1, dtype=np.float64)
    idf /= df
    np.log(idf, out=idf)
    idf += 1.0
    return idf


def keep_columns(lengths: np.ndarray, columns: np.ndarray, counts: np.ndarray,
                 remap: np.ndarray):
    """Rows given by their lengths, with columns mapped through ``remap`` (-1 drops a column)
    and sorted within each row: (lengths, columns as int32, counts)."""
    columns = remap[columns]
    kept = columns >= 0
    rows = np.repeat(np.arange(len(lengths)), lengths)[kept]
    columns, counts = columns[kept], counts[kept]
    order = np.lexsort((columns, rows))
    return (np.bincount(rows, minlength=len(lengths)), columns[order].astype(np.int32),
            counts[order])


def counts_matrix(lengths: np.ndarray, columns: np.ndarray, counts: np.ndarray,
                  n_terms: int) -> sp.csr_matrix:
    """The int64 CSR of rows given by their lengths, sorted columns and counts."""
    indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    matrix = sp.csr_matrix((counts.astype(np.int64), columns, indptr),
                           shape=(len(lengths), n_terms))
    matrix.has_sorted_indices = True
    return matrix


def tfidf_weights(counts, vocabulary: Vocabulary):
    """TF-IDF of a counts CSR (matrix or array, kept as given): TfidfTransformer's transform,
    (1 + ln tf if sublinear) times idf, each row scaled to unit length summed in row order."""
    data = counts.data.astype(np.float64)
    if vocabulary.settings.get("sublinear_tf", False):
        np.log(data, out=data)
        data += 1.0
    data *= vocabulary.idf[counts.indices]
    rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
    norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=counts.shape[0]))[rows]
    nonzero = norms != 0.0
    data[nonzero] /= norms[nonzero]
    weighted = type(counts)((data, counts.indices.copy(), counts.indptr.copy()),
                            shape=counts.shape)
    weighted.has_sorted_indices = counts.has_sorted_indices
    return weighted


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
