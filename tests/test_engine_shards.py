"""Fits from a folder of shards: the same model as in memory, one shard in memory at a time."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

from topicmf.engine import InMemoryBlocks, ShardBlocks
from topicmf.errors import ShardError
from topicmf.models import LSA, NMF, PLSA
from topicmf.shards import ShardSet, shards_from_matrix
from topicmf.vectorize import vectorize

pytestmark = pytest.mark.filterwarnings("ignore::topicmf.errors.ConvergenceWarning")

MODELS = {
    "nmf": (lambda: NMF(6, max_iter=25, tol=0, random_state=0), "tfidf"),
    "nmf-kl": (lambda: NMF(6, beta_loss="kullback-leibler", max_iter=25, tol=0,
                           random_state=0), "tfidf"),
    "nmf-random": (lambda: NMF(6, init="random", max_iter=25, tol=0, random_state=0), "tfidf"),
    "plsa": (lambda: PLSA(6, max_iter=25, tol=0, random_state=0), "counts"),
    "lsa": (lambda: LSA(6, random_state=0), "tfidf"),
}


def _token_lists(n_docs=900, seed=0):
    """Documents drawn from three planted topics of 40 words each, plus common words."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(150)]
    docs = []
    for d in range(n_docs):
        topic = d % 3
        own = rng.choice(words[topic * 40:(topic + 1) * 40], size=rng.integers(5, 30))
        common = rng.choice(words[120:], size=rng.integers(0, 10))
        docs.append([str(w) for w in np.concatenate([own, common])])
    return docs


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    dtm = vectorize(_token_lists(), doc_ids=[f"d{i}" for i in range(900)],
                    labels=[f"t{i % 3}" for i in range(900)], min_df=2, max_df=0.9)
    path = tmp_path_factory.mktemp("shards") / "matrix"
    shards_from_matrix(dtm, path, shard_docs=200)
    return path


@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_fit_from_shards_is_the_fit_in_memory_with_the_same_blocks(folder, name):
    make, kind = MODELS[name]
    shards = ShardSet.open(folder)
    assert shards.n_shards == 5
    X = sp.vstack([shards.read(i, kind=kind) for i in range(shards.n_shards)], format="csr")
    bounds = [0] + [stop for _, stop in shards.row_ranges]
    in_memory = make().fit(InMemoryBlocks(X, bounds=bounds))
    with ShardBlocks(shards, kind=kind) as source:
        from_disk = make().fit(source)
        np.testing.assert_array_equal(from_disk.components_, in_memory.components_)
        np.testing.assert_array_equal(np.asarray(from_disk.doc_topic_), in_memory.doc_topic_)
        assert from_disk.history_ == in_memory.history_
        # The document vectors stay on disk, memory-mapped, read-only.
        assert isinstance(from_disk.doc_topic_, np.memmap)
        assert not from_disk.doc_topic_.flags.writeable


def _traced_peak_of_a_fit(folder) -> int:
    with ShardBlocks(folder) as source:
        NMF(6, max_iter=2, tol=0, random_state=0).fit(source)  # compiled, imported
        tracemalloc.start()
        NMF(6, max_iter=5, tol=0, random_state=0).fit(source)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def test_a_fit_from_shards_holds_one_shard_at_a_time(tmp_path):
    """Four times the documents in four times the shards: the same memory (within what
    Python's collector leaves of the readers' garbage, which levels off after a few shards)."""
    peaks = []
    for n_docs in (3000, 12000):
        dtm = vectorize(_token_lists(n_docs), min_df=2, max_df=0.9)
        shards_from_matrix(dtm, tmp_path / str(n_docs), shard_docs=250)
        peaks.append(_traced_peak_of_a_fit(tmp_path / str(n_docs)))
        whole = dtm.tfidf.data.nbytes * 2 + dtm.tfidf.indptr.nbytes
    assert peaks[1] < 1.2 * peaks[0], peaks
    assert peaks[1] < 0.5 * whole, (peaks, whole)


def test_a_shard_changed_during_a_fit_stops_it_with_its_name(folder, tmp_path):
    import shutil
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    source = ShardBlocks(copy)
    victim = source.shards.path(3)
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])
    with pytest.raises(ShardError, match=victim.name):
        NMF(3, max_iter=3, random_state=0).fit(source)
    source.close()


def test_the_work_folder_goes_with_the_source(folder):
    source = ShardBlocks(folder)
    NMF(3, max_iter=3, tol=0, random_state=0).fit(source)
    work = source.work_dir
    assert work.exists()
    source.close()
    assert not work.exists()
