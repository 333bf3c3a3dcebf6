"""Which topics belong together: the tree of topics, its groups, and its place in the report."""

from pathlib import Path

import numpy as np
import pytest

from topicmf import analyze, load_corpus
from topicmf.errors import InvalidParameterError
from topicmf.hierarchy import hierarchy_from_distances

DEMO = Path(__file__).resolve().parents[1] / "corpora" / "finance-politics-en"
FINANCE = {"percent", "shares", "stock", "stocks", "prices", "bank", "investors", "interest",
           "central", "rates", "market", "fell", "dropped", "earnings", "profit"}


def test_known_distances_give_the_known_tree():
    d = np.array([[0, .1, .9, .9], [.1, 0, .9, .9], [.9, .9, 0, .2], [.9, .9, .2, 0]])
    tree = hierarchy_from_distances(d)
    assert tree.groups(2) == [[0, 1], [2, 3]]
    assert tree.groups(4) == [[0], [1], [2], [3]] and tree.groups(1) == [[0, 1, 2, 3]]
    assert tree.merges[:, 2].tolist() == pytest.approx([0.1, 0.2, 0.9])
    assert sorted(tree.order) == [0, 1, 2, 3]
    with pytest.raises(InvalidParameterError, match="'n'"):
        tree.groups(5)


def test_a_corpus_of_two_subjects_splits_into_them():
    corpus = load_corpus(DEMO)
    # Frobenius NMF: with the default KL-NMF one of the three politics topics of this small
    # corpus (called / opposition / parliament) joins the finance ones.
    result = analyze(corpus, 6, model="nmf", random_state=0)
    groups = result.topic_hierarchy().groups(2)
    terms = [{t for t, _ in topic[:5]} for topic in result.topics]
    finance = [sum(len(terms[k] & FINANCE) for k in group) / len(group) for group in groups]
    assert sorted(len(g) for g in groups) == [3, 3]
    assert max(finance) >= 2 and min(finance) < 1  # one group of finance topics, one not


def test_the_report_draws_the_tree(tmp_path):
    from topicmf.export import write_outputs

    corpus = load_corpus(DEMO)
    write_outputs([analyze(corpus, 4, random_state=0)], tmp_path / "out")
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert 'data-section="hierarchy"' in page
    assert (tmp_path / "out" / "plots" / "hierarchy.svg").is_file()
    one = analyze(corpus, 1, random_state=0)
    assert one.topic_hierarchy().groups(1) == [[0]]
    write_outputs([one], tmp_path / "one")  # one topic: a tree with nothing to join
    assert (tmp_path / "one" / "plots" / "hierarchy.png").is_file()
