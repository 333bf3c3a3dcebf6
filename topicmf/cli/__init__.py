# PYTHON_ARGCOMPLETE_OK
"""The command line: ``main(argv) -> exit status``.

One module per subcommand; each adds its parser (``add_parser``) and runs it (``run``): parse,
call the library, print. Building the parser imports no library code, so ``--help`` and shell
completion answer at once and a command loads only what it uses.

Exit status: 0 success, 1 a topicmf error (bad input: one line on stderr naming the file or
flag and the fix), 2 a usage error (argparse's message), 130 interrupted (Ctrl-C), 143
terminated (SIGTERM); either way outputs are written whole or not at all. ``--debug`` shows the traceback of an error instead of the one line.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
from contextlib import contextmanager

from .. import __version__
from ..errors import TopicmfError
from ._common import PROG, common_options, examples, flag_message, parser_flags, say, \
    warnings_to_stderr

#: The subcommands, in the order ``--help`` lists them, and the module of each.
COMMANDS = {"analyze": "analyze", "assign": "assign", "report": "report", "export": "export",
            "search": "search", "compare": "compare", "sweep": "sweep", "build-matrix": "build",
            "factorize": "factorize", "complete": "complete"}

EXIT_STATUS = """exit status:
  0    success
  1    bad input or a failed run: one line on stderr says what and how to fix it
  2    a usage error (unknown flag, missing argument)
  130  interrupted (Ctrl-C); outputs are written whole or not at all
  143  terminated (SIGTERM); the same"""


def build_parser() -> tuple[argparse.ArgumentParser, dict]:
    """The ``topicmf`` parser, and each subcommand's own parser by name."""
    intro = examples("topicmf analyze corpora/finance-politics-en --topics 2",
                     "topicmf sweep corpus.csv --topics 2:20:2",
                     "topicmf assign reports/corpus/model new.jsonl")
    intro["epilog"] += "\n\n" + EXIT_STATUS + "\n\nMore: topicmf COMMAND --help"
    parser = argparse.ArgumentParser(
        prog=PROG, description="Topic modeling by matrix factorization (LSA, NMF, PLSA).",
        **intro)
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = common_options()
    for module in COMMANDS.values():
        importlib.import_module(f"{__name__}.{module}").add_parser(commands, common)
    return parser, dict(commands.choices)


def main(argv: list[str] | None = None) -> int:
    parser, subparsers = build_parser()
    _complete(parser)
    args, extra = parser.parse_known_args(argv)
    # argparse takes a command's positionals in one go: "search DIR --model m TEXT" leaves
    # TEXT over. A command that can place such words says so (``late_positional``).
    late = getattr(args, "late_positional", None)
    if extra and (late is None or getattr(args, late) is not None
                  or any(word.startswith("-") for word in extra) or len(extra) > 1):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if extra:
        setattr(args, late, extra[0])
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return 2
    flags = parser_flags(subparsers[args.command])
    sys.unraisablehook = _quiet_interrupts
    try:
        with warnings_to_stderr(lambda message: flag_message(message, flags)), \
                _terminate_as_interrupt():
            return args.run(args)
    except TopicmfError as exc:
        if args.debug:
            raise
        say("error", flag_message(str(exc), flags))
        return 1
    except KeyboardInterrupt as stop:
        if args.debug:
            raise
        terminated = isinstance(stop, Terminated)
        print(f"{PROG}: {'terminated' if terminated else 'interrupted'}; outputs are written "
              f"whole or not at all.", file=sys.stderr)
        return 143 if terminated else 130
    except BrokenPipeError:
        # The reader went away (``topicmf ... | head``): outputs are already written; stop
        # quietly, and keep Python from complaining again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _quiet_interrupts(unraisable) -> None:
    """A Ctrl-C or SIGTERM that lands in a finalizer (a weakref callback during garbage
    collection) cannot stop the run; Python would print a traceback for it. Say nothing: the
    run goes on and writes its results whole."""
    if isinstance(unraisable.exc_value, KeyboardInterrupt):
        return
    sys.__unraisablehook__(unraisable)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the run is, so that it unwinds as from Ctrl-C: staging folders
    removed, worker processes stopped, earlier outputs untouched."""


@contextmanager
def _terminate_as_interrupt():
    def terminate(signum, frame):
        raise Terminated()

    try:
        previous = signal.signal(signal.SIGTERM, terminate)
    except ValueError:  # not the main thread: leave SIGTERM as it is
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _complete(parser) -> None:
    """Shell completion when the shell asks for it and argcomplete is installed (the
    ``completion`` extra; see the README)."""
    if "_ARGCOMPLETE" not in os.environ:
        return
    try:
        import argcomplete
    except ImportError:
        return
    argcomplete.autocomplete(parser)
