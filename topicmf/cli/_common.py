"""What the subcommands share: option groups, argument types, progress, output, and the one
place where a library parameter's name becomes the flag a command-line user types."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import warnings
from contextlib import contextmanager

from ..errors import InvalidParameterError

PROG = "topicmf"

#: Library parameters whose flag is not the parameter's own name with dashes.
FLAG_OF = {"n_topics": "--topics", "ks": "--topics", "random_state": "--seed",
           "n_jobs": "--jobs", "n_factors": "--factors", "directory": "--out",
           "seeds": "--seeds"}


def flag_message(message: str, flags: dict[str, str]) -> str:
    """A library message with its parameter names as the command's flags: ``'min_df'`` or
    ``min_df`` becomes ``--min-df``, "The 'n_topics' parameter of NMF must" becomes
    "--topics must". ``flags``: parameter name -> flag, for the command that ran."""
    flags = {**flags, **FLAG_OF}
    flag = flags.get

    def parameter(match):
        found = flag(match.group(1))
        return f"{found} must" if found else match.group(0)

    def assignment(match):
        found = flag(match.group(1))
        value = match.group(3) if match.group(3) is not None else match.group(2)
        return f"{found} {value}" if found else match.group(0)

    def quoted(match):
        found = flag(match.group(1))
        return found or match.group(0)

    if "out" in flags:  # the library's "choose another output folder": where to choose it
        message = message.replace("another output folder", "another output folder with --out")
    message = re.sub(r"The '(\w+)' parameter(?: of \w+)? must", parameter, message)
    message = re.sub(r"\b(\w+)=('([^']*)'|[^\s,;)]+)", assignment, message)
    message = re.sub(r"'(\w+)'", quoted, message)
    return re.sub(r"\b([a-z]+_[a-z_]+)\b(?!=)", quoted, message)


def parser_flags(parser: argparse.ArgumentParser) -> dict[str, str]:
    """parameter name -> its long flag (the first: ``--sublinear-tf``, not
    ``--no-sublinear-tf``), for every option of ``parser``."""
    flags = {}
    for action in parser._actions:
        long = [option for option in action.option_strings if option.startswith("--")]
        if long:
            flags[action.dest] = long[0]
    return flags


# ------------------------------------------------------------------------ options and types

def common_options() -> argparse.ArgumentParser:
    """The parent parser of every subcommand: --quiet, --json, --debug."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quiet", action="store_true",
                        help="print nothing but warnings and errors")
    common.add_argument("--json", action="store_true",
                        help="print the result as JSON on stdout (progress as JSON lines on stderr)")
    common.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    return common


def add_reading_options(parser, *, limit: bool = True):
    """The options that say how to read a corpus (columns, dates, lines, encoding, limit)."""
    group = parser.add_argument_group("reading the corpus")
    group.add_argument("--text-column", default="text", metavar="NAME",
                       help="csv/jsonl column holding the text (default: text)")
    group.add_argument("--id-column", metavar="NAME", help="csv/jsonl column with document ids")
    group.add_argument("--label-column", metavar="NAME",
                       help="csv/jsonl column with labels (default: 'label' if present)")
    group.add_argument("--date-column", metavar="NAME",
                       help="csv/jsonl column with dates (default: 'date' if present; a "
                            "folder's dates come from its file names)")
    group.add_argument("--lines", action="store_true",
                       help="read .txt files as one document per line")
    group.add_argument("--encoding", metavar="NAME",
                       help="decode files with this encoding instead of detecting "
                            "UTF-8 / GB18030 / Big5")
    if limit:
        group.add_argument("--limit", type=int, metavar="N", help="read at most N documents")
    group.add_argument("--max-doc-chars", type=_limit(int), default=10_000_000, metavar="N",
                       help="cut a longer document to its first N characters, with a warning "
                            "(default: 10000000; 0 for no limit)")
    group.add_argument("--max-unpacked-ratio", type=_limit(float), default=200.0, metavar="R",
                       help="refuse a .gz that unpacks past R times its size and 100 MB "
                            "(default: 200; 0 for no limit)")
    return group


