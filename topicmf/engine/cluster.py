"""Row blocks on a Dask cluster: every fit's map-reduce as ``dask.distributed`` futures.

Dask brings its own scheduler, workers, transport and dashboard; what is ours is the shape of
the work. Each block of rows of X is one future on a worker: scattered once from a matrix in
this process, or read there by a task from a shard folder that every worker sees. Each
document-side array (W, P(z | d)) is one future per block, beside its block. A
``map_reduce(step, *shared)`` is then

- the shared arrays (H and friends, K x n_terms at most) scattered to every worker, once;
- one task per block (``topicmf-<source>-<step>-<round>-<block>``) running ``step`` on copies
  of the block's arrays, returning the new arrays and the statistics, split by small tasks;
- the statistics added on the cluster in :func:`tree_sum`'s pairs, (0 + 1) + (2 + 3) ...,
  and only their sum fetched. A fit's numbers are therefore bit for bit those of
  :class:`InMemoryBlocks` with the same block bounds, when the workers' kernels run on as
  many numba threads as this process (PLSA's compiled sums depend on that count).

A stored value is never changed in place, since Dask may hand it to another task or compute it
again: steps get copies. ``ctx.cache`` is a fresh dict at every step (a block's plan would have
to outlive the task that made it on one worker), so plans are rebuilt; ``ctx.fused`` is False.
Futures are let go as soon as their round is over, so the workers and the scheduler hold the
same number of keys at every iteration.

A lost worker: Dask computes lost futures again from the tasks that made them when it can (a
shard is read again), but not the document factors. Each is made from the previous
iteration's and from shared arrays that were scattered (data, not tasks) and let go after
their round, which is what keeps memory flat. A worker lost mid-fit therefore ends the fit
with a :class:`ClusterError`; fit again.
"""

from __future__ import annotations

import os
import uuid
from concurrent.futures import CancelledError
from contextlib import contextmanager

import numpy as np
import scipy.sparse as sp

from .. import _validation
from ..errors import ClusterError, InvalidParameterError
from .base import Block, BlockContext, BlockSource, add_stats, even_blocks

KINDS = ("tfidf", "counts")
#: Seconds to wait for a scheduler to answer before saying that none does.
CONNECT_TIMEOUT = 3


def connect(scheduler: str | None = None, workers: int | None = None,
            threads_per_worker: int = 1, **cluster_options):
    """A ``distributed.Client``: to the scheduler at address ``scheduler``, or to a new
    ``LocalCluster`` of ``workers`` processes (Dask's default count when None) with
    ``threads_per_worker`` threads each, which the client closes when it is closed.
    ``cluster_options`` go to the LocalCluster (``dashboard_address``, ``memory_limit``).

    A worker's compiled kernels run on as many threads as the worker runs tasks on, not on
    every core of the machine: with one thread per worker and one worker per core, the
    kernels' threads do not compete with the other workers' for the cores."""
    from distributed import Client
    if scheduler is not None:
        try:
            return Client(scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError):
            raise ClusterError(
                f"no Dask scheduler answers at {scheduler}: start one with `dask scheduler` "
                f"and workers with `dask worker {scheduler} --nthreads 1`, or use --workers N "
                "for a cluster on this machine") from None
    _validation.check_int(workers, "workers", low=1, allow_none=True, owner="connect")
    _validation.check_int(threads_per_worker, "threads_per_worker", low=1, owner="connect")
    # Read by numba when a worker first imports it, so it goes in the worker's environment.
    env = {"NUMBA_NUM_THREADS": str(threads_per_worker), **cluster_options.pop("env", {})}
    return Client(n_workers=workers, threads_per_worker=threads_per_worker, processes=True,
                  env=env, **cluster_options)


