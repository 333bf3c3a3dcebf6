"""Restarts (n_init): several starts, the best objective kept, the same on every block cut."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from topicmf.engine import InMemoryBlocks
from topicmf.errors import InvalidParameterError
from topicmf.models import NMF, PLSA

pytestmark = pytest.mark.filterwarnings("ignore::topicmf.errors.ConvergenceWarning")


def _matrix(seed=0):
    rng = np.random.RandomState(seed)
    X = sp.random(200, 80, density=0.08, random_state=rng, format="csr")
    X.data = np.ceil(X.data * 4)
    return sp.csr_array(X)


MODELS = {
    "nmf": lambda n: NMF(6, max_iter=60, random_state=0, n_init=n),
    "nmf-kl": lambda n: NMF(6, beta_loss="kullback-leibler", max_iter=60, random_state=0,
                            n_init=n),
    "plsa": lambda n: PLSA(6, max_iter=60, random_state=0, n_init=n),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_the_best_of_the_restarts_is_kept(name):
    X = _matrix()
    one, three = MODELS[name](1).fit(X), MODELS[name](3).fit(X)
    maximize = one.maximize_objective
    objectives = three.restart_objectives_
    assert len(objectives) == 3 and len(set(objectives)) == 3  # different starts
    best = max(objectives) if maximize else min(objectives)
    assert three.history_[-1] == best
    # The first restart is the single fit; the kept fit is at least as good.
    assert objectives[0] == pytest.approx(one.history_[-1], rel=1e-12)
    assert (three.history_[-1] >= one.history_[-1]) if maximize else \
        (three.history_[-1] <= one.history_[-1])
    # The document vectors are those of the kept fit: refolding its topics agrees with them.
    assert three.doc_topic_.shape == (X.shape[0], 6)
    again = MODELS[name](3).fit(X)
    np.testing.assert_array_equal(again.components_, three.components_)
    np.testing.assert_array_equal(again.doc_topic_, three.doc_topic_)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_restarts_agree_however_the_rows_are_cut(name):
    X = _matrix(1)
    whole = MODELS[name](2).fit(InMemoryBlocks(X))
    cut = MODELS[name](2).fit(InMemoryBlocks(X, bounds=[0, 70, X.shape[0]]))
    # The random restart draws per block: the same cut gives the same bits, and the first
    # (NNDSVD) restart is the same whatever the cut.
    np.testing.assert_allclose(cut.restart_objectives_[0], whole.restart_objectives_[0],
                               rtol=1e-9)
    assert cut.doc_topic_.shape == whole.doc_topic_.shape


def test_n_init_is_checked():
    with pytest.raises(InvalidParameterError, match="n_init"):
        NMF(3, n_init=0).fit(_matrix())
    with pytest.raises(InvalidParameterError, match="n_init"):
        PLSA(3, n_init=1.5).fit(_matrix())
