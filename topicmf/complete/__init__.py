"""Matrix completion: fill the missing entries of a users x items ratings matrix.

    from topicmf.complete import BiasedMF, ratings_from_triples
    data = ratings_from_triples(["ann", "ann", "bob"], ["tea", "jam", "tea"], [5, 1, 4])
    model = BiasedMF(n_factors=1).fit(data)
    model.predict([1], [0])                   # bob's rating of jam (users/items sorted)

The model predicts ``r_ui = mu + b_u + b_i + p_u . q_i`` and learns only from the observed
entries: a missing rating is not a zero. Both solvers minimise the same objective,

    sum over observed (u, i) of (r_ui - prediction)^2
    + reg_bias (sum of b_u^2 + sum of b_i^2)
    + reg_factors (sum of n_u |p_u|^2 + sum of n_i |q_i|^2)       (n_u: ratings of user u)

so a bias is shrunk like the damped-biases baseline, by a fixed amount, and the penalty on a
user's factors grows with its ratings (as in SGD, where every rating applies it once).
``solver="sgd"`` is Funk's stochastic gradient descent in a fresh random order each epoch;
``solver="als"`` alternates exact ridge solves per user and per item (bias included), or
``cg_steps`` warm-started conjugate-gradient steps on them, cheaper for many factors.
Fitting starts from the damped biases and a truncated SVD of what they leave (``init``).

Package layout: ``ratings`` (input, splits, errors, baseline), ``model`` (BiasedMF),
``kernels`` (the compiled inner loops and their numpy equivalents), ``files`` (ratings CSVs in,
recommendations out) and ``holdout`` (the small-data policy and held-out scores).

Input: a scipy sparse matrix whose *stored non-zero* entries are the observed ratings (explicit
zeros are dropped, because scipy's own operations drop them too), or :class:`Ratings` from
:func:`ratings_from_triples`, where a rating of 0 is a rating like any other.

A user or item with no training rating (an index past the fitted shape, or one whose ratings
all went to the validation split) is predicted from the biases it has: ``mu + b_i`` for an
unknown user, ``mu + b_u`` for an unknown item, ``mu`` for both.
"""

from .files import read_ratings, write_recommendations
from .holdout import SMALL_INPUT, holdout_scores, model_for, observed_mask
from .kernels import HAVE_NUMBA
from .model import BiasedMF
from .ratings import (DampedBiases, Ratings, mae, ratings_from_sparse, ratings_from_triples,
                      rmse, split_ratings)

__all__ = ["BiasedMF", "DampedBiases", "Ratings", "ratings_from_triples", "ratings_from_sparse",
           "split_ratings", "rmse", "mae", "HAVE_NUMBA", "read_ratings", "write_recommendations",
           "model_for", "holdout_scores", "observed_mask", "SMALL_INPUT"]
