"""LDA (gensim behind the topicmf interface): the shared model suite and its own properties."""

import numpy as np
import pytest
import scipy.sparse as sp

import test_models as shared
from topicmf.errors import InvalidParameterError
from topicmf.models import LDA, MODELS, LatentFactorModel

SHARED_TESTS = [
    "test_fit_and_transform_shapes", "test_same_seed_gives_identical_numbers",
    "test_top_terms_are_sorted_pairs", "test_a_document_vector_does_not_depend_on_its_batch",
    "test_unfitted_model_raises_not_fitted", "test_too_many_topics_says_how_many_are_possible",
    "test_float32_in_float32_out", "test_all_zero_matrix_does_not_produce_nan",
    "test_bad_input_is_a_topicmf_error",
]


@pytest.fixture(autouse=True)
def lda_in_shared_factories(monkeypatch):
    monkeypatch.setitem(shared.FACTORIES, "lda",
                        lambda **kw: LDA(**{"n_topics": 3, "random_state": 0, "passes": 5, **kw}))


@pytest.fixture(scope="module")
def X():
    return shared.make_counts()


@pytest.mark.parametrize("test", SHARED_TESTS)
def test_shared_model_suite(test, X):
    function = getattr(shared, test)
    if function.__code__.co_argcount == 1:  # these make their own matrices
        function("lda")
    else:
        function("lda", X)


def test_state_round_trip(X, tmp_path):
    shared.test_state_round_trip_through_json_and_npz("lda", X, tmp_path)


def test_registered_as_lda():
    assert MODELS["lda"] is LDA


def test_distributions_and_fold_in(X):
    model = LDA(3, passes=5, random_state=0).fit(X)
    np.testing.assert_allclose(model.components_.sum(axis=1), 1.0)
    np.testing.assert_allclose(model.doc_topic_.sum(axis=1), 1.0)
    np.testing.assert_allclose(model.transform(X), model.doc_topic_)
    theta, phi = model.doc_topic_, model.components_
    dense = X.toarray()
    nz = dense > 0
    np.testing.assert_allclose(model.history_[0], (dense[nz] * np.log((theta @ phi)[nz])).sum())


def test_empty_documents_get_uniform_topics(X):
    X = X.tolil()
    X[3, :] = 0
    model = LDA(3, passes=3, random_state=0).fit(X.tocsr())
    np.testing.assert_allclose(model.doc_topic_[3], 1 / 3)
    assert np.isfinite(model.components_).all()


def test_recovers_two_disjoint_vocabularies():
    rng = np.random.RandomState(0)
    rows = [np.r_[rng.poisson(3, 10), np.zeros(10)] for _ in range(20)]
    rows += [np.r_[np.zeros(10), rng.poisson(3, 10)] for _ in range(20)]
    model = LDA(2, passes=20, random_state=0).fit(sp.csr_matrix(np.array(rows)))
    dominant = model.doc_topic_.argmax(axis=1)
    assert len(set(dominant[:20])) == 1 and len(set(dominant[20:])) == 1
    assert dominant[0] != dominant[20]
    assert model.components_[dominant[0], :10].sum() > 0.95


def test_callback_after_each_pass(X):
    seen = []
    LDA(3, passes=4, random_state=0, callback=lambda i, obj: seen.append(i)).fit(X)
    assert seen == [1, 2, 3, 4]


@pytest.mark.parametrize("param, value", [
    ("passes", 0), ("iterations", 0), ("alpha", "flat"), ("alpha", -1.0), ("eta", "asymmetric"),
    ("tol", -1.0), ("chunksize", 0), ("callback", 3), ("n_topics", 0),
])
def test_invalid_parameter_names_the_parameter(param, value, X):
    with pytest.raises(InvalidParameterError, match=f"'{param}' parameter of LDA"):
        LDA(2).set_params(**{param: value}).fit(X)


def test_loaded_from_base_class_state(X):
    model = LDA(3, passes=2, random_state=0).fit(X)
    params, arrays = model.get_state()
    loaded = LatentFactorModel.from_state(params, arrays)
    assert isinstance(loaded, LDA)
    np.testing.assert_array_equal(loaded.transform(X), model.transform(X))
