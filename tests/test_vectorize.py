import numpy as np
import pytest
import scipy.sparse as sp

from topicmf.errors import InvalidParameterError, VocabularyError
from topicmf.vectorize import vectorize

DOCS = [["stock", "market", "stock"], ["stock", "bond"], ["vote", "election"],
        ["vote", "election", "poll"], ["market", "bond"], ["poll"]]


def test_counts_and_tfidf_are_sparse_and_aligned():
    dtm = vectorize(DOCS, min_df=1, max_df=1.0)
    assert sp.isspmatrix_csr(dtm.counts) and sp.isspmatrix_csr(dtm.tfidf)
    assert dtm.counts.shape == dtm.tfidf.shape == (6, 6)
    stock = list(dtm.terms).index("stock")
    assert dtm.counts[0, stock] == 2
    # l2-normalized rows
    np.testing.assert_allclose(sp.linalg.norm(dtm.tfidf, axis=1), 1.0)
    # same sparsity pattern
    assert (dtm.counts != 0).sum() == (dtm.tfidf != 0).sum()


def test_idf_is_smooth_and_rarer_terms_weigh_more():
    dtm = vectorize(DOCS, min_df=1, max_df=1.0)
    terms = list(dtm.terms)
    n = len(DOCS)
    df_stock = 2
    assert dtm.vocabulary.idf[terms.index("stock")] == pytest.approx(np.log((1 + n) / (1 + df_stock)) + 1)


def test_sublinear_tf_changes_repeated_terms_only():
    plain = vectorize(DOCS, min_df=1, max_df=1.0)  # plain tf by default
    sub = vectorize(DOCS, min_df=1, max_df=1.0, sublinear_tf=True)
    assert not np.allclose(plain.tfidf[0].toarray(), sub.tfidf[0].toarray())
    np.testing.assert_allclose(plain.tfidf[1].toarray(), sub.tfidf[1].toarray())


def test_pruning_min_df_max_df_max_terms():
    dtm = vectorize(DOCS, min_df=2, max_df=1.0)
    assert "poll" in dtm.terms and "vote" in dtm.terms
    assert all(t != "x" for t in dtm.terms)
    dtm = vectorize(DOCS + [["stock"]] * 4, min_df=1, max_df=0.5)
    assert "stock" not in dtm.terms          # in 6 of 10 documents
    dtm = vectorize(DOCS, min_df=1, max_df=1.0, max_terms=2)
    assert len(dtm.terms) == 2
    assert dtm.pruned_terms == 4


def test_transform_new_documents_uses_fitted_vocabulary_and_idf():
    dtm = vectorize(DOCS, min_df=1, max_df=1.0)
    counts, tfidf = dtm.vocabulary.transform([["stock", "unknown", "stock"], ["unknown"]])
    assert counts.shape == (2, len(dtm.terms))
    assert counts[0].sum() == 2 and counts[1].nnz == 0
    assert tfidf[0, list(dtm.terms).index("stock")] == pytest.approx(1.0)


def test_empty_rows_and_select():
    dtm = vectorize([["a", "b"], ["c"], ["a", "b"]], min_df=2, max_df=1.0)
    assert dtm.empty_rows().tolist() == [1]
    kept = dtm.select([0, 2])
    assert kept.doc_ids == ["0", "2"] and kept.n_docs == 2 and kept.n_terms == dtm.n_terms


def test_all_stopwords_corpus_says_so():
    with pytest.raises(VocabularyError, match="stopwords"):
        vectorize([[], []])


def test_pruning_everything_says_which_knob_to_turn():
    with pytest.raises(VocabularyError, match="'min_df'"):
        vectorize([["a"], ["b"], ["c"]], min_df=2)


def test_contradicting_min_and_max_df():
    with pytest.raises(VocabularyError, match="max_df"):
        vectorize(DOCS, min_df=4, max_df=0.5)


@pytest.mark.parametrize("name,value", [("min_df", 0), ("min_df", -1.0), ("max_df", 1.5),
                                        ("min_df", "2"), ("max_terms", 0)])
def test_invalid_parameters_are_named(name, value):
    with pytest.raises(InvalidParameterError, match=name):
        vectorize(DOCS, **{name: value})


