"""``topicmf analyze PATH --topics K``: find the topics of a corpus (or of a shard folder)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import InvalidParameterError
from ._common import add_reading_options, add_vocabulary_options, add_weighting_options, \
    check_topics, cleaning, examples, load, print_json, progress, tokenizer
from ._shards import fit_shards, inside, shard_folder

MODELS = ("lsa", "nmf", "nmf-kl", "plsa")  # "all" fits each of them
DEFAULT_MODEL = "nmf-kl"  # topicmf.pipeline.DEFAULTS["model"], held by a test
#: Options that shape the matrix: a shard folder was built with its own, so they must keep
#: the defaults the parser gives them.
BUILD_OPTIONS = ("lang", "min_df", "max_df", "max_terms", "sublinear_tf", "weighting",
                 "stopwords", "userdict", "clean", "drop_quotes", "drop_signatures",
                 "news_stopwords", "boilerplate", "phrases", "text_column", "id_column",
                 "label_column",
                 "date_column", "lines", "encoding", "limit", "max_doc_chars",
                 "max_unpacked_ratio")


def add_parser(commands, common) -> None:
    parser = commands.add_parser(
        "analyze", parents=[common], help="find the topics of a corpus",
        description="Find the topics of a folder of .txt files, a .csv, a .jsonl(.gz) file, "
                    "or a shard folder made by 'topicmf build-matrix'.",
        **examples("topicmf analyze corpora/finance-politics-en --topics 2",
                   "topicmf analyze news.csv --topics 10 --model all --out reports/news",
                   "topicmf analyze news.jsonl --topics 10 --seed-words seeds.txt",
                   "topicmf analyze shards/ --topics 20 --engine dask --workers 2"))
    parser.add_argument("path", metavar="PATH",
                        help="folder of .txt files, .csv, .jsonl(.gz), .txt or shard folder")
    parser.add_argument("--topics", type=int, required=True, metavar="K", help="number of topics")
    parser.add_argument("--model", default=[DEFAULT_MODEL], type=model_list,
                        metavar="MODEL",
                        help=f"{', '.join(MODELS)}; several as lsa,nmf or 'all', each in "
                             f"OUT/<model>/ (default: {DEFAULT_MODEL}; see the README)")
    parser.add_argument("--out", metavar="DIR",
                        help="output folder (default: reports/<corpus name>)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    add_vocabulary_options(parser)
    add_weighting_options(parser)
    parser.add_argument("--max-iter", type=int, metavar="N",
                        help="iterations for NMF / PLSA (default: the model's)")
    parser.add_argument("--background", type=float, metavar="B",
                        help="PLSA only: weight in [0, 1) of the corpus-wide word distribution "
                             "that takes the words every document uses (default: 0.8; 0 is "
                             "plain PLSA)")
    parser.add_argument("--seed-words", metavar="FILE",
                        help="guided topics (NMF, PLSA): a file with one topic a line, "
                             "'name: word word word'; those topics come first, keep their "
                             "names and are pulled towards their words")
    parser.add_argument("--seed-strength", type=float, metavar="S",
                        help="with --seed-words: how strongly seeded topics hold to their "
                             "words, as a share of an average topic (default: 0.1)")
    parser.add_argument("--top-n", type=int, default=10, metavar="N",
                        help="terms shown per topic (default: 10)")
    parser.add_argument("--period", choices=["day", "week", "month", "year"],
                        help="with dates: topics over time by this period (default: by the "
                             "span: up to 60 days by day, a year by week, ten years by month, "
                             "else by year)")
    parser.add_argument("--no-report", dest="report", action="store_false",
                        help="write the results without the HTML report and its data (faster "
                             "for many topics; 'topicmf report' cannot draw it later)")
    add_reading_options(parser)
    scale = parser.add_argument_group("corpora larger than memory (PATH a shard folder)")
    scale.add_argument("--engine", choices=["shards", "memory", "dask"],
                       help="where the fit's blocks live: shards (one read at a time, the "
                            "default), memory (all shards loaded), dask (on a Dask cluster)")
    scale.add_argument("--scheduler", metavar="ADDR",
                       help="with --engine dask: the scheduler's address, e.g. tcp://10.0.0.5:8786")
    scale.add_argument("--workers", type=int, metavar="N",
                       help="with --engine dask: start N single-threaded worker processes here")
    parser.set_defaults(run=run, build_defaults={name: parser.get_default(name)
                                                 for name in BUILD_OPTIONS})


def model_list(text: str) -> list[str]:
    """--model: one model, a comma-separated list, or 'all'."""
    names = list(MODELS) if text == "all" else [n.strip() for n in text.split(",")]
    if not names or len(set(names)) != len(names) or set(names) - set(MODELS):
        raise argparse.ArgumentTypeError(
            f"expected {', '.join(MODELS)}, a comma-separated list of them or 'all', "
            f"got {text!r}")
    return names


def run(args) -> int:
    from ..export import write_outputs
    from ..pipeline import analyze_many

    check_topics(args.topics)
    if args.background is not None:
        _check_background(args)
    seed_words = _seed_words(args)
    folder = shard_folder(args)
    if folder is not None:
        results = fit_shards(args, folder, seed_words)
        out = Path(args.out or Path("reports") / results[0].analysis.info["corpus"]["name"])
        if inside(out, folder):
            raise InvalidParameterError(f"the output folder {out} is inside the shard folder "
                                        f"{folder}; choose another with --out.")
    else:
        with progress(args) as report:
            corpus = load(args, report)
            results = analyze_many(
                corpus, args.topics, models=args.model, tokenizer=tokenizer(args),
                min_df=args.min_df, max_df=args.max_df, max_terms=args.max_terms,
                sublinear_tf=args.sublinear_tf, weighting=args.weighting, clean=cleaning(args),
                random_state=args.seed, max_iter=args.max_iter, top_n=args.top_n, progress=report,
                background=args.background, seed_words=seed_words,
                seed_strength=args.seed_strength)
        out = Path(args.out or Path("reports") / corpus.name)
    written = write_outputs(results, out, report=args.report,
                            command=["topicmf", *sys.argv[1:]], period=args.period)
    _print(args, results, out, written)
    return 0


def _seed_words(args) -> dict | None:
    """The --seed-words file read and checked against --topics and --model (before the
    corpus is read), or None."""
    if args.seed_words is None:
        if args.seed_strength is not None:
            raise InvalidParameterError("--seed-strength goes with --seed-words FILE; add one "
                                        "or leave --seed-strength out.")
        return None
    from ..guided import read_seed_file
    from ..pipeline import check_seeding

    if args.seed_strength is not None and not args.seed_strength >= 0:
        raise InvalidParameterError(f"--seed-strength must be 0 or more, e.g. 0.1 (the "
                                    f"default); got {args.seed_strength}.")
    return check_seeding(read_seed_file(args.seed_words), args.topics, args.model)


def _check_background(args) -> None:
    from ..models import model_class

    if not any("background" in model_class(name)().get_params() for name in args.model):
        raise InvalidParameterError("--background applies to PLSA only; add --model plsa "
                                    "(or a list with plsa) or leave --background out.")
    if not 0 <= args.background < 1:
        raise InvalidParameterError(f"--background must be in [0, 1), e.g. 0.8 (the default) or "
                                    f"0 for plain PLSA; got {args.background}.")


def _print(args, results, out: Path, written) -> None:
    from ..display import format_analysis
    from ..export import result_summary

    if args.json:
        summaries = [result_summary(r, args.period) for r in results]
        data = summaries[0] if len(results) == 1 else {"runs": summaries}
        data["output"] = {"folder": str(out), "files": [str(p) for p in written]}
        print_json(data)
    elif not args.quiet:
        for i, result in enumerate(results):
            folder = out if len(results) == 1 else out / result.analysis.model_name
            print(("\n" + "=" * 72 + "\n\n" if i else "") + format_analysis(result, folder))
        first = out if len(results) == 1 else out / results[0].analysis.model_name
        dated = (first / "topics_over_time.csv").is_file()
        files = "topics.json, topics.csv, doc_topics.csv, model/" + \
            (", topics_over_time.csv" if dated else "") + \
            (", report.json" if args.report else "")
        where = f"{out}/" if len(results) == 1 else f"{out}/<model>/"
        report = f"\nReport: {out / 'index.html'}" if args.report else ""
        print(f"{report}\nWrote {where}: {files}")
