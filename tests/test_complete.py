"""BiasedMF, the ratings helpers and ``topicmf complete``."""

import argparse
import json

import numpy as np
import pytest
import scipy.sparse as sp

from topicmf.cli import complete as _cli_complete, main
from topicmf.complete import read_ratings
from topicmf.complete import (HAVE_NUMBA, BiasedMF, DampedBiases, ratings_from_sparse,
                              ratings_from_triples, rmse, split_ratings)
from topicmf.errors import CorpusError, InvalidParameterError, ModelFileError, NotFittedError

EXAMPLE = "corpora/ratings.csv"
TABLE = np.array([[5, 3, 0, 1], [4, 0, 0, 1], [1, 1, 0, 5], [1, 0, 0, 4], [0, 1, 5, 4]], float)


def low_rank(n_users=300, n_items=80, n=6000, seed=0):
    rng = np.random.default_rng(seed)
    P, Q = rng.normal(0, 0.8, (n_users, 2)), rng.normal(0, 0.8, (n_items, 2))
    keys = rng.choice(n_users * n_items, n, replace=False)
    u, i = keys // n_items, keys % n_items
    values = 3 + np.einsum("ij,ij->i", P[u], Q[i]) + rng.normal(0, 0.1, n)
    return ratings_from_triples(u, i, values, shape=(n_users, n_items))


# ------------------------------------------------------------------ the example table

@pytest.mark.parametrize("solver", ["als", "sgd"])
def test_example_known_entries_reproduced_and_tastes_split(solver):
    model = BiasedMF(2, solver=solver, reg_factors=0.01, n_epochs=100 if solver == "als"
                     else 2000, random_state=0).fit(sp.csr_array(TABLE))
    full = model.predict_matrix()
    assert np.abs(full - TABLE)[TABLE > 0].max() < 0.1
    # users 1 and 2 like items 1-2: item 3 is predicted low for them, high for the others
    assert full[:2, 2].max() < full[[2, 4], 2].min()
    assert full[:2, 3].max() < 1.1 < 3.9 < full[2:, 3].min()
    if solver == "als":
        # item 3 has a single rating, so its factors are underdetermined: ALS settles them
        # the same from any start, SGD's answer depends on where it starts (tested above)
        assert full[:2, 2].max() < 2.5


def test_engines_give_the_same_numbers():
    data = low_rank(n=3000)
    per_user = np.bincount(data.users)
    # 8 factors: users with at most 9 ratings take the n x n (dual) solve, the rest K x K
    assert (per_user <= 9).any() and (per_user > 9).any()
    for solver, extra in (("sgd", {}), ("als", {}), ("als", {"cg_steps": 2})):
        fits = [BiasedMF(8, solver=solver, n_epochs=4, early_stopping=False, random_state=1,
                         engine=engine, **extra).fit(data)
                for engine in (["numpy", "numba"] if HAVE_NUMBA else ["numpy"])]
        for fit in fits[1:]:
            np.testing.assert_allclose(fit.user_factors_, fits[0].user_factors_, atol=1e-9)
            np.testing.assert_allclose(fit.item_bias_, fits[0].item_bias_, atol=1e-9)
            np.testing.assert_allclose(fit.history_["train_rmse"],
                                       fits[0].history_["train_rmse"], rtol=1e-9)
    assert HAVE_NUMBA  # the fast path is what users get


def test_exact_als_without_penalty_is_least_squares():
    # reg 0 takes the K x K path for every row; one half-step is then plain least squares
    data = low_rank(n=3000)
    model = BiasedMF(2, solver="als", reg_bias=0.0, reg_factors=0.0, n_epochs=1,
                     early_stopping=False, clip=False, random_state=0, engine="numba")
    model.fit(data)
    mine = data.users == 0
    Z = np.hstack([np.ones((mine.sum(), 1)), model.item_factors_[data.items[mine]]])
    # the item step came last: user 0's row must not be improvable given the items
    resid = data.values[mine] - model.global_mean_ - model.item_bias_[data.items[mine]]
    best = np.linalg.lstsq(Z, resid, rcond=None)[0]
    ours = np.concatenate([[model.user_bias_[0]], model.user_factors_[0]])
    assert np.sum((resid - Z @ ours) ** 2) >= np.sum((resid - Z @ best) ** 2) - 1e-9


