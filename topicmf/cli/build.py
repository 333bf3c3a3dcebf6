"""``topicmf build-matrix``: vectorize a corpus larger than memory into a folder of shards."""

from __future__ import annotations

import time

from ..errors import InvalidParameterError
from ._common import add_reading_options, add_vocabulary_options, add_weighting_options, \
    cleaning, examples, print_json, progress

NAME = "build-matrix"


def add_parser(commands, common) -> None:
    """Register ``topicmf build-matrix`` on the subparsers object ``commands``."""
    parser = commands.add_parser(
        NAME, parents=[common], help="vectorize a large corpus into a folder of shards",
        description="Read a corpus as a stream, count and weight its terms (counts and TF-IDF, "
                    "as analyze does) and write them into a folder of shards, which "
                    "'topicmf analyze DIR' fits from one shard at a time.",
        **examples("topicmf build-matrix big.jsonl.gz --out shards/ --shard-docs 50000",
                   "topicmf analyze shards/ --topics 20"))
    parser.add_argument("path", metavar="PATH",
                        help="folder of .txt files, .csv, .jsonl(.gz) or .txt")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="shard folder to write (an earlier shard folder there is replaced)")
    parser.add_argument("--shard-docs", type=int, default=20000, metavar="N",
                        help="documents in a shard (default: 20000)")
    add_vocabulary_options(parser, corpus_steps=False)  # one pass: no repeated lines, phrases
    add_weighting_options(parser)
    parser.add_argument("--jobs", type=int, metavar="N",
                        help="tokenizing processes (default: every CPU once the corpus passes "
                             "2 M characters)")
    add_reading_options(parser, limit=False)
    parser.set_defaults(run=run)


def run(args) -> int:
    """Build the shards and print what was written."""
    from ..build import build_matrix
    from ._common import tokenizer

    if args.shard_docs < 1:
        raise InvalidParameterError(f"--shard-docs must be at least 1; got {args.shard_docs}.")
    if args.jobs is not None and args.jobs < 1:
        raise InvalidParameterError(f"--jobs must be at least 1; got {args.jobs}.")
    if args.max_terms is not None and args.max_terms < 1:
        raise InvalidParameterError(f"--max-terms must be at least 1; got {args.max_terms}.")
    start = time.perf_counter()
    units = {"read": "doc", "write": "doc"}  # a call a chunk or block: a JSON line each
    with progress(args, units=units, json_every=1) as report:
        shards = build_matrix(
            args.path, args.out, shard_docs=args.shard_docs, tokenizer=tokenizer(args),
            min_df=args.min_df, max_df=args.max_df, max_terms=args.max_terms,
            sublinear_tf=args.sublinear_tf, weighting=args.weighting, clean=cleaning(args),
            text_column=args.text_column,
            id_column=args.id_column, label_column=args.label_column,
            date_column=args.date_column, lines=args.lines,
            encoding=args.encoding, n_jobs=args.jobs, progress=report,
            max_doc_chars=args.max_doc_chars, max_unpacked_ratio=args.max_unpacked_ratio)
    summary = _summary(shards, time.perf_counter() - start)
    if args.json:
        print_json(summary)
    elif not args.quiet:
        print(_describe(summary))
    return 0


def _summary(shards, seconds: float) -> dict:
    manifest = shards.manifest
    size = sum(entry["bytes"] for entry in manifest["shards"])
    size += (shards.folder / "manifest.json").stat().st_size
    return {
        "folder": str(shards.folder), "source": manifest["source"]["path"],
        "name": manifest["source"]["name"], "n_documents_read": manifest["n_documents_read"],
        "n_docs": shards.n_docs, "n_excluded": manifest["excluded"]["count"],
        "excluded": manifest["excluded"]["first"], "n_skipped_files": manifest["skipped"]["count"],
        "n_terms": shards.n_terms, "nnz": shards.nnz, "n_shards": shards.n_shards,
        "shard_docs": max(stop - start for start, stop in shards.row_ranges),
        "bytes": size, "seconds": round(seconds, 2), "labels": manifest["labels"],
        "dates": manifest["dates"],
        "vectorizer": manifest["vectorizer"], "tokenizer": manifest["tokenizer"],
        "timings_s": manifest.get("timings_s", {})}


def _describe(s: dict) -> str:
    excluded = (f" ({s['n_excluded']:,} excluded: no term left after stopwords and pruning)"
                if s["n_excluded"] else "")
    skipped = f"; {s['n_skipped_files']:,} files skipped" if s["n_skipped_files"] else ""
    labels = f", {len(s['labels'])} labels" if s["labels"] else ""
    dates = s["dates"] or {}
    dated = (f", {dates['n_dated']:,} dated from {dates['first']} to {dates['last']}"
             if dates.get("n_dated") else "")
    shards = "1 shard" if s["n_shards"] == 1 else \
        f"{s['n_shards']:,} shards of up to {s['shard_docs']:,} documents"
    return (f"{s['name']}: {s['n_documents_read']:,} documents read, {s['n_docs']:,} in the "
            f"shards{excluded}{labels}{dated}{skipped}; {s['n_terms']:,} terms, "
            f"{s['nnz']:,} non-zeros in {shards}, {_size(s['bytes'])} on disk; "
            f"{s['seconds']:.1f} s.\n"
            f"Shards: {s['folder']}")


def _size(n: int) -> str:
    if n < 1000:
        return f"{n} bytes"
    for unit in ("KB", "MB", "GB"):
        n /= 1000
        if n < 1000 or unit == "GB":
            return f"{n:.1f} {unit}"
