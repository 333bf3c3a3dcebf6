"""Metrics on hand-made cases whose value is known."""

import math

import numpy as np
import pytest
import scipy.sparse as sp

from topicmf import evaluate
from topicmf.errors import InvalidParameterError
from topicmf.models import LDA, NMF, PLSA

FRUIT = ["apple", "banana", "cherry"]
ANIMALS = ["dog", "cat", "mouse"]
TERMS = FRUIT + ANIMALS
# Each document holds one whole group: within a group every pair always co-occurs.
TEXTS = [FRUIT] * 5 + [ANIMALS] * 5


@pytest.fixture(scope="module")
def scorer():
    return evaluate.Coherence(TEXTS, TERMS, topn=3)


def test_perfectly_coherent_topics_score_the_maximum(scorer):
    result = scorer.score([FRUIT, ANIMALS], measures=evaluate.MEASURES)
    npmi, cv, umass = result["c_npmi"], result["c_v"], result["u_mass"]
    assert npmi.value == pytest.approx(1.0, abs=1e-9)
    assert npmi.per_topic == pytest.approx([1.0, 1.0], abs=1e-9)
    assert cv.value == pytest.approx(1.0, abs=1e-9)
    assert umass.value == pytest.approx(0.0, abs=1e-9)  # log P(a | b) = log 1
    assert (npmi.topn, npmi.window_size, cv.window_size, umass.window_size) == (3, 10, 110, None)
    assert npmi.notes == [] and umass.notes == []


def test_terms_that_never_co_occur_give_a_value_and_a_note(scorer):
    mixed = scorer.score([["apple", "dog", "banana"]], measures=evaluate.MEASURES)
    coherent = scorer.score([FRUIT], measures=evaluate.MEASURES)
    for measure, result in mixed.items():
        assert math.isfinite(result.value)
        assert result.value < coherent[measure].value
        assert result.notes == [f"topic 0: 2 of 3 term pairs never share a "
                                f"{'document' if measure == 'u_mass' else 'window of '}"
                                + ("" if measure == "u_mass"
                                   else f"{evaluate.WINDOW_SIZES[measure]} tokens")
                                + "; each counts with gensim's smoothed value"]
    assert -1.0 <= mixed["c_npmi"].value < 0


def test_counts_are_reused_across_topic_sets(scorer, monkeypatch):
    scorer.score_many([[FRUIT], [ANIMALS]])
    counted = scorer._models["c_npmi"]
    scorer.score([["cherry", "apple", "banana"]])
    assert scorer._models["c_npmi"] is counted  # same terms: no new pass over the texts
    scorer.score(weighted := [[("dog", 0.5), ("cat", 0.3), ("mouse", 0.2)]])
    assert scorer.score(weighted)["c_npmi"].value == pytest.approx(1.0, abs=1e-9)


def test_coherence_rejects_unknown_terms_and_bad_topn(scorer):
    with pytest.raises(InvalidParameterError, match="not in the vocabulary"):
        scorer.score([["apple", "pear", "cherry"]])
    with pytest.raises(InvalidParameterError, match="'topn' parameter of Coherence"):
        evaluate.Coherence(TEXTS, TERMS, topn=1)
    with pytest.raises(InvalidParameterError, match="'measure'"):
        scorer.score([FRUIT], measures=["c_uci"])


def test_coherence_in_two_processes_matches_one():
    texts = [list(np.random.RandomState(i).choice(TERMS, 12)) for i in range(30)]
    one = evaluate.Coherence(texts, TERMS, topn=3, processes=1).score([FRUIT, ANIMALS])
    two = evaluate.Coherence(texts, TERMS, topn=3, processes=2).score([FRUIT, ANIMALS])
    assert one["c_npmi"].per_topic == pytest.approx(two["c_npmi"].per_topic, abs=1e-12)


def test_diversity():
    assert evaluate.topic_diversity([FRUIT, ANIMALS]) == 1.0
    assert evaluate.topic_diversity([FRUIT] * 4) == pytest.approx(1 / 4)
    assert evaluate.topic_diversity([["a", "b"], [("b", 0.9), ("c", 0.1)]]) == 0.75
    assert evaluate.topic_diversity([["a", "b", "c"], ["a", "d", "e"]], topn=1) == 0.5


def test_reconstruction_error_matches_dense():
    rng = np.random.RandomState(0)
    X, W, H = sp.random(20, 15, density=0.3, random_state=0), rng.rand(20, 3), rng.rand(3, 15)
    expected = np.linalg.norm(X.toarray() - W @ H)
    assert evaluate.reconstruction_error(X, W, H) == pytest.approx(expected, rel=1e-10)
    assert evaluate.reconstruction_error(X, W, H, relative=True) == pytest.approx(
        expected / np.linalg.norm(X.toarray()), rel=1e-10)
    W_exact, H_exact = rng.rand(20, 2), rng.rand(2, 15)
    assert evaluate.reconstruction_error(W_exact @ H_exact, W_exact, H_exact) == pytest.approx(
        0.0, abs=1e-6)


def test_log_likelihood_and_perplexity_of_a_known_model():
    phi = np.array([[0.5, 0.5, 0, 0], [0, 0, 0.5, 0.5]])
    X = sp.csr_matrix(np.array([[4, 4, 0, 0], [0, 0, 6, 2]], dtype=float))
    theta = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert evaluate.log_likelihood(X, theta, phi) == pytest.approx(16 * math.log(0.5))

    class Known:  # a fitted model that puts each document in its own topic
        components_ = phi

        def transform(self, X):
            return np.where(X[:, :2].sum(axis=1) > 0, 1.0, 0.0)[:, None] * [1, -1] + [0, 1]

    # Every scored token has probability 1/2 under its topic: perplexity exactly 2.
    assert evaluate.heldout_perplexity(Known(), X * 10) == pytest.approx(2.0)