class DaskBlocks(BlockSource):
    """Row blocks of a documents x terms matrix on the workers of a Dask cluster.

    ``client``: a ``distributed.Client`` (the caller's: never closed here), or a scheduler
    address, which this source connects to and closes with :meth:`close`. Then either

    - ``X``, a sparse matrix in this process, cut at the rows ``bounds`` (as
      :class:`InMemoryBlocks`) or into ``n_blocks`` blocks of about equal stored entries (by
      default one per worker thread), each block scattered once to a worker; or
    - ``shards``, a shard folder or an open ``topicmf.shards.ShardSet``, one block per shard,
      each read by a task on a worker from the folder's path, which every worker must see.
      ``kind`` ("tfidf" or "counts") and ``dtype`` say which values to read.

    ``dtype`` casts X when given; by default X keeps its own, and shards are read in float32.
    After a :class:`ClusterError` the source is spent: close it and fit again.
    """

    in_process = False

    def __init__(self, client, X=None, *, bounds=None, n_blocks=None, shards=None,
                 kind="tfidf", dtype=None):
        if (X is None) == (shards is None):
            raise InvalidParameterError(
                "DaskBlocks takes the documents as X (a sparse matrix) or as shards (a shard "
                "folder): give one of the two.")
        _validation.check_choice(kind, "kind", KINDS, owner="DaskBlocks")
        self._owned = isinstance(client, str)
        if not self._owned and not hasattr(client, "submit"):
            raise InvalidParameterError(
                "The 'client' parameter of DaskBlocks must be a distributed.Client or a "
                f"scheduler address. Got {client!r} instead.")
        self._client = connect(client) if self._owned else client
        self._prefix = f"topicmf-{uuid.uuid4().hex[:6]}"
        self._round = 0
        self._arrays: dict[str, list] = {}
        self._X: list = []
        try:
            if shards is not None:
                if bounds is not None or n_blocks is not None:
                    raise InvalidParameterError(
                        "DaskBlocks takes its blocks from the shards; bounds and n_blocks "
                        "are for X.")
                self._load_shards(shards, kind, np.dtype(np.float32 if dtype is None else dtype))
            else:
                self._scatter(X, bounds, n_blocks, dtype)
        except BaseException:
            self.close()
            raise

    # --------------------------------------------------------------- the blocks
    def _scatter(self, X, bounds, n_blocks, dtype):
        X = sp.csr_array(X)
        if dtype is not None:
            X = X.astype(dtype, copy=False)
        if not X.has_sorted_indices:
            X = X.copy()
            X.sort_indices()
        self.shape, self.dtype, self.nnz = X.shape, X.dtype, int(X.nnz)
        self.non_negative = bool(X.nnz == 0 or X.data.min() >= 0)
        if bounds is not None:
            self.blocks = _blocks_at(bounds, X.shape[0])
        else:
            if n_blocks is None:
                with self._guard():
                    n_blocks = max(1, sum(self._client.nthreads().values()))
            _validation.check_int(n_blocks, "n_blocks", low=1, owner="DaskBlocks")
            self.blocks = even_blocks(X.indptr, n_blocks)
        # Each block in arrays of its own (a slice copies), so only its rows travel.
        parts = {f"{self._prefix}-X-{b.index}": X[b.start:b.stop] for b in self.blocks}
        with self._guard():
            futures = self._client.scatter(parts, hash=False)
        self._X = [futures[key] for key in parts]

    def _load_shards(self, shards, kind, dtype):
        if isinstance(shards, (str, os.PathLike)):
            from ..shards import ShardSet
            # The workers' working directories are not ours.
            shards = ShardSet.open(os.path.abspath(shards), verify=True)
        self.shape, self.dtype, self.nnz = (shards.n_docs, shards.n_terms), dtype, shards.nnz
        self.non_negative = True
        self.blocks = [Block(i, int(a), int(b)) for i, (a, b) in enumerate(shards.row_ranges)]
        # A task, not scattered data: Dask reads a shard again if its worker goes. The shard
        # set (its manifest holds the vocabulary) goes to the workers once, not in each task.
        with self._guard():
            where = self._client.scatter(shards, broadcast=True, hash=False)
            self._X = [self._client.submit(_load_shard, where, b.index, kind, dtype,
                                           key=f"{self._prefix}-shard-{b.index}")
                       for b in self.blocks]
            self._shards = where

    # ----------------------------------------------------------- the interface
    def map_reduce(self, step, *shared):
        client, tag = self._client, self._tag(getattr(step, "__name__", "step").strip("_"))
        names = list(self._arrays)
        futures = []  # this round's, let go when it is over
        try:
            with self._guard():
                arrays = {f"{tag}-shared-{i}": value for i, value in enumerate(shared)
                          if isinstance(value, np.ndarray)}
                scattered = (client.scatter(arrays, broadcast=True, hash=False)
                             if arrays else {})
                futures += scattered.values()
                shared = [scattered.get(f"{tag}-shared-{i}", value)
                          for i, value in enumerate(shared)]
                results, new = [], {name: [] for name in names}
                for block in self.blocks:
                    b = block.index
                    task = client.submit(_run_step, step, block, names, self._X[b],
                                         *(self._arrays[name][b] for name in names), *shared,
                                         key=f"{tag}-{b}", pure=False)
                    for j, name in enumerate(names):
                        new[name].append(client.submit(_local_part, task, j,
                                                       key=f"{tag}-{name}-{b}"))
                    results.append(task)
                self._arrays.update(new)  # the old arrays go once their steps have run
                futures += results
                total = self._reduce(results, tag, futures)
                return _own(total.result()) if total is not None else None
        finally:
            for future in futures:
                future.release()

    def _reduce(self, results, tag, futures):
        """:func:`tree_sum` of the steps' statistics on the cluster, as a future; the first
        pairs are added straight from the steps' results (a round trip less than picking the
        statistics out first). Every future made is added to ``futures``."""
        submit = self._client.submit
        sums = [submit(_add_results, results[i], results[i + 1], key=f"{tag}-sum-0-{i // 2}")
                if i + 1 < len(results) else
                submit(_stats_part, results[i], key=f"{tag}-stats-{i}")
                for i in range(0, len(results), 2)]
        futures += sums
        level = 1
        while len(sums) > 1:
            sums = [submit(_add, sums[i], sums[i + 1], key=f"{tag}-sum-{level}-{i // 2}")
                    if i + 1 < len(sums) else sums[i] for i in range(0, len(sums), 2)]
            futures += sums
            level += 1
        return sums[0] if sums else None

    def allocate(self, name, width, dtype, fill=0.0):
        tag = self._tag(f"allocate-{name}")
        self._arrays[name] = [
            self._client.submit(_allocate, X_b, int(width), np.dtype(dtype), fill,
                                key=f"{tag}-{i}", pure=False)
            for i, X_b in enumerate(self._X)]

    def multiply_local(self, name, M, new_name):
        tag = self._tag(f"multiply-{name}")
        with self._guard():
            [M] = self._client.scatter([M], broadcast=True, hash=False)
            arrays = self._arrays.pop(name)
            self._arrays[new_name] = [self._client.submit(_multiply, part, M,
                                                          key=f"{tag}-{new_name}-{i}")
                                      for i, part in enumerate(arrays)]
            M.release()  # kept by the tasks that need it

    def gather(self, name, columns=None):
        with self._guard():
            parts = self._client.gather(self._arrays[name])
        if columns is not None:
            parts = [part[:, :columns] for part in parts]
        return (np.ascontiguousarray(_own(parts[0])) if len(parts) == 1
                else np.concatenate(parts))

    def release(self, name):
        for future in self._arrays.pop(name, []):
            future.release()

    def close(self):
        for name in list(self._arrays):
            self.release(name)
        for future in self._X:
            future.release()
        self._X = []
        if getattr(self, "_shards", None) is not None:
            self._shards.release()
            self._shards = None
        if self._owned and self._client is not None:
            self._client.close()
            self._client = None

    # ----------------------------------------------------------------- helpers
    def _tag(self, what: str) -> str:
        self._round += 1
        return f"{self._prefix}-{what}-{self._round}"

    @contextmanager
    def _guard(self):
        """What Dask raises when it loses a worker or the scheduler, as one ClusterError."""
        from distributed import KilledWorker
        address = getattr(self._client.scheduler, "address", "?")
        try:
            yield
        except KilledWorker as exc:
            raise ClusterError(
                f"task {exc.task} took down Dask workers of the scheduler at {address} "
                f"{exc.allowed_failures + 1} times (out of memory?): give the workers more "
                "memory, or cut the documents into more blocks") from None
        except (CancelledError, OSError, TimeoutError):
            if self._client.status != "running":
                raise ClusterError(
                    f"the Dask scheduler at {address} stopped answering during the fit: "
                    "start it again (`dask scheduler`) and fit again") from None
            raise ClusterError(
                f"a worker of the Dask scheduler at {address} left during the fit with blocks "
                "Dask cannot compute again (document factors, rows scattered from this "
                "process): fit again; the worker's log says why it went") from None