def _limit(kind):
    """A limit flag's type: a number, or 0 for none (the library's None)."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, or 0 for no limit; got "
                                             f"{text!r}") from None
        return None if value == 0 else value
    return parse


def add_vocabulary_options(parser, *, corpus_steps: bool = True) -> None:
    """How text becomes terms: --lang, --min-df, --max-df, --max-terms, --stopwords,
    --userdict, and the cleaning (see :func:`cleaning`): --clean, --drop-quotes,
    --drop-signatures, --news-stopwords and (``corpus_steps``: the steps that learn from the
    whole corpus) --boilerplate and --phrases."""
    parser.add_argument("--lang", default="auto", choices=["auto", "en", "zh"],
                        help="language of the documents (default: auto, per document)")
    parser.add_argument("--min-df", type=df_value, default=2, metavar="N|F",
                        help="drop terms in fewer documents than N, or a share F (default: 2)")
    parser.add_argument("--max-df", type=df_value, default=0.5, metavar="N|F",
                        help="drop terms in more than a share F or N documents (default: 0.5)")
    parser.add_argument("--max-terms", type=int, metavar="N",
                        help="keep only the N most frequent terms")
    parser.add_argument("--stopwords", metavar="FILE", action="append", default=[],
                        help="extra stopwords, one a line (repeatable)")
    parser.add_argument("--userdict", metavar="FILE", action="append", default=[],
                        help="extra Chinese words, one a line (repeatable)")
    group = parser.add_argument_group("cleaning, all off by default (see the README's "
                                      "'Cleaning the text')")
    steps = {"--clean": "drop the headers of mail and news posts but the subject; other texts "
                        "pass unchanged",
             "--drop-quotes": "also drop the quoted lines of posts and the 'x writes:' lines",
             "--drop-signatures": "also drop the signatures of posts, after '-- '",
             "--news-stopwords": "drop news words that carry no topic: said, told, reuter, "
                                 "表示, 记者, 日电, ...",
             "--boilerplate": "drop the lines found in at least 1%% (and 5) of the documents",
             "--phrases": "join two-word collocations (new_york, 中央银行) into one term"}
    for flag, text in steps.items():
        if corpus_steps or flag not in ("--boilerplate", "--phrases"):
            group.add_argument(flag, action="store_true", help=text)


def add_weighting_options(parser) -> None:
    """How counts become weights: --weighting, --sublinear-tf."""
    parser.add_argument("--weighting", default="tfidf", choices=["tfidf", "log-entropy"],
                        help="term weights for LSA and NMF: tfidf, or log-entropy (gensim's "
                             "LSI weighting) (default: tfidf; see the README)")
    parser.add_argument("--sublinear-tf", action=argparse.BooleanOptionalAction, default=False,
                        help="use 1 + log(tf) in TF-IDF (default: off; see the README)")


def df_value(text: str):
    """--min-df / --max-df: an int is a number of documents, a float a share of them."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    raise argparse.ArgumentTypeError(
        f"expected a number of documents (e.g. 2) or a share (e.g. 0.5), got {text!r}")


def examples(*lines: str) -> dict:
    """``add_parser`` keywords for a help text that ends with examples."""
    return {"epilog": "examples:\n" + "\n".join(f"  {line}" for line in lines),
            "formatter_class": argparse.RawDescriptionHelpFormatter}


# ------------------------------------------------------------------------ doing

def check_topics(n_topics: int) -> None:
    if not 1 <= n_topics <= 1000:
        raise InvalidParameterError(f"--topics must be between 1 and 1000; got {n_topics}.")


def load(args, progress=None):
    """The corpus at ``args.path``, read as the reading options say."""
    from ..corpus import load_corpus

    if getattr(args, "limit", None) is not None and args.limit < 1:
        raise InvalidParameterError(f"--limit must be at least 1; got {args.limit}.")
    return load_corpus(args.path, text_column=args.text_column, id_column=args.id_column,
                       label_column=args.label_column,
                       date_column=args.date_column, lines=args.lines,
                       encoding=args.encoding, limit=getattr(args, "limit", None),
                       max_doc_chars=args.max_doc_chars,
                       max_unpacked_ratio=args.max_unpacked_ratio,
                       progress=None if progress is None else
                       (lambda done, total: progress("read", done, total)))


def tokenizer(args):
    """The Tokenizer the vocabulary options ask for."""
    from ..tokenize import Tokenizer, read_word_file

    return Tokenizer(args.lang, stopwords=[w for f in args.stopwords for w in read_word_file(f)],
                     userdict=[w for f in args.userdict for w in read_word_file(f)],
                     news_stopwords=args.news_stopwords)


def cleaning(args):
    """The pipeline's ``clean`` the flags ask for: a Cleaner of the steps they name
    (--drop-quotes and --drop-signatures imply --clean)."""
    from ..clean import Cleaner

    # build-matrix reads the corpus once: it has no flags for the corpus-wide steps.
    return Cleaner(mail=args.clean or args.drop_quotes or args.drop_signatures,
                   quotes=args.drop_quotes, signatures=args.drop_signatures,
                   boilerplate=getattr(args, "boilerplate", False),
                   phrases=getattr(args, "phrases", False))


def print_json(data) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


def use_color(stream) -> bool:
    """Colour only on a terminal, and never with NO_COLOR set (https://no-color.org) or
    TERM=dumb."""
    return (stream.isatty() and not os.environ.get("NO_COLOR")
            and os.environ.get("TERM") != "dumb")


def say(kind: str, message: str) -> None:
    """``topicmf: error: ...`` (or warning) on one line of stderr; the kind in colour on a
    terminal."""
    from ..errors import _one_line

    codes = {"error": "31", "warning": "33"}
    label = f"\033[{codes[kind]}m{kind}\033[0m" if use_color(sys.stderr) else kind
    print(f"{PROG}: {label}: {_one_line(message)}", file=sys.stderr)


@contextmanager
def warnings_to_stderr(rewrite=lambda message: message):
    """Show each warning as one line, ``topicmf: warning: ...``, when it happens."""
    def show(message, category, filename, lineno, file=None, line=None):
        say("warning", rewrite(str(message)))

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = show
        yield


@contextmanager
def progress(args, *, units=None, json_every: int = 10):
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
