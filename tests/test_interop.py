"""topicmf.interop and the DataFrames: a run handed to gensim, pyLDAvis, pandas and Parquet."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyLDAvis
import pytest
import scipy.sparse as sp
from conftest import make_two_topic_texts
from gensim.corpora import Dictionary, MmCorpus
from gensim.models.coherencemodel import CoherenceModel

from topicmf import Corpus, analyze, load_corpus
from topicmf.errors import (InvalidParameterError, MissingDependencyError, ModelFileError,
                            OutputError, TopicmfError, TopicmfWarning)
from topicmf.evaluate import Coherence
from topicmf.export import write_outputs
from topicmf.interop import export_run, to_gensim, to_pyldavis
from topicmf.pipeline import analyze_many

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "corpora" / "finance-politics-en"

pytestmark = pytest.mark.filterwarnings("ignore::topicmf.errors.ConvergenceWarning")


@pytest.fixture(scope="module")
def results():
    """NMF, PLSA and LSA on the English demo corpus, on one vocabulary."""
    fitted = analyze_many(load_corpus(DEMO), 2, models=("nmf", "plsa", "lsa"), random_state=0)
    return dict(zip(("nmf", "plsa", "lsa"), fitted))


@pytest.fixture(scope="module")
def run_dir(results, tmp_path_factory):
    """A saved run of NMF alone, as ``topicmf analyze`` writes it (report left out)."""
    folder = tmp_path_factory.mktemp("run") / "news"
    write_outputs(results["nmf"], folder, report=False)
    return folder


def with_an_empty_document():
    texts = make_two_topic_texts()
    ids = [*texts, "empty.txt"]
    corpus = Corpus(ids=ids, texts=[*texts.values(), "the and of"],
                    labels=[i.split("/")[0] for i in texts] + ["other"], name="news",
                    source="memory")
    with pytest.warns(TopicmfWarning, match="no term left"):
        return analyze(corpus, 2, min_df=1, random_state=0)


def bags_as_matrix(bags, n_terms):
    rows = [i for i, bag in enumerate(bags) for _ in bag]
    cols = [j for bag in bags for j, _ in bag]
    vals = [n for bag in bags for _, n in bag]
    return sp.csr_matrix((vals, (rows, cols)), shape=(len(bags), n_terms))


# ---------------------------------------------------------------------------- DataFrames

def test_topics_frame_is_the_topics_in_long_format(results):
    result = results["nmf"]
    frame = result.topics_frame()
    assert list(frame.columns) == ["topic", "rank", "term", "weight", "name"]
    assert len(frame) == 2 * result.top_n
    first = frame[frame.topic == 1].sort_values("rank")
    assert first.term.tolist() == [t for t, _ in result.topics[1]]
    np.testing.assert_allclose(first.weight, [w for _, w in result.topics[1]])
    assert first["rank"].tolist() == list(range(1, result.top_n + 1))


def test_doc_topics_frame_gives_nan_to_documents_without_terms():
    result = with_an_empty_document()
    frame = result.doc_topics_frame()
    assert frame.index.name == "doc_id" and frame.index[-1] == "empty.txt"
    assert list(frame.columns) == ["label", "topic_0", "topic_1"]
    assert frame.loc["empty.txt", ["topic_0", "topic_1"]].isna().all()
    fitted = frame.drop(index="empty.txt")
    np.testing.assert_array_equal(fitted[["topic_0", "topic_1"]].to_numpy(), result.doc_weights)
    assert fitted.label.tolist() == result.fitted_labels


def test_doc_topics_frame_has_no_label_column_without_labels(results):
    texts = make_two_topic_texts()
    corpus = Corpus(ids=list(texts), texts=list(texts.values()), labels=None, name="news",
                    source="memory")
    frame = analyze(corpus, 2, min_df=1, random_state=0).doc_topics_frame()
    assert list(frame.columns) == ["topic_0", "topic_1"] and len(frame) == len(texts)


def test_without_pandas_the_error_names_the_extra(results, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if it were not installed
    for method in (results["nmf"].topics_frame, results["nmf"].doc_topics_frame):
        with pytest.raises(MissingDependencyError,
                           match=r"needs pandas; install it with: pip install 'topicmf\[pandas\]'"):
            method()
    assert issubclass(MissingDependencyError, ImportError)
    assert issubclass(MissingDependencyError, TopicmfError)


# ---------------------------------------------------------------------------- gensim

def test_to_gensim_keeps_our_term_ids_and_counts(results):
    result = results["nmf"]
    g = to_gensim(result)
    terms = result.analysis.vocabulary.terms.tolist()
    assert [g.dictionary[i] for i in range(len(terms))] == terms
    assert all(g.dictionary.token2id[t] == i for i, t in enumerate(terms))
    counts = result.dtm.counts
    assert (bags_as_matrix(g.corpus, len(terms)) != counts).nnz == 0
    document_frequency = np.diff(counts.tocsc().indptr)
    assert [g.dictionary.dfs[i] for i in range(len(terms))] == document_frequency.tolist()
    assert g.dictionary.num_docs == counts.shape[0] and g.dictionary.num_nnz == counts.nnz
    assert g.topics == [[t for t, _ in topic] for topic in result.topics]
    assert [len(tokens) for tokens in g.texts] == np.asarray(counts.sum(axis=1)).ravel().tolist()


def test_gensim_coherence_agrees_with_ours(results):
    result = results["nmf"]
    g = to_gensim(result)
    corpus = result.corpus
    ours = Coherence(result.analysis.tokenizer.tokenize_many(corpus.texts),
                     result.analysis.vocabulary.terms, topn=10).score(
        result.topics, ("u_mass", "c_npmi"))
    u_mass = CoherenceModel(topics=g.topics, corpus=g.corpus, dictionary=g.dictionary,
                            coherence="u_mass", topn=10).get_coherence()
    npmi = CoherenceModel(topics=g.topics, texts=g.texts, dictionary=g.dictionary,
                          coherence="c_npmi", topn=10, processes=1).get_coherence()
    assert np.isfinite(u_mass) and np.isfinite(npmi)
    assert u_mass == pytest.approx(ours["u_mass"].value, rel=1e-9)
    assert npmi == pytest.approx(ours["c_npmi"].value, rel=1e-9)
    # Texts rebuilt from the counts: the same documents, so the same document measure.
    bags = to_gensim(result, texts="counts")
    assert bags.texts != g.texts
    assert CoherenceModel(topics=bags.topics, texts=bags.texts, dictionary=bags.dictionary,
                          coherence="u_mass", topn=10).get_coherence() == pytest.approx(u_mass)


def test_to_gensim_refuses_texts_that_do_not_give_the_counts(results, run_dir):
    from topicmf.runs import load_run

    saved = load_run(run_dir, "export to gensim")  # a saved run has no texts
    with pytest.raises(TopicmfError, match="texts='counts'"):
        to_gensim(saved)
    assert to_gensim(saved, texts="counts").texts == to_gensim(results["nmf"], texts="counts").texts
    with pytest.raises(InvalidParameterError, match="'texts'"):
        to_gensim(saved, texts="words")


# ---------------------------------------------------------------------------- pyLDAvis

@pytest.mark.parametrize("model", ["nmf", "plsa"])
def test_to_pyldavis_gives_distributions_that_pyldavis_prepares(results, model):
    result = results[model]
    args = to_pyldavis(result)
    counts = result.dtm.counts
    assert args["topic_term_dists"].shape == (2, counts.shape[1])
    assert args["doc_topic_dists"].shape == (counts.shape[0], 2)
    np.testing.assert_allclose(args["topic_term_dists"].sum(axis=1), 1.0)
    np.testing.assert_allclose(args["doc_topic_dists"].sum(axis=1), 1.0)
    assert args["doc_lengths"].tolist() == np.asarray(counts.sum(axis=1)).ravel().tolist()
    assert args["term_frequency"].tolist() == np.asarray(counts.sum(axis=0)).ravel().tolist()
    assert args["vocab"] == result.analysis.vocabulary.terms.tolist()

    with np.errstate(divide="ignore"):  # PLSA gives some terms probability 0: log 0
        prepared = pyLDAvis.prepare(**args, n_jobs=1)
    assert prepared.topic_order == [1, 2]  # our order kept: its topic k + 1 is our topic k
    info = prepared.topic_info
    for k in range(2):
        mine = info[info.Category == f"Topic{k + 1}"].sort_values("logprob", ascending=False)
        assert mine.Term.iloc[0] == result.topics[k][0][0]


def test_to_pyldavis_gives_an_all_zero_document_the_uniform_mixture(results, monkeypatch):
    result = results["nmf"]
    weights = result.doc_weights.copy()
    weights[3] = 0.0
    monkeypatch.setattr(result, "doc_weights", weights)
    dists = to_pyldavis(result)["doc_topic_dists"]
    np.testing.assert_array_equal(dists[3], [0.5, 0.5])
    np.testing.assert_array_equal(dists[4], weights[4])


def test_to_pyldavis_refuses_signed_coordinates(results):
    with pytest.raises(InvalidParameterError, match="lsa gives coordinates"):
        to_pyldavis(results["lsa"])


# ---------------------------------------------------------------------------- export_run

def test_export_to_gensim_reads_back_in_gensim(results, run_dir, tmp_path):
    result = results["nmf"]
    written = export_run(run_dir, "gensim", tmp_path / "g")
    assert [p.name for p in written] == ["corpus.mm", "dictionary.txt", "topics.json"]
    assert not list((tmp_path / "g").glob("*.index"))  # gensim's index is a pickle
    dictionary = Dictionary.load_from_text(str(tmp_path / "g" / "dictionary.txt"))
    assert dictionary.token2id == to_gensim(result).dictionary.token2id
    corpus = MmCorpus(str(tmp_path / "g" / "corpus.mm"))
    bags = [[(i, int(n)) for i, n in bag] for bag in corpus]
    assert (bags_as_matrix(bags, len(dictionary)) != result.dtm.counts).nnz == 0
    topics = json.loads((tmp_path / "g" / "topics.json").read_text(encoding="utf-8"))
    assert [t["terms"] for t in topics] == [[t for t, _ in topic] for topic in result.topics]


def test_export_to_pyldavis_writes_the_arrays_and_a_page(results, run_dir, tmp_path):
    written = export_run(run_dir, "pyldavis", tmp_path / "p")
    assert {p.name for p in written} == {
        "topic_term_dists.npy", "doc_topic_dists.npy", "doc_lengths.npy", "term_frequency.npy",
        "prepare.json", "pyldavis.html"}
    expected = to_pyldavis(results["nmf"])
    for name in ("topic_term_dists", "doc_topic_dists", "doc_lengths", "term_frequency"):
        np.testing.assert_allclose(np.load(tmp_path / "p" / f"{name}.npy", allow_pickle=False),
                                   expected[name], rtol=1e-12)
    options = json.loads((tmp_path / "p" / "prepare.json").read_text(encoding="utf-8"))
    assert options == {"vocab": expected["vocab"], "sort_topics": False}
    page = (tmp_path / "p" / "pyldavis.html").read_text(encoding="utf-8")
    assert "topicmf-pyldavis" in page and "cdn.jsdelivr.net" in page  # as the docstring says
    export_run(run_dir, "pyldavis", tmp_path / "again")
    assert (tmp_path / "again" / "pyldavis.html").read_text(encoding="utf-8") == page


def test_export_to_pyldavis_without_pyldavis_writes_the_arrays(run_dir, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyLDAvis", None)
    with pytest.warns(TopicmfWarning, match=r"topicmf\[pyldavis\].*without the page"):
        written = export_run(run_dir, "pyldavis", tmp_path / "p")
    assert "pyldavis.html" not in {p.name for p in written} and len(written) == 5


def test_export_to_parquet_is_the_dataframes(results, run_dir):
    written = export_run(run_dir, "parquet")
    assert written == [run_dir / "export-parquet" / "doc_topics.parquet",
                       run_dir / "export-parquet" / "topics.parquet"]
    pd.testing.assert_frame_equal(pd.read_parquet(written[1]), results["nmf"].topics_frame())
    doc_topics = pd.read_parquet(written[0])
    expected = results["nmf"].doc_topics_frame().reset_index()
    assert doc_topics.doc_id.tolist() == expected.doc_id.tolist()
    np.testing.assert_allclose(doc_topics[["topic_0", "topic_1"]], expected[["topic_0", "topic_1"]],
                               rtol=1e-12)
    assert doc_topics.label.tolist() == expected.label.tolist()


def test_export_to_parquet_without_pyarrow_names_the_extra(run_dir, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'topicmf\[parquet\]'"):
        export_run(run_dir, "parquet", tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_a_run_of_several_models_exports_a_folder_per_model(results, tmp_path):
    write_outputs([results["nmf"], results["plsa"]], tmp_path / "run", report=False)
    written = export_run(tmp_path / "run", "pyldavis")
    assert written == [tmp_path / "run" / "export-pyldavis" / "nmf",
                       tmp_path / "run" / "export-pyldavis" / "plsa"]
    dists = np.load(written[1] / "doc_topic_dists.npy", allow_pickle=False)
    np.testing.assert_allclose(dists, results["plsa"].doc_weights, rtol=1e-12)


def test_an_older_run_without_counts_says_to_run_analyze_again(results, tmp_path):
    write_outputs(results["nmf"], tmp_path / "old", report=False)
    (tmp_path / "old" / "model" / "counts.npz").unlink()
    for to in ("gensim", "pyldavis"):
        with pytest.raises(ModelFileError, match=rf"{tmp_path / 'old'} .*export to {to} needs; "
                                                 r"re-run topicmf analyze"):
            export_run(tmp_path / "old", to)
    assert not (tmp_path / "old" / "export-gensim").exists()
    assert export_run(tmp_path / "old", "parquet")  # the tables need no counts


def test_damaged_counts_are_refused(results, tmp_path):
    write_outputs(results["nmf"], tmp_path / "run", report=False)
    path = tmp_path / "run" / "model" / "counts.npz"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ModelFileError, match="counts.npz is unreadable or truncated"):
        export_run(tmp_path / "run", "gensim")


def test_lsa_run_is_refused_for_pyldavis_and_nothing_is_written(results, tmp_path):
    write_outputs(results["lsa"], tmp_path / "run", report=False)
    with pytest.raises(InvalidParameterError, match="mixtures"):
        export_run(tmp_path / "run", "pyldavis")
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [
        "doc_topics.csv", "model", "topics.csv", "topics.json"]


def test_bad_target_and_bad_folder(run_dir, tmp_path):
    with pytest.raises(InvalidParameterError,
                       match=r"'to' parameter of export_run must be one of 'gensim', "
                             r"'pyldavis', 'parquet'\. Got 'csv'"):
        export_run(run_dir, "csv")
    with pytest.raises(ModelFileError, match="holds no run of topicmf analyze"):
        export_run(tmp_path, "gensim")


def test_a_failed_export_leaves_the_output_as_it_was(run_dir, tmp_path, monkeypatch):
    import topicmf.interop as interop

    out = tmp_path / "out"
    export_run(run_dir, "gensim", out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken(result, folder):
        (folder / "dictionary.txt").write_text("half", encoding="utf-8")
        raise OSError("disk full")

    monkeypatch.setitem(interop._WRITERS, "gensim", broken)
    with pytest.raises(OutputError, match="disk full"):
        export_run(run_dir, "gensim", out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_run_on_shards_exports_the_counts_of_its_shards(tmp_path):
    from topicmf.build import build_matrix
    from topicmf.pipeline_shards import analyze_shards

    shards = build_matrix(DEMO, tmp_path / "shards", shard_docs=30)
    (result,) = analyze_shards(shards.folder, 2, random_state=0)
    write_outputs(result, tmp_path / "run", report=False)
    assert not (tmp_path / "run" / "model" / "counts.npz").exists()
    export_run(tmp_path / "run", "gensim")
    corpus = MmCorpus(str(tmp_path / "run" / "export-gensim" / "corpus.mm"))
    bags = [[(i, int(n)) for i, n in bag] for bag in corpus]
    assert (bags_as_matrix(bags, shards.n_terms) != result.fitted_counts()).nnz == 0
    assert to_pyldavis(result)["doc_lengths"].sum() == result.fitted_counts().sum()


def test_ids_and_labels_a_spreadsheet_would_run_come_back_as_they_were(tmp_path):
    from topicmf._csv import read_cell, safe_cell

    texts = make_two_topic_texts()
    ids = ["=HYPERLINK(\"x\")", "-rate", "@user", "+1", "'quoted", *list(texts)[5:]]
    labels = ["=SUM(A1)"] + [name.split("/")[0] for name in list(texts)[1:]]
    corpus = Corpus(ids=ids, texts=list(texts.values()), labels=labels, name="news",
                    source="memory")
    write_outputs(analyze(corpus, 2, min_df=1, random_state=0), tmp_path / "run", report=False)
    assert "'=HYPERLINK" in (tmp_path / "run" / "doc_topics.csv").read_text(encoding="utf-8")
    (doc_topics, _) = export_run(tmp_path / "run", "parquet")
    frame = pd.read_parquet(doc_topics)
    assert frame.doc_id.tolist() == ids and frame.label.tolist() == labels
    for text in ids + labels + ["-0.25", "'", ""]:
        assert read_cell(safe_cell(text)) == text