def _own(value):
    """``value`` with its arrays in memory of their own, writable: what arrives from a worker
    may be a view of the message it came in, and the fits update and resize what they get."""
    if isinstance(value, tuple):
        return tuple(_own(part) for part in value)
    if isinstance(value, np.ndarray) and not (value.flags.owndata and value.flags.writeable):
        return value.copy()
    return value


def _blocks_at(bounds, n_docs: int) -> list[Block]:
    bounds = [int(b) for b in bounds]
    if bounds[0] != 0 or bounds[-1] != n_docs or any(
            b >= c for b, c in zip(bounds[:-1], bounds[1:])):
        raise InvalidParameterError(f"block bounds must rise from 0 to {n_docs}; got {bounds}")
    return [Block(i, a, b) for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:]))]


# ------------------------------------------------------------ on the workers
def _load_shard(shards, index, kind, dtype):
    try:
        X = shards.read(index, kind=kind, dtype=dtype)
    except OSError as exc:
        raise ClusterError(
            f"a Dask worker cannot read shard {shards.path(index)} ({exc.strerror or exc}): "
            "every worker must see the shard folder at the same path") from None
    X = sp.csr_array(X)
    if not X.has_sorted_indices:
        X.sort_indices()
    return X


def _allocate(X, width, dtype, fill):
    shape = (X.shape[0], width)
    return np.empty(shape, dtype=dtype) if fill is None else np.full(shape, fill, dtype=dtype)