def test_history_and_solver_defaults():
    data = low_rank(n=2000)
    model = BiasedMF(3, solver="sgd", n_epochs=5, early_stopping=False, random_state=0).fit(data)
    assert set(model.history_) == {"train_rmse", "validation_rmse", "seconds"}
    assert len(model.history_["seconds"]) == 5 and model.history_["validation_rmse"] == []
    # in-pass SGD error falls over the first epochs on learnable data
    assert model.history_["train_rmse"][-1] < model.history_["train_rmse"][0]
    same = BiasedMF(3, solver="sgd", reg_factors=0.1, n_epochs=5, early_stopping=False,
                    random_state=0).fit(data)
    np.testing.assert_array_equal(model.user_factors_, same.user_factors_)
    slower = BiasedMF(3, solver="sgd", lr_decay=0.5, n_epochs=5, early_stopping=False,
                      random_state=0).fit(data)
    assert not np.array_equal(slower.user_factors_, model.user_factors_)
    for engine in ("numpy", "numba"):  # als collects the epoch's training error in its pass
        als = BiasedMF(3, n_epochs=2, early_stopping=False, clip=False, engine=engine,
                       random_state=0).fit(data)
        assert als.history_["train_rmse"][-1] == pytest.approx(
            rmse(data.values, als.predict(data.users, data.items)), rel=1e-9)
    with pytest.raises(InvalidParameterError, match="'lr_decay'"):
        BiasedMF(lr_decay=1.5).fit(data)


@pytest.mark.parametrize("solver,extra", [("als", {}), ("als", {"cg_steps": 3}), ("sgd", {}),
                                          ("sgd", {"init": "random", "lr": 0.05,
                                                   "reg_factors": 0.05})])
def test_learns_low_rank_signal_and_beats_biases(solver, extra):
    train, test = split_ratings(low_rank(), 0.2, random_state=0)
    model = BiasedMF(4, solver=solver, random_state=0, **extra).fit(train)
    base = rmse(test.values, DampedBiases().fit(train).predict(test.users, test.items))
    ours = rmse(test.values, model.predict(test.users, test.items))
    assert ours < 0.8 * base
    assert len(model.history_["validation_rmse"]) == model.n_iter_  # early stopping was on
    assert model.n_iter_ >= model.best_epoch_


def test_early_stopping_keeps_best_epoch():
    model = BiasedMF(8, reg_factors=0.0, reg_bias=0.0, solver="sgd", lr=0.05, n_epochs=200,
                     random_state=0).fit(low_rank(n=2000))
    scores = model.history_["validation_rmse"]
    assert model.n_iter_ < 200
    assert model.best_epoch_ == int(np.argmin(scores)) + 1


def test_svd_start_and_its_fallback():
    data = low_rank(n=2000)
    start = BiasedMF(3)._start(data, np.random.RandomState(0))
    base = DampedBiases().fit(data)
    np.testing.assert_array_equal(start[0], base.user_bias_)
    assert start[2].shape == (300, 3) and start[3].shape == (80, 3)
    # the start already explains part of what the biases leave
    resid = data.values - base.predict(data.users, data.items)
    fitted = np.einsum("ij,ij->i", start[2][data.users], start[3][data.items])
    assert np.mean((resid - fitted) ** 2) < 0.9 * np.mean(resid ** 2)
    # as many factors as items: no truncated SVD, a random start (and no error)
    model = BiasedMF(4, reg_factors=0.01, n_epochs=50, random_state=0).fit(sp.csr_array(TABLE))
    assert np.isfinite(model.predict_matrix()).all()
    with pytest.raises(InvalidParameterError, match="'init'"):
        BiasedMF(init="zeros").fit(data)


def test_seed_makes_fit_reproducible():
    a = BiasedMF(3, solver="sgd", random_state=5, n_epochs=3).fit(low_rank(n=1500))
    b = BiasedMF(3, solver="sgd", random_state=5, n_epochs=3).fit(low_rank(n=1500))
    np.testing.assert_array_equal(a.user_factors_, b.user_factors_)


# --------------------------------------------------------------------- unseen, io

