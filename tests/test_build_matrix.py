"""build_matrix and ``topicmf build-matrix``: the shards hold exactly what the in-memory
pipeline computes, and a failed build leaves nothing behind."""

import gzip
import itertools
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import topicmf.build
from conftest import SHARED_CORPORA
from topicmf.build import build_matrix
from topicmf.cli import main
from topicmf.corpus import load_corpus
from topicmf.errors import OutputError, ShardError, TopicmfWarning, VocabularyError
from topicmf.pipeline import prepare
from topicmf.shards import MANIFEST, ShardSet
from topicmf.tokenize import Tokenizer
from topicmf.vectorize import vectorize

ROOT = Path(__file__).resolve().parents[1]
NEWSGROUPS = SHARED_CORPORA / "20newsgroups_bydate.jsonl.gz"


def assert_same_as_memory(shards: ShardSet, dtm, excluded=()):
    """The shards, stacked, are ``dtm`` (the documents prepare keeps) to the last bit."""
    counts = sp.vstack([shards.read(i, "counts", dtype=None) for i in range(shards.n_shards)])
    tfidf = sp.vstack([shards.read(i, "tfidf", dtype=None) for i in range(shards.n_shards)])
    assert list(shards.terms) == list(dtm.terms)
    assert shards.vocabulary.idf.dtype == np.float64
    assert np.array_equal(shards.vocabulary.idf, dtm.vocabulary.idf)
    assert shards.vocabulary.settings == dtm.vocabulary.settings
    assert shards.manifest["pruned_terms"] == dtm.pruned_terms
    assert counts.shape == dtm.counts.shape
    assert (counts != dtm.counts).nnz == 0
    assert np.array_equal(tfidf.indptr, dtm.tfidf.indptr)
    assert np.array_equal(tfidf.indices, dtm.tfidf.indices)
    assert np.array_equal(tfidf.data, dtm.tfidf.data.astype(np.float32))
    assert sum((shards.doc_ids(i) for i in range(shards.n_shards)), []) == dtm.doc_ids
    labels = [shards.labels(i) for i in range(shards.n_shards)]
    assert (None if labels[0] is None else sum(labels, [])) == dtm.labels
    assert shards.manifest["excluded"]["count"] == len(excluded)
    assert shards.manifest["excluded"]["first"] == list(excluded)[:20]


def quietly(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TopicmfWarning)
        return function(*args, **kwargs)


def in_memory(path, tokenizer, *, reading=None, **settings):
    corpus = load_corpus(path, **(reading or {}))
    prepared = quietly(prepare, corpus, tokenizer=tokenizer, **settings)
    excluded = [i for k, i in enumerate(corpus.ids) if k not in set(prepared.fitted_rows)]
    return prepared, excluded


