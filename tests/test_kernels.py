"""The compiled (numba) and numpy sparse kernels agree with each other and with dense algebra."""

import os
import numpy as np
import pytest
import scipy.sparse as sp

from topicmf.errors import InvalidParameterError
from topicmf.models import NMF, PLSA, _kernels

ENGINES = ("numpy", "numba")


def random_case(n_docs, n_terms, k, dtype, seed=0, empty=True):
    rng = np.random.RandomState(seed)
    X = sp.random(n_docs, n_terms, density=0.3, format="csr", random_state=rng) * 5
    X = sp.lil_array(X)
    if empty and n_docs > 2 and n_terms > 2:
        X[1, :] = 0  # an empty document
        X[:, 2] = 0  # a term that occurs nowhere
    X = sp.csr_array(X, dtype=dtype)
    X.eliminate_zeros()
    W = rng.rand(n_docs, k).astype(dtype)
    HT = rng.rand(n_terms, k).astype(dtype)
    return X, W, HT


def dense_reference(X, W, HT, offset=None):
    D = X.toarray().astype(np.float64)
    WH = W.astype(np.float64) @ HT.T.astype(np.float64)
    if offset is not None:
        WH = WH + offset.astype(np.float64)
    R = np.divide(D, WH, out=np.zeros_like(D), where=D > 0)
    loglik = (D * np.log(np.where(D > 0, WH, 1.0))).sum(axis=1)
    return loglik, R @ HT, R.T @ W


CASES = [(12, 9, 3), (1, 8, 2), (10, 7, 1), (30, 40, 5)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", CASES)
@pytest.mark.parametrize("engine", ENGINES)
def test_ratio_pass_matches_dense_reference(engine, shape, dtype):
    X, W, HT = random_case(*shape, dtype)
    loglik, RHt, WtR = _kernels.ratio_pass(X, W, HT, engine=engine)
    expected = dense_reference(X, W, HT)
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    for got, want in zip((loglik, RHt, WtR), expected):
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol)
    assert RHt.dtype == WtR.dtype == dtype
    assert RHt.shape == W.shape and WtR.shape == HT.shape
    _, only_rows, no_cols = _kernels.ratio_pass(X, W, HT, cols=False, engine=engine)
    assert no_cols is None
    np.testing.assert_array_equal(only_rows, RHt)


needs_numba = pytest.mark.skipif(not _kernels.numba_available(), reason="needs numba")
# A budget of 1 byte gives sub-ranges of ALIGN = 64 terms (the least): several per thread on
# the 300 terms of the last case.
BUDGETS = (None, 1)
PLAN_CASES = CASES + [(25, 300, 4)]


