"""Finding documents by topic: search by text, a topic's documents, on a fresh result and on a
saved run, from Python and from the command line."""

import json

import numpy as np
import pytest

from topicmf import analyze, load_corpus
from topicmf.cli import main
from topicmf.errors import InvalidParameterError, TopicmfWarning
from topicmf.export import write_outputs
from topicmf.runs import load_run
from topicmf.search import rank_by_cosine


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    from conftest import make_two_topic_texts

    folder = tmp_path_factory.mktemp("search")
    for name, text in make_two_topic_texts().items():
        (folder / "corpus" / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / "corpus" / name).write_text(text, encoding="utf-8")
    result = analyze(load_corpus(folder / "corpus"), 2, min_df=1, random_state=0)
    write_outputs([result], folder / "run")
    return result, folder / "run"


def test_rank_by_cosine_matches_brute_force():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(50, 4))
    vectors[7] = 0
    query = rng.normal(size=4)
    rows, scores = rank_by_cosine(vectors, query, 10, exclude=3)
    cosine = [(0.0 if not v.any() else v @ query / np.linalg.norm(v) / np.linalg.norm(query), i)
              for i, v in enumerate(vectors) if i != 3]
    expected = sorted(cosine, key=lambda c: (-c[0], c[1]))[:10]
    assert rows.tolist() == [i for _, i in expected]
    np.testing.assert_allclose(scores, [c for c, _ in expected])
    assert len(rank_by_cosine(vectors, query, 500)[0]) == 50


def test_ties_at_the_cut_keep_the_lower_rows():
    vectors = np.tile([0.0, 1.0], (9, 1))  # all but row 4 the same cosine to the query
    vectors[4] = [1.0, 0.0]
    rows, _ = rank_by_cosine(vectors, np.array([1.0, 0.0]), 3, exclude=8)
    assert rows.tolist() == [4, 0, 1]


def test_search_finds_the_querys_class_first(fitted):
    result, _ = fitted
    hits = result.search("stocks shares investors dividend", n=12)
    assert len(hits) == 12 and {h["label"] for h in hits} == {"finance"}
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert result.search("election voters senate ballot", n=1)[0]["label"] == "politics"


def test_a_saved_run_searches_like_the_fresh_one(fitted):
    result, run = fitted
    saved = load_run(run)
    for query in ("stocks bonds portfolio", "governor coalition minister"):
        assert saved.search(query, 5) == result.search(query, 5)
    assert saved.topic_documents(1, 4) == result.topic_documents(1, 4)


def test_topic_documents_by_weight(fitted):
    result, _ = fitted
    hits = result.topic_documents(0, n=30)
    assert len(hits) == 24
    weights = result.doc_weights[:, 0]
    assert [h["score"] for h in hits] == sorted(np.round(weights, 6).tolist(), reverse=True)


def test_search_errors_and_a_query_with_no_known_term(fitted):
    result, _ = fitted
    with pytest.warns(TopicmfWarning, match="shares no term"):
        assert result.search("zebra quokka") == []
    with pytest.raises(InvalidParameterError, match="'n'"):
        result.search("stocks", n=0)
    with pytest.raises(InvalidParameterError, match="'topic'"):
        result.topic_documents(2)
    with pytest.raises(InvalidParameterError, match="some text"):
        result.search("  ")


# ------------------------------------------------------------------------- similar documents

def brute_force_similar(vectors, row, n):
    query = vectors[row]
    cosine = [(v @ query / np.linalg.norm(v) / np.linalg.norm(query), i)
              for i, v in enumerate(vectors) if i != row]
    return [i for _, i in sorted(cosine, key=lambda c: (-c[0], c[1]))[:n]]


@pytest.fixture(scope="module")
def lsa_fitted(fitted):
    result, _ = fitted
    return analyze(result.corpus, 5, model="lsa", min_df=1, weighting="log-entropy")


def test_similar_by_id_and_by_row_rank_by_cosine_and_leave_the_document_out(lsa_fitted):
    result = lsa_fitted
    doc_id = result.dtm.doc_ids[3]
    hits = result.similar(doc_id, n=6)
    assert doc_id not in [h["doc_id"] for h in hits]
    expected = brute_force_similar(np.asarray(result.doc_weights), 3, 6)
    assert [h["doc_id"] for h in hits] == [result.dtm.doc_ids[i] for i in expected]
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert result.similar(3, n=6) == hits
    assert result.similar(np.int64(3), n=6) == hits
    assert {h["label"] for h in hits} == {result.dtm.labels[3]}
    everything = result.similar(0, n=100)
    assert len(everything) == result.dtm.n_docs - 1
    assert result.dtm.doc_ids[0] not in [h["doc_id"] for h in everything]


