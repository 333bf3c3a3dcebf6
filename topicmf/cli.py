"""The command line: parses arguments, calls the library, prints. ``main(argv) -> exit status``.

Exit status: 0 success, 1 a topicmf error (bad input, one line on stderr), 2 a usage error,
130 interrupted. ``--debug`` shows the traceback of an error instead of the one line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from . import __version__
from .display import format_factorization, format_labels_vs_topics, format_topics, pad
from .errors import InvalidParameterError, TopicmfError, TopicmfWarning

PROG = "topicmf"


def main(argv: list[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        with _warnings_to_stderr():
            return args.run(args)
    except TopicmfError as exc:
        if args.debug:
            raise
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        if args.debug:
            raise
        print(f"{PROG}: interrupted; nothing was written.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``topicmf ... | head``): outputs are already written; stop
        # quietly, and keep Python from complaining again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


# ---------------------------------------------------------------------------- arguments

def add_reading_options(parser):
    """The options that say how to read a corpus (columns, lines, encoding); returns their
    argument group."""
    group = parser.add_argument_group("reading the corpus")
    group.add_argument("--text-column", default="text", metavar="NAME",
                       help="csv/jsonl column holding the text (default: text)")
    group.add_argument("--id-column", metavar="NAME", help="csv/jsonl column with document ids")
    group.add_argument("--label-column", metavar="NAME",
                       help="csv/jsonl column with labels (default: 'label' if present)")
    group.add_argument("--lines", action="store_true",
                       help="read .txt files as one document per line")
    group.add_argument("--encoding", metavar="NAME",
                       help="decode files with this encoding instead of detecting "
                            "UTF-8 / GB18030 / Big5")
    return group


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Topic modeling by matrix factorization (LSA, NMF, PLSA).")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quiet", action="store_true",
                        help="print nothing but warnings and errors")
    common.add_argument("--json", action="store_true",
                        help="print the result as JSON on stdout (progress as JSON lines on stderr)")
    common.add_argument("--debug", action="store_true", help="show tracebacks of errors")

    reading = argparse.ArgumentParser(add_help=False)
    group = add_reading_options(reading)
    group.add_argument("--limit", type=int, metavar="N", help="read at most N documents")

    analyze = commands.add_parser(
        "analyze", parents=[common, reading], help="find the topics of a corpus",
        description="Find the topics of a folder of .txt files, a .csv, or a .jsonl(.gz) file.")
    analyze.add_argument("path", metavar="PATH", help="folder of .txt files, .csv, .jsonl(.gz) or .txt")
    analyze.add_argument("--topics", type=int, required=True, metavar="K",
                         help="number of topics")
    analyze.add_argument("--model", default=["nmf"], type=_model_list, metavar="MODEL",
                         help="lsa, nmf or plsa; several as lsa,nmf or 'all' for lsa,nmf,plsa, "
                              "each in OUT/<model>/ (default: nmf)")
    analyze.add_argument("--out", metavar="DIR",
                         help="output folder (default: reports/<corpus name>)")
    analyze.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    analyze.add_argument("--lang", default="auto", choices=["auto", "en", "zh"],
                         help="language of the documents (default: auto, per document)")
    analyze.add_argument("--min-df", type=_df_value, default=2, metavar="N|F",
                         help="drop terms in fewer documents than N, or a share F (default: 2)")
    analyze.add_argument("--max-df", type=_df_value, default=0.5, metavar="N|F",
                         help="drop terms in more than a share F or N documents (default: 0.5)")
    analyze.add_argument("--max-terms", type=int, metavar="N",
                         help="keep only the N most frequent terms")
    analyze.add_argument("--sublinear-tf", action=argparse.BooleanOptionalAction, default=False,
                         help="use 1 + log(tf) in TF-IDF (default: off; see the README)")
    analyze.add_argument("--max-iter", type=int, metavar="N",
                         help="iterations for NMF / PLSA (default: the model's)")
    analyze.add_argument("--background", type=float, metavar="B",
                         help="PLSA only: weight in [0, 1) of the corpus-wide word distribution "
                              "that takes the words every document uses (default: 0.8; 0 is "
                              "plain PLSA)")
    analyze.add_argument("--top-n", type=int, default=10, metavar="N",
                         help="terms shown per topic (default: 10)")
    analyze.add_argument("--stopwords", metavar="FILE", action="append", default=[],
                         help="extra stopwords, one a line (repeatable)")
    analyze.add_argument("--userdict", metavar="FILE", action="append", default=[],
                         help="extra Chinese words, one a line (repeatable)")
    scale = analyze.add_argument_group("corpora larger than memory (PATH a folder made by "
                                       "topicmf build-matrix)")
    scale.add_argument("--engine", choices=["shards", "memory", "dask"],
                       help="where the fit's blocks live: shards (one read at a time, the "
                            "default for a shard folder), memory (all shards loaded), dask "
                            "(the shards on a Dask cluster)")
    scale.add_argument("--scheduler", metavar="ADDR",
                       help="with --engine dask: the scheduler's address, e.g. "
                            "tcp://10.0.0.5:8786")
    scale.add_argument("--workers", type=int, metavar="N",
                       help="with --engine dask: start N single-threaded worker processes "
                            "on this machine instead")
    analyze.set_defaults(run=_run_analyze)

    assign = commands.add_parser(
        "assign", parents=[common, reading], help="give topics to new documents",
        description="Fold new documents into a saved model and print their topics.")
    assign.add_argument("model", metavar="MODEL",
                        help="model folder (OUT/model) or output folder of analyze")
    assign.add_argument("path", metavar="PATH", help="new documents, in any corpus format")
    assign.add_argument("--out", metavar="FILE", help="also write the topics to this CSV file")
    assign.set_defaults(run=_run_assign)

    factorize = commands.add_parser(
        "factorize", parents=[common], help="factorize a small labelled matrix",
        description="Factorize a matrix given as CSV (first row: column labels; first column: "
                    "row labels) and print both factors.")
    factorize.add_argument("table", metavar="TABLE.csv")
    factorize.add_argument("--topics", type=int, default=2, metavar="K",
                           help="number of factors (default: 2)")
    factorize.add_argument("--model", default="nmf", choices=["lsa", "nmf", "plsa"])
    factorize.add_argument("--seed", type=int, default=0)
    factorize.set_defaults(run=_run_factorize)

    from . import _cli_build, _cli_complete, _cli_evaluate, _cli_report
    _cli_report.add_parser(commands, common)
    _cli_evaluate.add_parser(commands, common)
    _cli_complete.add_parser(commands, common)
    _cli_build.add_parser(commands, common)
    return parser


ANALYZE_MODELS = ("lsa", "nmf", "plsa")


def _model_list(text: str) -> list[str]:
    """--model: one model, a comma-separated list, or 'all'."""
    names = list(ANALYZE_MODELS) if text == "all" else [n.strip() for n in text.split(",")]
    unknown = [n for n in names if n not in ANALYZE_MODELS]
    if unknown or not names or len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(
            f"expected lsa, nmf, plsa, a comma-separated list of them or 'all', got {text!r}")
    return names


def _df_value(text: str):
    """--min-df / --max-df: an int is a number of documents, a float a share of them."""
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected a number of documents (e.g. 2) or a share (e.g. 0.5), got {text!r}")


# ---------------------------------------------------------------------------- commands

def _run_analyze(args) -> int:
    from .export import write_outputs
    from .models import MODELS
    from .pipeline import analyze_many
    from .tokenize import Tokenizer, read_word_file

    _check_topics(args.topics)
    shard_folder = _shard_folder(args)
    if args.background is not None and not any(
            "background" in MODELS[name]().get_params() for name in args.model):
        raise InvalidParameterError("--background applies to PLSA only; add --model plsa "
                                    "(or a list with plsa) or leave --background out.")
    if args.background is not None and not 0 <= args.background < 1:
        raise InvalidParameterError(f"--background must be in [0, 1), e.g. 0.8 (the default) or "
                                    f"0 for plain PLSA; got {args.background}.")
    if shard_folder is not None:
        return _run_analyze_shards(args, shard_folder)
    tokenizer = Tokenizer(
        args.lang,
        stopwords=[w for f in args.stopwords for w in read_word_file(f)],
        userdict=[w for f in args.userdict for w in read_word_file(f)])
    out = Path(args.out) if args.out else None
    with _progress(args) as progress:
        corpus = _load(args, progress)
        out = out or Path("reports") / corpus.name
        results = analyze_many(
            corpus, args.topics, models=args.model, tokenizer=tokenizer, min_df=args.min_df,
            max_df=args.max_df, max_terms=args.max_terms, sublinear_tf=args.sublinear_tf,
            random_state=args.seed, max_iter=args.max_iter, top_n=args.top_n,
            progress=progress, background=args.background)
    written = write_outputs(results, out, command=["topicmf", *sys.argv[1:]])
    _print_results(args, results, out, written)
    return 0


# Options that shape the matrix: a shard folder was built with its own.
_BUILD_OPTIONS = {"lang": "auto", "min_df": 2, "max_df": 0.5, "max_terms": None,
                  "sublinear_tf": False, "stopwords": [], "userdict": [], "text_column": "text",
                  "id_column": None, "label_column": None, "lines": False, "encoding": None,
                  "limit": None}


def _shard_folder(args):
    """PATH as a shard folder when it is one (checking the options that need one or do not
    apply to one), else None."""
    from .shards import is_shard_folder

    path = Path(args.path)
    if not is_shard_folder(path):
        if args.engine in ("shards", "dask"):
            raise InvalidParameterError(
                f"--engine {args.engine} fits a shard folder, and {args.path} is not one; make "
                f"one with: topicmf build-matrix {args.path} --out SHARDS")
        if args.scheduler or args.workers:
            raise InvalidParameterError("--scheduler and --workers go with --engine dask on a "
                                        "shard folder.")
        return None
    given = [name for name, default in _BUILD_OPTIONS.items() if getattr(args, name) != default]
    if given:
        flags = ", ".join("--" + name.replace("_", "-") for name in given)
        raise InvalidParameterError(
            f"{flags} cannot change a shard folder's matrix ({args.path} was built with its "
            f"own settings); leave {'them' if len(given) > 1 else 'it'} out, or rebuild with "
            f"topicmf build-matrix.")
    if (args.scheduler or args.workers) and args.engine != "dask":
        raise InvalidParameterError("--scheduler and --workers go with --engine dask.")
    if args.engine == "dask" and bool(args.scheduler) == bool(args.workers):
        raise InvalidParameterError("--engine dask needs either --scheduler ADDR (a running "
                                    "cluster) or --workers N (start one here).")
    if args.workers is not None and not 1 <= args.workers <= 256:
        raise InvalidParameterError(f"--workers must be between 1 and 256; got {args.workers}.")
    if args.out and _inside(Path(args.out), path):
        raise InvalidParameterError(f"--out {args.out} is inside the shard folder {args.path}; "
                                    f"choose an output folder outside it.")
    return path


def _inside(path: Path, folder: Path) -> bool:
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents


def _run_analyze_shards(args, folder: Path) -> int:
    from contextlib import ExitStack

    from .export import write_outputs
    from .pipeline_shards import analyze_shards

    out = Path(args.out) if args.out else None
    engine = args.engine or "shards"
    with ExitStack() as stack:
        client = None
        if engine == "dask":
            from .engine.cluster import connect
            client = stack.enter_context(connect(scheduler=args.scheduler,
                                                 workers=args.workers))
        with _progress(args) as progress:
            results = analyze_shards(folder, args.topics, models=args.model, engine=engine,
                                     client=client, random_state=args.seed,
                                     max_iter=args.max_iter, top_n=args.top_n,
                                     progress=progress, background=args.background)
    out = out or Path("reports") / results[0].analysis.info["corpus"]["name"]
    if _inside(out, folder):
        raise InvalidParameterError(f"the output folder {out} is inside the shard folder "
                                    f"{folder}; choose another with --out.")
    written = write_outputs(results, out, command=["topicmf", *sys.argv[1:]])
    _print_results(args, results, out, written)
    return 0


def _print_results(args, results, out: Path, written) -> None:
    from .export import result_summary

    if args.json:
        summaries = [result_summary(r) for r in results]
        data = summaries[0] if len(results) == 1 else {"runs": summaries}
        data["output"] = {"folder": str(out), "files": [str(p) for p in written]}
        _print_json(data)
    elif not args.quiet:
        for i, result in enumerate(results):
            if i:
                print("\n" + "=" * 72 + "\n")
            folder = out if len(results) == 1 else out / result.analysis.model_name
            _print_analysis(result, folder)
        files = "topics.json, topics.csv, doc_topics.csv, model/, report.json"
        where = f"{out}/" if len(results) == 1 else f"{out}/<model>/"
        print(f"\nReport: {out / 'index.html'}\nWrote {where}: {files}")


def _run_assign(args) -> int:
    from .export import topic_label
    from .io import load_analysis

    analysis = load_analysis(args.model)
    corpus = _load(args)
    vectors, known = analysis.doc_vectors(corpus.texts)
    labels = [topic_label(terms) for terms in analysis.topics(3)]
    rows = []
    for doc_id, vector, has_terms in zip(corpus.ids, vectors, known):
        topic = int(vector.argmax()) if has_terms else None
        rows.append({"doc_id": doc_id, "topic": topic,
                     "weight": float(vector[topic]) if has_terms else None,
                     "topic_label": labels[topic] if has_terms else "",
                     "weights": [round(float(w), 6) for w in vector]})
    if args.out:
        _write_assign_csv(rows, Path(args.out), analysis.n_topics)
    unknown = int((~known).sum())
    if unknown:
        warnings.warn(f"{unknown} document(s) share no term with the model's vocabulary and "
                      f"get no topic.", TopicmfWarning)
    if args.json:
        _print_json({"model": str(args.model), "documents": rows})
    elif not args.quiet:
        width = min(48, max(pad.width(r["doc_id"]) for r in rows))
        for r in rows:
            topic = "-" if r["topic"] is None else f"{r['topic']:>3}  {r['weight']:.2f}  {r['topic_label']}"
            print(f"{pad.left(r['doc_id'], width)}  {topic}")
    return 0


def _run_factorize(args) -> int:
    from .models import MODELS
    from .table import read_table

    _check_topics(args.topics)
    table = read_table(args.table)
    model = MODELS[args.model](args.topics, random_state=args.seed)
    row_factors = model.fit_transform(table.values)
    if args.json:
        _print_json({"table": str(args.table), "model": args.model, "rows": table.row_labels,
                     "columns": table.column_labels,
                     "row_factors": np.round(row_factors, 6).tolist(),
                     "column_factors": np.round(model.components_, 6).tolist(),
                     "objective": float(model.history_[-1]) if len(model.history_) else None})
    elif not args.quiet:
        print(format_factorization(table, model, row_factors, args.model, Path(args.table).name))
    return 0


# ---------------------------------------------------------------------------- helpers

def _check_topics(n_topics: int) -> None:
    if not 1 <= n_topics <= 1000:
        raise InvalidParameterError(f"--topics must be between 1 and 1000; got {n_topics}.")


def _load(args, progress=None):
    from .corpus import load_corpus

    if args.limit is not None and args.limit < 1:
        raise InvalidParameterError(f"--limit must be at least 1; got {args.limit}.")
    return load_corpus(args.path, text_column=args.text_column, id_column=args.id_column,
                       label_column=args.label_column, lines=args.lines,
                       encoding=args.encoding, limit=args.limit,
                       progress=None if progress is None else
                       (lambda done, total: progress("read", done, total)))


def _print_analysis(result, out: Path) -> None:
    info = result.analysis.info
    corpus, vocab, model = info["corpus"], info["vocabulary"], info["model"]
    print(f"{corpus['name']}: {corpus['n_documents']} documents, {vocab['n_terms']} terms, "
          f"{model['name'].upper()} with {model['n_topics']} topics "
          f"({model['n_iter']} iterations, {info['timings_s']['total']:.1f} s)")
    print()
    print(format_topics(result.topics, result.topic_shares))
    print()
    labels = result.fitted_labels
    if labels and len(set(labels)) <= 30 and result.analysis.n_topics <= 30:
        print(format_labels_vs_topics(labels, result.dominant_topics, result.analysis.n_topics))
        print()
    n_docs = result.doc_weights.shape[0]
    shown = min(n_docs, 100 if n_docs <= 100 else 20)
    ids = result.fitted_ids(range(shown))
    width = min(48, max(pad.width(i) for i in ids))
    print(f"{'document':<{width}}  topic  weight")
    for doc_id, weights in zip(ids, result.doc_weights[:shown]):
        print(f"{pad.left(doc_id, width)}  {int(weights.argmax()):>5}  {weights.max():6.2f}")
    if n_docs > shown:
        print(f"... and {n_docs - shown} more: see {out / 'doc_topics.csv'}")



def _write_assign_csv(rows, path: Path, n_topics: int) -> None:
    import csv

    from .io import staged_output

    with staged_output(path.parent if str(path.parent) else Path(".")) as staging:
        with (staging / path.name).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["doc_id", "topic", *(f"topic_{k}" for k in range(n_topics))])
            for r in rows:
                writer.writerow([r["doc_id"], "" if r["topic"] is None else r["topic"],
                                 *(f"{w:.6g}" for w in r["weights"])])


def _print_json(data) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


@contextmanager
def _warnings_to_stderr():
    """Show each warning as one line, ``topicmf: warning: ...``, when it happens."""
    def show(message, category, filename, lineno, file=None, line=None):
        print(f"{PROG}: warning: {message}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = show
        yield


@contextmanager
def _progress(args, *, units=None, json_every: int = 10):
    """A progress callback: a tqdm bar per stage on an interactive terminal (``units``: the
    unit of each stage), JSON lines on stderr with --json (every ``json_every`` steps and at
    the end), nothing with --quiet."""
    if args.quiet:
        yield None
        return
    if args.json:
        def report(stage, done, total):
            if done == total or done % json_every == 0:
                print(json.dumps({"stage": stage, "done": done, "total": total}),
                      file=sys.stderr, flush=True)
        yield report
        return
    if not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    units = {"read": "file", "tokenize": "doc"} if units is None else units
    bars = {}

    def report(stage, done, total):
        bar = bars.get(stage)
        if bar is None:
            for finished in bars.values():  # one stage at a time: clear the last one
                finished.close()
            bar = bars[stage] = tqdm(total=total, desc=stage, unit=units.get(stage, "it"),
                                     leave=False, file=sys.stderr)
        bar.update(done - bar.n)

    try:
        yield report
    finally:
        for bar in bars.values():
            bar.close()
