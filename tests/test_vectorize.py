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
    with pytest.raises(VocabularyError, match="min-df"):
        vectorize([["a"], ["b"], ["c"]], min_df=2)


def test_contradicting_min_and_max_df():
    with pytest.raises(VocabularyError, match="max_df"):
        vectorize(DOCS, min_df=4, max_df=0.5)


@pytest.mark.parametrize("name,value", [("min_df", 0), ("min_df", -1.0), ("max_df", 1.5),
                                        ("min_df", "2"), ("max_terms", 0)])
def test_invalid_parameters_are_named(name, value):
    with pytest.raises(InvalidParameterError, match=name):
        vectorize(DOCS, **{name: value})