def test_similar_to_a_text_is_search(lsa_fitted):
    result = lsa_fitted
    text = "stocks shares investors dividend"
    assert result.similar(text, n=5) == result.search(text, n=5)
    assert {h["label"] for h in result.similar(text, n=5)} == {"finance"}
    # A fitted document's own text is not left out: it is not the document.
    own = result.fitted_texts([2])[0]
    assert result.similar(own, n=1)[0]["doc_id"] == result.dtm.doc_ids[2]


def test_similar_errors(lsa_fitted):
    result = lsa_fitted
    n_docs = result.dtm.n_docs
    with pytest.raises(InvalidParameterError, match=rf"'doc' parameter of similar must be an "
                                                    rf"int in the range \[0, {n_docs - 1}\]"):
        result.similar(n_docs)
    with pytest.raises(InvalidParameterError, match="range"):
        result.similar(-1)
    for bad in (True, None, 2.0, "  "):
        with pytest.raises(InvalidParameterError, match="document id, the row"):
            result.similar(bad)
    with pytest.raises(InvalidParameterError, match="'n'"):
        result.similar(0, n=0)
    with pytest.warns(TopicmfWarning, match="shares no term"):
        assert result.similar("zebra quokka") == []
    from topicmf.search import similar
    with pytest.raises(InvalidParameterError, match="No fitted document has the id 'zebra'"):
        similar(result, "zebra", allow_text=False)


def test_similar_names_a_document_left_without_terms(fitted):
    import dataclasses

    result, _ = fitted
    corpus = dataclasses.replace(result.corpus, texts=result.corpus.texts + ["zebra"],
                                 ids=result.corpus.ids + ["odd.txt"],
                                 labels=result.corpus.labels + [""])
    with pytest.warns(TopicmfWarning, match="odd.txt"):
        extended = analyze(corpus, 2)  # min_df 2: zebra, in one document, is pruned
    with pytest.raises(InvalidParameterError, match="'odd.txt' has no term left"):
        extended.similar("odd.txt")


def test_a_saved_run_finds_similar_documents_like_the_fresh_one(lsa_fitted, tmp_path):
    result = lsa_fitted
    write_outputs([result], tmp_path / "run")
    saved = load_run(tmp_path / "run")
    assert saved.analysis.vocabulary.weighting == "log-entropy"
    for doc in (result.dtm.doc_ids[5], 7, "governor coalition minister"):
        assert saved.similar(doc, 4) == result.similar(doc, 4)


def test_search_command_like_a_document(fitted, capsys):
    result, run = fitted
    doc_id = result.dtm.doc_ids[0]
    assert main(["search", str(run), "--like", doc_id, "-n", "3", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["like"] == doc_id and data["documents"] == result.similar(doc_id, 3)
    assert main(["search", str(run), "--like", "stocks"]) == 1
    assert "No fitted document has the id 'stocks'" in capsys.readouterr().err
    assert main(["search", str(run), "stocks", "--like", doc_id]) == 1
    assert "--like DOC_ID" in capsys.readouterr().err


def test_search_command(fitted, capsys):
    _, run = fitted
    assert main(["search", str(run), "--json", "stocks investors", "-n", "3"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["label"] for d in data["documents"]] == ["finance"] * 3
    assert main(["search", str(run), "--topic", "0", "-n", "2"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2
    assert main(["search", str(run)]) == 1
    assert "either a TEXT" in capsys.readouterr().err


def test_search_command_asks_which_model_of_several(fitted, tmp_path, capsys):
    result, _ = fitted
    write_outputs([result, analyze(result.corpus, 2, model="plsa", min_df=1)], tmp_path / "two")
    assert main(["search", str(tmp_path / "two"), "stocks"]) == 1
    assert "pick one with --model" in capsys.readouterr().err
    assert main(["search", str(tmp_path / "two"), "--model", "plsa", "stocks", "-n", "1"]) == 0
    assert "finance" in capsys.readouterr().out
