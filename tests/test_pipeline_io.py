import dataclasses
import json

import numpy as np
import pytest

from topicmf.corpus import load_corpus
from topicmf.errors import InvalidParameterError, ModelFileError, TopicmfWarning
from topicmf.io import load_analysis, save_analysis, staged_output
from topicmf.pipeline import analyze


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from conftest import make_two_topic_texts

    root = tmp_path_factory.mktemp("c") / "news"
    for name, text in make_two_topic_texts().items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return load_corpus(root)


@pytest.mark.parametrize("model", ["lsa", "nmf", "plsa"])
def test_analyze_separates_two_planted_topics(corpus, model):
    result = analyze(corpus, 2, model=model, min_df=1)
    topics = result.dominant_topics
    labels = np.array(result.dtm.labels)
    assert len(set(topics[labels == "finance"])) == 1
    assert len(set(topics[labels == "politics"])) == 1
    assert set(topics[labels == "finance"]) != set(topics[labels == "politics"])
    assert result.doc_weights.shape == (24, 2)
    info = result.analysis.info
    assert info["model"]["name"] == model and info["corpus"]["n_documents"] == 24
    assert info["corpus"]["languages"] == {"en": 24}


def test_analyze_is_deterministic_given_a_seed(corpus):
    a = analyze(corpus, 3, model="plsa", random_state=7, min_df=1)
    b = analyze(corpus, 3, model="plsa", random_state=7, min_df=1)
    np.testing.assert_array_equal(a.doc_weights, b.doc_weights)


def test_progress_reports_each_stage(corpus):
    seen = []
    analyze(corpus, 2, progress=lambda stage, done, total: seen.append((stage, done, total)))
    assert {s for s, _, _ in seen} == {"tokenize", "fit"}
    assert ("tokenize", 24, 24) in seen


def test_documents_left_empty_are_excluded_with_a_warning(corpus):
    extended = dataclasses.replace(corpus, texts=corpus.texts + ["zebra"],
                                   ids=corpus.ids + ["odd.txt"], labels=corpus.labels + [""])
    with pytest.warns(TopicmfWarning, match="odd.txt"):
        result = analyze(extended, 2)
    assert result.excluded == ["odd.txt"] and result.dtm.n_docs == 24


@pytest.mark.parametrize("model", ["lsa", "nmf", "plsa"])
def test_saved_analysis_folds_in_like_the_original(corpus, model, tmp_path):
    result = analyze(corpus, 2, model=model, min_df=1)
    save_analysis(result.analysis, tmp_path / "m")
    header = json.loads((tmp_path / "m" / "model.json").read_text(encoding="utf-8"))
    assert header["library_version"] and header["tokenizer"] and header["vocabulary_settings"]
    loaded = load_analysis(tmp_path / "m")
    assert loaded.topics() == result.analysis.topics()
    new, known = loaded.doc_vectors(corpus.texts[:5] + ["zebra"])
    original, _ = result.analysis.doc_vectors(corpus.texts[:5])
    np.testing.assert_allclose(new[:5], original)
    assert known.tolist() == [True] * 5 + [False]
    assert not new[5].any()


def test_assign_gives_each_new_document_its_dominant_topic(corpus):
    analysis = analyze(corpus, 2, min_df=1).analysis
    with pytest.warns(TopicmfWarning, match="1 document"):
        rows = analysis.assign(corpus.texts[:3] + ["zebra"], ids=["a", "b", "c", "z"])
    vectors, _ = analysis.doc_vectors(corpus.texts[:3])
    assert [r["doc_id"] for r in rows] == ["a", "b", "c", "z"]
    assert [r["topic"] for r in rows[:3]] == vectors.argmax(axis=1).tolist()
    assert rows[0]["topic_label"].count(" / ") == 2
    assert rows[3]["topic"] is None and rows[3]["weight"] is None and not any(rows[3]["weights"])
    with pytest.raises(InvalidParameterError, match="'ids'"):
        analysis.assign(["a text"], ids=["x", "y"])


def test_tampered_array_is_refused(corpus, tmp_path):
    result = analyze(corpus, 2, min_df=1)
    save_analysis(result.analysis, tmp_path / "m")
    path = tmp_path / "m" / "model.npz"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="checksum"):
        load_analysis(tmp_path / "m")


def test_other_format_version_is_refused(corpus, tmp_path):
    save_analysis(analyze(corpus, 2, min_df=1).analysis, tmp_path / "m")
    path = tmp_path / "m" / "model.json"
    header = json.loads(path.read_text(encoding="utf-8"))
    header["format_version"] = 99
    path.write_text(json.dumps(header), encoding="utf-8")
    with pytest.raises(ModelFileError, match="version"):
        load_analysis(tmp_path / "m")


def test_staged_output_keeps_old_files_when_the_block_fails(tmp_path):
    out = tmp_path / "out"
    with staged_output(out) as staging:
        (staging / "a.txt").write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError):
        with staged_output(out) as staging:
            (staging / "a.txt").write_text("new", encoding="utf-8")
            raise RuntimeError("disk full")
    assert (out / "a.txt").read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_log_entropy_reaches_the_model_and_folds_in_as_fitted(corpus, tmp_path):
    result = analyze(corpus, 2, model="lsa", min_df=1, weighting="log-entropy")
    assert result.analysis.info["vocabulary"]["weighting"] == "log-entropy"
    # The training texts, folded in, get the fitted matrix to the bit and the model's vectors.
    tokens = result.analysis.tokenizer.tokenize_many(corpus.texts)
    counts, weights = result.analysis.vocabulary.transform(tokens)
    assert (counts != result.dtm.counts).nnz == 0
    np.testing.assert_array_equal(weights.data, result.dtm.tfidf.data)
    np.testing.assert_array_equal(weights.indices, result.dtm.tfidf.indices)
    folded, _ = result.analysis.doc_vectors(corpus.texts)
    np.testing.assert_allclose(folded, result.model.transform(result.dtm.tfidf))
    plain = analyze(corpus, 2, model="lsa", min_df=1)
    assert not np.allclose(plain.dtm.tfidf.toarray(), result.dtm.tfidf.toarray())
    save_analysis(result.analysis, tmp_path / "m")
    loaded = load_analysis(tmp_path / "m")
    assert loaded.vocabulary.weighting == "log-entropy"
    np.testing.assert_allclose(loaded.doc_vectors(corpus.texts)[0], folded)


def test_a_model_saved_before_there_was_a_weighting_loads_as_tfidf(corpus, tmp_path):
    result = analyze(corpus, 2, min_df=1)
    save_analysis(result.analysis, tmp_path / "m")
    path = tmp_path / "m" / "model.json"
    header = json.loads(path.read_text(encoding="utf-8"))
    del header["vocabulary_settings"]["weighting"]
    del header["info"]["vocabulary"]["weighting"]
    path.write_text(json.dumps(header), encoding="utf-8")
    loaded = load_analysis(tmp_path / "m")
    assert loaded.vocabulary.weighting == "tfidf"
    np.testing.assert_allclose(loaded.doc_vectors(corpus.texts)[0],
                               result.analysis.doc_vectors(corpus.texts)[0])


def test_a_bad_weighting_fails_before_tokenizing(corpus):
    seen = []
    with pytest.raises(InvalidParameterError, match=r"^The 'weighting' parameter must be one of "
                                                    r"'tfidf', 'log-entropy'. Got 'bm25'"):
        analyze(corpus, 2, weighting="bm25", progress=lambda *stage: seen.append(stage))
    assert seen == []