def test_unseen_users_and_items_fall_back_to_biases():
    data = ratings_from_triples([0, 0, 1, 1, 2], [0, 1, 0, 1, 0], [5, 1, 4, 2, 5],
                                shape=(4, 3))  # user 3 and item 2 have no rating
    model = BiasedMF(1, random_state=0).fit(data)
    mu, bu, bi = model.global_mean_, model.user_bias_, model.item_bias_
    assert model.predict([3], [0])[0] == pytest.approx(mu + bi[0])
    assert model.predict([9], [1])[0] == pytest.approx(mu + bi[1])   # past the fitted shape
    assert model.predict([0], [2])[0] == pytest.approx(mu + bu[0])
    assert model.predict([3], [2])[0] == pytest.approx(mu)
    assert not model.user_factors_[3].any() and not model.item_factors_[2].any()


def test_save_load_round_trip_and_tampering(tmp_path):
    model = BiasedMF(2, random_state=0).fit(low_rank(n=800))
    model.save(tmp_path / "m")
    back = BiasedMF.load(tmp_path / "m")
    users, items = np.arange(10), np.arange(10)
    np.testing.assert_array_equal(back.predict(users, items), model.predict(users, items))
    assert back.history_ == model.history_ and back.get_params() == model.get_params()
    (tmp_path / "m" / "model.npz").write_bytes(b"broken")
    with pytest.raises(ModelFileError, match="checksum"):
        BiasedMF.load(tmp_path / "m")
    with pytest.raises(ModelFileError):
        BiasedMF.load(tmp_path / "nothing")


def test_recommend_skips_rated_items():
    data = ratings_from_sparse(sp.csr_array(TABLE))
    model = BiasedMF(2, reg_factors=0.01, n_epochs=100, random_state=0).fit(data)
    items, scores = model.recommend([0, 1], n=3, exclude=data)
    assert items[0].tolist() == [2, -1, -1]  # user 1 has one unrated item
    assert sorted(items[1][:2].tolist()) == [1, 2] and np.isnan(scores[0, 1])


# ------------------------------------------------------------------------ bad input

def test_bad_inputs_are_one_line_errors():
    with pytest.raises(InvalidParameterError, match="rated item 1 2 times"):
        ratings_from_triples([0, 0], [1, 1], [3, 4])
    assert ratings_from_triples([0, 0], [1, 1], [3, 4], duplicates="mean").values == [3.5]
    assert ratings_from_triples([0, 0], [1, 1], [3, 4], duplicates="last").values == [4]
    with pytest.raises(InvalidParameterError, match="finite"):
        ratings_from_triples([0, 1], [0, 0], [3, np.nan])
    with pytest.raises(InvalidParameterError, match="numbers"):
        ratings_from_triples([0], [0], ["good"])
    with pytest.raises(InvalidParameterError, match="dense array"):
        BiasedMF().fit(TABLE)
    with pytest.raises(InvalidParameterError, match="at most 4 factors"):
        BiasedMF(5).fit(sp.csr_array(TABLE))
    with pytest.raises(InvalidParameterError, match="'solver'"):
        BiasedMF(solver="adam").fit(sp.csr_array(TABLE))
    with pytest.raises(InvalidParameterError, match="No observed"):
        BiasedMF(1).fit(sp.csr_array((3, 3)))
    with pytest.raises(NotFittedError):
        BiasedMF().predict([0], [0])
    with pytest.raises(InvalidParameterError, match="Negative"):
        BiasedMF(1, random_state=0).fit(sp.csr_array(TABLE)).predict([-1], [0])


def test_sparse_explicit_zeros_are_missing_but_triple_zeros_are_ratings():
    matrix = sp.coo_array(([0.0, 3.0], ([0, 1], [0, 1])), shape=(2, 2))
    assert len(ratings_from_sparse(matrix)) == 1
    assert len(ratings_from_triples([0, 1], [0, 1], [0.0, 3.0])) == 2


# ------------------------------------------------------------------------------ CLI

def args_for(path, **options):
    values = dict(ratings=str(path), factors=2, solver="als", holdout=None,
                  duplicates="error", top=10, out=None, seed=0, quiet=False, json=False,
                  debug=False)
    values.update(options)
    return argparse.Namespace(**values)


