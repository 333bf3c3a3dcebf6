"""Matrix completion: speed per epoch and held-out accuracy on a synthetic ratings set.

    python benchmarks/complete.py                 # 1,000,000 ratings, 50,000 users x 5,000 items
    python benchmarks/complete.py --ratings 200000 --users 10000 --items 2000   # quicker

The data are built to look like a real explicit-ratings set (see make_ratings): integer stars
1-5 around a mean of about 3.6; a few users and items hold most of the ratings (log-normal user
activity, Zipf popularity of items); each rating is mu + b_u + b_i + p_u . q_i + noise, with
--rank true factors whose variances fall off as 1/k (a few strong tastes, many weak ones),
rounded to whole stars and clipped to 1-5.

Part 1, speed: seconds per epoch with 100 factors for BiasedMF's SGD and ALS (conjugate-gradient
and exact) and scikit-surprise's SVD (if installed) on the same 80% training split.
Part 2, accuracy: held-out RMSE / MAE on the other 20% of BiasedMF with its defaults against the
global mean, the damped-biases baseline and scikit-surprise's SVD with its defaults.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import defaultdict

import numpy as np

from topicmf.complete import (BiasedMF, DampedBiases, mae, ratings_from_triples,
                              rmse, split_ratings)

try:
    import numba
except ImportError:
    numba = None
try:
    import surprise
except ImportError:
    surprise = None


def make_ratings(n_users, n_items, n_ratings, *, rank=10, seed=0):
    """Synthetic (users, items, ratings) with skewed activity and a low-rank signal.

    Who rated what: users drawn in proportion to a log-normal activity (sigma 1: the median
    user has a few ratings, the top 1% hundreds), items to a Zipf popularity 1 / rank^0.9;
    repeated pairs are dropped. The rating: 3.6 + user bias (sd 0.4) + item bias (sd 0.5)
    + p_u . q_i (variance 0.3 over ``rank`` factors, factor k's share proportional to 1 / k)
    + noise (sd 0.8), rounded to whole stars and clipped to 1-5.
    """
    rng = np.random.default_rng(seed)
    activity = rng.lognormal(0.0, 1.0, n_users)
    popularity = 1.0 / np.arange(1, n_items + 1) ** 0.9
    popularity = popularity[rng.permutation(n_items)]
    keys = np.empty(0, np.int64)
    while len(keys) < n_ratings:  # draw pairs, drop repeats, until there are enough
        m = int(1.3 * (n_ratings - len(keys))) + 100
        u = rng.choice(n_users, m, p=activity / activity.sum())
        i = rng.choice(n_items, m, p=popularity / popularity.sum())
        keys = np.unique(np.concatenate([keys, u.astype(np.int64) * n_items + i]))
    keys = rng.permutation(keys)[:n_ratings]
    users, items = keys // n_items, keys % n_items
    # real rating matrices have a few strong taste factors and many weak ones
    strength = 1.0 / np.arange(1, rank + 1)
    P = rng.normal(0, 1.0, (n_users, rank)) * np.sqrt(0.3 * strength / strength.sum())
    Q = rng.normal(0, 1.0, (n_items, rank))  # the var of p . q is 0.3
    signal = (3.6 + rng.normal(0, 0.4, n_users)[users] + rng.normal(0, 0.5, n_items)[items]
              + np.einsum("ij,ij->i", P[users], Q[items]))
    values = np.clip(np.rint(signal + rng.normal(0, 0.8, n_ratings)), 1, 5)
    return users, items, values


def surprise_trainset(data):
    ur, ir = defaultdict(list), defaultdict(list)
    for u, i, r in zip(data.users.tolist(), data.items.tolist(), data.values.tolist()):
        ur[u].append((i, r))
        ir[i].append((u, r))
    return surprise.Trainset(ur, ir, data.shape[0], data.shape[1], len(data), (1, 5),
                             {u: u for u in ur}, {i: i for i in ir})


def surprise_predict(algo, data):
    """Predictions of a fitted surprise algorithm, through its own estimate and clipping."""
    return np.array([algo.predict(u, i, clip=True).est
                     for u, i in zip(data.users.tolist(), data.items.tolist())])


def timed_fit(model, data):
    start = time.perf_counter()
    model.fit(data)
    return time.perf_counter() - start


SPEED_ROWS = (("BiasedMF sgd", {"solver": "sgd"}, None),
              ("BiasedMF als, cg_steps=3", {"solver": "als", "cg_steps": 3}, None),
              ("BiasedMF als, exact", {"solver": "als"}, 1))  # slow: one epoch per repeat


def speed(train, factors, epochs, repeats):
    """(name, median seconds per epoch, train RMSE) for each method."""
    rows = []
    for name, params, epoch_cap in SPEED_ROWS:
        BiasedMF(2, n_epochs=1, early_stopping=False, random_state=0, engine="numba",
                 **params).fit(train.subset(slice(0, 50_000)))  # compile outside the timing
        per_epoch = []
        for _ in range(repeats):
            model = BiasedMF(factors, n_epochs=epoch_cap or epochs, early_stopping=False,
                             random_state=0, **params).fit(train)
            per_epoch.append(np.median(model.history_["seconds"]))
        rows.append((name, float(np.median(per_epoch)), model.history_["train_rmse"][-1]))
    if surprise is not None:
        trainset = surprise_trainset(train)
        per_epoch = []
        for _ in range(repeats):  # fit with 0 epochs times its start-up alone
            setup = timed_surprise(trainset, factors, 0)
            per_epoch.append((timed_surprise(trainset, factors, epochs) - setup) / epochs)
        rows.append(("scikit-surprise SVD", float(np.median(per_epoch)), None))
    return rows


def timed_surprise(trainset, factors, epochs):
    algo = surprise.SVD(n_factors=factors, n_epochs=epochs, random_state=0)
    start = time.perf_counter()
    algo.fit(trainset)
    return time.perf_counter() - start


def accuracy(train, test):
    rows = []
    truth = test.values
    mean = np.full(len(test), train.values.mean())
    rows.append(("global mean", rmse(truth, mean), mae(truth, mean), ""))
    base = DampedBiases().fit(train).predict(test.users, test.items)
    rows.append(("mean + damped biases", rmse(truth, base), mae(truth, base), ""))
    for solver in ("als", "sgd"):
        model = BiasedMF(solver=solver, random_state=0)
        seconds = timed_fit(model, train)
        pred = model.predict(test.users, test.items)
        rows.append((f"BiasedMF {solver}, defaults", rmse(truth, pred), mae(truth, pred),
                     f"{model.n_iter_} epochs (best {model.best_epoch_}), {seconds:.1f} s"))
    if surprise is not None:
        algo = surprise.SVD(random_state=0)
        start = time.perf_counter()
        algo.fit(surprise_trainset(train))
        seconds = time.perf_counter() - start
        pred = surprise_predict(algo, test)
        rows.append(("scikit-surprise SVD, defaults", rmse(truth, pred), mae(truth, pred),
                     f"20 epochs, {seconds:.1f} s"))
    return rows


TUNING_GRID = ([{"solver": "als", "reg_factors": r} for r in (0.15, 0.2, 0.3, 0.4)]
               + [{"solver": "als", "reg_bias": 10.0}, {"solver": "als", "cg_steps": 3}]
               + [{"solver": "sgd", "reg_factors": r} for r in (0.08, 0.1, 0.15)]
               + [{"solver": "sgd", "lr": 0.02},
                  {"solver": "sgd", "init": "random", "n_iter_no_change": 3},
                  {"solver": "sgd", "init": "random"}])


def tune(train):
    """Validation RMSE of settings around the defaults: fit on 90% of train, score the rest."""
    fit_part, valid = split_ratings(train, 0.1, random_state=1)
    base = rmse(valid.values, DampedBiases().fit(fit_part).predict(valid.users, valid.items))
    print(f"\nChoosing the defaults: validation RMSE (damped biases {base:.4f})")
    print("| changed from the defaults | validation RMSE | vs biases | epochs (best) |\n"
          "|---|---|---|---|")
    for params in TUNING_GRID:
        model = BiasedMF(random_state=0, **params).fit(fit_part)
        err = rmse(valid.values, model.predict(valid.users, valid.items))
        shown = ", ".join(f"{k}={v}" for k, v in params.items())
        print(f"| {shown} | {err:.4f} | {100 * (err - base) / base:+.1f}% "
              f"| {model.n_iter_} ({model.best_epoch_}) |", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--items", type=int, default=5_000)
    parser.add_argument("--ratings", type=int, default=1_000_000)
    parser.add_argument("--rank", type=int, default=10, help="true factors in the data")
    parser.add_argument("--factors", type=int, default=100, help="factors for the speed part")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per timed fit")
    parser.add_argument("--repeats", type=int, default=3, help="timed fits per method (median)")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--tune", action="store_true",
                        help="also print the validation table the defaults were chosen from")
    args = parser.parse_args(argv)

    users, items, values = make_ratings(args.users, args.items, args.ratings, rank=args.rank)
    data = ratings_from_triples(users, items, values, shape=(args.users, args.items))
    train, test = split_ratings(data, 0.2, random_state=0)
    print(f"{len(data):,} ratings, {args.users:,} users x {args.items:,} items, "
          f"{args.rank} true factors; train {len(train):,}, held out {len(test):,}; numba "
          f"{numba.__version__ if numba else 'NOT installed (numpy path)'}; scikit-surprise "
          f"{surprise.__version__ if surprise else 'NOT installed: no comparison'}; "
          f"{os.cpu_count()} cores, load average {_load()} at start")
    if not args.skip_speed:
        print(f"\nSpeed, {args.factors} factors: median over {args.repeats} fits of the median "
              f"epoch ({args.epochs} epochs a fit; exact ALS 1). BiasedMF epochs include the "
              f"training RMSE; surprise's = (fit of {args.epochs} epochs - fit of 0) / "
              f"{args.epochs}")
        print("| method | s / epoch | s / epoch / M ratings "
              "| train RMSE, last epoch (sgd: during it) |\n|---|---|---|---|")
        for name, per_epoch, train_rmse in speed(train, args.factors, args.epochs,
                                                 args.repeats):
            shown = "" if train_rmse is None else f"{train_rmse:.4f}"
            print(f"| {name} | {per_epoch:.3f} | {per_epoch / len(train) * 1e6:.3f} "
                  f"| {shown} |", flush=True)
    print("\nHeld-out accuracy (20% of the ratings), defaults (10 factors for BiasedMF)")
    print("| method | RMSE | MAE | vs biases (RMSE) | notes |\n|---|---|---|---|---|")
    rows = accuracy(train, test)
    base = rows[1][1]
    for name, err, abs_err, notes in rows:
        print(f"| {name} | {err:.4f} | {abs_err:.4f} | {100 * (err - base) / base:+.1f}% "
              f"| {notes} |")
    if args.tune:
        tune(train)
    print(f"\nload average {_load()} at the end")


def _load():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