# ------------------------------------------- the same bits as scikit-learn, on real corpora
def _sklearn_matrices(token_lists, *, vocabulary=None, idf=None, **options):
    from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

    sublinear = options.pop("sublinear_tf", False)
    counter = CountVectorizer(analyzer=lambda tokens: tokens, dtype=np.int64,
                              vocabulary=vocabulary, **options)
    counts = (counter.transform(token_lists) if vocabulary is not None
              else counter.fit_transform(token_lists)).tocsr()
    counts.sort_indices()
    weigher = TfidfTransformer(norm="l2", smooth_idf=True, sublinear_tf=sublinear)
    if idf is None:
        weigher.fit(counts)
    else:
        weigher.idf_ = idf
    return counter, counts, weigher, weigher.transform(counts).tocsr()


def _same_csr(ours, theirs):
    assert ours.shape == theirs.shape
    np.testing.assert_array_equal(ours.indptr, theirs.indptr)
    np.testing.assert_array_equal(ours.indices, theirs.indices)
    assert ours.data.dtype == theirs.data.dtype
    np.testing.assert_array_equal(ours.data, theirs.data)  # bit for bit, not approximately


@pytest.fixture(scope="module")
def real_token_lists():
    from conftest import SHARED_CORPORA
    from topicmf.corpus import load_corpus
    from topicmf.tokenize import Tokenizer

    result = {}
    for name in ("20newsgroups_bydate.jsonl.gz", "chinese_news_6cat_zh.jsonl.gz"):
        corpus = load_corpus(SHARED_CORPORA / name)
        result[name] = Tokenizer().tokenize_many(corpus.texts[:1500], n_jobs=1)
    return result


@pytest.mark.parametrize("options", [
    dict(min_df=2, max_df=0.5, max_terms=None),
    dict(min_df=0.01, max_df=40, max_terms=None),
    dict(min_df=1, max_df=1.0, max_terms=500),
])
@pytest.mark.parametrize("corpus", ["20newsgroups_bydate.jsonl.gz",
                                    "chinese_news_6cat_zh.jsonl.gz"])
def test_vectorize_equals_scikit_learn_bit_for_bit(real_token_lists, corpus, options):
    tokens = real_token_lists[corpus]
    dtm = vectorize(tokens, **options)
    counter, counts, weigher, tfidf = _sklearn_matrices(
        tokens, min_df=options["min_df"], max_df=options["max_df"],
        max_features=options["max_terms"])
    np.testing.assert_array_equal(dtm.terms, counter.get_feature_names_out())
    np.testing.assert_array_equal(dtm.vocabulary.idf, weigher.idf_)
    _same_csr(dtm.counts, counts)
    _same_csr(dtm.tfidf, tfidf)
    # New documents on the fitted vocabulary, unknown terms ignored.
    new_counts, new_tfidf = dtm.vocabulary.transform(tokens[::7] + [["never-seen-term"]])
    _, counts, _, tfidf = _sklearn_matrices(
        tokens[::7] + [["never-seen-term"]], vocabulary={t: i for i, t in enumerate(dtm.terms)},
        idf=dtm.vocabulary.idf)
    _same_csr(new_counts, counts)
    _same_csr(new_tfidf, tfidf)


def test_sublinear_tf_equals_scikit_learn(real_token_lists):
    tokens = real_token_lists["20newsgroups_bydate.jsonl.gz"]
    dtm = vectorize(tokens, sublinear_tf=True)
    *_, tfidf = _sklearn_matrices(tokens, min_df=2, max_df=0.5, sublinear_tf=True)
    _same_csr(dtm.tfidf, tfidf)


# ------------------------------------------------------------------------------ log-entropy
LOG_ENTROPY_DOCS = [["a", "a", "b"], ["a", "c"], ["b", "b", "b", "c"], ["d"]]


