"""scikit-learn's own estimator checks on the three models."""

import warnings

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from topicmf.models import LSA, NMF, PLSA

# fit_transform returns the fitted document vectors while transform folds the documents in
# again, and the checks want both within 0.01: the iterative models need a tight tol here.
ESTIMATORS = [
    LSA(n_topics=2, random_state=0),
    LSA(n_topics=1, algorithm="arpack", random_state=0),
    NMF(n_topics=2, max_iter=1000, tol=1e-10, random_state=0),
    NMF(n_topics=2, beta_loss="kullback-leibler", init="random", max_iter=1000, tol=1e-10,
        random_state=0),
    PLSA(n_topics=2, max_iter=1000, tol=1e-10, random_state=0),
]


# The models implement the estimator protocol without sklearn.base (importing it costs 1.5 s);
# these checks are what stands behind that, so the warning about the base class is expected.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Estimator .* does not inherit from", UserWarning)
    CHECKS = parametrize_with_checks(ESTIMATORS)


@pytest.mark.filterwarnings("ignore::topicmf.errors.ConvergenceWarning")
@pytest.mark.filterwarnings("ignore:Estimator .* does not inherit from:UserWarning")
@CHECKS
def test_sklearn_compatible(estimator, check, monkeypatch):
    # The array-API check with plain numpy input only runs when this variable is set.
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    check(estimator)