@pytest.fixture(scope="module")
def newsgroups_slice(tmp_path_factory):
    # The shared corpora are part of the test setup: missing, this fails (in the open).
    path = tmp_path_factory.mktemp("ng") / "newsgroups.jsonl"
    with gzip.open(NEWSGROUPS, "rt", encoding="utf-8") as lines:
        path.write_text("".join(itertools.islice(lines, 2000)), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------- same as in memory

@pytest.mark.parametrize("name, lang, shard_docs, n_jobs", [("finance-politics-en", "en", 7, None),
                                                            ("finance-politics-zh", "zh", 30, 2)])
def test_demo_corpora_match_the_pipeline(tmp_path, name, lang, shard_docs, n_jobs):
    path = ROOT / "corpora" / name
    tokenizer = Tokenizer(lang)
    prepared, excluded = in_memory(path, tokenizer)
    shards = build_matrix(path, tmp_path / "shards", shard_docs=shard_docs, tokenizer=tokenizer,
                          n_jobs=n_jobs)
    assert shards.n_shards == -(-prepared.dtm.n_docs // shard_docs)
    assert_same_as_memory(shards, prepared.dtm, excluded)
    assert shards.manifest["labels"] == ["finance", "politics"]
    assert shards.tokenizer_config == tokenizer.get_config()


def test_newsgroups_slice_matches_the_pipeline_with_workers(tmp_path, newsgroups_slice):
    tokenizer = Tokenizer("en")
    reading = {"id_column": "filename"}
    prepared, excluded = in_memory(newsgroups_slice, tokenizer, reading=reading)
    shards = build_matrix(newsgroups_slice, tmp_path / "shards", shard_docs=450,
                          tokenizer=tokenizer, n_jobs=2, **reading)
    assert shards.n_docs == prepared.dtm.n_docs and shards.n_shards == 5
    assert_same_as_memory(shards, prepared.dtm, excluded)
    assert shards.manifest["labels"] == sorted(set(prepared.dtm.labels))

    # Other settings on the same tokens, in this process: max_terms keeps scikit-learn's
    # order among terms of equal count, min_df and max_df as a share and a number.
    settings = dict(min_df=0.002, max_df=300, max_terms=2500, sublinear_tf=True)
    dtm = vectorize(prepared.token_lists, doc_ids=prepared.corpus.ids,
                    labels=prepared.corpus.labels, **settings)
    kept = np.flatnonzero(np.diff(dtm.counts.indptr) > 0)
    excluded = [dtm.doc_ids[i] for i in np.flatnonzero(np.diff(dtm.counts.indptr) == 0)]
    shards = quietly(build_matrix, newsgroups_slice, tmp_path / "shards", shard_docs=300,
                     tokenizer=tokenizer, n_jobs=1, **settings, **reading)
    assert_same_as_memory(shards, dtm.select(kept), excluded)
    assert shards.vocabulary.settings["max_terms"] == 2500


def test_log_entropy_shards_match_the_pipeline_to_rounding(tmp_path, monkeypatch):
    # Many small chunks, so the sums of tf ln tf are added chunk by chunk.
    monkeypatch.setattr(topicmf.build, "_CHUNK_DOCS", 7)
    path = ROOT / "corpora" / "finance-politics-en"
    tokenizer = Tokenizer("en")
    prepared, excluded = in_memory(path, tokenizer, weighting="log-entropy")
    shards = build_matrix(path, tmp_path / "shards", shard_docs=30, tokenizer=tokenizer,
                          n_jobs=1, weighting="log-entropy")
    dtm = prepared.dtm
    assert shards.vocabulary.settings == dtm.vocabulary.settings
    assert shards.vocabulary.weighting == "log-entropy"
    np.testing.assert_allclose(shards.vocabulary.idf, dtm.vocabulary.idf, rtol=1e-13)
    counts = sp.vstack([shards.read(i, "counts", dtype=None) for i in range(shards.n_shards)])
    weights = sp.vstack([shards.read(i, "tfidf", dtype=None) for i in range(shards.n_shards)])
    assert (counts != dtm.counts).nnz == 0
    np.testing.assert_array_equal(weights.indices, dtm.tfidf.indices)
    np.testing.assert_allclose(weights.data, dtm.tfidf.data, rtol=1e-6)  # stored as float32
    # TF-IDF would give other weights: the setting reached the shards.
    assert not np.allclose(shards.vocabulary.idf, vectorize(
        prepared.token_lists, min_df=2, max_df=0.5).vocabulary.idf[:shards.n_terms])


@pytest.mark.parametrize("n_jobs, most", [(1, 500), (2, 5 * 500)])
def test_the_reader_stays_a_few_chunks_ahead(n_jobs, most):
    from topicmf.corpus import SourceDocument

    pulled = 0

    def documents():
        nonlocal pulled
        for i in range(6000):
            pulled += 1
            yield SourceDocument(f"d{i}", f"word{i % 50} stocks", None, 0, i + 1)

    chunks = topicmf.build._counted_chunks(documents(), Tokenizer("en"), n_jobs)
    first_meta, _ = next(chunks)
    assert len(first_meta) == 500 and pulled <= most
    assert sum(len(meta) for meta, _ in chunks) == 6000 - 500


def test_documents_without_terms_are_excluded_and_named(tmp_path):
    rows = ["stocks rallied today", "stocks fell today", "zebra", "stocks voted", "unique words",
            "voted today"]
    path = tmp_path / "docs.csv"
    path.write_text("id,text\n" + "".join(f"d{i},{t}\n" for i, t in enumerate(rows)),
                    encoding="utf-8")
    tokenizer = Tokenizer("en")
    with pytest.warns(TopicmfWarning, match=r"2 document\(s\) have no term left .*: d2, d4"):
        shards = build_matrix(path, tmp_path / "shards", tokenizer=tokenizer, max_df=0.9,
                              shard_docs=2)
    with pytest.warns(TopicmfWarning, match="d2, d4"):
        prepared = prepare(load_corpus(path), tokenizer=tokenizer, max_df=0.9)
    assert_same_as_memory(shards, prepared.dtm, ["d2", "d4"])
    assert shards.row_ranges == [(0, 2), (2, 4)]
    assert shards.manifest["n_documents_read"] == 6
    assert shards.labels(0) is None and shards.manifest["labels"] is None


def test_folder_labels_and_a_file_without_one(tmp_path):
    for name, text in {"a/1.txt": "stocks rally", "a/2.txt": "stocks fall",
                       "b/1.txt": "votes count", "top.txt": "stocks votes"}.items():
        (tmp_path / "in" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "in" / name).write_text(text, encoding="utf-8")
    shards = build_matrix(tmp_path / "in", tmp_path / "out", tokenizer=Tokenizer("en"), max_df=1.0)
    assert shards.doc_ids(0) == ["a/1.txt", "a/2.txt", "b/1.txt", "top.txt"]
    assert shards.labels(0) == ["a", "a", "b", ""]
    assert shards.manifest["labels"] == ["", "a", "b"]


@pytest.mark.parametrize("kind", ["folder", "jsonl.gz", "csv", "lines"])
def test_texts_are_read_again_from_the_source(tmp_path, kind):
    texts = [f"stocks rally number {w} today" if i % 2 else f"votes counted {w} again\nsecond line"
             for i, w in enumerate("alpha beta gamma delta epsilon zeta eta".split())]
    if kind == "folder":
        path = tmp_path / "in"
        for i, text in enumerate(texts):
            (path / f"{i}.txt").parent.mkdir(exist_ok=True)
            (path / f"{i}.txt").write_text(text, encoding="utf-8")
    elif kind == "jsonl.gz":
        path = tmp_path / "in.jsonl.gz"
        path.write_bytes(gzip.compress("".join(json.dumps({"text": t}) + "\n\n"
                                               for t in texts).encode()))
    elif kind == "csv":
        path = tmp_path / "in.csv"
        path.write_text("text,label\n" + "".join(f'"{t}",x\n' for t in texts), encoding="utf-8")
    else:
        texts = [line for t in texts for line in t.split("\n")]
        path = tmp_path / "in.txt"
        path.write_text("\n\n".join(texts), encoding="gb18030")
    options = {"lines": kind == "lines"}
    shards = build_matrix(path, tmp_path / "out", tokenizer=Tokenizer("en"), max_df=1.0,
                          shard_docs=3, **options)
    corpus = load_corpus(path, **options)
    assert shards.n_docs == len(corpus)
    assert shards.texts([4, 0, 4, shards.n_docs - 1]) == [corpus.texts[4], corpus.texts[0],
                                                          corpus.texts[4], corpus.texts[-1]]


def test_reading_limits_reach_the_shards_and_the_texts_read_again(tmp_path):
    path = tmp_path / "in.jsonl"
    texts = ["stocks rally " * 40, "votes counted again", "stocks fall today"]
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    with pytest.warns(TopicmfWarning, match=r"1 document longer than 30 characters cut .*"
                                            r"\(row-1 \(line 1\)\)"):
        shards = build_matrix(path, tmp_path / "out", tokenizer=Tokenizer("en"), max_df=1.0,
                              min_df=1, max_doc_chars=30, max_unpacked_ratio=50)
    source = shards.manifest["source"]
    assert (source["max_doc_chars"], source["max_unpacked_ratio"]) == (30, 50.0)
    assert shards.texts([0, 1]) == [texts[0][:30], texts[1]]
    assert shards.read(0, "counts", dtype=None)[0].sum() == 5  # stocks rally x 2, stoc


def test_texts_refuse_a_changed_source(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"id": f"d{i}", "text": f"stocks rally {i}"}) + "\n"
                            for i in range(6)), encoding="utf-8")
    shards = build_matrix(path, tmp_path / "out", tokenizer=Tokenizer("en"), max_df=1.0,
                          min_df=1)
    path.write_text("".join(json.dumps({"id": f"e{i}", "text": "other"}) + "\n"
                            for i in range(6)), encoding="utf-8")
    with pytest.raises(ShardError, match=r"has changed since .* document d2 is no longer"):
        shards.texts([2])


