"""The block engine: every fit is the same whether X is one block or many, wherever they live."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from topicmf.engine import BlockSource, InMemoryBlocks, as_source, tree_sum
from topicmf.engine.base import block_seed
from topicmf.models import LSA, NMF, PLSA, _kernels

ENGINES = ("numpy", "numba") if _kernels.numba_available() else ("numpy",)


def _matrix(n_docs=240, n_terms=150, seed=0, dtype=np.float32):
    rng = np.random.RandomState(seed)
    X = sp.random(n_docs, n_terms, density=0.06, random_state=rng, format="csr", dtype=dtype)
    X.data = np.ceil(X.data * 5).astype(dtype)  # counts-like
    X.data[X.indptr[7]:X.indptr[8]] = 0  # a document without terms
    X.eliminate_zeros()
    return sp.csr_array(X)


MODELS = {
    "nmf": lambda engine: NMF(5, max_iter=30, tol=0, random_state=0, engine=engine),
    "nmf-kl": lambda engine: NMF(5, beta_loss="kullback-leibler", max_iter=30, tol=0,
                                 random_state=0, engine=engine),
    "nmf-random": lambda engine: NMF(5, init="random", max_iter=30, tol=0, random_state=0,
                                     engine=engine),
    "plsa": lambda engine: PLSA(5, max_iter=30, tol=0, random_state=0, engine=engine),
    "plsa-random": lambda engine: PLSA(5, init="random", background=0, max_iter=30, tol=0,
                                       random_state=0, engine=engine),
    "lsa": lambda engine: LSA(5, random_state=0),
    # Guided topics: the seeds' parts are added to the blocks' sums, on every cut.
    "nmf-seeded": lambda engine: NMF(5, max_iter=30, tol=0, random_state=0, engine=engine,
                                     seed_topics=[[3, 40, 41], [7]]),
    "nmf-kl-seeded": lambda engine: NMF(5, beta_loss="kullback-leibler", max_iter=30, tol=0,
                                        random_state=0, engine=engine,
                                        seed_topics=[[3, 40, 41], [7]]),
    "plsa-seeded": lambda engine: PLSA(5, max_iter=30, tol=0, random_state=0, engine=engine,
                                       seed_topics=[[3, 40, 41], [7]]),
}


def test_tree_sum_adds_pairwise_in_a_fixed_order():
    parts = [np.array([float(i)]) for i in range(5)]
    seen = []

    class Spy(float):
        def __add__(self, other):
            seen.append((float(self), float(other)))
            return Spy(float(self) + float(other))

    assert tree_sum([Spy(i) for i in range(5)]) == 10
    assert seen == [(0, 1), (2, 3), (1, 5), (6, 4)]
    total = tree_sum([(p, float(i), None) for i, p in enumerate(parts)])
    assert total[0][0] == 10 and total[1] == 10 and total[2] is None
    assert tree_sum([]) is None


def test_tree_sum_as_the_blocks_come_is_the_level_by_level_order():
    def level_by_level(values):
        while len(values) > 1:
            values = [f"({values[i]}+{values[i + 1]})" if i + 1 < len(values) else values[i]
                      for i in range(0, len(values), 2)]
        return values[0]

    class Text(str):
        def __add__(self, other):
            return Text(f"({self}+{other})")

    for n in range(1, 40):
        names = [Text(str(i)) for i in range(n)]
        assert tree_sum(names) == level_by_level([str(i) for i in range(n)]), n


def test_block_seeds_depend_on_the_seed_and_the_block_only():
    a = block_seed(7, 3).uniform(size=4)
    np.testing.assert_array_equal(a, block_seed(7, 3).uniform(size=4))
    assert not np.array_equal(a, block_seed(7, 2).uniform(size=4))
    assert not np.array_equal(a, block_seed(8, 3).uniform(size=4))


def test_in_memory_blocks_are_views_and_cover_the_rows():
    X = _matrix()
    source = InMemoryBlocks(X, n_blocks=4)
    assert isinstance(as_source(X), BlockSource) and as_source(source) is source
    assert [b.start for b in source.blocks][0] == 0 and source.blocks[-1].stop == X.shape[0]
    assert all(a.stop == b.start for a, b in zip(source.blocks, source.blocks[1:]))
    source.allocate("W", 3, np.float64)

    def step(ctx, X_b, scale):
        assert np.shares_memory(X_b.data, X.data)
        ctx.local["W"][:] = ctx.block.index * scale
        return X_b.sum(), ctx.block.n_rows

    total, rows = source.map_reduce(step, 2.0)
    assert rows == X.shape[0] and np.isclose(total, X.sum())
    W = source.gather("W")
    for block in source.blocks:
        assert (W[block.start:block.stop] == 2.0 * block.index).all()
    with pytest.raises(ValueError, match="rise from 0"):
        InMemoryBlocks(X, bounds=[0, 50, 40, X.shape[0]])


@pytest.mark.filterwarnings("ignore::topicmf.errors.ConvergenceWarning")
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", sorted(MODELS))
def test_fits_agree_however_the_rows_are_cut(name, engine):
    """One block (the compiled steps update H in place) and several blocks (sums added,
    then H updated) fit the same model, to rounding (float64 here: in float32 the sums'
    different order moved some weights by 3e-4 relative after 30 iterations)."""
    X = _matrix(dtype=np.float64)
    one = MODELS[name](engine).fit(InMemoryBlocks(X))
    plain = MODELS[name](engine).fit(X)
    np.testing.assert_array_equal(one.components_, plain.components_)
    for bounds in ([0, 50, 120, 200, X.shape[0]], [0, 1, X.shape[0]]):
        many = MODELS[name](engine).fit(InMemoryBlocks(X, bounds=bounds))
        rtol = 1e-7 if "random" not in name else 0  # random starts are drawn per block
        if rtol:
            np.testing.assert_allclose(many.components_, one.components_, rtol=1e-7,
                                       atol=1e-9 * np.abs(one.components_).max())
            np.testing.assert_allclose(many.history_, one.history_, rtol=1e-9)
        assert many.doc_topic_.shape == one.doc_topic_.shape == (X.shape[0], 5)
        # The same cut twice: the same bits.
        again = MODELS[name](engine).fit(InMemoryBlocks(X, bounds=bounds))
        np.testing.assert_array_equal(again.components_, many.components_)
        np.testing.assert_array_equal(again.doc_topic_, many.doc_topic_)


@pytest.mark.filterwarnings("ignore::topicmf.errors.ConvergenceWarning")
def test_engines_agree_on_many_blocks():
    X = _matrix(dtype=np.float64)
    bounds = [0, 60, 130, X.shape[0]]
    for name in ("nmf", "nmf-kl", "plsa"):
        fits = [MODELS[name](engine).fit(InMemoryBlocks(X, bounds=bounds)) for engine in ENGINES]
        for fit in fits[1:]:
            np.testing.assert_allclose(fit.components_, fits[0].components_, rtol=1e-7,
                                       atol=1e-9 * np.abs(fits[0].components_).max())


def test_arpack_lsa_needs_the_matrix_in_memory():
    from topicmf.errors import InvalidParameterError

    class Elsewhere(InMemoryBlocks):
        in_process = False

        def __init__(self, X):
            super().__init__(X)
            self._matrix = self.__dict__.pop("X")

        def _rows(self, block):
            self.X = self._matrix
            try:
                return super()._rows(block)
            finally:
                del self.X

    X = _matrix()
    assert LSA(3, random_state=0).fit(Elsewhere(X)).components_.shape == (3, X.shape[1])
    with pytest.raises(InvalidParameterError, match="in memory"):
        LSA(3, algorithm="arpack").fit(Elsewhere(X))
