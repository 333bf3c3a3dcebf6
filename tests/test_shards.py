"""The shard format: writing from memory, reading back, and refusing damaged shard folders."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from topicmf.corpus import load_corpus
from topicmf.errors import CorpusError, OutputError, ShardError
from topicmf.pipeline import prepare
from topicmf.shards import MANIFEST, ShardSet, shards_from_matrix, write_shard
from topicmf.tokenize import Tokenizer

ROOT = Path(__file__).resolve().parents[1]
REBUILD = "rebuild the shards with topicmf build-matrix"


@pytest.fixture(scope="module")
def prepared():
    return prepare(load_corpus(ROOT / "corpora" / "finance-politics-en"), tokenizer=Tokenizer("en"))


@pytest.fixture
def folder(tmp_path, prepared):
    shards_from_matrix(prepared.dtm, tmp_path / "shards", shard_docs=30,
                       tokenizer=prepared.tokenizer)
    return tmp_path / "shards"


def stacked(shards, kind):
    return sp.vstack([shards.read(i, kind, dtype=None) for i in range(shards.n_shards)]).tocsr()


def test_round_trip_from_memory(tmp_path, prepared):
    dtm = prepared.dtm
    shards = shards_from_matrix(dtm, tmp_path / "s", shard_docs=7, tokenizer=prepared.tokenizer)

    assert (shards.n_docs, shards.n_terms, shards.nnz) == (dtm.n_docs, dtm.n_terms, dtm.counts.nnz)
    assert shards.n_shards == 12 and shards.row_ranges[:2] == [(0, 7), (7, 14)]
    assert shards.row_ranges[-1] == (77, 80)
    counts, tfidf = stacked(shards, "counts"), stacked(shards, "tfidf")
    assert counts.dtype == np.int32 and tfidf.dtype == np.float32
    assert np.array_equal(counts.toarray(), dtm.counts.toarray())
    assert np.array_equal(tfidf.toarray(), dtm.tfidf.astype(np.float32).toarray())
    assert sum((shards.doc_ids(i) for i in range(shards.n_shards)), []) == dtm.doc_ids
    assert sum((shards.labels(i) for i in range(shards.n_shards)), []) == dtm.labels
    assert shards.manifest["labels"] == ["finance", "politics"]
    assert list(shards.terms) == list(dtm.terms)
    assert np.array_equal(shards.vocabulary.idf, dtm.vocabulary.idf)
    assert shards.vocabulary.settings == dtm.vocabulary.settings
    assert shards.tokenizer_config == prepared.tokenizer.get_config()
    assert np.array_equal(shards.column_totals(), np.asarray(dtm.counts.sum(axis=0)).ravel())
    assert np.allclose(shards.column_totals("tfidf"), np.asarray(dtm.tfidf.sum(axis=0)).ravel(),
                       rtol=1e-6)


def test_read_gives_canonical_csr_in_the_dtype_asked(folder):
    shards = ShardSet.open(folder)
    matrix = shards.read(1)
    assert isinstance(matrix, sp.csr_array)
    assert matrix.dtype == np.float32 and matrix.shape == (30, shards.n_terms)
    assert matrix.indices.dtype == np.int32 and matrix.indptr.dtype == np.int64
    assert matrix.has_canonical_format
    assert all(np.all(np.diff(matrix.indices[a:b]) > 0)
               for a, b in zip(matrix.indptr[:-1], matrix.indptr[1:]))
    assert shards.read(1, "counts").dtype == np.float32
    assert shards.read(1, "counts", dtype=np.float64).dtype == np.float64


def test_vocabulary_folds_in_new_text_as_in_memory(folder, prepared):
    tokens = prepared.tokenizer.tokenize_many(["Stocks rallied as investors cheered the vote."])
    from_disk = ShardSet.open(folder).vocabulary.transform(tokens)
    in_memory = prepared.dtm.vocabulary.transform(tokens)
    for a, b in zip(from_disk, in_memory):
        assert np.array_equal(a.toarray(), b.toarray())


def test_every_array_loads_without_pickle(folder):
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["format"] == "topicmf-shards" and manifest["format_version"] == 1
    for entry in manifest["shards"]:
        with np.load(folder / entry["file"], allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        assert {"indptr", "indices", "counts", "tfidf", "doc_ids", "labels"} <= set(arrays)
        assert all(a.dtype != object for a in arrays.values())
        with open(folder / entry["file"], "rb") as handle:
            assert handle.read(2) == b"PK"  # a zip file ...
        with np.load(folder / entry["file"]) as npz:  # ... whose members are stored whole
            assert all(info.compress_type == 0 for info in npz.zip.infolist())


def test_texts_need_a_source(folder):
    with pytest.raises(ShardError, match="no source"):
        ShardSet.open(folder).texts([0])


# ---------------------------------------------------------------------------- damaged folders

def shard_path(folder, i):
    return folder / f"shard-{i:05d}.npz"


def expect_error(folder, named, *, verify=True, read=None):
    """The ShardError raised opening (or reading shard ``read``), naming the file ``named``."""
    with pytest.raises(ShardError) as error:
        shards = ShardSet.open(folder, verify=verify)
        if read is not None:
            shards.read(read)
    message = str(error.value)
    assert str(named) in message and "\n" not in message
    return message


def test_truncated_shard(folder):
    path = shard_path(folder, 1)
    path.write_bytes(path.read_bytes()[:-100])
    message = expect_error(folder, path)
    assert "truncated or changed" in message and REBUILD in message
    # Without verification, the read of that shard still refuses it, and the others work.
    shards = ShardSet.open(folder, verify=False)
    shards.read(0)
    expect_error(folder, path, verify=False, read=1)


def test_changed_byte_in_a_shard(folder):
    path = shard_path(folder, 2)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    assert "SHA-256" in expect_error(folder, path)


def test_missing_shard(folder):
    shard_path(folder, 0).unlink()
    assert "is missing" in expect_error(folder, shard_path(folder, 0))
    assert REBUILD in expect_error(folder, shard_path(folder, 0), verify=False, read=0)


def test_manifest_with_another_number_of_terms(folder):
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    manifest["n_terms"] += 1
    (folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    message = expect_error(folder, folder / MANIFEST)
    assert "does not match its shards" in message and REBUILD in message


def test_manifest_with_other_document_counts(folder):
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    manifest["shards"][0]["n_docs"] -= 1
    manifest["n_docs"] -= 1
    manifest["shards"][1]["first_doc"] -= 1
    manifest["shards"][2]["first_doc"] -= 1
    (folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    expect_error(folder, shard_path(folder, 0))


def test_shard_from_another_build(tmp_path, folder, prepared):
    other = shards_from_matrix(prepared.dtm, tmp_path / "other", shard_docs=30).folder
    shutil.copy(shard_path(other, 1), shard_path(folder, 1))
    expect_error(folder, shard_path(folder, 1))
    # Same arrays, so the same size: only the build id tells them apart when not verifying.
    assert "another build" in expect_error(folder, shard_path(folder, 1), verify=False, read=1)


def test_shard_with_another_number_of_terms(folder, prepared):
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    rows = slice(30, 60)
    counts = sp.hstack([prepared.dtm.counts[rows], sp.csr_matrix((30, 1))]).tocsr()
    tfidf = sp.hstack([prepared.dtm.tfidf[rows], sp.csr_matrix((30, 1))]).tocsr()
    entry = write_shard(folder, 1, counts, tfidf, prepared.dtm.doc_ids[rows],
                        prepared.dtm.labels[rows], None, first_doc=30, build=manifest["build"])
    manifest["shards"][1] = entry
    (folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    message = expect_error(folder, shard_path(folder, 1))
    assert f"30 documents x {prepared.dtm.n_terms + 1} terms" in message


def test_unknown_format_version(folder):
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    manifest["format_version"] = 99
    (folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    message = expect_error(folder, folder / MANIFEST)
    assert "format version 99" in message and REBUILD in message


def test_corrupt_or_missing_manifest(folder, tmp_path):
    (folder / MANIFEST).write_text('{"format": "topicmf-sh', encoding="utf-8")
    assert "corrupt" in expect_error(folder, folder / MANIFEST)
    (folder / MANIFEST).unlink()
    assert "is missing" in expect_error(folder, folder / MANIFEST)
    assert "not a folder" in expect_error(tmp_path / "nowhere", tmp_path / "nowhere")


def test_shard_error_is_a_corpus_error():
    assert issubclass(ShardError, CorpusError)


def test_a_folder_that_is_not_a_shard_folder_is_never_replaced(tmp_path, prepared):
    keep = tmp_path / "mine" / "notes.txt"
    keep.parent.mkdir()
    keep.write_text("precious", encoding="utf-8")
    with pytest.raises(OutputError, match="not a shard folder"):
        shards_from_matrix(prepared.dtm, keep.parent)
    assert keep.read_text(encoding="utf-8") == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]