def test_progress_reports_both_passes(tmp_path):
    calls = []
    build_matrix(ROOT / "corpora" / "finance-politics-en", tmp_path / "out", shard_docs=50,
                 tokenizer=Tokenizer("en"), progress=lambda *call: calls.append(call))
    assert {stage for stage, _, _ in calls} == {"read", "write"}
    assert calls[-1] == ("write", 80, 80)
    assert [c for c in calls if c[0] == "read"][-1] == ("read", 80, 80)


def test_vocabulary_errors_say_the_same_as_vectorize(tmp_path):
    path = ROOT / "corpora" / "finance-politics-en"
    tokenizer = Tokenizer("en")
    corpus = load_corpus(path)
    for settings, match in ((dict(min_df=79, max_df=1.0), "After pruning, no terms remain"),
                            (dict(min_df=50, max_df=0.5), "keeps terms in at most 40")):
        with pytest.raises(VocabularyError, match=match) as expected:
            prepare(corpus, tokenizer=tokenizer, **settings)
        with pytest.raises(VocabularyError) as error:
            build_matrix(path, tmp_path / "out", tokenizer=tokenizer, **settings)
        assert str(error.value) == str(expected.value)
    stopwords = tmp_path / "stop.txt"
    stopwords.write_text("the and of\n", encoding="utf-8")
    with pytest.raises(VocabularyError, match="No terms are left after tokenization"):
        build_matrix(stopwords, tmp_path / "out", tokenizer=tokenizer)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stop.txt"]


