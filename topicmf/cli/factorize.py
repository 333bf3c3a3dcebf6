"""``topicmf factorize TABLE.csv``: factorize a small labelled matrix and print both factors."""

from __future__ import annotations

from pathlib import Path

from ._common import check_topics, examples, print_json


def add_parser(commands, common) -> None:
    parser = commands.add_parser(
        "factorize", parents=[common], help="factorize a small labelled matrix",
        description="Factorize a matrix given as CSV (first row: column labels; first column: "
                    "row labels) and print both factors.",
        **examples("topicmf factorize scores.csv --topics 2 --model nmf"))
    parser.add_argument("table", metavar="TABLE.csv")
    parser.add_argument("--topics", type=int, default=2, metavar="K",
                        help="number of factors (default: 2)")
    parser.add_argument("--model", default="nmf", choices=["lsa", "nmf", "plsa"])
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(run=run)


def run(args) -> int:
    import numpy as np

    from ..display import format_factorization
    from ..models import MODELS
    from ..table import read_table

    check_topics(args.topics)
    table = read_table(args.table)
    model = MODELS[args.model](args.topics, random_state=args.seed)
    row_factors = model.fit_transform(table.values)
    if args.json:
        print_json({"table": str(args.table), "model": args.model, "rows": table.row_labels,
                    "columns": table.column_labels,
                    "row_factors": np.round(row_factors, 6).tolist(),
                    "column_factors": np.round(model.components_, 6).tolist(),
                    "objective": float(model.history_[-1]) if len(model.history_) else None})
    elif not args.quiet:
        print(format_factorization(table, model, row_factors, args.model, Path(args.table).name))
    return 0