@pytest.mark.parametrize("background", [0.0, 0.8])
def test_heldout_perplexity_prefers_the_true_topics(background):
    X = sp.csr_matrix(np.kron(np.eye(2), np.full((10, 5), 4.0)))
    good = PLSA(2, background=background, random_state=0).fit(X)
    uniform = PLSA(1, background=background, random_state=0).fit(X)
    # Each document uses 5 of 10 equally frequent terms: P(w | d) = 1/5 from its topic,
    # mixed with the background's 1/10 (weight b).
    expected = 1.0 / ((1 - background) / 5 + background / 10)
    assert evaluate.heldout_perplexity(good, X) == pytest.approx(expected, rel=1e-3)
    # One topic: P(w | d) = 1/10 at the optimum, which EM nears slowly under a background.
    assert evaluate.heldout_perplexity(uniform, X) == pytest.approx(10.0, rel=1e-3 + background / 50)
    assert evaluate.heldout_perplexity(good, X) < evaluate.heldout_perplexity(uniform, X) - 1
    with pytest.raises(InvalidParameterError, match="at least two tokens"):
        evaluate.heldout_perplexity(good, sp.csr_matrix(np.eye(1, 20)))


def test_label_agreement_of_a_permuted_clustering_is_perfect():
    labels = ["a", "a", "b", "b", "c", "c"]
    scores = evaluate.label_agreement(labels, [2, 2, 0, 0, 1, 1])
    assert scores == {"nmi": pytest.approx(1.0), "ari": pytest.approx(1.0), "purity": 1.0}


def test_purity_by_hand():
    labels = ["x"] * 5 + ["o"] * 5
    topics = [0, 0, 0, 0, 1, 1, 1, 1, 1, 1]  # topic 1: four o's and one x
    assert evaluate.purity(labels, topics) == pytest.approx(0.9)
    assert evaluate.purity(labels, [0] * 10) == 0.5
    with pytest.raises(InvalidParameterError, match="one label per fitted document"):
        evaluate.label_agreement(labels, topics[:-1])


def test_matching_undoes_a_permutation():
    A = np.abs(np.random.RandomState(0).rand(4, 10))
    order = [2, 0, 3, 1]
    rows, cols, similarity = evaluate.match_topics(A, A[order])
    assert [order[c] for c in cols] == list(rows)
    np.testing.assert_allclose(similarity, 1.0)


def test_stability():
    H = np.random.RandomState(0).rand(3, 8)
    assert evaluate.stability([H, H[::-1], H[[1, 0, 2]]]) == pytest.approx(1.0)
    orthogonal = np.eye(3, 8)
    assert evaluate.stability([orthogonal, np.eye(3, 8, k=3)]) == 0.0
    with pytest.raises(InvalidParameterError, match="at least two runs"):
        evaluate.stability([H])


def test_stability_of_refits_with_the_same_seed_is_one():
    X = sp.csr_matrix(np.random.RandomState(1).poisson(1.0, (30, 20)).astype(float))
    for make in (lambda s: NMF(3, random_state=s, max_iter=500),
                 lambda s: LDA(3, passes=2, random_state=s)):
        runs = [make(7).fit(X).components_ for _ in range(2)]
        assert evaluate.stability(runs) == pytest.approx(1.0)


def test_heldout_perplexity_ignores_terms_never_seen_in_training():
    rng = np.random.RandomState(0)
    train = sp.csr_array(rng.poisson(2.0, size=(30, 8)).astype(float))
    train = sp.hstack([train, sp.csr_array((30, 2))]).tocsr()   # terms 8, 9 unseen in training
    model = PLSA(n_topics=2, random_state=0).fit(train)
    heldout = sp.csr_array(rng.poisson(2.0, size=(6, 10)).astype(float))
    with_unseen = evaluate.heldout_perplexity(model, heldout)
    assert math.isfinite(with_unseen) and 1.0 < with_unseen < 20.0


def test_purity_equals_the_one_from_scikit_learns_contingency_table():
    from sklearn.metrics.cluster import contingency_matrix

    rng = np.random.default_rng(3)
    labels = rng.choice(["a", "b", "c", "d"], size=300)
    topics = rng.integers(0, 7, size=300)
    table = contingency_matrix(labels, topics)
    assert evaluate.purity(labels, topics) == table.max(axis=0).sum() / table.sum()


@pytest.mark.parametrize("n_labels, n_topics, n", [(4, 7, 300), (2, 2, 40), (1, 3, 20),
                                                    (3, 1, 20), (1, 1, 10), (5, 5, 5)])
def test_nmi_and_ari_equal_scikit_learns(n_labels, n_topics, n):
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    rng = np.random.default_rng(n_labels * 10 + n_topics)
    for trial in range(5):
        labels = rng.choice([f"l{i}" for i in range(n_labels)], size=n)
        topics = rng.integers(0, n_topics, size=n)
        if trial == 0:  # a perfect match, up to the names
            topics = np.unique(labels, return_inverse=True)[1]
        ours = evaluate.label_agreement(labels, topics)
        assert ours["nmi"] == pytest.approx(normalized_mutual_info_score(labels, topics),
                                            abs=1e-12)
        assert ours["ari"] == pytest.approx(adjusted_rand_score(labels, topics), abs=1e-12)
