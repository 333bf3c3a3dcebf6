"""Row blocks read from a folder of shards on disk, one at a time (``topicmf build-matrix``)."""

from __future__ import annotations

import shutil
import tempfile
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ..errors import OutputError
from .base import Block, BlockContext, BlockSource, TreeSum


class ShardBlocks(BlockSource):
    """The shards of ``shards`` (a folder or a :class:`topicmf.shards.ShardSet`) as row
    blocks, the matrix ``kind`` ("tfidf" or "counts") read in ``dtype``.

    Only one shard is in memory at a time (the next one is read on a second thread while
    the current one is worked on), with its rows of each document-side array: those live in
    one ``.npy`` file per array and shard under ``work_dir`` (default: a new temporary
    folder, removed by :meth:`close` or when the source is collected), read and written
    whole at every visit, so no memory grows with the corpus but the vocabulary's.
    ``ctx.cache`` is empty at every step: a shard's term plan is rebuilt at each visit.
    """

    in_process = True
    non_negative = True

    def __init__(self, shards, *, kind: str = "tfidf", dtype=np.float32, work_dir=None,
                 verify: bool = True):
        from ..shards import ShardSet
        self.shards = shards if isinstance(shards, ShardSet) else ShardSet.open(shards,
                                                                              verify=verify)
        if kind not in ("tfidf", "counts"):
            from ..errors import InvalidParameterError
            raise InvalidParameterError(f"kind must be 'tfidf' or 'counts'; got {kind!r}.")
        self.kind = kind
        self.dtype = np.dtype(dtype)
        self.shape = (self.shards.n_docs, self.shards.n_terms)
        self.nnz = int(self.shards.nnz)
        self.blocks = [Block(i, int(a), int(b))
                       for i, (a, b) in enumerate(self.shards.row_ranges)]
        if work_dir is None:
            self.work_dir = Path(tempfile.mkdtemp(prefix="topicmf-work-"))
            self._finalizer = weakref.finalize(self, shutil.rmtree, self.work_dir, True)
        else:
            self.work_dir = Path(work_dir)
            try:
                self.work_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise OutputError(f"cannot use {self.work_dir} as the fit's work folder "
                                  f"({exc.strerror or exc}); pass another work_dir.") from None
            self._finalizer = None
        self._arrays: dict[str, tuple[int, np.dtype]] = {}
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="topicmf-shards")

    # ------------------------------------------------------------------ files
    def _file(self, name: str, index: int) -> Path:
        return self.work_dir / f"{name}-{index:05d}.npy"

    def _read_block(self, index: int):
        return self.shards.read(index, kind=self.kind, dtype=self.dtype)

    # ------------------------------------------------------------ interface
    def map_reduce(self, step, *shared):
        total = TreeSum()
        ahead = self._reader.submit(self._read_block, 0) if self.blocks else None
        for block in self.blocks:
            X = ahead.result()
            ahead = (self._reader.submit(self._read_block, block.index + 1)
                     if block.index + 1 < len(self.blocks) else None)
            local = {name: np.load(self._file(name, block.index), allow_pickle=False)
                     for name in self._arrays}
            total.add(step(BlockContext(block, local, {}, self.fused), X, *shared))
            for name, rows in local.items():
                np.save(self._file(name, block.index), rows, allow_pickle=False)
            del X, local
        return total.result()

    def iter_blocks(self):
        """The shards' matrices, one read at a time, in order (for readers that stream,
        like gensim's)."""
        for block in self.blocks:
            yield self._read_block(block.index)

    def allocate(self, name, width, dtype, fill=0.0):
        dtype = np.dtype(dtype)
        for block in self.blocks:
            rows = np.full((block.n_rows, int(width)), 0.0 if fill is None else fill, dtype)
            np.save(self._file(name, block.index), rows, allow_pickle=False)
        self._arrays[name] = (int(width), dtype)

    def gather(self, name, columns=None):
        """The whole array as a read-only memory map of one file in the work folder, so a
        model fitted here holds its document vectors without having them in memory."""
        width, dtype = self._arrays[name]
        width = width if columns is None else columns
        path = self.work_dir / f"{name}.npy"
        whole = np.lib.format.open_memmap(path, mode="w+", dtype=dtype,
                                          shape=(self.shape[0], width))
        for block in self.blocks:
            whole[block.start:block.stop] = np.load(self._file(name, block.index))[:, :width]
        whole.flush()
        del whole
        return np.load(path, mmap_mode="r")

    def release(self, name):
        if self._arrays.pop(name, None) is not None:
            for block in self.blocks:
                self._file(name, block.index).unlink(missing_ok=True)

    def close(self):
        for name in list(self._arrays):
            self.release(name)
        self._reader.shutdown(wait=True)
        if self._finalizer is not None:
            self._finalizer()
