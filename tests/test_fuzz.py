"""Fuzzing with hypothesis: whatever a user feeds topicmf, only a TopicmfError (or a warning)
comes out; never another exception, a hang or a traceback.

A few hundred cases per target run in CI (profile ``ci``); the scheduled long run takes 10,000
per target:

    HYPOTHESIS_PROFILE=long pytest -q tests/test_fuzz.py
"""

import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from topicmf import analyze, load_corpus
from topicmf.cli import main
from topicmf.complete import BiasedMF, ratings_from_triples, read_ratings
from topicmf.errors import TopicmfError
from topicmf.io import load_analysis, save_analysis
from topicmf.tokenize import Tokenizer

settings.register_profile("ci", max_examples=200, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=10_000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Bytes a corpus file could start with: BOMs, a CSV header, a JSON line, Chinese in three
# encodings, NULs, lone surrogates as UTF-8 bytes, huge and empty lines.
PIECES = [b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"text,label\n", b'{"text": "a b"}\n',
          b'"', b",", b"\n", b"\r\n", b"\x00", b"\xed\xa0\x80", "股價上漲".encode("utf-8"),
          "股價上漲".encode("big5"), "股价上涨".encode("gb18030"), b"stocks fell ", b"\t",
          b"=HYPERLINK(1)", b"\n" * 50, b"x" * 5000]
FILE_BYTES = st.lists(st.one_of(st.sampled_from(PIECES), st.binary(max_size=64)),
                      max_size=12).map(b"".join)
TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=200)
MIXED = st.lists(st.one_of(TEXT, st.sampled_from(
    ["股價", "ｓｔｏｃｋｓ", "e\u0301", "\u202eevil\u202c", "😀👍🏽", "\ud800", "\u200b", "ＡＢＣ",
     "עברית", "مرحبا", "臺灣", "台湾", "\x00", " " * 10])), max_size=8).map("".join)


