"""``topicmf analyze SHARDS``: the topics of a shard folder, as a new user runs it."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from topicmf import load_corpus
from topicmf.build import build_matrix
from topicmf.cli import main
from topicmf.errors import InvalidParameterError
from topicmf.evaluate import label_agreement
from topicmf.pipeline import analyze
from topicmf.pipeline_shards import analyze_shards

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "corpora" / "finance-politics-en"

pytestmark = pytest.mark.filterwarnings("ignore::topicmf.errors.ConvergenceWarning")


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    folder = tmp_path_factory.mktemp("build") / "shards"
    build_matrix(DEMO, folder, shard_docs=25)
    return folder


def test_topics_from_shards_are_the_topics_in_memory(shards):
    """Four shards read one at a time, fitted in float32, give the in-memory run's topics
    (for as many iterations: float32 can meet the stopping rule one iteration apart)."""
    in_memory = analyze(load_corpus(DEMO), 2, random_state=0, max_iter=30)
    (from_disk,) = analyze_shards(shards, 2, random_state=0, max_iter=30)
    assert from_disk.model.n_iter_ == in_memory.model.n_iter_ == 30
    assert [[t for t, _ in topic] for topic in from_disk.topics] == [
        [t for t, _ in topic] for topic in in_memory.topics]
    # float32 here, float64 there: KL-NMF's updates let small weights drift apart most
    np.testing.assert_allclose(from_disk.model.components_, in_memory.model.components_,
                               rtol=1e-2, atol=3e-3)
    np.testing.assert_array_equal(from_disk.dominant_topics, in_memory.dominant_topics)
    assert from_disk.fitted_ids(range(3)) == in_memory.dtm.doc_ids[:3]
    assert from_disk.fitted_texts([0]) == [in_memory.corpus.texts[0]]


def test_every_engine_fits_the_same_model(shards):
    runs = {engine: analyze_shards(shards, 2, models=("nmf", "plsa", "lsa"), engine=engine)
            for engine in ("shards", "memory")}
    for a, b in zip(runs["shards"], runs["memory"]):
        np.testing.assert_array_equal(a.model.components_, b.model.components_)
        assert a.analysis.info["model"]["engine"] != b.analysis.info["model"]["engine"]


def test_the_command_writes_every_output_from_shards(shards, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["analyze", str(shards), "--topics", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    in_memory = analyze(load_corpus(DEMO), 2, random_state=0)
    purity = label_agreement(in_memory.fitted_labels, in_memory.dominant_topics)["purity"]
    assert purity > 0.95  # one of the 80 documents may go astray
    assert "80 documents" in printed and f"purity {purity:.3f}" in printed
    with (out / "doc_topics.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 80 and rows[0]["doc_id"] == "finance/001.txt"
    assert {row["label"] for row in rows} == {"finance", "politics"}
    weights = np.array([[float(row["topic_0"]), float(row["topic_1"])] for row in rows])
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-5)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    card = report["topics"][0]["documents"][0]
    assert card["text"] and card["title"]  # read back from the source files
    assert report["labels"]["purity"] == pytest.approx(purity)
    assert (out / "index.html").exists() and (out / "model" / "model.json").exists()
    summary = json.loads((out / "topics.json").read_text(encoding="utf-8"))
    assert summary["summary"]["corpus"]["n_shards"] == 4


@pytest.mark.parametrize("extra, message", [
    (["--lang", "en"], "--lang cannot change a shard folder"),
    (["--min-df", "3", "--max-df", "0.4"], "--min-df, --max-df cannot change"),
    (["--weighting", "log-entropy"], "--weighting cannot change a shard folder"),
    (["--engine", "dask"], "needs either --scheduler"),
    (["--workers", "2"], "go with --engine dask"),
])
def test_options_that_do_not_fit_a_shard_folder_are_one_line_errors(shards, extra, message,
                                                                     capsys, tmp_path):
    code = main(["analyze", str(shards), "--topics", "2", "--out", str(tmp_path / "o"), *extra])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("topicmf: error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_an_output_folder_inside_the_shards_is_refused(shards, capsys):
    code = main(["analyze", str(shards), "--topics", "2", "--out", str(shards / "report")])
    assert code == 1 and "inside the shard folder" in capsys.readouterr().err
    assert not (shards / "report").exists()


def test_engines_for_shards_need_a_shard_folder(capsys):
    code = main(["analyze", str(DEMO), "--topics", "2", "--engine", "shards"])
    err = capsys.readouterr().err
    assert code == 1 and "topicmf build-matrix" in err


def test_lda_streams_the_shards_through_gensim(shards):
    """gensim reads the shards one at a time and fits the model it fits in memory."""
    (from_disk,) = analyze_shards(shards, 2, models=("lda",), max_iter=2)
    (in_memory,) = analyze_shards(shards, 2, models=("lda",), max_iter=2, engine="memory")
    np.testing.assert_allclose(from_disk.model.components_, in_memory.model.components_,
                               rtol=1e-6)
    np.testing.assert_allclose(from_disk.doc_weights[:], in_memory.doc_weights[:], rtol=1e-6)
    with pytest.raises(InvalidParameterError, match="not on a cluster"):
        from topicmf.models import LDA

        class Elsewhere:  # a source without a stream in this process, as a cluster's
            shape, dtype, nnz, non_negative = (3, 3), np.float32, 1, True

        from topicmf.engine import BlockSource
        LDA(2).fit(type("Cluster", (BlockSource,), dict(vars(Elsewhere)))())


def test_the_command_on_a_local_dask_cluster_fits_the_same_model(shards, tmp_path, capsys):
    """--engine dask --workers 2: two worker processes read the shards; the same topics."""
    for engine, extra in (("shards", []), ("dask", ["--workers", "2"])):
        out = tmp_path / engine
        assert main(["analyze", str(shards), "--topics", "2", "--out", str(out), "--quiet",
                     "--engine", engine, *extra]) == 0
    capsys.readouterr()
    local, cluster = (json.loads((tmp_path / e / "topics.json").read_text(encoding="utf-8"))
                      for e in ("shards", "dask"))
    assert cluster["summary"]["model"]["engine"] == "dask"
    assert [t["terms"] for t in cluster["topics"]] == [t["terms"] for t in local["topics"]]
    assert (tmp_path / "dask" / "doc_topics.csv").read_text() == (
        tmp_path / "shards" / "doc_topics.csv").read_text()


def test_a_scheduler_that_does_not_answer_is_a_one_line_error(shards, tmp_path, capsys):
    code = main(["analyze", str(shards), "--topics", "2", "--out", str(tmp_path / "o"),
                 "--engine", "dask", "--scheduler", "tcp://127.0.0.1:1"])
    err = capsys.readouterr().err
    assert code == 1 and "no Dask scheduler answers at tcp://127.0.0.1:1" in err
    assert err.count("\n") == 1 and not (tmp_path / "o").exists()
