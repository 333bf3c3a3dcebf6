"""``topicmf assign MODEL PATH``: give topics to new documents with a saved model."""

from __future__ import annotations

from ._common import add_reading_options, examples, load, print_json


def add_parser(commands, common) -> None:
    parser = commands.add_parser(
        "assign", parents=[common], help="give topics to new documents",
        description="Fold new documents into a saved model and print their topics.",
        **examples("topicmf assign reports/finance-politics-en new.jsonl",
                   "topicmf assign reports/news/nmf/model new/ --out new_topics.csv"))
    parser.add_argument("model", metavar="MODEL",
                        help="model folder (OUT/model) or output folder of analyze")
    parser.add_argument("path", metavar="PATH", help="new documents, in any corpus format")
    parser.add_argument("--out", metavar="FILE", help="also write the topics to this CSV file")
    add_reading_options(parser)
    parser.set_defaults(run=run)


def run(args) -> int:
    from ..display import pad
    from ..export import write_assignments
    from ..io import load_analysis

    analysis = load_analysis(args.model)
    corpus = load(args)
    rows = analysis.assign(corpus.texts, corpus.ids)
    if args.out:
        write_assignments(rows, args.out)
    if args.json:
        print_json({"model": str(args.model), "documents": rows})
    elif not args.quiet:
        width = min(48, max(pad.width(r["doc_id"]) for r in rows))
        for r in rows:
            topic = "-" if r["topic"] is None else \
                f"{r['topic']:>3}  {r['weight']:.2f}  {r['topic_label']}"
            print(f"{pad.left(r['doc_id'], width)}  {topic}")
    return 0
