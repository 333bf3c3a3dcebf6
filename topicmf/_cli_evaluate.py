"""The ``compare`` and ``sweep`` subcommands (wired into :mod:`topicmf.cli`)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from .compare import VARIANTS, parse_ks

TABLE_COLUMNS = ("c_npmi", "c_v", "u_mass", "diversity", "error", "perplexity",
                 "heldout_perplexity", "nmi", "ari", "purity", "stability", "fit_s")


def add_parser(commands, common) -> None:
    """Register ``compare`` and ``sweep`` on the subparsers object ``commands``."""
    from .cli import _df_value

    def options(parser, topics_help):
        parser.add_argument("path", metavar="PATH",
                            help="folder of .txt files, .csv, .jsonl(.gz) or .txt")
        parser.add_argument("--topics", required=True, metavar="K", help=topics_help)
        parser.add_argument("--out", metavar="DIR", help="output folder (default: "
                            f"reports/<corpus name>/{parser.prog.split()[-1]})")
        parser.add_argument("--seeds", type=int, default=3, metavar="N",
                            help="runs with seeds 0..N-1 for stability (default: 3; 1 skips it)")
        parser.add_argument("--lang", default="auto", choices=["auto", "en", "zh"])
        parser.add_argument("--min-df", type=_df_value, default=2, metavar="N|F")
        parser.add_argument("--max-df", type=_df_value, default=0.5, metavar="N|F")
        parser.add_argument("--max-terms", type=int, metavar="N")
        parser.add_argument("--stopwords", metavar="FILE", action="append", default=[])
        parser.add_argument("--userdict", metavar="FILE", action="append", default=[])
        parser.add_argument("--jobs", type=int, metavar="N",
                            help="worker processes (default: 2 on large corpora, else 1)")
        group = parser.add_argument_group("reading the corpus")
        group.add_argument("--text-column", default="text", metavar="NAME")
        group.add_argument("--id-column", metavar="NAME")
        group.add_argument("--label-column", metavar="NAME")
        group.add_argument("--lines", action="store_true")
        group.add_argument("--encoding", metavar="NAME")
        group.add_argument("--limit", type=int, metavar="N")

    compare = commands.add_parser(
        "compare", parents=[common], help="compare models on one corpus",
        description="Fit LSA, NMF (Frobenius and KL), PLSA and LDA on the same vocabulary and "
                    "tabulate coherence, diversity, fit, label agreement, stability and time.")
    options(compare, "number of topics")
    compare.add_argument("--models", default=",".join(VARIANTS), metavar="LIST",
                         help=f"comma-separated, among {', '.join(VARIANTS)} (default: all)")
    compare.set_defaults(run=run_compare)

    sweep = commands.add_parser(
        "sweep", parents=[common], help="try a range of topic numbers and recommend one",
        description="Fit one model for each K, plot coherence, diversity, stability and error "
                    "against K, and recommend a K.")
    options(sweep, "topic numbers: START:STOP[:STEP] (stop included) or a list like 5,10,20")
    sweep.add_argument("--model", default="nmf", choices=list(VARIANTS),
                       help="model to sweep (default: nmf)")
    sweep.set_defaults(run=run_sweep)


def run(args) -> int:
    """Run whichever of the two commands ``args`` is for."""
    return args.run(args)


def run_compare(args) -> int:
    from ._validation import check_int
    from .compare import compare
    from .io import staged_output

    n_topics = check_int(_int(args.topics, "--topics"), "--topics", low=1, high=1000)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    corpus, tokenizer = _corpus(args)
    result = compare(corpus, n_topics, models, tokenizer=tokenizer, min_df=args.min_df,
                     max_df=args.max_df, max_terms=args.max_terms, seeds=_seeds(args),
                     n_jobs=args.jobs)
    out = Path(args.out) if args.out else Path("reports") / corpus.name / "compare"
    report = {"settings": result.settings, "rows": result.rows,
              "topics": {name: [[t for t, _ in topic[:10]] for topic in topics]
                         for name, topics in result.topics.items()}}
    with staged_output(out) as staging:
        _write_csv(staging / "compare.csv", result.rows)
        _write_json(staging / "compare.json", report)
    _show(args, report, result.rows, "model", out, ["compare.csv", "compare.json"])
    return 0


def run_sweep(args) -> int:
    from .compare import plot_sweep, sweep
    from .io import staged_output

    ks = parse_ks(args.topics)
    corpus, tokenizer = _corpus(args)
    result = sweep(corpus, ks, args.model, tokenizer=tokenizer, min_df=args.min_df,
                   max_df=args.max_df, max_terms=args.max_terms, seeds=_seeds(args),
                   n_jobs=args.jobs)
    out = Path(args.out) if args.out else Path("reports") / corpus.name / "sweep"
    report = {"settings": result.settings, "recommended_k": result.recommended_k,
              "rule": result.rule, "rows": result.rows}
    with staged_output(out) as staging:
        _write_csv(staging / "sweep.csv", result.rows)
        _write_json(staging / "sweep.json", report)
        plot_sweep(result, staging / "sweep.png")
    _show(args, report, result.rows, "n_topics", out, ["sweep.csv", "sweep.json", "sweep.png"],
          footer=f"Recommended K = {result.recommended_k}. Rule: {result.rule}")
    return 0


# ------------------------------------------------------------------------------ helpers

def _int(text, name) -> int:
    from .errors import InvalidParameterError

    try:
        return int(text)
    except ValueError:
        raise InvalidParameterError(f"{name} must be a whole number; got {text!r}.") from None


def _seeds(args) -> tuple[int, ...]:
    from ._validation import check_int

    return tuple(range(check_int(args.seeds, "--seeds", low=1, high=100)))


def _corpus(args):
    from .cli import _load
    from .tokenize import Tokenizer, read_word_file

    tokenizer = Tokenizer(args.lang,
                          stopwords=[w for f in args.stopwords for w in read_word_file(f)],
                          userdict=[w for f in args.userdict for w in read_word_file(f)])
    return _load(args), tokenizer


def _write_csv(path: Path, rows) -> None:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "; ".join(v) if isinstance(v, list) else
                             ("" if v is None else v) for k, v in row.items()})


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def format_table(rows, first: str) -> str:
    """The metrics as an aligned text table; columns absent from every row are left out."""
    columns = [first] + [c for c in TABLE_COLUMNS if any(row.get(c) is not None for row in rows)]
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in cells]
    return "\n".join(lines)


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) >= 1000 else f"{value:.3f}"
    return str(value)


def _show(args, report, rows, first, out, files, footer=None) -> None:
    from .cli import _print_json

    if args.json:
        _print_json({**report, "output": {"folder": str(out),
                                          "files": [str(out / f) for f in files]}})
        return
    if args.quiet:
        return
    settings = report["settings"]
    coherence = settings["coherence"]
    print(f"{settings['corpus']}: {settings['n_fitted']} documents, {settings['n_terms']} "
          f"terms; coherence over the top {coherence['topn']} terms, windows "
          + ", ".join(f"{m} {w or 'document'}" for m, w in coherence["window_sizes"].items()))
    print()
    print(format_table(rows, first))
    notes = [f"{row[first]}: {note}" for row in rows for note in row.get("notes", [])]
    if notes:
        print(f"\n{len(notes)} note(s), see {out / files[1]}; first: {notes[0]}")
    if footer:
        print(f"\n{footer}")
    print(f"\nWrote {out}/: {', '.join(files)}")
