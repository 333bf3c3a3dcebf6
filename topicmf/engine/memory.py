"""Row blocks of a CSR matrix in this process: the default source of every fit."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .base import Block, BlockContext, BlockSource, even_blocks, tree_sum


class InMemoryBlocks(BlockSource):
    """CSR ``X`` in memory, cut into ``n_blocks`` row blocks of about equal stored entries, or
    at the row positions ``bounds`` (0 = b_0 < b_1 < ... < b_n = n_docs; e.g. a shard folder's
    ranges, to reproduce a fit from shards in memory).

    Blocks are views of X (no copy), document-side arrays one array each whose row slices
    are the blocks' rows: gathering one is free. With one block (the default) the steps
    finish their global updates in place (:attr:`BlockSource.fused`).
    """

    in_process = True

    def __init__(self, X, *, n_blocks: int = 1, bounds=None):
        X = sp.csr_array(X)
        if not X.has_sorted_indices:
            X = X.copy()
            X.sort_indices()
        self.X = X
        self.shape = X.shape
        self.dtype = X.dtype
        self.nnz = int(X.nnz)
        if bounds is not None:
            bounds = [int(b) for b in bounds]
            if bounds[0] != 0 or bounds[-1] != X.shape[0] or any(
                    b >= c for b, c in zip(bounds[:-1], bounds[1:])):
                raise ValueError(f"block bounds must rise from 0 to {X.shape[0]}; got {bounds}")
            self.blocks = [Block(i, a, b) for i, (a, b) in enumerate(zip(bounds[:-1],
                                                                         bounds[1:]))]
        else:
            self.blocks = even_blocks(X.indptr, n_blocks)
        self._arrays: dict[str, np.ndarray] = {}
        self._caches = [{} for _ in self.blocks]
        self._views = [None] * len(self.blocks)

    def _rows(self, block: Block):
        from ..models._kernels import row_view
        view = self._views[block.index]
        if view is None:
            view = self._views[block.index] = row_view(self.X, slice(block.start, block.stop))
        return view

    def map_reduce(self, step, *shared):
        fused = self.fused
        results = []
        for block in self.blocks:
            local = {name: array[block.start:block.stop] for name, array in self._arrays.items()}
            ctx = BlockContext(block, local, self._caches[block.index], fused)
            results.append(step(ctx, self._rows(block), *shared))
        return tree_sum(results)

    def allocate(self, name, width, dtype, fill=0.0):
        shape = (self.shape[0], int(width))
        self._arrays[name] = (np.empty(shape, dtype=dtype) if fill is None
                              else np.full(shape, fill, dtype=dtype))

    def put(self, name: str, array: np.ndarray) -> None:
        """Adopt ``array`` (n_docs x width, C-ordered) as the document-side array ``name``."""
        if array.shape[0] != self.shape[0] or not array.flags.c_contiguous:
            raise ValueError(f"{name} must be C-ordered with {self.shape[0]} rows")
        self._arrays[name] = array

    def gather(self, name):
        return self._arrays[name]

    def multiply_local(self, name, M, new_name):
        # In the memory of the old array, which is then shrunk: no second copy of it. Block
        # by block, as a source whose blocks live apart must take it: BLAS rounds a row of
        # a product by where it falls among the rows multiplied together.
        array = self._arrays.pop(name)
        product = _times_by_blocks(array, M, self.blocks)
        if product.shape[1] < M.shape[1]:  # wider than the array it came from
            from ..models._kernels import pad_columns
            product = pad_columns(product, M.shape[1])
        self._arrays[new_name] = product

    def release(self, name):
        self._arrays.pop(name, None)

    def close(self):
        self._arrays.clear()
        self._caches = [{} for _ in self.blocks]


def _times_by_blocks(A: np.ndarray, M: np.ndarray, blocks: list[Block]) -> np.ndarray:
    """``A @ M`` (M small) in the memory of ``A``, each block's rows as
    :func:`..models._svd._times_small` takes them on their own (one block: the same)."""
    from ..models._svd import _BLOCK_ROWS
    rows, width = A.shape
    k = min(M.shape[1], width)
    M = M[:, :k].astype(A.dtype)
    flat = A.reshape(-1)
    for block in blocks:
        for start in range(block.start, block.stop, _BLOCK_ROWS):
            stop = min(start + _BLOCK_ROWS, block.stop)
            # Row r's product lands at or before row r of A: rows not yet read stay intact.
            flat[start * k:stop * k] = (A[start:stop] @ M).reshape(-1)
    A.resize((rows * k,), refcheck=False)
    return A.reshape(rows, k)
