"""``topicmf search RUN_DIR "query"``: a saved run's documents closest to a text by topic,
with ``--like DOC_ID`` those closest to one of its documents, or with ``--topic N`` a topic's
documents by weight."""

from __future__ import annotations

from ..errors import InvalidParameterError
from ._common import examples, print_json


def add_parser(commands, common) -> None:
    parser = commands.add_parser(
        "search", parents=[common], help="find a saved run's documents by topic",
        description="Rank the documents of a run saved by 'topicmf analyze' by how close their "
                    "topics are to a text's or to one of its documents' (cosine of the topic "
                    "vectors), or list the documents most about one topic.",
        **examples('topicmf search reports/finance-politics-en "the central bank raised rates"',
                   "topicmf search reports/finance-politics-en --like finance/001.txt",
                   "topicmf search reports/news --model plsa --topic 3 -n 20"))
    parser.add_argument("folder", metavar="RUN_DIR", help="output folder of 'topicmf analyze'")
    parser.add_argument("query", metavar="TEXT", nargs="?", help="the text to match")
    parser.add_argument("--topic", type=int, metavar="N", help="list topic N's documents instead")
    parser.add_argument("--like", metavar="DOC_ID",
                        help="rank by closeness to the run's document DOC_ID instead (itself "
                             "left out)")
    parser.add_argument("-n", type=int, default=10, metavar="N",
                        help="documents to show (default: 10)")
    parser.add_argument("--model", metavar="NAME",
                        help="the model's subfolder of a run of several models")
    parser.set_defaults(run=run, late_positional="query")


def run(args) -> int:
    from ..display import pad
    from ..runs import load_run, run_folders

    if [args.query, args.topic, args.like].count(None) != 2:
        raise InvalidParameterError("give either a TEXT to search for, --like DOC_ID or "
                                    "--topic N.")
    folders = dict(run_folders(args.folder))
    if args.model is not None or len(folders) > 1:
        if args.model not in folders:
            raise InvalidParameterError(f"{args.folder} holds the models "
                                        f"{', '.join(sorted(map(str, folders)))}; pick one "
                                        f"with --model.")
        folder = folders[args.model]
    else:
        folder = next(iter(folders.values()))
    result = load_run(folder, "search")
    if args.topic is not None:
        hits = result.topic_documents(args.topic, args.n)
    elif args.like is not None:
        from ..search import similar
        hits = similar(result, args.like, args.n, allow_text=False)
    else:
        hits = result.search(args.query, args.n)
    if args.json:
        print_json({"run": str(folder), "query": args.query, "like": args.like,
                    "topic": args.topic, "documents": hits})
    elif not args.quiet:
        width = min(48, max([pad.width(h["doc_id"]) for h in hits] or [8]))
        for hit in hits:
            label = f"  {hit['label']}" if hit["label"] else ""
            print(f"{hit['score']:.3f}  {pad.left(hit['doc_id'], width)}  topic "
                  f"{hit['topic']}{label}")
    return 0
