"""The model for a ratings table of any size, and its accuracy on held-out ratings.

``model_for`` is the library's small-data policy: below :data:`SMALL_INPUT` ratings early
stopping has nothing to hold back, and the default penalty on the factors (chosen on large data
with early stopping) flattens a small table's known entries, so it is lowered to 0.01.
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidParameterError
from .model import BiasedMF
from .ratings import DampedBiases, Ratings, mae, rmse, split_ratings

__all__ = ["SMALL_INPUT", "model_for", "holdout_scores", "observed_mask"]

#: Below this many ratings the factors are penalised less (see the module doc).
SMALL_INPUT = 1000


def model_for(n_ratings: int, n_factors: int = 10, *, solver: str = "als",
              random_state=0) -> BiasedMF:
    """An unfitted BiasedMF for ``n_ratings`` ratings: the defaults, but reg_factors=0.01
    for a small input."""
    reg = 0.01 if n_ratings < SMALL_INPUT else None
    return BiasedMF(n_factors, solver=solver, reg_factors=reg, random_state=random_state)


def holdout_scores(data: Ratings, share: float, n_factors: int = 10, *, solver: str = "als",
                   random_state=0) -> dict:
    """Hold out a ``share`` of the ratings, fit :func:`model_for` on the rest and score RMSE
    and MAE on the held-out ones, beside the global mean and the damped biases."""
    if not 0 < share < 1:
        raise InvalidParameterError(f"'holdout' must be a share between 0 and 1, e.g. 0.2; "
                                    f"got {share}.")
    train, test = split_ratings(data, share, random_state=random_state)
    if n_factors > min(train.shape):
        raise InvalidParameterError(f"'n_factors' {n_factors} is too many for the ratings "
                                    f"left after the 'holdout'.")
    model = model_for(len(train), n_factors, solver=solver, random_state=random_state)
    predictions = {
        "model": model.fit(train).predict(test.users, test.items),
        "global mean": np.full(len(test), train.values.mean()),
        "mean + damped biases": DampedBiases().fit(train).predict(test.users, test.items),
    }
    return {"n_held_out": len(test),
            "methods": {name: {"rmse": rmse(test.values, p), "mae": mae(test.values, p)}
                        for name, p in predictions.items()}}


def observed_mask(data: Ratings) -> np.ndarray:
    """users x items booleans: True where a rating is known."""
    mask = np.zeros(data.shape, bool)
    mask[data.users, data.items] = True
    return mask
