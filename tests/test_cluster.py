"""DaskBlocks on a real local cluster (two worker processes, one thread each): the same fits,
bit for bit, as InMemoryBlocks with the same blocks; flat memory; a lost worker; no scheduler."""

import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import distributed  # a test dependency (the dask extra is in the test extra)

import cloudpickle  # comes with distributed

from topicmf.engine import InMemoryBlocks  # noqa: E402
from topicmf.engine.cluster import DaskBlocks, connect  # noqa: E402
from topicmf.errors import ClusterError  # noqa: E402
from topicmf.models import LSA, NMF, PLSA  # noqa: E402
from topicmf.models.nmf import _data_sum  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::topicmf.errors.ConvergenceWarning")

BOUNDS = [0, 120, 260, 380, 500]


@pytest.fixture(scope="module")
def client():
    client = connect(workers=2, threads_per_worker=1, dashboard_address=":0")
    yield client
    client.close()


@pytest.fixture(scope="module")
def X():
    rng = np.random.default_rng(0)
    return sp.random(500, 300, density=0.05, random_state=rng, format="csr", dtype=np.float32)


@pytest.fixture
def one_numba_thread():
    """This process's kernels on one thread, as the workers': PLSA's compiled sums depend
    on the count."""
    import numba
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(before)


MODELS = {
    "nmf-frobenius-numba": lambda: NMF(5, max_iter=6, random_state=0, engine="numba"),
    "nmf-frobenius-numpy": lambda: NMF(5, max_iter=6, random_state=0, engine="numpy"),
    "nmf-kl": lambda: NMF(5, beta_loss="kullback-leibler", max_iter=6, random_state=0,
                          engine="numba"),
    "nmf-random": lambda: NMF(5, init="random", max_iter=6, random_state=0, engine="numpy"),
    "plsa-background": lambda: PLSA(5, background=0.5, max_iter=6, random_state=0,
                                    engine="numba"),
    "lsa": lambda: LSA(5, n_iter=2, random_state=0),
    "nmf-kl-seeded": lambda: NMF(5, beta_loss="kullback-leibler", max_iter=6, random_state=0,
                                 engine="numba", seed_topics=[[1, 2, 3], [9]]),
    "plsa-seeded": lambda: PLSA(5, max_iter=6, random_state=0, engine="numba",
                                seed_topics=[[1, 2, 3], [9]]),
}


def fitted(model):
    return model.components_.copy(), model.doc_topic_.copy(), list(model.history_)


def assert_same_fit(a, b):
    # The engine's promise is the same bits, stricter than the 1e-5 a user would ask for.
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert a[2] == b[2]


def test_workers_run_one_kernel_thread(client):
    assert set(client.run(lambda: os.environ.get("NUMBA_NUM_THREADS")).values()) == {"1"}


@pytest.mark.parametrize("name", MODELS)
def test_fit_on_the_cluster_equals_the_fit_in_memory(name, client, X, one_numba_thread):
    expected = fitted(MODELS[name]().fit(InMemoryBlocks(X, bounds=BOUNDS)))
    with DaskBlocks(client, X, bounds=BOUNDS) as source:
        assert not source.fused and source.non_negative
        assert_same_fit(fitted(MODELS[name]().fit(source)), expected)


def test_a_source_given_an_address_makes_and_closes_its_own_client(client, X):
    with DaskBlocks(client.scheduler.address, X) as source:
        assert len(source.blocks) == 2  # one per worker thread
        assert source.map_reduce(_data_sum) == pytest.approx(float(X.data.sum()), rel=1e-6)
        own = source._client
        assert own is not client
    assert own.status == "closed" and client.status == "running"


def _keys(client, settled):
    """Keys the scheduler holds once this round's releases have reached it (at most
    ``settled``, or what it holds after a few seconds)."""
    def count(dask_scheduler):
        return len(dask_scheduler.tasks)
    deadline = time.monotonic() + 5
    while (n := client.run_on_scheduler(count)) > settled and time.monotonic() < deadline:
        time.sleep(0.05)
    return n


def test_memory_stays_flat_over_iterations(client, X):
    counts = {}

    def callback(n_iter, value):
        if n_iter in (5, 30):
            counts[n_iter] = _keys(client, settled=2 * len(BOUNDS[1:]))

    with DaskBlocks(client, X, bounds=BOUNDS) as source:
        NMF(5, init="random", max_iter=30, tol=0, random_state=0, engine="numpy",
            callback=callback).fit(source)
    # Each block's rows of X and of W, nothing more.
    assert counts == {5: 8, 30: 8}
    assert _keys(client, settled=0) == 0


