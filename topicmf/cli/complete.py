"""``topicmf complete RATINGS.csv``: fill in a ratings matrix with missing entries.

The CSV is read by :func:`topicmf.complete.read_ratings` (user,item,rating rows or a table);
the model is :func:`topicmf.complete.model_for`, scored by
:func:`topicmf.complete.holdout_scores` with ``--holdout``.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InvalidParameterError
from ._common import examples, print_json

#: Tables at most this large are printed whole; larger ones get top-N lists.
SHOW_ROWS, SHOW_COLUMNS = 50, 12


def add_parser(commands, common) -> None:
    """Register ``topicmf complete`` on the subparsers object ``commands``."""
    parser = commands.add_parser(
        "complete", parents=[common], help="predict the missing entries of a ratings matrix",
        description="Fill in a users x items ratings matrix with missing entries (biased "
                    "matrix factorization). RATINGS.csv holds user,item,rating rows or a table "
                    "(first column user labels, header item labels, blank/-/? missing).",
        **examples("topicmf complete ratings.csv --factors 5 --holdout 0.2",
                   "topicmf complete ratings.csv --out recommendations.csv --top 5"))
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
    import numpy as np

    from ..complete import holdout_scores, model_for, read_ratings, write_recommendations

    if args.top < 1:
        raise InvalidParameterError(f"--top must be at least 1; got {args.top}.")
    data = read_ratings(args.ratings, duplicates=args.duplicates)
    if not 1 <= args.factors <= min(data.shape):
        raise InvalidParameterError(
            f"--factors must be between 1 and the number of users ({data.shape[0]}) and items "
            f"({data.shape[1]}); got {args.factors}.")
    scores = None if args.holdout is None else holdout_scores(
        data, args.holdout, args.factors, solver=args.solver, random_state=args.seed)
    model = model_for(len(data), args.factors, solver=args.solver,
                      random_state=args.seed).fit(data)
    small = data.shape[0] <= SHOW_ROWS and data.shape[1] <= SHOW_COLUMNS
    top_items, top_scores = model.recommend(np.arange(data.shape[0]), args.top, exclude=data)
    if args.out:
        write_recommendations(args.out, data, top_items, top_scores)
    if args.json:
        print_json(_summary(args, data, model, scores, small))
    elif not args.quiet:
        _print_report(args, data, model, scores, small, top_items, top_scores)
    return 0


def _summary(args, data, model, scores, small) -> dict:
    import numpy as np

    from ..complete import observed_mask

    summary = {"input": str(args.ratings), "n_users": data.shape[0], "n_items": data.shape[1],
               "n_ratings": len(data), "factors": args.factors, "solver": args.solver,
               "epochs": model.n_iter_, "train_rmse": _train_rmse(model),
               "holdout": scores, "output": args.out}
    if small:
        summary["table"] = {"users": data.user_labels.tolist(),
                            "items": data.item_labels.tolist(),
                            "values": np.round(model.predict_matrix(), 4).tolist(),
                            "predicted": (~observed_mask(data)).tolist()}
    return summary


def _train_rmse(model) -> float:
    """Training RMSE of the epoch that was kept."""
    return model.history_["train_rmse"][model.best_epoch_ - 1]


def _print_report(args, data, model, scores, small, top_items, top_scores) -> None:
    from ..complete import observed_mask

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
        from ..display import pad

        values, observed = model.predict_matrix(), observed_mask(data)
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
