"""From token lists to a sparse document-term matrix: raw counts and their weights, TF-IDF or
log-entropy.

The counting, pruning and TF-IDF weighting are scikit-learn's CountVectorizer and
TfidfTransformer rule for rule (sorted terms, its document-frequency bounds and
``max_features`` order, smooth idf, l2-normalized rows), bit for bit, checked by a test against
them. They are done here on numpy arrays because they are a few lines there and importing
scikit-learn costs 1.5 s; the streaming ``build-matrix`` counts chunk by chunk with the same
functions. ``weighting="log-entropy"`` is gensim's LogEntropyModel (local weight ln(1 + tf),
global weight 1 + sum_d p ln p / ln(n_docs + 1) with p = tf / the term's total count, rows
l2-normalized), checked by a test against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ._validation import check_choice, check_int
from .errors import InvalidParameterError, VocabularyError

__all__ = ["DocTermMatrix", "Vocabulary", "vectorize", "WEIGHTINGS"]

#: The term weightings: TF-IDF (the default) and log-entropy.
WEIGHTINGS = ("tfidf", "log-entropy")


@dataclass
class Vocabulary:
    """The fitted terms and their global weights, and the options that made them: enough to
    vectorize new text. ``idf`` holds each term's global weight: its idf for TF-IDF, its
    entropy weight for log-entropy (``settings["weighting"]``; a vocabulary saved before
    there was a choice has no such setting and is TF-IDF)."""

    terms: np.ndarray
    idf: np.ndarray
    settings: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.terms)

    @property
    def weighting(self) -> str:
        """"tfidf" or "log-entropy"."""
        return self.settings.get("weighting", "tfidf")

    def check(self) -> "Vocabulary":
        """Raise ValueError unless this is a vocabulary ``transform`` can use (as read back
        from a file): 1-D string terms, as many finite global weights, settings a dict whose
        ``sublinear_tf`` is a bool and ``weighting`` (if any) one of :data:`WEIGHTINGS`."""
        if not isinstance(self.settings, dict):
            raise ValueError("the vocabulary settings are not an object")
        if not isinstance(self.settings.get("sublinear_tf", False), bool):
            raise ValueError("the vocabulary setting sublinear_tf is not true or false")
        if not isinstance(self.weighting, str) or self.weighting not in WEIGHTINGS:
            raise ValueError(f"the vocabulary setting weighting is {self.weighting!r}, not one "
                             f"of {', '.join(WEIGHTINGS)}")
        terms, idf = np.asarray(self.terms), np.asarray(self.idf)
        if terms.ndim != 1 or terms.dtype.kind != "U":
            raise ValueError("the terms are not a list of strings")
        if idf.shape != terms.shape or idf.dtype.kind != "f" or not np.isfinite(idf).all():
            raise ValueError("the idf weights are not one finite number per term")
        return self

    def transform(self, token_lists) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """Counts and weights (TF-IDF or log-entropy, as fitted) of new documents on this
        vocabulary (unknown terms are ignored)."""
        token_lists = list(token_lists)
        names, indptr, columns, counts = count_tokens(token_lists)
        index = {term: i for i, term in enumerate(self.terms.tolist())}
        remap = np.fromiter((index.get(name, -1) for name in names), dtype=np.int64,
                            count=len(names))
        lengths, columns, counts = keep_columns(np.diff(indptr), columns, counts, remap)
        matrix = counts_matrix(lengths, columns, counts, len(self.terms))
        return matrix, term_weights(matrix, self)


@dataclass
class DocTermMatrix:
    """Counts and weights of a corpus, documents x terms (scikit-learn's orientation).

    ``counts`` (int64 CSR) feeds the probabilistic models, ``tfidf`` (float64 CSR, rows l2
    normalized) feeds LSA and NMF: the weighted matrix, TF-IDF or log-entropy as
    ``vocabulary.weighting`` says (the name is the default's).
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
              max_terms=None, sublinear_tf=False, weighting="tfidf") -> DocTermMatrix:
    """Count the tokens of every document and weight them: by TF-IDF (smooth idf, l2 norm;
    ``sublinear_tf``: 1 + ln tf for tf) or with ``weighting="log-entropy"`` by log-entropy
    (ln(1 + tf) times the term's entropy weight, l2 norm).

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
    check_weighting(weighting, sublinear_tf)
    if n_docs == 0:
        raise VocabularyError("There are no documents to vectorize.")
    if not any(token_lists):
        raise VocabularyError(
            "No terms are left after tokenization: every document is empty or all stopwords; "
            "check 'lang' and 'stopwords'."
        )
    names, indptr, columns, counts = count_tokens(token_lists)
    vocabulary, remap, pruned = prune_terms(
        (names, *token_statistics(columns, counts, len(names))), n_docs, min_df=min_df,
        max_df=max_df, max_terms=max_terms, sublinear_tf=sublinear_tf, weighting=weighting)
    lengths, columns, counts = keep_columns(np.diff(indptr), columns, counts, remap)
    matrix = counts_matrix(lengths, columns, counts, len(vocabulary))
    return DocTermMatrix(
        counts=matrix, tfidf=term_weights(matrix, vocabulary), vocabulary=vocabulary,
        doc_ids=list(doc_ids) if doc_ids is not None else [str(i) for i in range(n_docs)],
        labels=list(labels) if labels is not None else None,
        pruned_terms=pruned,
    )


def check_weighting(weighting, sublinear_tf, owner: str | None = None) -> str:
    """``weighting`` checked against :data:`WEIGHTINGS`, and ``sublinear_tf`` a bool that only
    TF-IDF takes (log-entropy's local weight is always ln(1 + tf))."""
    check_choice(weighting, "weighting", WEIGHTINGS, owner=owner)
    if not isinstance(sublinear_tf, bool):
        raise InvalidParameterError(f"The 'sublinear_tf' parameter{f' of {owner}' if owner else ''}"
                                    f" must be a bool. Got {sublinear_tf!r} instead.")
    if sublinear_tf and weighting != "tfidf":
        raise InvalidParameterError(
            f"sublinear_tf applies to weighting='tfidf'; {weighting} weighs a count tf by "
            f"ln(1 + tf) already: leave 'sublinear_tf' off.")
    return weighting


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


def token_statistics(columns: np.ndarray, counts: np.ndarray, n_tokens: int):
    """Per token of some counted documents (its column): (document frequency, total count,
    sum of tf ln tf over the documents), the sums :func:`prune_terms` takes; those of several
    chunks of documents add up to those of all."""
    df = np.bincount(columns, minlength=n_tokens).astype(np.int64)
    # Float sums of small integer counts are exact.
    total = np.bincount(columns, weights=counts, minlength=n_tokens).astype(np.int64)
    tf = counts.astype(np.float64)
    return df, total, np.bincount(columns, weights=tf * np.log(tf), minlength=n_tokens)


def prune_terms(tokens, n_docs: int, *, min_df, max_df, max_terms, sublinear_tf,
                weighting="tfidf"):
    """The terms kept from (names, document frequencies, total counts, sums of tf ln tf):
    (Vocabulary, token id -> term index or -1, number of tokens pruned)."""
    names, df, total, tf_log_tf = tokens
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
                "sublinear_tf": bool(sublinear_tf), "weighting": weighting, "norm": "l2"}
    if weighting == "tfidf":
        settings["smooth_idf"] = True
        weights = smooth_idf(dfs[kept], n_docs)
    else:
        weights = entropy_weights(tfs[kept], tf_log_tf[order][kept], n_docs)
    terms = np.asarray([names[i] for i in order[kept]], dtype=str)
    return Vocabulary(terms=terms, idf=weights, settings=settings), remap, len(names) - len(kept)


def smooth_idf(df: np.ndarray, n_docs: int) -> np.ndarray:
    """TfidfTransformer's smooth idf, ln((1 + n) / (1 + df)) + 1, in its order of operations."""
    df = df.astype(np.float64)
    df += 1.0
    idf = np.full_like(df, fill_value=n_docs + 1, dtype=np.float64)
    idf /= df
    np.log(idf, out=idf)
    idf += 1.0
    return idf


def entropy_weights(total: np.ndarray, tf_log_tf: np.ndarray, n_docs: int) -> np.ndarray:
    """Log-entropy's global weights, 1 + sum_d p ln p / ln(n + 1) with p = tf / the term's
    total count gf, from gf and sum_d tf ln tf (sum_d p ln p = sum_d tf ln tf / gf - ln gf,
    so the sums stream). ln(n + 1) as gensim's LogEntropyModel has it: a term spread evenly
    over every document keeps a weight above 0, so no document with terms weighs nothing."""
    total = total.astype(np.float64)
    entropy = np.minimum(tf_log_tf / total - np.log(total), 0.0)  # rounding stays <= 0
    return 1.0 + entropy / np.log(n_docs + 1.0)


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


def term_weights(counts, vocabulary: Vocabulary):
    """The weights of a counts CSR (matrix or array, kept as given) on ``vocabulary``, the one
    function for fitted and new documents. TF-IDF: TfidfTransformer's transform, (1 + ln tf
    if sublinear) times idf; log-entropy: ln(1 + tf) times the entropy weight; either way
    each row scaled to unit length summed in row order."""
    data = counts.data.astype(np.float64)
    if vocabulary.weighting == "log-entropy":
        np.log1p(data, out=data)
    elif vocabulary.settings.get("sublinear_tf", False):
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
