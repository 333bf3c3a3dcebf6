"""benchmarks/similarity.py's task: the pairs it draws and the scores it gives."""

import sys

import numpy as np
import pytest
import scipy.sparse as sp

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
similarity = pytest.importorskip("similarity")


def test_pairs_are_distinct_and_as_labelled():
    labels = np.array(list("aaabbbbcc") * 20)
    pairs, same = similarity.sample_pairs(labels, 150, np.random.default_rng(0))
    assert pairs.shape == (300, 2) and same.sum() == 150
    assert len({tuple(p) for p in pairs}) == 300 and (pairs[:, 0] < pairs[:, 1]).all()
    np.testing.assert_array_equal(labels[pairs[:, 0]] == labels[pairs[:, 1]], same)
    again, _ = similarity.sample_pairs(labels, 150, np.random.default_rng(0))
    np.testing.assert_array_equal(pairs, again)


def test_sparse_rows_and_dense_vectors_score_alike():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 25)
    dense = rng.random((100, 12)) * (rng.random((100, 12)) < 0.4) + np.eye(4)[labels] @ \
        rng.random((4, 12))
    dense /= np.linalg.norm(dense, axis=1, keepdims=True)
    pairs, _ = similarity.sample_pairs(labels, 100, np.random.default_rng(1))
    queries = np.arange(0, 100, 7)
    sparse_scores = similarity.scores(sp.csr_matrix(dense), pairs, labels, queries)
    dense_scores = similarity.scores(dense, pairs, labels, queries)
    np.testing.assert_allclose(sparse_scores, dense_scores)
    auc, auc_se, precision, _ = dense_scores
    assert 0.5 < auc <= 1 and 0 < auc_se < 0.05 and precision > 0.25  # better than chance
    assert similarity.auc_standard_error(0.5, 2000, 2000) == pytest.approx(
        np.sqrt((0.25 + 2 * 1999 * (1 / 3 - 0.25)) / 2000**2))