@needs_numba
@pytest.mark.parametrize("budget", BUDGETS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", PLAN_CASES)
def test_products_by_rows_and_by_terms_match_scipy(shape, dtype, budget):
    from topicmf.models import _numba_kernels
    X, W, HT = random_case(*shape, dtype, seed=4)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    plan = _kernels.term_plan(X, W.shape[1], budget=budget)
    out = np.full(W.shape, np.nan, dtype=dtype)
    np.testing.assert_allclose(_numba_kernels.rows_product(X, HT, out), X @ HT, rtol=rtol,
                               atol=rtol)
    out = np.full(HT.shape, np.nan, dtype=dtype)
    np.testing.assert_allclose(_numba_kernels.cols_product(X, W, out, plan), X.T @ W,
                               rtol=rtol, atol=rtol)
    for engine in ENGINES:  # the dispatchers
        np.testing.assert_allclose(_kernels.product_t(X, W, np.empty_like(HT), engine),
                                   X.T @ W, rtol=rtol, atol=rtol)


def test_term_plan_covers_the_terms_in_order_within_its_budget(monkeypatch):
    X, _, _ = random_case(30, 1000, 5, np.float32, seed=5)
    monkeypatch.setattr(_kernels, "n_threads", lambda: 3)
    plan = _kernels.term_plan(X, 5, budget=3 * 5 * 4 * 150)  # 150 terms a sub-range at most
    assert plan.sub[0] == 0 and plan.sub[-1] == 1000 and (np.diff(plan.sub) > 0).all()
    assert (plan.sub[:-1] % _kernels.ALIGN == 0).all()  # cut at multiples of 64 only
    assert plan.longest <= 150 and len(plan.parts) == 4 and plan.parts[-1] == len(plan.sub) - 1
    assert (np.diff(plan.parts) >= 2).all()  # each thread: several sub-ranges
    assert plan.buffer(5, np.float32).shape == (3, plan.longest + _kernels.ALIGN, 5)
    assert plan.cursors.shape == (3, 30)


@needs_numba
@pytest.mark.parametrize("budget", BUDGETS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", PLAN_CASES)
def test_updates_by_terms_are_the_textbook_steps(shape, dtype, budget):
    """H^T updated in place, sub-range by sub-range, equals the dense formulas."""
    from topicmf.models import _numba_kernels
    X, W, HT = random_case(*shape, dtype, seed=6)
    rtol = 2e-4 if dtype == np.float32 else 1e-10
    plan = _kernels.term_plan(X, W.shape[1], budget=budget)
    D, W64, H64 = X.toarray().astype(np.float64), W.astype(np.float64), HT.astype(np.float64)
    WtW = W.T @ W
    got = HT.copy()
    _numba_kernels.frobenius_terms(X, W, got, WtW, plan)
    np.testing.assert_allclose(got, H64 * (D.T @ W64) / (H64 @ (W64.T @ W64)), rtol=rtol,
                               atol=rtol)
    _, _, RtW = dense_reference(X, W, HT)
    scale = np.random.RandomState(1).rand(W.shape[1]).astype(dtype)
    got = HT.copy()
    _numba_kernels.ratio_terms(X, W, got, scale, plan)
    np.testing.assert_allclose(got, H64 * RtW * scale, rtol=rtol, atol=rtol)
    # PLSA's single pass (with an offset, the background): the same statistics, phi^T in place.
    offset = np.random.RandomState(2).rand(X.shape[1]).astype(dtype)
    want_loglik, want_RHt, RtW = dense_reference(X, W, HT, offset)
    got = HT.copy()
    loglik, RHt = _numba_kernels.em_terms(X, W, got, plan, offset=offset)
    np.testing.assert_allclose(got, H64 * RtW, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(RHt, want_RHt, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(loglik, want_loglik, rtol=rtol, atol=rtol)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", PLAN_CASES)
def test_kl_step_with_or_without_stored_ratios_is_the_textbook_step(shape, dtype):
    """KL-NMF's W step by rows (in place), then its H step by terms with the ratios kept
    by the W step or recomputed: both equal the dense formulas, and each other."""
    from topicmf.models import _numba_kernels
    X, W, HT = random_case(*shape, dtype, seed=8)
    rtol = 2e-4 if dtype == np.float32 else 1e-10
    D, W64, H64 = X.toarray().astype(np.float64), W.astype(np.float64), HT.astype(np.float64)
    want_loglik, want_RHt, _ = dense_reference(X, W, HT)
    den = HT.sum(axis=0)
    want_W = W64 * want_RHt / den
    _, _, RtW = dense_reference(X, want_W.astype(dtype), HT)
    scale = 1.0 / want_W.sum(axis=0)
    want_HT = H64 * RtW * scale
    plan = _kernels.term_plan(X, W.shape[1], budget=1)  # sub-ranges of ALIGN terms
    results = []
    half = int(X.indptr[X.shape[0] // 2])  # the ratios of the first rows kept, or none, or all
    for ratios in (np.empty(0, dtype), np.full(half, np.nan, dtype),
                   np.full(X.nnz, np.nan, dtype)):
        got_W, got_HT = W.copy(), HT.copy()
        loglik = _numba_kernels.kl_rows(X, got_W, got_HT, den, ratios)
        np.testing.assert_allclose(loglik, want_loglik, rtol=rtol, atol=rtol)
        np.testing.assert_allclose(got_W, want_W, rtol=rtol, atol=rtol)
        if len(ratios):  # X / (W H) with the new W, at every stored entry
            WH = got_W.astype(np.float64) @ H64.T
            rows, cols = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr)), X.indices
            np.testing.assert_allclose(ratios, (X.data / WH[rows, cols])[:len(ratios)],
                                       rtol=rtol)
        _numba_kernels.ratio_terms(X, got_W, got_HT, scale.astype(dtype), plan, ratios)
        np.testing.assert_allclose(got_HT, want_HT, rtol=rtol, atol=rtol)
        results.append((got_W, got_HT))
    for W_, HT_ in results[1:]:
        np.testing.assert_array_equal(W_, results[0][0])
        np.testing.assert_allclose(HT_, results[0][1], rtol=4 * np.finfo(dtype).eps)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", PLAN_CASES)
def test_frobenius_rows_is_the_textbook_step(shape, dtype):
    from topicmf.models import _numba_kernels
    X, W, HT = random_case(*shape, dtype, seed=7)
    rtol = 2e-4 if dtype == np.float32 else 1e-10
    HHt = HT.T @ HT
    want_gain, want_W = _kernels.frobenius_update(X, W, HT, HHt)  # the numpy step
    got_W = W.copy()
    gain = _numba_kernels.frobenius_rows(X, got_W, HT, HHt, update=False)
    np.testing.assert_array_equal(got_W, W)
    np.testing.assert_allclose(gain, want_gain, rtol=rtol, atol=rtol)
    _numba_kernels.frobenius_rows(X, got_W, HT, HHt, update=True)
    np.testing.assert_allclose(got_W, want_W, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", CASES)
@pytest.mark.parametrize("engine", ENGINES)
def test_ratio_pass_with_a_term_offset_matches_dense_reference(engine, shape, dtype):
    X, W, HT = random_case(*shape, dtype, seed=5)
    offset = np.random.RandomState(1).rand(X.shape[1]).astype(dtype)
    offset[0] = 0
    got = _kernels.ratio_pass(X, W, HT, engine=engine, offset=offset)
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    for a, b in zip(got, dense_reference(X, W, HT, offset)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)
    # A zero offset is no offset, to the bit.
    zero = _kernels.ratio_pass(X, W, HT, engine=engine, offset=np.zeros(X.shape[1], dtype))
    for a, b in zip(zero, _kernels.ratio_pass(X, W, HT, engine=engine)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", CASES)
def test_engines_give_the_same_numbers(shape, dtype):
    X, W, HT = random_case(*shape, dtype, seed=3)
    h_sums = HT.sum(axis=0)
    rtol = 1e-5 if dtype == np.float32 else 1e-6
    for kernel, args in ((_kernels.ratio_pass, (X, W, HT)),
                         (_kernels.kl_update, (X, W, HT, h_sums)),
                         ):
        slow, fast = kernel(*args, engine="numpy"), kernel(*args, engine="numba")
        for a, b in zip(slow, fast):
            np.testing.assert_allclose(b, a, rtol=rtol, atol=rtol)


def test_kl_update_is_the_textbook_step():
    X, W, HT = random_case(12, 9, 3, np.float64)
    h_sums = HT.sum(axis=0)
    _, RHt, _ = dense_reference(X, W, HT)
    W_next = W * RHt / h_sums
    _, _, RtW = dense_reference(X, W_next, HT)
    for engine in ENGINES:
        _, got_W, got_RtW = _kernels.kl_update(X, W, HT, h_sums, engine=engine)
        np.testing.assert_allclose(got_W, W_next, rtol=1e-10)
        np.testing.assert_allclose(got_RtW, RtW, rtol=1e-10)


def test_frobenius_update_is_the_textbook_step():
    X, W, HT = random_case(12, 9, 3, np.float64)
    D, H = X.toarray(), HT.T
    gain, W_next = _kernels.frobenius_update(X, W, HT, H @ HT)
    np.testing.assert_allclose(0.5 * ((D ** 2).sum() - gain.sum()),
                               0.5 * np.linalg.norm(D - W @ H) ** 2, rtol=1e-10)
    W_ref = W * (D @ HT) / (W @ H @ HT)
    np.testing.assert_allclose(W_next, W_ref, rtol=1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_flush_subnormals_zeroes_only_subnormal_entries(dtype):
    tiny = np.finfo(dtype).tiny
    A = np.array([0.0, tiny / 4, tiny, 1.0], dtype=dtype)
    np.testing.assert_array_equal(_kernels.flush_subnormals(A), [0.0, 0.0, tiny, 1.0])


def test_vanished_product_passes_no_mass():
    X = sp.csr_array(np.array([[1.0, 2.0], [0.0, 3.0]]))
    W = np.array([[0.0, 0.0], [1.0, 1.0]])
    HT = np.ones((2, 2))
    for engine in ENGINES:
        loglik, RHt, WtR = _kernels.ratio_pass(X, W, HT, engine=engine)
        np.testing.assert_array_equal(RHt[0], 0.0)
        assert np.isfinite(loglik).all() and np.isfinite(WtR).all()


@pytest.mark.parametrize("n_chunks", [1, 2, 5])
def test_row_chunks_cover_rows_in_order(n_chunks):
    X, _, _ = random_case(30, 40, 2, np.float64)
    bounds = _kernels.chunk_bounds(X.indptr, n_chunks)
    assert bounds[0] == 0 and bounds[-1] == X.shape[0]
    assert (np.diff(bounds) >= 0).all() and len(bounds) == n_chunks + 1


@pytest.mark.parametrize("model", [
    NMF(3, beta_loss="kullback-leibler", max_iter=15, tol=0.0, random_state=0),
    NMF(3, max_iter=15, tol=0.0, random_state=0),
    PLSA(3, max_iter=15, tol=0.0, random_state=0),
    PLSA(3, background=0.0, max_iter=15, tol=0.0, random_state=0),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_models_fit_the_same_on_both_engines(model, dtype):
    X, _, _ = random_case(40, 30, 2, dtype, seed=5)
    fits = []
    for engine in ENGINES:
        with pytest.warns(Warning):  # tol=0 never converges
            fits.append(model.set_params(engine=engine).fit(X))
        fits[-1] = (fits[-1].doc_topic_.copy(), fits[-1].components_.copy(),
                    list(fits[-1].history_))
    rtol = 1e-3 if dtype == np.float32 else 1e-6
    for a, b in zip(fits[0], fits[1]):
        np.testing.assert_allclose(b, a, rtol=rtol, atol=rtol * 1e-2)
    assert fits[0][0].dtype == dtype


def test_compiled_fit_is_deterministic():
    X, _, _ = random_case(60, 50, 2, np.float64, seed=7)
    model = NMF(4, beta_loss="kullback-leibler", max_iter=10, tol=0.0, random_state=0,
                engine="numba")
    with pytest.warns(Warning):
        first = model.fit(X).components_.copy()
    with pytest.warns(Warning):
        np.testing.assert_array_equal(model.fit(X).components_, first)


def test_unknown_engine_is_rejected():
    X, _, _ = random_case(5, 5, 2, np.float64)
    with pytest.raises(InvalidParameterError, match="engine"):
        PLSA(2, engine="gpu").fit(X)


def test_row_view_shares_the_data_and_equals_slicing():
    X, _, _ = random_case(30, 40, 2, np.float32)
    for block in (slice(0, 30), slice(3, 17), slice(29, 30), slice(5, 5)):
        view = _kernels.row_view(X, block)
        np.testing.assert_array_equal(view.toarray(), X[block].toarray())
        if block.stop > block.start and X.indptr[block.stop] > X.indptr[block.start]:
            assert np.shares_memory(view.data, X.data)


@pytest.mark.parametrize("n_blocks", [1, 2, 3, 50])
def test_balanced_blocks_cover_rows_in_order(n_blocks):
    X, _, _ = random_case(30, 40, 2, np.float64)
    blocks = _kernels.balanced_blocks(X, n_blocks)
    assert blocks[0].start == 0 and blocks[-1].stop == 30
    assert all(a.stop == b.start for a, b in zip(blocks, blocks[1:]))
    assert len(blocks) == min(n_blocks, 30)


def test_parallel_map_keeps_the_order_of_items():
    assert _kernels.parallel_map(lambda i: i * i, range(7)) == [i * i for i in range(7)]
    assert _kernels.parallel_map(lambda i: -i, [4]) == [-4]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_frobenius_fit_on_threads_matches_one_thread(dtype, monkeypatch):
    X, _, _ = random_case(60, 45, 2, dtype, seed=7)
    fits = {}
    for threads in (1, 2, 3, 3):
        monkeypatch.setattr(_kernels, "n_threads", lambda: threads)
        model = NMF(4, max_iter=30, tol=0.0, random_state=0)
        with pytest.warns(Warning):  # tol=0 never converges
            model.fit(X)
        fits.setdefault(threads, []).append((model.doc_topic_, model.components_,
                                             model.history_))
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    for threads in (2, 3):
        for a, b in zip(fits[1][0], fits[threads][0]):
            np.testing.assert_allclose(b, a, rtol=rtol, atol=rtol)
    # The same thread count gives the same numbers, bit for bit.
    for a, b in zip(*fits[3]):
        np.testing.assert_array_equal(a, b)


_FIT_AND_HASH = """
import hashlib, numpy as np, scipy.sparse as sp, warnings
from topicmf.models import NMF, PLSA
warnings.simplefilter("ignore")
rng = np.random.RandomState(0)
X = sp.csr_array(sp.random(2000, 3000, density=0.01, random_state=rng, dtype=np.float32) * 3)
digest = hashlib.sha256()
for model in (NMF(10, beta_loss="kullback-leibler", max_iter=30, tol=0, random_state=0,
                  engine="numba"),
              PLSA(10, max_iter=30, tol=0, random_state=0, engine="numba")):
    model.fit(X)
    digest.update(model.components_.tobytes() + model.doc_topic_.tobytes())
print(digest.hexdigest())
"""


@pytest.mark.skipif(not _kernels.numba_available(), reason="needs numba")
def test_fresh_compilation_and_numba_cache_give_the_same_numbers(tmp_path):
    """The first run on a machine compiles the kernels, later runs load them from numba's
    cache; both must give the same bits (a fast-math flag once made them differ)."""
    import subprocess
    import sys

    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    runs = [subprocess.run([sys.executable, "-c", _FIT_AND_HASH], env=env, capture_output=True,
                           text=True, check=True).stdout.strip() for _ in range(2)]
    assert any(tmp_path.rglob("*.nbi")), "the first run should have filled the cache"
    assert runs[0] == runs[1]


@pytest.mark.skipif(not _kernels.numba_available(), reason="needs numba")
def test_prefetch_changes_nothing_and_never_faults_past_the_end():
    """The passes ask for memory a few steps ahead, past the last entry or row near the end
    of X: a prefetch there must neither fault nor write."""
    from numba import njit

    from topicmf.models import _numba_kernels as nk

    @njit
    def ahead(values, rows, far):
        total = 0.0
        for i in range(len(values) + far):
            nk._prefetch(values, i, 0)
            nk._prefetch_row(rows, i)
            if i < len(values):
                total += values[i]
        return total

    values = np.arange(5, dtype=np.float32)
    rows = np.arange(15, dtype=np.float32).reshape(5, 3)
    before = values.copy(), rows.copy()
    assert ahead(values, rows, 10_000) == values.sum()
    np.testing.assert_array_equal(values, before[0])
    np.testing.assert_array_equal(rows, before[1])


@pytest.mark.parametrize("dtype, width", [(np.float32, 32), (np.float64, 30)])
def test_svd_sketch_is_rounded_up_to_the_rows_the_products_run_fastest_on(dtype, width,
                                                                         monkeypatch):
    """K + 10 oversamples = 30 columns: 32 in float32 (a multiple of 8), 30 in float64."""
    from topicmf.models import _svd

    X, _, _ = random_case(60, 80, 1, dtype, empty=False)
    widths, product = [], _kernels.product

    def recording(X, B, out, engine="numpy"):
        widths.append(out.shape[1])
        return product(X, B, out, engine)

    monkeypatch.setattr(_kernels, "product", recording)
    U, S, V = _svd.randomized_svd(X, 20, np.random.RandomState(0))
    assert set(widths) == {width} and U.shape == (60, 20) and V.shape == (80, 20)


def test_auto_runs_numpy_below_the_small_fit_work_and_numba_above():
    from topicmf.models._kernels import SMALL_FIT_WORK, resolve_engine

    assert resolve_engine("auto", work=SMALL_FIT_WORK - 1) == "numpy"
    assert resolve_engine("auto", work=SMALL_FIT_WORK) == "numba"
    assert resolve_engine("auto") == "numba"
    assert resolve_engine("numba", work=10) == "numba"  # asked for by name: always


def test_a_small_fit_and_fold_in_never_load_the_compiled_kernels():
    import subprocess
    import sys

    code = ("import sys, scipy.sparse as sp; from topicmf.models import NMF, PLSA, LSA; "
            "X = sp.random(80, 300, density=0.05, format='csr', random_state=0); "
            "[m.fit(X).transform(X) for m in (NMF(n_topics=3, random_state=0), "
            "NMF(n_topics=3, beta_loss='kullback-leibler', random_state=0), "
            "PLSA(n_topics=3, random_state=0), LSA(n_topics=3, random_state=0))]; "
            "assert 'numba' not in sys.modules, 'numba loaded'")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
