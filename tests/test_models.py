"""Tests of the LSA, NMF and PLSA models and their shared kernels."""

import json
from functools import partial
import re
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.pipeline import Pipeline

from topicmf import evaluate
from topicmf.errors import (
    ConvergenceWarning,
    InvalidParameterError,
    ModelFileError,
    NotFittedError,
    TopicmfError,
)
from topicmf.engine import InMemoryBlocks
from topicmf.models import LSA, MODELS, NMF, PLSA, LatentFactorModel, _kernels
from topicmf.models import nmf as nmf_module
from topicmf.models import plsa as plsa_module

FACTORIES = {
    "lsa": lambda **kw: LSA(**{"n_topics": 3, "random_state": 0, **kw}),
    "lsa-arpack": lambda **kw: LSA(**{"n_topics": 3, "algorithm": "arpack",
                                      "random_state": 0, **kw}),
    "nmf": lambda **kw: NMF(**{"n_topics": 3, "random_state": 0, **kw}),
    "nmf-kl": lambda **kw: NMF(**{"n_topics": 3, "beta_loss": "kullback-leibler",
                                  "random_state": 0, **kw}),
    "nmf-random": lambda **kw: NMF(**{"n_topics": 3, "init": "random", "random_state": 0, **kw}),
    "plsa": lambda **kw: PLSA(**{"n_topics": 3, "random_state": 0, **kw}),
    "plsa-random": lambda **kw: PLSA(**{"n_topics": 3, "init": "random", "random_state": 0, **kw}),
}
ITERATIVE = ["nmf", "nmf-kl", "nmf-random", "plsa"]
ALL = list(FACTORIES)
ENGINES = ("numpy", "numba") if _kernels.numba_available() else ("numpy",)


def make_counts(n_docs=40, n_terms=30, n_topics=3, seed=0):
    """Term counts drawn from a planted topic model, as CSR."""
    rng = np.random.RandomState(seed)
    phi = rng.dirichlet(np.full(n_terms, 0.2), size=n_topics)
    theta = rng.dirichlet(np.full(n_topics, 0.5), size=n_docs)
    counts = [rng.multinomial(rng.randint(20, 60), p) for p in theta @ phi]
    return sp.csr_matrix(np.array(counts, dtype=float))


@pytest.fixture(scope="module")
def X():
    return make_counts()


def fit_quietly(model, X):
    """Fit with generous iterations so that no ConvergenceWarning is raised."""
    if hasattr(model, "max_iter"):
        model.set_params(max_iter=2000)
    return model.fit(X)


# ------------------------------------------------------------------ shared suite
@pytest.mark.parametrize("name", ALL)
def test_fit_and_transform_shapes(name, X):
    model = fit_quietly(FACTORIES[name](), X)
    assert model.components_.shape == (3, 30)
    assert model.doc_topic_.shape == (40, 3)
    assert model.n_features_in_ == 30
    assert model.n_iter_ >= 1 and model.history_
    assert all(isinstance(v, float) for v in model.history_)
    assert model.transform(X[:7]).shape == (7, 3)
    assert np.isfinite(model.components_).all() and np.isfinite(model.doc_topic_).all()
    again = clone(model)
    np.testing.assert_array_equal(again.fit_transform(X), model.doc_topic_)


@pytest.mark.parametrize("name", ALL)
def test_same_seed_gives_identical_numbers(name, X):
    first = fit_quietly(FACTORIES[name](random_state=7), X)
    second = fit_quietly(FACTORIES[name](random_state=7), X)
    np.testing.assert_array_equal(first.components_, second.components_)
    np.testing.assert_array_equal(first.doc_topic_, second.doc_topic_)
    assert first.history_ == second.history_
    np.testing.assert_array_equal(first.transform(X), second.transform(X))


@pytest.mark.parametrize("name", ["nmf-random", "plsa-random"])
def test_different_seed_gives_different_start(name, X):
    first = FACTORIES[name](random_state=1, max_iter=3)
    second = FACTORIES[name](random_state=2, max_iter=3)
    with pytest.warns(ConvergenceWarning):
        first.fit(X)
    with pytest.warns(ConvergenceWarning):
        second.fit(X)
    assert not np.allclose(first.components_, second.components_)


@pytest.mark.parametrize("name", ALL)
def test_top_terms_are_sorted_pairs(name, X):
    model = fit_quietly(FACTORIES[name](), X)
    terms = [f"t{i}" for i in range(30)]
    top = model.top_terms(terms, n=5)
    assert len(top) == 3
    for topic, row in zip(top, model.components_):
        assert len(topic) == 5
        assert all(isinstance(t, str) and isinstance(w, float) for t, w in topic)
        weights = [w for _, w in topic]
        assert weights == sorted(weights, reverse=True)
        assert topic[0] == (terms[int(np.argmax(row))], float(row.max()))
        assert weights[-1] >= np.sort(row)[-5]
    assert all(len(topic) == 30 for topic in model.top_terms(terms, n=100))
    with pytest.raises(InvalidParameterError, match="pass the vocabulary"):
        model.top_terms(terms[:-1])
    with pytest.raises(InvalidParameterError, match="'n'"):
        model.top_terms(terms, n=0)


