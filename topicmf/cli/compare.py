"""``topicmf compare PATH --topics K``: several models on one corpus, side by side."""

from __future__ import annotations

from pathlib import Path

from ..errors import InvalidParameterError
from ._common import add_reading_options, add_vocabulary_options, check_topics, examples, load, \
    print_json, tokenizer

VARIANTS = ("lsa", "nmf", "nmf-kl", "plsa", "lda")  # topicmf.compare.VARIANTS, held by a test


def add_parser(commands, common) -> None:
    parser = commands.add_parser(
        "compare", parents=[common], help="compare models on one corpus",
        description="Fit LSA, NMF (Frobenius and KL), PLSA and LDA on the same vocabulary and "
                    "tabulate coherence, diversity, fit, label agreement, stability and time.",
        **examples("topicmf compare corpora/finance-politics-en --topics 2",
                   "topicmf compare news.csv --topics 10 --models nmf,plsa --seeds 1"))
    add_evaluation_options(parser, "number of topics", topics_type=int)
    parser.add_argument("--models", default=",".join(VARIANTS), metavar="LIST",
                        help=f"comma-separated, among {', '.join(VARIANTS)} (default: all)")
    parser.add_argument("--sample", type=float, default=1.0, metavar="F",
                        help="fit each seed's run on a random share F of the documents "
                             "(default: 1, all of them; NMF and PLSA start from an SVD, so "
                             "only a sample such as 0.8 shows which of their topics hold)")
    parser.set_defaults(run=run)


def add_evaluation_options(parser, topics_help: str, topics_type=str) -> None:
    """The options ``compare`` and ``sweep`` share."""
    parser.add_argument("path", metavar="PATH",
                        help="folder of .txt files, .csv, .jsonl(.gz) or .txt")
    parser.add_argument("--topics", required=True, type=topics_type, metavar="K",
                        help=topics_help)
    parser.add_argument("--out", metavar="DIR", help="output folder (default: "
                        f"reports/<corpus name>/{parser.prog.split()[-1]})")
    parser.add_argument("--seeds", type=int, default=3, metavar="N",
                        help="runs with seeds 0..N-1 for stability (default: 3; 1 skips it)")
    add_vocabulary_options(parser)
    parser.add_argument("--jobs", type=int, metavar="N",
                        help="worker processes (default: 2 on large corpora, else 1)")
    add_reading_options(parser)


def run(args) -> int:
    from ..compare import compare

    check_topics(args.topics)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    seeds = seed_range(args)
    corpus = load(args)
    result = compare(corpus, args.topics, models, tokenizer=tokenizer(args),
                     min_df=args.min_df, max_df=args.max_df, max_terms=args.max_terms,
                     seeds=seeds, sample=args.sample, n_jobs=args.jobs)
    out = Path(args.out or Path("reports") / corpus.name / "compare")
    show(args, result.save(out), "model", out, footer=recurrence_lines(result.recurrence))
    return 0


def recurrence_lines(recurrence: dict, low: float = 0.8) -> str | None:
    """Each model's topics by how well they recur in the other runs, the weak ones starred."""
    known = {name: values for name, values in recurrence.items() if values}
    if not known:
        return None
    width = max(map(len, known))
    lines = [f"How well each topic (0, 1, ...) recurs in the other runs (matched cosine; * "
             f"below {low}):"]
    for name, values in known.items():
        cells = " ".join(f"{v:.2f}{'*' if v < low else ' '}" for v in values)
        lines.append(f"  {name:<{width}}  {cells.rstrip()}")
    return "\n".join(lines)


def seed_range(args) -> tuple[int, ...]:
    """--seeds N: the seeds 0..N-1."""
    if not 1 <= args.seeds <= 100:
        raise InvalidParameterError(f"--seeds must be between 1 and 100; got {args.seeds}.")
    return tuple(range(args.seeds))


def show(args, saved: dict, first: str, out: Path, footer: str | None = None) -> None:
    """Print what ``compare`` or ``sweep`` saved (their ``save`` return value)."""
    from ..display import format_metrics

    report, files = saved["report"], saved["files"]
    if args.json:
        print_json({**report, "output": {"folder": str(out),
                                         "files": [str(out / f) for f in files]}})
        return
    if args.quiet:
        return
    settings, rows = report["settings"], report["rows"]
    coherence = settings["coherence"]
    print(f"{settings['corpus']}: {settings['n_fitted']} documents, {settings['n_terms']} "
          f"terms; coherence over the top {coherence['topn']} terms, windows "
          + ", ".join(f"{m} {w or 'document'}" for m, w in coherence["window_sizes"].items()))
    print()
    print(format_metrics(rows, first))
    notes = [f"{row[first]}: {note}" for row in rows for note in row.get("notes", [])]
    if notes:
        print(f"\n{len(notes)} note(s), see {out / files[1]}; first: {notes[0]}")
    if footer:
        print(f"\n{footer}")
    print(f"\nWrote {out}/: {', '.join(files)}")
