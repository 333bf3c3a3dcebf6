"""Where a fit's documents live: one engine that runs every fit as map-reduce over row blocks.

A fit asks its :class:`BlockSource` to run a step on every block of documents (rows of X) and to
sum what the steps return; only the small term-side statistics (K x n_terms at most) leave a
block. The document-side factors (W, P(z | d)) stay where their block lives.

- :class:`InMemoryBlocks`: a CSR matrix in this process (the default; one block).
- :class:`ShardBlocks`: a folder of shards on disk (``topicmf build-matrix``), one shard read at
  a time, the document factors in memory-mapped files.
- :class:`DaskBlocks`: the same shards (or a matrix scattered from this process) on a Dask
  cluster, each block a task on a worker each pass.
"""

from .base import Block, BlockContext, BlockSource, as_source, tree_sum
from .memory import InMemoryBlocks

__all__ = ["Block", "BlockContext", "BlockSource", "InMemoryBlocks", "ShardBlocks",
           "DaskBlocks", "as_source", "tree_sum"]


def __getattr__(name):
    # The sources with heavier imports (shard files, dask) load when first asked for.
    if name == "ShardBlocks":
        from .shards import ShardBlocks
        return ShardBlocks
    if name == "DaskBlocks":
        from .cluster import DaskBlocks
        return DaskBlocks
    raise AttributeError(f"module 'topicmf.engine' has no attribute {name!r}")
