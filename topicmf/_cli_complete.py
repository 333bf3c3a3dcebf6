"""``topicmf complete``: fill in a ratings matrix with missing entries.

The input CSV needs a header row and is either

* triples: one observed rating a line; the header names a user column (``user``, ``user_id``,
  ``customer``...), an item column (``item``, ``movie``, ``product``, ``book``...) and a rating
  column (``rating``, ``score``, ``stars``, ``value``); other columns are ignored; or
* a table: first column the user labels, header the item labels; a blank, ``-`` or ``?`` cell is
  missing.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import sys
from pathlib import Path

import numpy as np

from .complete import BiasedMF, DampedBiases, Ratings, mae, ratings_from_triples, rmse, \
    split_ratings
from .corpus import decode_bytes
from .errors import CorpusError, InvalidParameterError

NAME = "complete"
MISSING = ("", "-", "?")
#: Tables at most this large are printed whole; larger ones get top-N lists.
SHOW_ROWS, SHOW_COLUMNS = 50, 12
_ROLES = {"user": ("user", "customer", "reader", "viewer", "rater"),
          "item": ("item", "movie", "film", "product", "book", "song", "title"),
          "rating": ("rating", "score", "stars", "value", "grade")}


def add_parser(commands, common) -> None:
    """Register ``topicmf complete`` on the subparsers object ``commands``."""
    parser = commands.add_parser(
        NAME, parents=[common], help="predict the missing entries of a ratings matrix",
        description="Fill in a users x items ratings matrix with missing entries (biased "
                    "matrix factorization). RATINGS.csv holds user,item,rating rows or a table "
                    "(first column user labels, header item labels, blank/-/? missing).")
    parser.add_argument("ratings", metavar="RATINGS.csv")
    parser.add_argument("--factors", type=int, default=10, metavar="K",
                        help="latent factors (default: 10; at most the number of users/items)")
    parser.add_argument("--solver", default="als", choices=["als", "sgd"],
                        help="alternating least squares (default: no learning rate to "
                             "tune, the more accurate with the defaults, uses all cores) or "
                             "stochastic gradient descent")
    parser.add_argument("--holdout", type=float, metavar="F",
                        help="hold out a share F of the ratings and report RMSE / MAE on them "
                             "beside two baselines")
    parser.add_argument("--duplicates", default="error", choices=["error", "mean", "last"],
                        help="a user rating an item twice: error (default), mean or last")
    parser.add_argument("--top", type=int, default=10, metavar="N",
                        help="recommendations per user (default: 10)")
    parser.add_argument("--out", metavar="FILE",
                        help="write the top-N unrated items per user with their predictions "
                             "to this CSV")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.set_defaults(run=run)


def run(args) -> int:
    """Read the ratings, optionally score a holdout, fit on all of them and report."""
    if args.top < 1:
        raise InvalidParameterError(f"--top must be at least 1; got {args.top}.")
    if args.holdout is not None and not 0 < args.holdout < 1:
        raise InvalidParameterError(f"--holdout must be a share between 0 and 1, e.g. 0.2; "
                                    f"got {args.holdout}.")
    data = read_ratings(args.ratings, duplicates=args.duplicates)
    if not 1 <= args.factors <= min(data.shape):
        raise InvalidParameterError(
            f"--factors must be between 1 and the number of users ({data.shape[0]}) and items "
            f"({data.shape[1]}); got {args.factors}.")
    scores = _holdout_scores(data, args) if args.holdout else None
    model = _model(args, len(data)).fit(data)
    small = data.shape[0] <= SHOW_ROWS and data.shape[1] <= SHOW_COLUMNS
    top_items, top_scores = model.recommend(np.arange(data.shape[0]), args.top, exclude=data)
    if args.out:
        _write_recommendations(Path(args.out), data, top_items, top_scores)
    if args.json:
        _print_json(_summary(args, data, model, scores, small, top_items, top_scores))
    elif not args.quiet:
        _print_report(args, data, model, scores, small, top_items, top_scores)
    return 0


#: Below this many ratings the factors are penalised less (see _model).
SMALL_INPUT = 1000


def _model(args, n_ratings: int) -> BiasedMF:
    """The model for ``n_ratings``: library defaults, but reg_factors=0.01 for a small input.

    Early stopping needs 1,000 ratings, and without it the default penalty (chosen on large
    data with early stopping) flattens a small table's known entries.
    """
    reg = 0.01 if n_ratings < SMALL_INPUT else None
    return BiasedMF(args.factors, solver=args.solver, reg_factors=reg, random_state=args.seed)


def _holdout_scores(data: Ratings, args) -> dict:
    train, test = split_ratings(data, args.holdout, random_state=args.seed)
    if args.factors > min(train.shape):
        raise InvalidParameterError(f"--factors {args.factors} is too many for the ratings "
                                    f"left after --holdout.")
    predictions = {
        "model": _model(args, len(train)).fit(train).predict(test.users, test.items),
        "global mean": np.full(len(test), train.values.mean()),
        "mean + damped biases": DampedBiases().fit(train).predict(test.users, test.items),
    }
    return {"n_held_out": len(test),
            "methods": {name: {"rmse": rmse(test.values, p), "mae": mae(test.values, p)}
                        for name, p in predictions.items()}}


# ---------------------------------------------------------------------------- reading

def read_ratings(path, *, duplicates: str = "error") -> Ratings:
    """Read a ratings CSV (triples or a table, see the module doc) into labelled Ratings."""
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"{path} does not exist or is not a file; give a ratings CSV.")
    text = decode_bytes(path.read_bytes(), name=str(path))
    rows = [(n, r) for n, r in enumerate(csv.reader(io.StringIO(text)), start=1)
            if any(cell.strip() for cell in r)]
    if len(rows) < 2:
        raise CorpusError(f"{path} has no ratings; give a header row, then user,item,rating "
                          f"rows or table rows.")
    header = [cell.strip() for cell in rows[0][1]]
    roles = _triple_columns(header)
    users, items, values = (_read_triples(path, rows[1:], roles) if roles
                            else _read_table(path, rows[1:], header))
    if not values:
        raise CorpusError(f"{path} has no observed rating (every cell is missing).")
    user_labels, user_ids = _codes(users)
    item_labels, item_ids = _codes(items)
    if duplicates == "error":
        _refuse_repeats(path, user_ids, item_ids, user_labels, item_labels)
    data = ratings_from_triples(user_ids, item_ids, values, duplicates=duplicates,
                                shape=(len(user_labels), len(item_labels)))
    return dataclasses.replace(data, user_labels=np.asarray(user_labels, dtype=str),
                               item_labels=np.asarray(item_labels, dtype=str))


def _refuse_repeats(path, user_ids, item_ids, user_labels, item_labels) -> None:
    keys = user_ids * len(item_labels) + item_ids
    unique, first = np.unique(keys, return_index=True)
    if len(unique) < len(keys):
        repeat = np.setdiff1d(np.arange(len(keys)), first)[0]
        raise CorpusError(
            f"{path}: user '{user_labels[user_ids[repeat]]}' rated item "
            f"'{item_labels[item_ids[repeat]]}' more than once ({len(keys) - len(unique)} "
            f"repeats); remove them or pass --duplicates mean (or last).")


def _triple_columns(header: list[str]) -> dict | None:
    """Positions of the user, item and rating columns, if the header names each once."""
    found = {}
    for role, words in _ROLES.items():
        hits = [k for k, name in enumerate(header) if any(w in name.lower() for w in words)]
        if len(hits) != 1:
            return None
        found[role] = hits[0]
    return found if len(set(found.values())) == 3 else None


def _read_triples(path, rows, roles):
    users, items, values = [], [], []
    width = max(roles.values()) + 1
    for line, row in rows:
        if len(row) < width:
            raise CorpusError(f"{path}, line {line}: {len(row)} cells; a rating line needs the "
                              f"user, item and rating columns of the header.")
        users.append(row[roles["user"]].strip())
        items.append(row[roles["item"]].strip())
        values.append(_number(row[roles["rating"]], f"{path}, line {line}"))
    return users, items, values


def _read_table(path, rows, header):
    if len(header) < 2:
        raise CorpusError(f"{path}: the header has one column; give user,item,rating columns "
                          f"or a table whose header lists the items after a first cell.")
    users, items, values = [], [], []
    columns = header[1:]
    row_labels = [row[0].strip() for _, row in rows]
    for line, row in rows:
        if len(row) != len(header):
            raise CorpusError(f"{path}, line {line}: {len(row)} cells where the header has "
                              f"{len(header)}.")
        for column, cell in zip(columns, row[1:]):
            if cell.strip() in MISSING:
                continue
            users.append(row[0].strip())
            items.append(column)
            values.append(_number(cell, f"{path}: row '{row[0].strip()}', column '{column}'"))
    # users and items with no rating at all still belong to the table
    items_all = list(dict.fromkeys(columns))
    return (users, row_labels), (items, items_all), values


def _number(cell: str, where: str) -> float:
    try:
        value = float(cell.strip())
    except ValueError:
        raise CorpusError(f"{where}: rating {cell.strip()!r} is not a number; fix or remove "
                          f"it.") from None
    if not math.isfinite(value):
        raise CorpusError(f"{where}: rating {cell.strip()!r} is not a finite number; fix or "
                          f"remove it.")
    return value


def _codes(labels):
    """(labels in first-seen order, integer code of each entry)."""
    labels, every = labels if isinstance(labels, tuple) else (labels, labels)
    order = {label: k for k, label in enumerate(dict.fromkeys([*every, *labels]))}
    return list(order), np.array([order[label] for label in labels], dtype=np.int64)


# ---------------------------------------------------------------------------- output

def _write_recommendations(path: Path, data: Ratings, top_items, top_scores) -> None:
    from .io import staged_output

    with staged_output(path.parent if str(path.parent) else Path(".")) as staging:
        with (staging / path.name).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["user", "rank", "item", "prediction"])
            for user, items, scores in zip(data.user_labels, top_items, top_scores):
                for rank, (item, score) in enumerate(zip(items, scores), start=1):
                    if item >= 0:
                        writer.writerow([user, rank, data.item_labels[item], f"{score:.4f}"])


def _observed_mask(data: Ratings) -> np.ndarray:
    mask = np.zeros(data.shape, bool)
    mask[data.users, data.items] = True
    return mask


def _summary(args, data, model, scores, small, top_items, top_scores) -> dict:
    summary = {"input": str(args.ratings), "n_users": data.shape[0], "n_items": data.shape[1],
               "n_ratings": len(data), "factors": args.factors, "solver": args.solver,
               "epochs": model.n_iter_, "train_rmse": _train_rmse(model),
               "holdout": scores, "output": args.out}
    if small:
        summary["table"] = {"users": data.user_labels.tolist(),
                            "items": data.item_labels.tolist(),
                            "values": np.round(model.predict_matrix(), 4).tolist(),
                            "predicted": (~_observed_mask(data)).tolist()}
    return summary


def _train_rmse(model: BiasedMF) -> float:
    """Training RMSE of the epoch that was kept."""
    return model.history_["train_rmse"][model.best_epoch_ - 1]


def _print_report(args, data, model, scores, small, top_items, top_scores) -> None:
    print(f"{Path(args.ratings).name}: {data.shape[0]} users x {data.shape[1]} items, "
          f"{len(data)} ratings ({len(data) / (data.shape[0] * data.shape[1]):.1%} observed); "
          f"{args.factors} factors, {args.solver}, {model.n_iter_} epochs, "
          f"train RMSE {_train_rmse(model):.3f}")
    if scores:
        print(f"\nheld out {scores['n_held_out']} ratings:")
        for name, s in scores["methods"].items():
            print(f"  {name:<22} RMSE {s['rmse']:.3f}  MAE {s['mae']:.3f}")
    print()
    if small:
        from .display import pad

        values, observed = model.predict_matrix(), _observed_mask(data)
        width = max(pad.width(u) for u in data.user_labels)
        cell = max(7, *(pad.width(i) for i in data.item_labels))
        print(pad.left("", width) + "".join("  " + pad.right(i, cell) for i in data.item_labels))
        for u, label in enumerate(data.user_labels):
            cells = [f"{values[u, i]:.2f}" + (" " if observed[u, i] else "*")
                     for i in range(data.shape[1])]
            print(pad.left(label, width) + "".join("  " + pad.right(c, cell) for c in cells))
        print("\n* predicted; other cells are the known ratings as the model reproduces them")
        return
    shown = min(20, data.shape[0])
    for user, items, preds in zip(data.user_labels[:shown], top_items, top_scores):
        picks = ", ".join(f"{data.item_labels[i]} ({p:.2f})" for i, p in zip(items, preds)
                          if i >= 0)
        print(f"{user}: {picks}")
    if data.shape[0] > shown:
        hint = f"see {args.out}" if args.out else "use --out FILE to write them all"
        print(f"... and {data.shape[0] - shown} more users: {hint}")


def _print_json(data) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
