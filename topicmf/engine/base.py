"""The interface every block source offers, and the fixed-order sum of the blocks' statistics.

A fit is written once against this interface::

    source.allocate("W", width, dtype)                  # a document-side array, kept per block
    for it in range(max_iter):
        stats = source.map_reduce(step, H)              # step(ctx, X_b, H) on every block, summed
        H = global_step(H, stats)                       # small: n_terms x K

``step(ctx, X_b, *shared)`` gets the block's rows of X (CSR) and a :class:`BlockContext`
holding the block's rows of each document-side array (``ctx.local["W"]``, updated in place),
and returns its statistics: an array, a float, a tuple of them, or None. The source adds them
over the blocks in one fixed binary tree (:func:`tree_sum`), the same on every source, so a
fit's numbers depend on how the rows are cut into blocks, never on where or in which order the
blocks ran.

A step must be a module-level function (a cluster sends it to its workers by reference) and
must not keep references to ``ctx.local`` arrays beyond its call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Block:
    """Rows ``start:stop`` of X, block number ``index``."""

    index: int
    start: int
    stop: int

    @property
    def n_rows(self) -> int:
        return self.stop - self.start


@dataclass
class BlockContext:
    """What a step knows of its block besides its rows of X.

    ``local``: the block's rows of each document-side array, writable. ``cache``: a dict the
    source keeps between steps on the same block when it can (in memory), for what only
    depends on X (a term plan), else empty at every step. ``fused``: the block is the whole
    matrix, in the process that holds the shared arrays, so a step may finish the global
    update itself in place (what makes one in-memory fit as fast as it can be) and return
    no statistics for it.
    """

    block: Block
    local: dict = field(default_factory=dict)
    cache: dict = field(default_factory=dict)
    fused: bool = False


class BlockSource:
    """Row blocks of one documents x terms matrix (CSR, one vocabulary), wherever they live.

    Subclasses set ``shape``, ``dtype``, ``nnz``, ``blocks`` and implement ``map_reduce``,
    ``allocate``, ``gather`` and ``release``.
    """

    shape: tuple[int, int]
    dtype: np.dtype
    nnz: int
    blocks: list[Block]
    #: Whether every stored value is known to be non-negative (counts, TF-IDF).
    non_negative: bool | None = None
    #: Whether the steps run in this process on the caller's arrays (see BlockContext.fused).
    in_process: bool = False

    @property
    def n_docs(self) -> int:
        return self.shape[0]

    @property
    def n_terms(self) -> int:
        return self.shape[1]

    @property
    def fused(self) -> bool:
        """Whether steps may finish the global update in place: one block, in this process."""
        return self.in_process and len(self.blocks) == 1

    def map_reduce(self, step, *shared):
        """``tree_sum`` of ``step(ctx, X_b, *shared)`` over the blocks."""
        raise NotImplementedError

    def allocate(self, name: str, width: int, dtype, fill: float | None = 0.0) -> None:
        """A document-side array ``name`` of n_docs x ``width``, filled with ``fill`` (None:
        left uninitialized, for a step that writes every entry), kept block by block."""
        raise NotImplementedError

    def gather(self, name: str, columns: int | None = None) -> np.ndarray:
        """The whole array ``name`` (n_docs x width), or its first ``columns`` columns, in
        this process: the array itself in memory (packed in place to ``columns``: use only
        what this returns afterwards), a read-only memory map for shards, fetched blocks
        from a cluster."""
        raise NotImplementedError

    def release(self, name: str) -> None:
        """Let the array ``name`` go."""
        raise NotImplementedError

    def multiply_local(self, name: str, M: np.ndarray, new_name: str) -> None:
        """Replace the document-side array ``name`` by ``name @ M`` (M small), as
        ``new_name``."""
        self.allocate(new_name, M.shape[1], self.dtype, fill=None)
        self.map_reduce(_multiply_step, name, new_name, M)
        self.release(name)

    def close(self) -> None:
        """Let every array and resource of the source go."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _multiply_step(ctx, X, name, new_name, M):
    ctx.local[new_name][...] = ctx.local[name] @ M.astype(ctx.local[name].dtype)


def as_source(X) -> BlockSource:
    """``X`` itself when it is a :class:`BlockSource`, else X (sparse, CSR) in memory."""
    if isinstance(X, BlockSource):
        return X
    from .memory import InMemoryBlocks
    return InMemoryBlocks(X)


def add_stats(a, b):
    """The sum of two steps' statistics of the same structure; arrays are added into ``a``."""
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(a, tuple):
        return tuple(add_stats(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        a += b
        return a
    return a + b


class TreeSum:
    """Adds the blocks' statistics as they come, in :func:`tree_sum`'s order, holding at most
    one partial sum per level (log2 of the blocks), never every block's at once."""

    def __init__(self):
        self._stack: list[tuple[int, object]] = []  # (level, partial sum), levels falling

    def add(self, value) -> None:
        level = 0
        while self._stack and self._stack[-1][0] == level:
            value = add_stats(self._stack.pop()[1], value)
            level += 1
        self._stack.append((level, value))

    def result(self):
        """The sum: the partial sums left are added from the right (the last, unpaired
        blocks first), which is where the level-by-level order puts them."""
        if not self._stack:
            return None
        total = self._stack[-1][1]
        for _, value in reversed(self._stack[:-1]):
            total = add_stats(value, total)
        return total


def tree_sum(values) -> object:
    """The statistics of the blocks added pairwise, (0 + 1) + (2 + 3), ..., level by level,
    an unpaired last one carried up: the same order wherever they were computed."""
    total = TreeSum()
    for value in values:
        total.add(value)
    return total.result()


def block_seed(seed: int, index: int) -> np.random.Generator:
    """The random generator of block ``index`` for a fit whose random state drew ``seed``:
    every source gives a block the same random start."""
    return np.random.default_rng([int(seed), int(index)])


def even_blocks(indptr: np.ndarray, n_blocks: int) -> list[Block]:
    """``n_blocks`` consecutive row blocks holding about equal stored entries."""
    from ..models._kernels import chunk_bounds
    bounds = chunk_bounds(np.asarray(indptr), n_blocks)
    return [Block(i, int(a), int(b)) for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:]))]