# A stand-in for topicmf.shards.ShardSet (its API, on .npz files: no pickle).
class StandInShardSet:
    def __init__(self, folder, row_ranges, n_terms, nnz):
        self.folder, self.row_ranges, self.n_terms, self.nnz = folder, row_ranges, n_terms, nnz
        self.n_docs, self.n_shards = row_ranges[-1][1], len(row_ranges)

    @classmethod
    def write(cls, folder, X, bounds):
        folder.mkdir()
        for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
            sp.save_npz(folder / f"{i}.counts.npz", sp.csr_matrix(X[a:b]))
            sp.save_npz(folder / f"{i}.tfidf.npz", sp.csr_matrix(X[a:b] * 0.5))
        np.save(folder / "ranges.npy", np.array(bounds))

    @classmethod
    def open(cls, folder, verify=True):
        bounds = np.load(Path(folder) / "ranges.npy").tolist()
        ranges = list(zip(bounds[:-1], bounds[1:]))
        shard_set = cls(Path(folder), ranges, None, 0)
        for i in range(len(ranges)):
            X = shard_set.read(i, kind="counts")
            shard_set.n_terms, shard_set.nnz = X.shape[1], shard_set.nnz + X.nnz
        return shard_set

    def path(self, i):
        return self.folder / f"{i}.counts.npz"

    def read(self, i, kind="tfidf", dtype=np.float32):
        return sp.csr_array(sp.load_npz(self.folder / f"{i}.{kind}.npz"), dtype=dtype)


@pytest.fixture
def shard_folder(tmp_path, X, monkeypatch):
    # The workers get the shard set by value: they cannot import this test module.
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    module = type(sys)("topicmf.shards")
    module.ShardSet = StandInShardSet
    monkeypatch.setitem(sys.modules, "topicmf.shards", module)
    StandInShardSet.write(tmp_path / "shards", X, BOUNDS)
    yield tmp_path / "shards"
    cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def test_shards_are_read_on_the_workers(client, X, shard_folder):
    model = lambda: PLSA(5, max_iter=6, random_state=0, engine="numpy")  # noqa: E731
    expected = fitted(model().fit(InMemoryBlocks(X, bounds=BOUNDS)))
    with DaskBlocks(client, shards=str(shard_folder), kind="counts") as source:
        assert [(b.start, b.stop) for b in source.blocks] == list(zip(BOUNDS, BOUNDS[1:]))
        assert source.shape == X.shape and source.nnz == X.nnz
        assert_same_fit(fitted(model().fit(source)), expected)


def test_a_shard_no_worker_can_read_is_one_line(client, shard_folder):
    (shard_folder / "2.tfidf.npz").unlink()
    with DaskBlocks(client, shards=str(shard_folder)) as source:
        with pytest.raises(ClusterError, match=r"cannot read shard .*same path") as error:
            NMF(3, max_iter=2, engine="numpy").fit(source)
    assert "\n" not in str(error.value)


def test_no_scheduler_is_one_line_and_quick():
    start = time.monotonic()
    with pytest.raises(ClusterError, match=r"no Dask scheduler answers at tcp://127.0.0.1:1: "
                                           r"start one with `dask scheduler`") as error:
        connect(scheduler="tcp://127.0.0.1:1")
    assert time.monotonic() - start < 10
    assert "\n" not in str(error.value)


def test_a_worker_lost_mid_fit_ends_it_with_one_line(client, X):
    # Dask cannot compute W again: it comes from arrays scattered for earlier iterations.
    victim = sorted(client.scheduler_info()["workers"])[0]

    def kill_at_3(n_iter, value):
        if n_iter == 3:
            pid = client.run(os.getpid, workers=[victim])[victim]
            os.kill(pid, 9)

    with DaskBlocks(client, X, bounds=BOUNDS) as source:
        with pytest.raises(ClusterError, match="left during the fit") as error:
            NMF(5, init="random", max_iter=20, random_state=0, engine="numpy",
                callback=kill_at_3).fit(source)
    assert "\n" not in str(error.value) and client.scheduler.address in str(error.value)
    client.wait_for_workers(2, timeout=30)  # the nanny starts a new one
