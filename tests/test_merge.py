"""Merging topics: a result with fewer topics that behaves like any other."""

from pathlib import Path

import numpy as np
import pytest

from topicmf import analyze, load_corpus
from topicmf.errors import InvalidParameterError
from topicmf.export import write_outputs
from topicmf.runs import load_run

DEMO = Path(__file__).resolve().parents[1] / "corpora" / "finance-politics-en"


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(DEMO)


@pytest.mark.parametrize("model", ["nmf", "plsa"])
def test_merging_the_trees_groups_gives_the_two_subjects(corpus, model, tmp_path):
    result = analyze(corpus, 6, model=model, random_state=0)
    groups = result.topic_hierarchy().groups(2)
    merged = result.merge_topics(*groups)
    assert merged.analysis.n_topics == 2 and merged.doc_weights.shape == (80, 2)
    np.testing.assert_allclose(merged.doc_weights.sum(axis=1), 1)
    # each merged topic's weight is the sum of its topics' weights
    for new, group in enumerate(groups):
        np.testing.assert_allclose(merged.doc_weights[:, new],
                                   result.doc_weights[:, group].sum(axis=1), atol=1e-6)
    labels = np.array(merged.fitted_labels)
    agree = max(np.mean((merged.dominant_topics == 0) == (labels == "finance")),
                np.mean((merged.dominant_topics == 1) == (labels == "finance")))
    assert agree >= 0.95
    assert merged.search("stocks investors shares", 3)[0]["label"] == "finance"
    write_outputs([merged], tmp_path / "out")  # saves, reports and reads back
    saved = load_run(tmp_path / "out")
    assert saved.analysis.n_topics == 2 and saved.topics == merged.topics
    new, _ = saved.analysis.doc_vectors(["stocks fell as investors sold shares"])
    assert new.shape == (1, 2) and np.isclose(new.sum(), 1)


def test_merge_keeps_the_other_topics_in_place(corpus):
    result = analyze(corpus, 5, random_state=0)
    merged = result.merge_topics([1, 3])
    assert merged.analysis.n_topics == 4
    np.testing.assert_allclose(merged.doc_weights[:, 0], result.doc_weights[:, 0], atol=1e-6)
    np.testing.assert_allclose(merged.doc_weights[:, 2], result.doc_weights[:, 2], atol=1e-6)
    np.testing.assert_allclose(merged.doc_weights[:, 3], result.doc_weights[:, 4], atol=1e-6)
    assert merged.analysis.info["model"]["merged_from"] == [[0], [1, 3], [2], [4]]


def test_bad_merges_are_refused(corpus):
    result = analyze(corpus, 4, random_state=0)
    for bad in ([[0]], [[0, 9]], [[0, 1], [1, 2]], []):
        with pytest.raises(InvalidParameterError, match="merge_topics"):
            result.merge_topics(*bad)
    with pytest.raises(InvalidParameterError, match="cannot be merged"):
        analyze(corpus, 4, model="lsa", random_state=0).merge_topics([0, 1])