def test_cli_prints_completed_example(capsys):
    assert _cli_complete.run(args_for(EXAMPLE)) == 0
    out = capsys.readouterr().out
    assert "5 users x 4 items, 13 ratings" in out
    user1 = next(line for line in out.splitlines() if line.startswith("User 1"))
    cells = user1.split()[2:]
    assert abs(float(cells[0]) - 5) < 0.1 and not cells[0].endswith("*")
    assert cells[2].endswith("*") and float(cells[2][:-1]) < 2.5  # item 3, predicted low


def test_cli_json_holdout_and_out_file(tmp_path, capsys):
    out = tmp_path / "recs.csv"
    assert _cli_complete.run(args_for(EXAMPLE, json=True, holdout=0.2, out=str(out))) == 0
    summary = json.loads(capsys.readouterr().out)
    assert set(summary["holdout"]["methods"]) == {"model", "global mean",
                                                   "mean + damped biases"}
    assert summary["table"]["predicted"][0] == [False, False, True, False]
    lines = out.read_text().splitlines()
    assert lines[0] == "user,rank,item,prediction" and len(lines) == 1 + 7  # 7 missing cells


def test_cli_reads_triples_with_header_detection(tmp_path, capsys):
    path = tmp_path / "r.csv"
    path.write_text("timestamp,UserId,movie,Rating\n1,ann,up,5\n2,ann,jaws,1\n3,bob,up,4\n")
    assert _cli_complete.run(args_for(path, factors=1)) == 0
    assert "2 users x 2 items, 3 ratings" in capsys.readouterr().out


@pytest.mark.parametrize("text,match", [
    ("", "no ratings"),
    ("user,item,rating\nann,up,5\nann,up,4\n", "more than once.*duplicates='mean'"),
    ("user,item,rating\nann,up,good\n", "line 2: rating 'good' is not a number"),
    ("user,a,b\nann,nan,1\n", "column 'a': rating 'nan' is not a finite number"),
    ("user,a,b\nann,-,?\n", "no observed rating"),
])
def test_bad_ratings_files(tmp_path, text, match):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(CorpusError, match=match):
        read_ratings(path)


def test_cli_names_its_flags_in_library_errors(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("user,item,rating\nann,up,5\nann,up,4\n")
    assert main(["complete", str(path), "--factors", "1"]) == 1
    err = capsys.readouterr().err
    assert "pass --duplicates mean (or 'last')" in err and "Traceback" not in err
    assert main(["complete", str(EXAMPLE), "--factors", "2", "--holdout", "1.5"]) == 1
    assert "--holdout must be a share between 0 and 1" in capsys.readouterr().err


def test_cli_duplicates_mean_and_bad_options(tmp_path, capsys):
    path = tmp_path / "r.csv"
    path.write_text("user,item,rating\nann,up,5\nann,up,3\nbob,jaws,2\n")
    assert _cli_complete.run(args_for(path, factors=1, duplicates="mean", json=True)) == 0
    assert json.loads(capsys.readouterr().out)["n_ratings"] == 2
    with pytest.raises(InvalidParameterError, match="--factors"):
        _cli_complete.run(args_for(EXAMPLE, factors=5))
    with pytest.raises(InvalidParameterError, match="'holdout'"):
        _cli_complete.run(args_for(EXAMPLE, holdout=1.5))


def test_small_tables_get_a_lighter_penalty_and_holdout_scores_three_methods():
    from topicmf.complete import SMALL_INPUT, holdout_scores, model_for

    assert model_for(SMALL_INPUT - 1, 2).reg_factors == 0.01
    assert model_for(SMALL_INPUT, 2).reg_factors is None
    data = read_ratings(EXAMPLE)
    scores = holdout_scores(data, 0.25, 1, random_state=0)
    assert 0 < scores["n_held_out"] < len(data)
    assert set(scores["methods"]) == {"model", "global mean", "mean + damped biases"}
    with pytest.raises(InvalidParameterError, match="'n_factors' 9"):
        holdout_scores(data, 0.25, 9)


def test_ratings_too_large_to_square_are_refused(tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text(",a,b\nann,-1e308,4\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="beyond"):
        read_ratings(path)
    with pytest.raises(InvalidParameterError, match="within"):
        ratings_from_triples([0, 1], [0, 1], [1e300, 2.0])
    with pytest.raises(InvalidParameterError, match="within"):
        ratings_from_sparse(sp.csr_array(np.array([[1e300, 0.0], [0.0, 2.0]])))