# ---------------------------------------------------------------------------- output

def test_interrupted_build_leaves_nothing_and_keeps_the_earlier_folder(tmp_path, monkeypatch):
    path = ROOT / "corpora" / "finance-politics-en"
    earlier = build_matrix(path, tmp_path / "out", shard_docs=20, tokenizer=Tokenizer("en"))
    before = {p.name: p.read_bytes() for p in earlier.folder.iterdir()}
    real_write_shard = topicmf.build.write_shard

    def failing(folder, index, *args, **kwargs):
        if index == 1:
            raise KeyboardInterrupt
        return real_write_shard(folder, index, *args, **kwargs)

    monkeypatch.setattr(topicmf.build, "write_shard", failing)
    with pytest.raises(KeyboardInterrupt):
        build_matrix(path, tmp_path / "out", shard_docs=7, tokenizer=Tokenizer("en"), min_df=1)
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    ShardSet.open(tmp_path / "out")
    with pytest.raises(KeyboardInterrupt):
        build_matrix(path, tmp_path / "new", shard_docs=7, tokenizer=Tokenizer("en"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_rebuild_replaces_the_whole_earlier_folder(tmp_path):
    path = ROOT / "corpora" / "finance-politics-en"
    build_matrix(path, tmp_path / "out", shard_docs=7, tokenizer=Tokenizer("en"))
    shards = build_matrix(path, tmp_path / "out", shard_docs=50, tokenizer=Tokenizer("en"))
    assert sorted(p.name for p in shards.folder.iterdir()) == [
        MANIFEST, "shard-00000.npz", "shard-00001.npz"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_output_inside_the_input_is_refused(tmp_path):
    root = tmp_path / "corpus"
    (root / "a").mkdir(parents=True)
    (root / "a" / "1.txt").write_text("stocks", encoding="utf-8")
    for out in (root, root / "shards", root / "a" / "deeper"):
        with pytest.raises(OutputError, match="inside"):
            build_matrix(root, out)
    text = tmp_path / "one.txt"
    text.write_text("stocks\nvotes\n", encoding="utf-8")
    with pytest.raises(OutputError):
        build_matrix(text, text, lines=True)
    with pytest.raises(OutputError, match="would replace"):
        build_matrix(root / "a" / "1.txt", root)
    assert sorted(p.name for p in root.rglob("*")) == ["1.txt", "a"]


# ---------------------------------------------------------------------------- command line

def test_cli_builds_and_summarizes(tmp_path, capsys):
    out = tmp_path / "shards"
    status = main(["build-matrix", str(ROOT / "corpora" / "finance-politics-en"), "--out",
                   str(out), "--shard-docs", "30", "--lang", "en", "--max-df", "0.4"])
    printed = capsys.readouterr().out
    assert status == 0
    assert printed.startswith("finance-politics-en: 80 documents read, 80 in the shards")
    assert "in 3 shards of up to 30 documents" in printed
    assert printed.rstrip().endswith(f"Shards: {out}")
    assert ShardSet.open(out).vocabulary.settings["max_df"] == 0.4
    assert ShardSet.open(out).vocabulary.weighting == "tfidf"

    assert main(["build-matrix", str(ROOT / "corpora" / "finance-politics-en"), "--out",
                 str(out), "--lang", "en", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["n_docs"] == 80 and summary["n_shards"] == 1
    assert summary["bytes"] == sum(p.stat().st_size for p in out.iterdir())

    assert main(["build-matrix", str(ROOT / "corpora" / "finance-politics-en"), "--out",
                 str(out), "--lang", "en", "--weighting", "log-entropy", "--quiet"]) == 0
    assert ShardSet.open(out).vocabulary.weighting == "log-entropy"


def test_cli_errors_are_one_line(tmp_path, capsys):
    corpus = ROOT / "corpora" / "finance-politics-en"
    cases = [
        (["--out", str(corpus / "shards")], "inside"),
        (["--out", str(tmp_path / "s"), "--shard-docs", "0"], "--shard-docs must be at least 1"),
        (["--out", str(tmp_path / "s"), "--min-df", "79", "--max-df", "1.0"], "no terms remain"),
        (["--out", str(tmp_path / "s"), "--weighting", "log-entropy", "--sublinear-tf"],
         "--sublinear-tf applies to --weighting tfidf"),
    ]
    for extra, match in cases:
        assert main(["build-matrix", str(corpus), "--lang", "en", *extra]) == 1
        error = capsys.readouterr().err
        assert error.startswith("topicmf: error: ") and match in error
        assert error.count("\n") == 1
    assert main(["build-matrix", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "s")]) == 1
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        main(["build-matrix", str(corpus)])
    assert usage.value.code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == []
