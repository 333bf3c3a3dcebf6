"""Dates through ``build-matrix``: read as load_corpus reads them, kept in the shards, and
topics over time from a run fitted from shards, as from the same corpus in memory."""

from __future__ import annotations

import csv
import dataclasses
import datetime
import hashlib
import json
import shutil
import warnings

import numpy as np
import pytest

from topicmf import ShardError, TopicmfWarning, analyze, load_corpus
from topicmf import timeline
from topicmf.build import build_matrix
from topicmf.cli import main
from topicmf.export import write_outputs
from topicmf.pipeline_shards import analyze_shards
from topicmf.shards import MANIFEST, ShardSet

from conftest import make_two_topic_texts

pytestmark = pytest.mark.filterwarnings("ignore::topicmf.errors.ConvergenceWarning")

START = datetime.date(2023, 11, 20)


def news_rows():
    """Finance stories first, politics later, a story every third day; one story of a word
    no other has (left out of the shards), two dates that are no date and one left blank."""
    texts = sorted(make_two_topic_texts(20, seed=7).items())
    rows = [{"id": name.replace("/", "-")[:-4], "text": text,
             "date": (START + datetime.timedelta(days=3 * i)).isoformat()}
            for i, (name, text) in enumerate(texts)]
    rows[4]["date"], rows[25]["date"], rows[30]["date"] = "soon", "2024-13-01", ""
    rows.insert(10, {"id": "odd-one", "text": "zebra", "date": "2023-12-01"})
    return rows


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def build_quietly(*args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        shards = build_matrix(*args, **kwargs)
    return shards, [str(w.message) for w in caught if issubclass(w.category, TopicmfWarning)]


@pytest.fixture(scope="module")
def news(tmp_path_factory):
    return write_jsonl(tmp_path_factory.mktemp("corpus") / "news.jsonl", news_rows())


@pytest.fixture(scope="module")
def built(news, tmp_path_factory):
    return build_quietly(news, tmp_path_factory.mktemp("build") / "shards", shard_docs=7)


@pytest.fixture(scope="module")
def runs(news, built):
    shards, _ = built
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TopicmfWarning)
        in_memory = analyze(load_corpus(news), 2, random_state=0)
    (from_shards,) = analyze_shards(shards.folder, 2, random_state=0)
    return in_memory, from_shards


# ------------------------------------------------------------------------------ building

def test_the_shards_keep_the_dates_load_corpus_reads(news, built):
    shards, _ = built
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TopicmfWarning)
        corpus = load_corpus(news)
    date_of = dict(zip(corpus.ids, corpus.dates))
    assert shards.n_shards == 6
    for i in range(shards.n_shards):
        assert shards.dates(i) == [date_of[doc_id] for doc_id in shards.doc_ids(i)]
    in_shards = [doc_id for i in range(shards.n_shards) for doc_id in shards.doc_ids(i)]
    assert "odd-one" not in in_shards and len(in_shards) == len(corpus.ids) - 1
    assert shards.manifest["dates"] == {"n_dated": 37, "first": "2023-11-20",
                                        "last": "2024-03-16"}
    assert shards.manifest["source"]["date_column"] is None
    with np.load(shards.path(0), allow_pickle=False) as npz:
        assert npz["dates"].tolist()[3:6] == ["2023-11-29", "", "2023-12-05"]


def test_unreadable_dates_are_one_warning_as_load_corpus_gives_it(news, built):
    _, messages = built
    with pytest.warns(TopicmfWarning) as caught:
        load_corpus(news)
    expected = [str(w.message) for w in caught if "left undated" in str(w.message)]
    found = [message for message in messages if "left undated" in message]
    assert found == expected and len(found) == 1
    assert "2 documents left undated" in found[0]
    assert "finance-004 'soon'" in found[0] and "'2024-13-01'" in found[0]


def test_a_named_date_column_and_a_folder_of_dated_file_names(tmp_path):
    rows = [{"id": row["id"], "text": row["text"], "published": row["date"]}
            for row in news_rows()]
    shards, _ = build_quietly(write_jsonl(tmp_path / "n.jsonl", rows), tmp_path / "a",
                              date_column="published")
    assert shards.manifest["source"]["date_column"] == "published"
    assert shards.manifest["dates"]["n_dated"] == 37
    assert shards.texts([0]) == [rows[0]["text"]]  # read again with the same settings

    folder = tmp_path / "news"
    for name, text in make_two_topic_texts(4).items():
        path = folder / name.replace(".txt", f"-2024-01-{int(name[-7:-4]) + 10}.txt")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (folder / "finance" / "notes.txt").write_text("stocks and bonds", encoding="utf-8")
    corpus = load_corpus(folder)
    shards, _ = build_quietly(folder, tmp_path / "b", min_df=1)
    assert [d for i in range(shards.n_shards) for d in shards.dates(i)] == corpus.dates
    assert corpus.dates.count(None) == 1


def test_an_undated_corpus_has_no_dates_in_its_shards(two_topic_folder, tmp_path):
    shards, _ = build_quietly(two_topic_folder, tmp_path / "shards", shard_docs=5)
    assert shards.manifest["dates"] is None and shards.dates(0) is None
    with np.load(shards.path(0), allow_pickle=False) as npz:
        assert "dates" not in npz.files
    (result,) = analyze_shards(shards.folder, 2)
    assert result.fitted_dates() is None
    with pytest.warns(TopicmfWarning, match="'period' 'week' is ignored"):
        write_outputs(result, tmp_path / "out", period="week")
    assert not (tmp_path / "out" / "topics_over_time.csv").exists()
    summary = json.loads((tmp_path / "out" / "topics.json").read_text(encoding="utf-8"))
    assert "time" not in summary["summary"]


def test_a_folder_built_before_shards_kept_dates_still_opens(built, tmp_path):
    shards, _ = built
    old = tmp_path / "old"
    old.mkdir()
    manifest = json.loads((shards.folder / MANIFEST).read_text(encoding="utf-8"))
    del manifest["dates"], manifest["source"]["date_column"]
    for entry in manifest["shards"]:
        with np.load(shards.folder / entry["file"], allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files if name != "dates"}
        np.savez(old / entry["file"], **arrays)
        data = (old / entry["file"]).read_bytes()
        entry.update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
    (old / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    reopened = ShardSet.open(old)
    assert reopened.dates(0) is None and reopened.texts([1]) == shards.texts([1])
    (result,) = analyze_shards(old, 2)
    assert result.fitted_dates() is None
    write_outputs(result, tmp_path / "out", report=False)
    assert not (tmp_path / "out" / "topics_over_time.csv").exists()


def test_a_manifest_whose_dates_do_not_fit_is_a_shard_error(built, two_topic_folder,
                                                             tmp_path):
    shards, _ = built
    copy = tmp_path / "copy"
    shutil.copytree(shards.folder, copy)
    manifest = json.loads((copy / MANIFEST).read_text(encoding="utf-8"))
    (copy / MANIFEST).write_text(json.dumps({**manifest, "dates": "yes"}), encoding="utf-8")
    with pytest.raises(ShardError, match="'dates' is neither null nor an object.*rebuild"):
        ShardSet.open(copy)
    # A manifest that says there are dates, over shards without them.
    undated, _ = build_quietly(two_topic_folder, tmp_path / "undated")
    manifest = json.loads((undated.folder / MANIFEST).read_text(encoding="utf-8"))
    manifest["dates"] = {"n_dated": 1, "first": "2024-01-01", "last": "2024-01-01"}
    (undated.folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ShardError, match=r"shard-00000.npz is unreadable .*rebuild the shards"):
        ShardSet.open(undated.folder).dates(0)


# ------------------------------------------------------------------------------ the table

def test_dates_line_up_with_the_fitted_documents_of_the_memory_run(runs):
    in_memory, from_shards = runs
    assert from_shards.fitted_dates() == in_memory.fitted_dates()
    assert from_shards.fitted_ids(range(from_shards.doc_weights.shape[0])) == \
        in_memory.dtm.doc_ids


@pytest.mark.parametrize("period", [None, "week", "month"])
def test_the_table_from_shards_is_the_table_in_memory(runs, period):
    in_memory, from_shards = runs
    table = timeline.topics_over_time(from_shards, period)
    # The same table from the same weights: the memory run with the shard fit's weights.
    same_weights = dataclasses.replace(in_memory,
                                       doc_weights=np.asarray(from_shards.doc_weights[:]))
    expected = timeline.topics_over_time(same_weights, period)
    assert (table.period, table.periods, table.measure, table.n_undated) == \
        (expected.period, expected.periods, expected.measure, expected.n_undated)
    np.testing.assert_array_equal(table.counts, expected.counts)
    np.testing.assert_allclose(table.shares, expected.shares, rtol=0, atol=1e-5)
    # And the in-memory fit itself (float64 there, float32 from shards: they differ by
    # about 1e-8 here).
    memory = timeline.topics_over_time(in_memory, period)
    assert table.periods == memory.periods and table.n_undated == memory.n_undated == 3
    np.testing.assert_array_equal(table.counts, memory.counts)
    np.testing.assert_allclose(table.shares, memory.shares, rtol=0, atol=1e-5)


def test_the_table_is_the_same_read_in_small_chunks(runs, monkeypatch):
    _, from_shards = runs
    whole = timeline.topics_over_time(from_shards, "week")
    monkeypatch.setattr(timeline, "_CHUNK_ROWS", 4)
    chunked = timeline.topics_over_time(from_shards, "week")
    np.testing.assert_array_equal(chunked.shares, whole.shares)
    np.testing.assert_array_equal(chunked.counts, whole.counts)


# ------------------------------------------------------------------------------ command line

def read_table(path):
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_cli_builds_with_a_date_column_and_analyzes_over_time(tmp_path, capsys):
    rows = [{"id": row["id"], "text": row["text"], "when": row["date"]} for row in news_rows()]
    path = write_jsonl(tmp_path / "n.jsonl", rows)
    folder = tmp_path / "shards"
    assert main(["build-matrix", str(path), "--out", str(folder), "--shard-docs", "7",
                 "--date-column", "when"]) == 0
    printed = capsys.readouterr()
    assert "37 dated from 2023-11-20 to 2024-03-16" in printed.out
    assert printed.err.count("left undated") == 1

    assert main(["analyze", str(folder), "--topics", "2", "--out", str(tmp_path / "a"),
                 "--quiet"]) == 0
    by_shards = read_table(tmp_path / "a" / "topics_over_time.csv")
    assert [row["period"] for row in by_shards][:2] == ["2023-W47", "2023-W48"]  # by week
    assert sum(int(row["n_documents"]) for row in by_shards) == 37  # all dated ones fitted
    assert main(["analyze", str(path), "--topics", "2", "--date-column", "when", "--out",
                 str(tmp_path / "m"), "--quiet"]) == 0
    in_memory = read_table(tmp_path / "m" / "topics_over_time.csv")
    assert [(r["period"], r["n_documents"]) for r in by_shards] == \
        [(r["period"], r["n_documents"]) for r in in_memory]
    for a, b in zip(by_shards, in_memory):
        for topic in ("topic_0", "topic_1"):
            assert abs(float(a[topic]) - float(b[topic])) < 1e-5

    assert main(["analyze", str(folder), "--topics", "2", "--period", "month", "--out",
                 str(tmp_path / "b"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)["summary"]
    assert summary["time"] == {"period": "month", "n_periods": 5, "n_undated": 3}
    assert [row["period"] for row in read_table(tmp_path / "b" / "topics_over_time.csv")] == \
        ["2023-11", "2023-12", "2024-01", "2024-02", "2024-03"]
    page = (tmp_path / "b" / "index.html").read_text(encoding="utf-8")
    assert page.count('data-section="time"') == 1


def test_cli_date_column_is_fixed_at_build_time(built, tmp_path, capsys):
    shards, _ = built
    code = main(["analyze", str(shards.folder), "--topics", "2", "--date-column", "when",
                 "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1
    assert "--date-column cannot change a shard folder's matrix" in err
    with pytest.raises(SystemExit):
        main(["build-matrix", "--help"])
    assert "--date-column NAME" in capsys.readouterr().out