def _run_step(step, block, names, X, *arrays_and_shared):
    _limit_threads()
    local = {name: np.array(array) for name, array in zip(names, arrays_and_shared)}
    shared = arrays_and_shared[len(names):]
    stats = step(BlockContext(block, local, {}, False), X, *shared)
    return tuple(local[name] for name in names), stats


def _limit_threads():
    """Compiled kernels on as many threads as the worker runs tasks on (a one-thread worker:
    one-thread kernels), also on workers started elsewhere without NUMBA_NUM_THREADS."""
    from distributed import get_worker
    try:
        import numba
    except ImportError:
        return
    # The count is the running thread's own: set it in every task.
    numba.set_num_threads(max(1, min(get_worker().state.nthreads,
                                     numba.config.NUMBA_NUM_THREADS)))


def _local_part(result, j):
    return result[0][j]


def _stats_part(result):
    return result[1]


def _add_results(a, b):
    return _add(a[1], b[1])


def _add(a, b):
    return add_stats(_copy(a), b)  # add_stats adds into a, which Dask keeps


def _copy(stats):
    if isinstance(stats, tuple):
        return tuple(_copy(value) for value in stats)
    return stats.copy() if isinstance(stats, np.ndarray) else stats


def _multiply(array, M):
    # As InMemoryBlocks does it, for the same numbers.
    from ..models._kernels import pad_columns
    from ..models._svd import _times_small
    product = _times_small(np.array(array), M, M.shape[1])
    return pad_columns(product, M.shape[1]) if product.shape[1] < M.shape[1] else product
