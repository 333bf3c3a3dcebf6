"""``topicmf export DIR --to gensim|pyldavis|parquet``: a saved run in another tool's format."""

from __future__ import annotations

from ._common import examples, print_json

FORMATS = ("gensim", "pyldavis", "parquet")


def add_parser(commands, common) -> None:
    parser = commands.add_parser(
        "export", parents=[common], help="write a saved run for gensim, pyLDAvis or parquet",
        description="Write the results 'topicmf analyze' saved in DIR in another tool's format: "
                    "gensim (Dictionary, Matrix Market corpus, topics), pyldavis (the arguments "
                    "of pyLDAvis.prepare, and its page) or parquet (topics and document topics).",
        **examples("topicmf export reports/finance-politics-en --to gensim",
                   "topicmf export reports/news/nmf --to parquet --out news-parquet"))
    parser.add_argument("folder", metavar="DIR", help="output folder of 'topicmf analyze'")
    parser.add_argument("--to", required=True, choices=FORMATS, help="the format to write")
    parser.add_argument("--out", metavar="DIR", help="where to write (default: DIR/export-<to>)")
    parser.set_defaults(run=run)


def run(args) -> int:
    from ..interop import export_run

    written = export_run(args.folder, args.to, args.out)
    if args.json:
        print_json({"run": str(args.folder), "to": args.to,
                    "files": [str(path) for path in written]})
    elif not args.quiet:
        folders = sorted({str(path.parent) for path in written})
        print(f"Wrote {len(written)} file(s) for {args.to} in {', '.join(folders)}: "
              f"{', '.join(path.name for path in written)}")
    return 0
