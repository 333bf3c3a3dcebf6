"""``topicmf sweep PATH --topics START:STOP[:STEP]``: one model over a range of K."""

from __future__ import annotations

from pathlib import Path

from ._common import examples, load, tokenizer
from .analyze import DEFAULT_MODEL
from .compare import VARIANTS, add_evaluation_options, seed_range, show


def add_parser(commands, common) -> None:
    parser = commands.add_parser(
        "sweep", parents=[common], help="try a range of topic numbers and recommend one",
        description="Fit one model for each K, plot coherence, diversity, stability and error "
                    "against K, and recommend a K.",
        **examples("topicmf sweep corpora/finance-politics-en --topics 2:6",
                   "topicmf sweep news.csv --topics 5,10,20,40 --model plsa"))
    add_evaluation_options(parser, "topic numbers: START:STOP[:STEP] (stop included) or a "
                                   "list like 5,10,20")
    parser.add_argument("--model", default=DEFAULT_MODEL, choices=list(VARIANTS),
                        help=f"model to sweep (default: {DEFAULT_MODEL})")
    parser.set_defaults(run=run)


def run(args) -> int:
    from ..compare import parse_ks, sweep

    ks = parse_ks(args.topics)
    seeds = seed_range(args)
    corpus = load(args)
    result = sweep(corpus, ks, args.model, tokenizer=tokenizer(args), min_df=args.min_df,
                   max_df=args.max_df, max_terms=args.max_terms,
                   seeds=seeds, n_jobs=args.jobs)
    out = Path(args.out or Path("reports") / corpus.name / "sweep")
    show(args, result.save(out), "n_topics", out,
         footer=f"Recommended K = {result.recommended_k}. Rule: {result.rule}")
    return 0