def test_log_entropy_weights_by_hand():
    import math

    dtm = vectorize(LOG_ENTROPY_DOCS, min_df=1, max_df=1.0, weighting="log-entropy")
    assert list(dtm.terms) == ["a", "b", "c", "d"]
    # g = 1 + sum_d p ln p / ln(N + 1), p = tf / gf, N = 4 documents.
    ln5 = math.log(5)
    g_a = 1 + (2 / 3 * math.log(2 / 3) + 1 / 3 * math.log(1 / 3)) / ln5  # tf 2 and 1
    g_b = 1 + (1 / 4 * math.log(1 / 4) + 3 / 4 * math.log(3 / 4)) / ln5  # tf 1 and 3
    g_c = 1 + 2 * (1 / 2 * math.log(1 / 2)) / ln5                        # tf 1 and 1
    np.testing.assert_allclose(dtm.vocabulary.idf, [g_a, g_b, g_c, 1.0], rtol=1e-14)
    # Row 0: ln(1 + 2) g_a and ln(1 + 1) g_b, scaled to unit length; row 3 is "d" alone.
    row = np.array([math.log(3) * g_a, math.log(2) * g_b])
    np.testing.assert_allclose(dtm.tfidf[0].toarray().ravel(),
                               [*(row / np.linalg.norm(row)), 0, 0], rtol=1e-14)
    np.testing.assert_allclose(dtm.tfidf[3].toarray().ravel(), [0, 0, 0, 1.0])
    assert dtm.vocabulary.settings["weighting"] == "log-entropy"
    assert "smooth_idf" not in dtm.vocabulary.settings
    # Counts are the same as TF-IDF's; only the weights differ.
    tfidf = vectorize(LOG_ENTROPY_DOCS, min_df=1, max_df=1.0)
    assert (tfidf.counts != dtm.counts).nnz == 0
    assert not np.allclose(tfidf.tfidf.toarray(), dtm.tfidf.toarray())


def test_log_entropy_equals_gensim(real_token_lists):
    from gensim.corpora import Dictionary
    from gensim.models import LogEntropyModel

    tokens = real_token_lists["20newsgroups_bydate.jsonl.gz"]
    dtm = vectorize(tokens, weighting="log-entropy")
    terms = dtm.terms.tolist()
    dictionary = Dictionary([terms])
    # The same pruned documents, empty ones included (they count in N as in ours).
    bows = [dictionary.doc2bow([t for t in doc if t in dictionary.token2id]) for doc in tokens]
    model = LogEntropyModel(bows)
    ours = dict(zip(terms, dtm.vocabulary.idf))
    theirs = {dictionary[i]: w for i, w in model.entr.items()}
    assert set(theirs) == set(ours)
    np.testing.assert_allclose([ours[t] for t in theirs], list(theirs.values()), rtol=1e-12)
    column = {term: j for j, term in enumerate(terms)}
    for i in range(0, len(bows), 97):
        expected = np.zeros(len(terms))
        for term_id, weight in model[bows[i]]:
            expected[column[dictionary[term_id]]] = weight
        np.testing.assert_allclose(dtm.tfidf[i].toarray().ravel(), expected, rtol=1e-10,
                                   atol=1e-15)


def test_log_entropy_folds_in_the_training_documents_as_fitted(real_token_lists):
    tokens = real_token_lists["chinese_news_6cat_zh.jsonl.gz"]
    dtm = vectorize(tokens, weighting="log-entropy")
    counts, weights = dtm.vocabulary.transform(tokens)
    _same_csr(counts, dtm.counts)
    _same_csr(weights, dtm.tfidf)


def test_log_entropy_needs_no_dense_matrix(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("densified")

    monkeypatch.setattr(sp.csr_matrix, "toarray", refuse)
    monkeypatch.setattr(sp.csr_matrix, "todense", refuse)
    dtm = vectorize(LOG_ENTROPY_DOCS * 50, min_df=1, max_df=1.0, weighting="log-entropy")
    assert dtm.tfidf.nnz == dtm.counts.nnz


@pytest.mark.parametrize("options, match", [
    (dict(weighting="logentropy"), r"'weighting' parameter must be one of 'tfidf', 'log-entropy'"),
    (dict(weighting=None), r"'weighting'"),
    (dict(weighting="log-entropy", sublinear_tf=True), r"sublinear_tf applies to weighting"),
    (dict(sublinear_tf="yes"), r"'sublinear_tf' parameter must be a bool"),
])
def test_bad_weighting_is_one_line_naming_the_choices(options, match):
    with pytest.raises(InvalidParameterError, match=match) as caught:
        vectorize(DOCS, **options)
    assert "\n" not in str(caught.value)


def test_an_old_vocabulary_without_weighting_is_tfidf():
    dtm = vectorize(DOCS, min_df=1, max_df=1.0)
    settings = {k: v for k, v in dtm.vocabulary.settings.items() if k != "weighting"}
    old = type(dtm.vocabulary)(terms=dtm.vocabulary.terms, idf=dtm.vocabulary.idf,
                               settings=settings).check()
    assert old.weighting == "tfidf"
    _same_csr(old.transform(DOCS)[1], dtm.tfidf)
    bad = type(dtm.vocabulary)(terms=dtm.vocabulary.terms, idf=dtm.vocabulary.idf,
                               settings={**settings, "weighting": "bm25"})
    with pytest.raises(ValueError, match="weighting"):
        bad.check()