@pytest.mark.parametrize("name", ["nmf", "nmf-kl", "plsa"])
def test_fold_in_of_training_documents_matches_doc_topic(name, X):
    model = FACTORIES[name](tol=1e-10, max_iter=20000).fit(X)
    folded = model.transform(X)
    scale = np.abs(model.doc_topic_).max()
    np.testing.assert_allclose(folded, model.doc_topic_, atol=1e-4 * scale)


def test_lsa_projection_of_training_documents_is_doc_topic(X):
    model = FACTORIES["lsa-arpack"]().fit(X)
    np.testing.assert_allclose(model.transform(X), model.doc_topic_, atol=1e-10)


@pytest.mark.parametrize("name", ALL)
def test_a_document_vector_does_not_depend_on_its_batch(name, X):
    model = fit_quietly(FACTORIES[name](), X)
    whole = model.transform(X)
    np.testing.assert_allclose(model.transform(X[5:9]), whole[5:9], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(model.transform(X[[30, 2]]), whole[[30, 2]], rtol=1e-10,
                               atol=1e-12)


@pytest.mark.parametrize("name", ALL)
def test_unfitted_model_raises_not_fitted(name, X):
    model = FACTORIES[name]()
    for call in (lambda: model.transform(X), lambda: model.top_terms(["a"] * 30),
                 model.get_state):
        with pytest.raises(NotFittedError, match="not fitted yet; call fit") as info:
            call()
        assert isinstance(info.value, ValueError) and isinstance(info.value, AttributeError)


@pytest.mark.parametrize("cls, param, value", [
    (NMF, "n_topics", 0), (NMF, "n_topics", 1001), (NMF, "n_topics", "3"),
    (NMF, "n_topics", 2.0), (NMF, "max_iter", 0), (NMF, "tol", -1.0),
    (NMF, "beta_loss", "itakura-saito"), (NMF, "init", "nndsvdar"),
    (NMF, "random_state", "seed"), (NMF, "callback", 5),
    (PLSA, "n_topics", -1), (PLSA, "max_iter", 1.5), (PLSA, "tol", float("nan")),
    (LSA, "n_topics", 0), (LSA, "algorithm", "lanczos"), (LSA, "n_iter", -1),
    (LSA, "n_oversamples", "many"),
])
def test_invalid_parameter_names_the_parameter(cls, param, value, X):
    model = cls(n_topics=2).set_params(**{param: value})
    with pytest.raises(InvalidParameterError, match=f"'{param}' parameter of {cls.__name__}"):
        model.fit(X)


@pytest.mark.parametrize("name", ALL)
def test_too_many_topics_says_how_many_are_possible(name):
    X = make_counts(n_docs=12, n_terms=30)
    strict = name == "lsa-arpack"
    limit = 11 if strict else 12
    with pytest.raises(InvalidParameterError, match=re.escape(
            f"number of documents (n_samples=12)")) as info:
        FACTORIES[name](n_topics=50).fit(X)
    assert f"n_topics=50" in str(info.value) and f"at most {limit} topics" in str(info.value)
    with pytest.raises(InvalidParameterError, match=r"number of terms \(n_features=5\)"):
        FACTORIES[name](n_topics=6).fit(make_counts(n_docs=20, n_terms=5))
    if strict:
        with pytest.raises(InvalidParameterError, match="algorithm='arpack' needs fewer"):
            FACTORIES[name](n_topics=12).fit(X)


@pytest.mark.parametrize("name", ALL)
def test_float32_in_float32_out(name, X):
    X32 = X.astype(np.float32)
    model = fit_quietly(FACTORIES[name](), X32)
    assert model.components_.dtype == np.float32
    assert model.doc_topic_.dtype == np.float32
    assert model.transform(X32).dtype == np.float32
    assert model.transform(X.astype(int)).dtype == np.float64
    assert fit_quietly(FACTORIES[name](), X.astype(np.int64)).components_.dtype == np.float64


@pytest.mark.parametrize("name", ALL)
def test_zero_rows_and_columns_stay_finite(name, X):
    X = X.tolil()
    X[3, :] = 0
    X[:, 5] = 0
    X = X.tocsr()
    model = fit_quietly(FACTORIES[name](), X)
    folded = model.transform(X)
    assert np.isfinite(model.doc_topic_).all() and np.isfinite(folded).all()
    assert np.isfinite(model.history_).all()
    if name.startswith("plsa"):
        np.testing.assert_allclose(model.doc_topic_[3], 1 / 3)
        np.testing.assert_allclose(folded[3], 1 / 3)
    else:
        np.testing.assert_allclose(model.doc_topic_[3], 0, atol=1e-12)
        np.testing.assert_allclose(folded[3], 0, atol=1e-12)
        np.testing.assert_allclose(model.components_[:, 5], 0, atol=1e-12)


@pytest.mark.parametrize("name", ALL)
def test_all_zero_matrix_does_not_produce_nan(name):
    model = FACTORIES[name](n_topics=1).fit(sp.csr_matrix((4, 6)))
    assert np.isfinite(model.doc_topic_).all() and set(model.history_) == {0.0}
    assert len(model.history_) <= 2


@pytest.mark.parametrize("name", ["lsa", "nmf", "nmf-kl", "plsa"])
def test_one_topic_and_one_document(name, X):
    model = fit_quietly(FACTORIES[name](n_topics=1), X)
    assert model.components_.shape == (1, 30)
    if name == "plsa":
        np.testing.assert_allclose(model.doc_topic_, 1.0)
        # The maximum-likelihood P(w) is the corpus frequency; with a background b it is
        # (1 - b) phi + b P_B, so phi is the corpus frequency too, reached slowly by EM.
        plain = fit_quietly(FACTORIES[name](n_topics=1, background=0.0), X)
        np.testing.assert_allclose(plain.components_.ravel(), X.sum(axis=0).A1 / X.sum())
        np.testing.assert_allclose(model.components_.ravel(), X.sum(axis=0).A1 / X.sum(),
                                   rtol=0.05)
    single = fit_quietly(FACTORIES[name](n_topics=1), X[:1])
    assert single.doc_topic_.shape == (1, 1)
    assert single.transform(X).shape == (40, 1)
    if name != "plsa":  # one document, one topic: an exact rank-one fit
        np.testing.assert_allclose(single.doc_topic_ @ single.components_, X[:1].toarray(),
                                   atol=1e-6)


@pytest.mark.parametrize("name", ["nmf", "plsa"])
def test_negative_input_is_rejected(name, X):
    signed = X.copy()
    signed.data[0] = -1.0
    with pytest.raises(InvalidParameterError, match="Negative values in data passed to"):
        FACTORIES[name]().fit(signed)
    model = fit_quietly(FACTORIES[name](), X)
    with pytest.raises(ValueError, match="Negative values in data passed to"):
        model.transform(signed)
    fit_quietly(FACTORIES["lsa"](), signed)  # LSA takes signed data


@pytest.mark.parametrize("name", ALL)
def test_bad_input_is_a_topicmf_error(name, X):
    dense = X.toarray()
    dense[0, 0] = np.nan
    with pytest.raises(TopicmfError, match="NaN"):
        FACTORIES[name]().fit(dense)
    model = fit_quietly(FACTORIES[name](), X)
    with pytest.raises(InvalidParameterError, match="expecting 30 features"):
        model.transform(X[:, :10])


@pytest.mark.parametrize("name", ITERATIVE)
def test_max_iter_reached_warns(name, X):
    model = FACTORIES[name](max_iter=1)
    label = "PLSA" if name == "plsa" else "NMF"
    with pytest.warns(ConvergenceWarning, match=rf"{label}\.fit reached max_iter=1 .* raise "
                                                r"max_iter or tol"):
        model.fit(X)
    assert model.n_iter_ == 1 and len(model.history_) == 1
    with pytest.warns(ConvergenceWarning, match=rf"{label}\.transform .* for \d+ of 40 doc"):
        model.transform(X)


@pytest.mark.parametrize("name", ITERATIVE)
def test_callback_sees_every_iteration(name, X):
    seen = []
    model = fit_quietly(FACTORIES[name](callback=lambda i, obj: seen.append((i, obj))), X)
    assert seen == list(enumerate(model.history_, start=1))


@pytest.mark.parametrize("name", ALL)
def test_state_round_trip_through_json_and_npz(name, X, tmp_path):
    model = fit_quietly(FACTORIES[name](), X)
    params, arrays = model.get_state()
    (tmp_path / "model.json").write_text(json.dumps(params))
    np.savez(tmp_path / "model.npz", **arrays)
    with np.load(tmp_path / "model.npz", allow_pickle=False) as saved:
        loaded_arrays = dict(saved)
    loaded_params = json.loads((tmp_path / "model.json").read_text())
    for loaded in (LatentFactorModel.from_state(loaded_params, loaded_arrays),
                   type(model).from_state(loaded_params, loaded_arrays)):
        assert type(loaded) is type(model)
        expected = {**model.get_params(), "callback": None} if "callback" in params else {}
        assert loaded.get_params() == (expected or model.get_params())
        np.testing.assert_array_equal(loaded.transform(X), model.transform(X))
        assert loaded.history_ == model.history_ and loaded.n_iter_ == model.n_iter_


def test_plsa_state_saved_before_the_background_loads_as_plain_plsa(X):
    model = fit_quietly(PLSA(n_topics=3, background=0.0, random_state=0), X)
    params, arrays = model.get_state()
    del params["params"]["background"]  # what a file from before the background holds
    del arrays["background_"]
    loaded = LatentFactorModel.from_state(params, arrays)
    assert loaded.background == 0.0
    np.testing.assert_allclose(loaded.transform(X), model.transform(X))


def test_plsa_state_with_a_mismatched_background_is_refused(X):
    params, arrays = fit_quietly(PLSA(n_topics=3, random_state=0), X).get_state()
    with pytest.raises(ModelFileError, match="background distribution"):
        PLSA.from_state(params, {**arrays, "background_": arrays["background_"][:-1]})


def test_state_errors_are_model_file_errors(X):
    params, arrays = fit_quietly(NMF(n_topics=3, random_state=0), X).get_state()
    with pytest.raises(ModelFileError, match="not a 'PLSA'|is a 'NMF', not a PLSA"):
        PLSA.from_state(params, arrays)
    with pytest.raises(ModelFileError, match="incomplete or invalid"):
        NMF.from_state(params, {"components_": arrays["components_"]})
    with pytest.raises(ModelFileError, match="inconsistent shapes"):
        NMF.from_state(params, {**arrays, "components_": arrays["components_"][:, :5]})
    broken = {**params, "params": {**params["params"], "n_topics": 0}}
    with pytest.raises(ModelFileError, match="n_topics"):
        NMF.from_state(broken, arrays)


def test_models_work_inside_a_pipeline(X):
    nmf = NMF(n_topics=3, tol=1e-9, max_iter=5000, random_state=0)
    pipeline = Pipeline([("tfidf", TfidfTransformer()), ("nmf", nmf)])
    vectors = pipeline.fit_transform(X)
    assert vectors.shape == (40, 3)
    np.testing.assert_allclose(pipeline.transform(X), vectors, atol=1e-3)


def test_registry_names_every_model():
    from topicmf.models import LDA

    assert MODELS == {"lsa": LSA, "nmf": NMF, "plsa": PLSA, "lda": LDA}


# ------------------------------------------------------------- model properties
@pytest.mark.parametrize("beta_loss", ["frobenius", "kullback-leibler"])
@pytest.mark.parametrize("init", ["nndsvda", "nndsvd", "random"])
def test_nmf_loss_never_rises_and_matches_dense(beta_loss, init, X):
    model = fit_quietly(NMF(n_topics=4, beta_loss=beta_loss, init=init, tol=1e-7,
                            random_state=0), X)
    history = np.array(model.history_)
    assert len(history) > 5
    assert np.all(np.diff(history) <= 1e-10 * history[0])
    dense, WH = X.toarray(), model.doc_topic_ @ model.components_
    if beta_loss == "frobenius":
        expected = np.linalg.norm(dense - WH)
    else:
        nz = dense > 0
        expected = (dense[nz] * np.log(dense[nz] / WH[nz])).sum() - dense.sum() + WH.sum()
    np.testing.assert_allclose(model.reconstruction_err_, expected, rtol=1e-8)


@pytest.mark.parametrize("name", ITERATIVE)
def test_row_blocks_do_not_change_the_fit(name, X, monkeypatch):
    whole = fit_quietly(FACTORIES[name](), X)
    monkeypatch.setattr(_kernels, "BLOCK_BYTES", 2 * 3 * 8 * 50)  # about 50 entries a block
    assert len(_kernels.row_blocks(X, 3)) > 5
    blocked = fit_quietly(FACTORIES[name](), X)
    np.testing.assert_allclose(blocked.components_, whole.components_, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(blocked.transform(X), whole.transform(X), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("background", [0.0, 0.5, 0.8])
def test_plsa_likelihood_never_falls_and_rows_are_distributions(background, X):
    model = fit_quietly(PLSA(n_topics=4, background=background, tol=1e-7, random_state=0), X)
    history = np.array(model.history_)
    assert len(history) > 5
    assert np.all(np.diff(history) >= -1e-10 * abs(history[0]))
    np.testing.assert_allclose(model.doc_topic_.sum(axis=1), 1.0)
    np.testing.assert_allclose(model.components_.sum(axis=1), 1.0)
    np.testing.assert_allclose(model.transform(X[:5]).sum(axis=1), 1.0)
    dense = X.toarray()
    p_background = dense.sum(axis=0) / dense.sum()
    np.testing.assert_allclose(model.background_, p_background)
    nz = dense > 0
    p = (1 - background) * (model.doc_topic_ @ model.components_) + background * p_background
    expected = (dense[nz] * np.log(p[nz])).sum()
    np.testing.assert_allclose(model.log_likelihood_, expected, rtol=1e-10)
    np.testing.assert_allclose(
        evaluate.model_log_likelihood(model, X, model.doc_topic_), expected, rtol=1e-10)


def test_plsa_background_takes_the_word_every_document_uses():
    # Two planted topics (terms 1-4 and 5-8) and term 0, frequent in every document: plain
    # PLSA must put term 0 at the top of both topics; the background explains it instead.
    rng = np.random.RandomState(0)
    rows = []
    for d in range(40):
        row = np.zeros(9)
        row[0] = 6
        topic = slice(1, 5) if d % 2 else slice(5, 9)
        row[topic] = rng.randint(1, 4, size=4)
        rows.append(row)
    X = sp.csr_array(np.array(rows))
    plain = fit_quietly(PLSA(2, background=0.0, random_state=0), X)
    assert (plain.components_.argmax(axis=1) == 0).all()
    with_background = fit_quietly(PLSA(2, background=0.8, random_state=0), X)
    assert (with_background.components_[:, 0] < 0.05).all()
    groups = with_background.components_[:, 1:5].sum(axis=1)
    assert sorted(np.round(groups)) == [0, 1]
    dominant = with_background.doc_topic_.argmax(axis=1)
    assert len(set(dominant[::2])) == len(set(dominant[1::2])) == 1
    assert dominant[0] != dominant[1]


@pytest.mark.parametrize("value", [1.0, -0.1, "0.5", None, float("nan")])
def test_plsa_background_must_be_a_weight_below_one(value, X):
    with pytest.raises(InvalidParameterError, match="'background' parameter of PLSA"):
        PLSA(2, background=value).fit(X)


@pytest.mark.parametrize("algorithm, kw", [("arpack", {}), ("randomized", {"n_iter": 20})])
def test_lsa_matches_dense_svd(algorithm, kw):
    X = np.random.RandomState(3).rand(8, 6)
    X[X < 0.3] = 0
    model = LSA(n_topics=3, algorithm=algorithm, random_state=0, **kw).fit(sp.csr_matrix(X))
    U, S, VT = np.linalg.svd(X, full_matrices=False)
    np.testing.assert_allclose(model.singular_values_, S[:3], rtol=1e-8)
    for row in model.components_:  # sign convention: the largest loading is positive
        assert row[np.argmax(np.abs(row))] > 0
    np.testing.assert_allclose(np.abs(model.components_), np.abs(VT[:3]), atol=1e-8)
    np.testing.assert_allclose(model.doc_topic_ @ model.components_,
                               (U[:, :3] * S[:3]) @ VT[:3], atol=1e-8)
    np.testing.assert_allclose(model.transform(X), model.doc_topic_, atol=1e-8)
    np.testing.assert_allclose(model.explained_variance_ratio_,
                               np.var(model.doc_topic_, axis=0) / np.var(X, axis=0).sum())
    rank3 = (U[:, :3] * S[:3]) @ VT[:3]
    np.testing.assert_allclose(model.history_,
                               [np.linalg.norm(X - rank3) / np.linalg.norm(X)], rtol=1e-6)
    assert model.n_iter_ == (1 if algorithm == "arpack" else 20)


def _start(X, k, init, rng, engine="numpy", width=None, n_blocks=1):
    """NMF's start (W, H^T) for CSR X in memory, cut into ``n_blocks`` row blocks."""
    source = InMemoryBlocks(sp.csr_array(X), n_blocks=n_blocks)
    HT = nmf_module._initialize(source, k, init, rng, engine, width=width)
    return source.gather("W"), HT


def test_nndsvd_start_is_exact_for_a_rank_one_matrix(X):
    rank_one = np.outer([1.0, 2.0, 0.0, 3.0], [0.0, 4.0, 1.0, 2.0, 5.0])
    rng = np.random.RandomState(0)
    for engine in ENGINES:
        for n_blocks in (1, 3):
            W, HT = _start(rank_one, 2, "nndsvd", rng, engine, n_blocks=n_blocks)
            np.testing.assert_allclose(W @ HT.T, rank_one, atol=1e-10)
            W, HT = _start(X, 3, "nndsvda", rng, engine, n_blocks=n_blocks)
            assert (W > 0).all() and (HT > 0).all()
            W, HT = _start(X, 3, "nndsvd", rng, engine, n_blocks=n_blocks)
            assert (W >= 0).all() and (HT >= 0).all() and (W == 0).any()


@pytest.mark.parametrize("init", ["nndsvda", "random"])
def test_nmf_recovers_the_planted_blocks(init):
    X = np.array([[5, 3, 0, 1], [4, 0, 0, 1], [1, 1, 0, 5], [1, 0, 0, 4], [0, 1, 5, 4]],
                 dtype=float)
    model = NMF(n_topics=2, init=init, tol=1e-9, max_iter=3000, random_state=0).fit(X)
    groups = model.doc_topic_.argmax(axis=1)
    assert groups[0] == groups[1] and len(set(groups[2:])) == 1 and groups[0] != groups[2]
    # The topic of documents 0-1 is led by term 0, the other one by term 3.
    assert model.components_[groups[0]].argmax() == 0
    assert model.components_[groups[2]].argmax() == 3
    np.testing.assert_allclose(model.reconstruction_err_, 4.2765, atol=1e-3)


def _sources(X, W):
    """X in memory as one block (the compiled steps then update H^T in place) and as three
    (the blocks' sums are added and H^T updated after), each with its own copy of W."""
    for n_blocks in (1, 3):
        source = InMemoryBlocks(X, n_blocks=n_blocks)
        assert len(source.blocks) == n_blocks
        source.put("W", W.copy())
        yield source


def test_one_sweep_equals_the_dense_textbook_update(monkeypatch):
    # Sub-ranges of ALIGN terms in the compiled passes by terms: several per thread.
    monkeypatch.setattr(_kernels, "TERM_BUFFER_BYTES", 1)
    rng = np.random.RandomState(1)
    X = sp.csr_array(sp.random(9, 7, density=0.5, random_state=rng) * 5)
    D = X.toarray()
    W, H = rng.rand(9, 3), rng.rand(3, 7)
    runs = [(engine, source) for engine in ENGINES for source in _sources(X, W)]

    W_ref = W * (D @ H.T) / (W @ H @ H.T)
    H_ref = H * (W_ref.T @ D) / (W_ref.T @ W_ref @ H)
    constant = float(_kernels.row_sq_norms(X).sum())
    for engine, source in runs:
        loss, HT1 = nmf_module._frobenius_sweep(source, H.T.copy(), engine, constant)
        np.testing.assert_allclose(loss, 0.5 * np.linalg.norm(D - W @ H) ** 2)
        np.testing.assert_allclose(source.gather("W"), W_ref)
        np.testing.assert_allclose(HT1.T, H_ref)
        source.put("W", W.copy())
        np.testing.assert_allclose(nmf_module._frobenius_objective(source, H.T.copy(), engine),
                                   loss)

    W_ref = W * ((D / (W @ H)) @ H.T) / H.sum(axis=1)
    H_ref = H * (W_ref.T @ (D / (W_ref @ H))) / W_ref.sum(axis=0)[:, None]
    constant = float(nmf_module._kl_constant(X).sum())
    for engine, source in [(e, s) for e in ENGINES for s in _sources(X, W)]:
        loss, HT1 = nmf_module._kl_sweep(source, H.T.copy(), engine, constant, k=3)
        np.testing.assert_allclose(source.gather("W"), W_ref)
        np.testing.assert_allclose(HT1.T, H_ref)
        source.put("W", W.copy())
        np.testing.assert_allclose(nmf_module._kl_objective(source, H.T.copy(), engine), loss)
    nz = D > 0
    np.testing.assert_allclose(
        loss, (D[nz] * np.log(D[nz] / (W @ H)[nz])).sum() - D.sum() + (W @ H).sum())

    theta = W / W.sum(axis=1, keepdims=True)
    phi = H / H.sum(axis=1, keepdims=True)
    # With b = 0 plain PLSA; with a background b P_B(w) the posterior of topic z at (d, w)
    # is (1 - b) theta_dz phi_zw / P(w | d), textbook EM for the mixture.
    for b in (0.0, 0.7):
        p_background = D.sum(axis=0) / D.sum()
        offset = b / (1 - b) * p_background if b else None
        log_scale = np.log(1 - b) * D.sum()
        P = (1 - b) * (theta @ phi) + b * p_background
        posterior_weight = np.divide(D, P, out=np.zeros_like(D), where=nz) * (1 - b)
        theta_ref = theta * (posterior_weight @ phi.T)
        phi_ref = phi * (theta.T @ posterior_weight)
        for engine, source in [(e, s) for e in ENGINES for s in _sources(X, theta)]:
            ll, phiT1 = plsa_module._em_sweep(source, phi.T.copy(), engine, offset=offset,
                                              log_scale=log_scale)
            np.testing.assert_allclose(ll, (D[nz] * np.log(P[nz])).sum())
            np.testing.assert_allclose(source.gather("W"),
                                       theta_ref / theta_ref.sum(axis=1, keepdims=True))
            np.testing.assert_allclose(phiT1.T, phi_ref / phi_ref.sum(axis=1, keepdims=True))
            source.put("W", theta.copy())
            np.testing.assert_allclose(
                plsa_module._log_likelihood(source, phi.T.copy(), engine, offset=offset,
                                            log_scale=log_scale), ll)


@pytest.mark.skipif(not _kernels.numba_available(), reason="needs numba")
@pytest.mark.filterwarnings("ignore::topicmf.errors.ConvergenceWarning")  # fixed iterations
def test_kl_fit_stores_the_ratios_that_fit_its_work_allowance(monkeypatch):
    """KL-NMF keeps the H step's ratios for as many whole rows as fit its working memory and
    recomputes the rest; none, part or all kept give the same fit up to rounding."""
    rng = np.random.RandomState(0)
    X = sp.csr_array(sp.random(200, 300, density=0.05, random_state=rng, dtype=np.float32) * 4)
    fits = []
    for room in (0, X.data.nbytes // 2, 10 * X.data.nbytes):
        monkeypatch.setattr(_kernels, "work_allowance", lambda X, k: room + 2**20)
        plan, ratios = nmf_module._kl_plan(X, 4)
        assert len(ratios) == min(X.nnz, X.indptr[X.indptr <= room // 4].max())
        assert len(ratios) in X.indptr
        assert (0 < len(ratios) < X.nnz) == (room == X.data.nbytes // 2)
        fits.append(NMF(n_topics=4, beta_loss="kullback-leibler", max_iter=20, tol=0,
                        random_state=0, engine="numba").fit(X))
    for fit in fits[1:]:
        np.testing.assert_allclose(fit.components_, fits[0].components_, rtol=1e-4, atol=1e-7)
        np.testing.assert_allclose(fit.history_, fits[0].history_, rtol=1e-6)


def test_padded_width_rounds_float32_rows_up_to_32_bytes():
    assert [_kernels.padded_width(k, np.float32) for k in (1, 5, 8, 9, 20, 24, 100)] == [
        8, 8, 8, 16, 24, 24, 104]
    assert [_kernels.padded_width(k, np.float64) for k in (1, 5, 20)] == [1, 5, 20]
    A = np.arange(6, dtype=np.float32).reshape(3, 2)
    padded = _kernels.pad_columns(A, 8)
    np.testing.assert_array_equal(padded[:, :2], A)
    assert padded.shape == (3, 8) and not padded[:, 2:].any()
    assert _kernels.pad_columns(A, 2) is A


@pytest.mark.skipif(not _kernels.numba_available(), reason="needs numba")
@pytest.mark.filterwarnings("ignore::topicmf.errors.ConvergenceWarning")  # fixed iterations
@pytest.mark.parametrize("beta_loss", ["frobenius", "kullback-leibler"])
@pytest.mark.parametrize("k", [2, 5, 8, 11])
def test_compiled_nmf_with_padded_rows_is_the_unpadded_fit(k, beta_loss, monkeypatch):
    """The zero columns that pad float32 rows to 8 floats stay zero and change nothing: the
    fit equals the one on unpadded factors up to rounding, and hands back contiguous factors
    of exactly K topics."""
    rng = np.random.RandomState(1)
    X = sp.csr_array(sp.random(120, 90, density=0.08, random_state=rng, dtype=np.float32) * 3)
    fits = []
    for pad in (True, False):
        if not pad:  # the fit's rows only: the SVD's sketch keeps its own width
            monkeypatch.setattr(_kernels, "padded_width", lambda k, dtype: k)
        fits.append(NMF(n_topics=k, beta_loss=beta_loss, max_iter=25, tol=0, random_state=0,
                        engine="numba").fit(X))
    for fit in fits:
        assert fit.doc_topic_.shape == (120, k) and fit.components_.shape == (k, 90)
        assert fit.doc_topic_.flags.c_contiguous and fit.components_.T.flags.c_contiguous
    np.testing.assert_allclose(fits[0].components_, fits[1].components_, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(fits[0].doc_topic_, fits[1].doc_topic_, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(fits[0].history_, fits[1].history_, rtol=1e-6)


@pytest.mark.parametrize("init", ["nndsvd", "nndsvda", "random"])
def test_padded_start_is_the_start_with_zero_columns(init):
    """The start made wide for padded rows holds the same K columns, then zeros (NNDSVDa
    fills only the K columns' zeros with the mean)."""
    rng = np.random.RandomState(2)
    X = sp.csr_array(sp.random(60, 40, density=0.2, random_state=rng, dtype=np.float32))
    narrow = _start(X, 5, init, np.random.RandomState(0))
    wide = _start(X, 5, init, np.random.RandomState(0), width=8)
    for a, b in zip(narrow, wide):
        assert b.shape == (a.shape[0], 8) and b.dtype == a.dtype and b.flags.c_contiguous
        np.testing.assert_allclose(b[:, :5], a, rtol=1e-5, atol=1e-7)
        assert not b[:, 5:].any()


def test_shrink_columns_packs_in_place_or_copies_a_view():
    A = np.arange(60, dtype=np.float32)  # a 1-D owner seen as rows, as the SVD leaves it
    wide = A.reshape(15, 4)
    expected = wide[:, :3].copy()
    small = _kernels.shrink_columns(wide, 3)
    np.testing.assert_array_equal(small, expected)
    assert small.flags.c_contiguous and small.base is A and A.size == 45
    B = np.arange(40, dtype=np.float64).reshape(8, 5)  # owns its memory itself
    expected = B[:, :2].copy()
    np.testing.assert_array_equal(_kernels.shrink_columns(B, 2), expected)
    big = np.arange(60, dtype=np.float32).reshape(12, 5)
    part = big[:6]  # a view into a larger array: copied, the array left as it was
    np.testing.assert_array_equal(_kernels.shrink_columns(part, 2), big[:6, :2])
    assert big.shape == (12, 5) and big[11, 4] == 59
    same = np.ones((3, 2))
    assert _kernels.shrink_columns(same, 2) is same


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_declares_what_it_is(name):
    cls = MODELS[name]
    assert cls.input_kind in ("tfidf", "counts")
    assert cls.doc_weights_kind in ("mixture", "coordinates")
    params = cls().get_params()
    assert cls.iteration_param is None or cls.iteration_param in params
    assert isinstance(cls.maximize_objective, bool) and isinstance(cls.probabilistic, bool)
    weights = cls.display_weights(np.array([[1.0, 3.0], [-1.0, 2.0], [0.0, 0.0]]))
    if cls.doc_weights_kind == "mixture":
        np.testing.assert_allclose(weights.sum(axis=1), [1.0, 1.0, 0.0])
    else:
        np.testing.assert_array_equal(weights, [[1.0, 3.0], [-1.0, 2.0], [0.0, 0.0]])


def test_the_pipeline_fits_each_model_on_the_matrix_it_declares(monkeypatch):
    """A model declaring counts gets the count matrix: the pipeline reads the declaration."""
    from topicmf import load_corpus, pipeline

    seen = {}

    class CountNMF(NMF):
        input_kind = "counts"

        def fit(self, X, y=None):
            seen["max"] = float(X.max())
            return super().fit(X, y)

    from topicmf.models import VARIANTS

    monkeypatch.setitem(MODELS, "countnmf", CountNMF)
    monkeypatch.setitem(VARIANTS, "countnmf", ("countnmf", {}))
    root = Path(__file__).resolve().parents[1]
    prepared = pipeline.prepare(load_corpus(root / "corpora" / "finance-politics-en"))
    result = pipeline.fit_prepared(prepared, 2, model="countnmf")
    assert seen["max"] == prepared.dtm.counts.max() > 1  # TF-IDF rows would be at most 1
    assert result.analysis.info["model"]["input"] == "counts"
    np.testing.assert_allclose(result.doc_weights.sum(axis=1), 1.0)


# ------------------------------------------------- the estimator protocol without sklearn.base
def test_params_repr_and_nested_set_params():
    model = NMF(n_topics=3, beta_loss="kullback-leibler")
    assert repr(model) == "NMF(beta_loss='kullback-leibler', n_topics=3)"
    assert model.set_params(max_iter=7) is model and model.max_iter == 7
    with pytest.raises(ValueError, match="Invalid parameter 'topics'"):
        model.set_params(topics=2)
    pipeline = Pipeline([("tfidf", TfidfTransformer()), ("nmf", NMF(n_topics=2))])
    pipeline.set_params(nmf__n_topics=4)
    assert pipeline.get_params()["nmf__n_topics"] == 4


def test_grid_search_clones_and_scores_the_models():
    from sklearn.model_selection import GridSearchCV

    X = sp.random(40, 30, density=0.3, format="csr", random_state=0)
    def fit_of_held_out(est, X, y=None):  # minus the Frobenius error of the folded-in rows
        return -float(np.linalg.norm(X.toarray() - est.transform(X) @ est.components_))

    search = GridSearchCV(NMF(max_iter=200, tol=1e-3, random_state=0), {"n_topics": [2, 3]},
                          cv=2, scoring=fit_of_held_out)
    search.fit(X)
    assert search.best_params_["n_topics"] in (2, 3)
    assert search.best_estimator_ is not search.estimator


@pytest.mark.parametrize("make, message", [
    (lambda: sp.csr_matrix(np.array([[1.0, np.nan]])), "NaN"),
    (lambda: sp.csr_matrix(np.array([[1.0, np.inf]])), "infinity"),
    (lambda: sp.csr_matrix((0, 3)), "0 sample"),
])
def test_csr_input_is_checked_as_scikit_learn_checks_it(make, message):
    with pytest.raises(InvalidParameterError, match=message):
        NMF(n_topics=1).fit(make())
    with pytest.raises(InvalidParameterError, match=message):  # sklearn's path: same message
        NMF(n_topics=1).fit(make().toarray() if make().shape[0] else np.zeros((0, 3)))


def test_csr_with_the_wrong_number_of_features_is_refused():
    X = sp.random(20, 10, density=0.5, format="csr", random_state=0)
    model = NMF(n_topics=2, random_state=0).fit(X)
    with pytest.raises(InvalidParameterError, match="X has 9 features, but NMF is expecting 10"):
        model.transform(X[:, :9])
    with pytest.raises(InvalidParameterError, match="X has 9 features, but NMF is expecting 10"):
        model.transform(X[:, :9].toarray())


def test_count_matrices_fit_without_importing_scikit_learn():
    """PLSA and KL-NMF take counts (int CSR): converted to float64 on the fast path, as
    scikit-learn would, without loading it (1 s of a small run)."""
    import subprocess
    import sys

    code = ("import sys, numpy as np, scipy.sparse as sp; from topicmf import PLSA, NMF; "
            "X = sp.random(30, 20, density=0.3, format='csr', random_state=0); "
            "C = sp.csr_matrix(np.ceil(X.toarray() * 5).astype(np.int64)); "
            "a = PLSA(2, random_state=0).fit_transform(C); "
            "b = PLSA(2, random_state=0).fit_transform(C.astype(float)); "
            "NMF(2, beta_loss='kullback-leibler', random_state=0).fit(C); "
            "print(np.array_equal(a, b), 'sklearn' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == ["True", "False"]