def _only_topicmf_errors(call):
    """Run ``call``; a TopicmfError is an answer, anything else fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return call()
        except TopicmfError as error:
            assert str(error) and "\n" not in str(error).strip(), repr(error)
            return None


@pytest.fixture(scope="module")
def scratch():
    folder = Path(tempfile.mkdtemp(prefix="topicmf-fuzz-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("suffix", [".txt", ".csv", ".jsonl", ".jsonl.gz"])
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=FILE_BYTES, lines=st.booleans())
def test_corpus_loaders_take_any_bytes(scratch, suffix, data, lines):
    path = scratch / f"corpus{suffix}"
    if suffix.endswith(".gz"):
        import gzip
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    corpus = _only_topicmf_errors(lambda: load_corpus(path, lines=lines))
    if corpus is not None:
        assert len(corpus.texts) == len(corpus.ids) >= 1
        assert all(isinstance(t, str) and t.strip() for t in corpus.texts)


@given(text=MIXED)
def test_tokenizer_takes_any_unicode(text):
    tokens = _only_topicmf_errors(lambda: Tokenizer()(text))
    assert tokens is not None  # tokenizing never refuses text
    assert all(isinstance(t, str) and t and not t.isspace() for t in tokens)


@pytest.fixture(scope="module")
def saved_model(scratch):
    corpus = load_corpus(Path(__file__).resolve().parents[1] / "corpora" / "finance-politics-en")
    folder = scratch / "model"
    save_analysis(analyze(corpus, 2, random_state=0).analysis, folder)
    return folder


def _damaged_copy(source: Path, target: Path, name: str, edit) -> Path:
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    path = target / name
    path.write_bytes(edit(path.read_bytes()))
    return target


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(name=st.sampled_from(["model.json", "model.npz"]), position=st.floats(0, 1),
       flip=st.integers(1, 255), cut=st.booleans())
def test_damaged_model_files_are_refused_or_load_whole(saved_model, scratch, name, position,
                                                       flip, cut):
    def edit(data: bytes) -> bytes:
        at = min(int(position * len(data)), len(data) - 1)
        return data[:at] if cut else data[:at] + bytes([data[at] ^ flip]) + data[at + 1:]

    folder = _damaged_copy(saved_model, scratch / "damaged", name, edit)
    loaded = _only_topicmf_errors(lambda: load_analysis(folder))
    if loaded is not None:  # a flip the format does not read (whitespace in the JSON...)
        assert loaded.topics() == load_analysis(saved_model).topics()


JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers(-10**15, 10**15) | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                max_size=3),
    max_leaves=6)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_crafted_model_json_is_refused_without_allocating(saved_model, scratch, data):
    """Any value of the header (shapes, dtypes, versions, settings, the model's state)
    replaced by any JSON: refused with a ModelFileError, or loaded whole."""
    header = json.loads((saved_model / "model.json").read_text(encoding="utf-8"))
    paths = [(key,) for key in header] + [(key, inner) for key, value in header.items()
                                           if isinstance(value, dict) for inner in value]
    path = data.draw(st.sampled_from(paths))
    value = data.draw(JSON_VALUE)

    def edit(raw: bytes) -> bytes:
        crafted = json.loads(raw)
        where = crafted
        for key in path[:-1]:
            where = where[key]
        where[path[-1]] = value
        return json.dumps(crafted).encode()

    folder = _damaged_copy(saved_model, scratch / "crafted", "model.json", edit)
    loaded = _only_topicmf_errors(lambda: load_analysis(folder))
    if loaded is not None:
        loaded.doc_vectors(["stocks fell as voters went to the polls"])


CELL = st.one_of(st.sampled_from(["", "-", "?", "5", "4.5", "nan", "inf", "-1e308", "1e309",
                                  "ann", "bob", "up", '"', "=1+1", "股價"]), st.text(max_size=6))
TABLE = st.lists(st.lists(CELL, min_size=1, max_size=5), min_size=0, max_size=8)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(header=st.sampled_from([["user", "item", "rating"], ["", "a", "b"], ["customer", "movie",
                                                                          "stars", "x"], []]),
       rows=TABLE, duplicates=st.sampled_from(["error", "mean", "last"]))
def test_ratings_tables_take_any_cells(scratch, header, rows, duplicates):
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, *rows] if header else rows)
    path = scratch / "ratings.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    data = _only_topicmf_errors(lambda: read_ratings(path, duplicates=duplicates))
    if data is not None:
        assert np.isfinite(data.values).all() and len(data) >= 1
        model = BiasedMF(1, n_epochs=3, random_state=0).fit(data) if min(data.shape) >= 1 \
            else None
        if model is not None:
            assert np.isfinite(model.predict_matrix()).all()


FLAGS = ["--topics", "--model", "--min-df", "--max-df", "--max-terms", "--lang", "--seed",
         "--out", "--limit", "--text-column", "--encoding", "--lines", "--json", "--quiet",
         "--background", "--top-n", "--max-iter", "--engine", "--workers", "--sublinear-tf",
         "--stopwords", "--userdict", "--max-doc-chars", "--max-unpacked-ratio", "--no-report"]
VALUES = ["2", "0", "-1", "1.5", "all", "nmf,nmf", "zh", "xx", "1e9", "", "\x00", "utf-16",
          "nosuch-codec", "shards", "dask", "0.99", "999999999999"]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
          max_examples=min(settings().max_examples, 40) if settings().max_examples < 1000
          else settings().max_examples)
@given(words=st.lists(st.one_of(st.sampled_from(FLAGS), st.sampled_from(VALUES)), max_size=8))
def test_cli_arguments_end_in_an_exit_status(scratch, words, capsys, monkeypatch):
    monkeypatch.chdir(scratch)  # an --out among the words writes here, never into the project
    corpus = Path(__file__).resolve().parents[1] / "corpora" / "finance-politics-en"
    argv = ["analyze", str(corpus), "--topics", "2", "--out", str(scratch / "cli-out"),
            "--quiet", *words]
    try:
        status = main(argv)
    except SystemExit as exit_:  # argparse: a usage error, or --help
        status = exit_.code
    err = capsys.readouterr().err
    assert status in (0, 1, 2), (argv, status)
    assert "Traceback" not in err
    if status == 1:
        assert err.count("topicmf: error:") == 1, err


@given(n=st.integers(1, 3), k=st.integers(1, 3), same=st.booleans())
def test_ratings_that_are_all_equal_give_finite_predictions(n, k, same):
    users = np.repeat(np.arange(n + 1), 2)
    items = np.tile([0, 1], n + 1)
    values = np.full(len(users), 3.0) if same else np.arange(len(users), dtype=float)
    model = BiasedMF(min(k, 2), n_epochs=5, random_state=0).fit(
        ratings_from_triples(users, items, values))
    assert np.isfinite(model.predict_matrix()).all()
