"""The command line as a shell user meets it: help with examples, exit codes, colour, completion,
library errors in the command's own flags, and a parser that loads no library code."""

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from topicmf import _csv
from topicmf.cli import COMMANDS, _common, build_parser, main
from topicmf.pipeline import DEFAULTS

ROOT = Path(__file__).resolve().parents[1]
HEAVY = {"numpy", "scipy", "sklearn", "matplotlib", "jieba", "gensim", "numba", "opencc", "tqdm"}


def test_building_the_parser_imports_no_library_code():
    code = ("import sys; from topicmf.cli import build_parser; build_parser(); "
            "print(','.join(sorted({m.split('.')[0] for m in sys.modules})))")
    loaded = set(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                text=True).stdout.strip().split(","))
    assert not loaded & HEAVY, loaded & HEAVY


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_subcommand_help_shows_an_example_of_itself(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    help_text = capsys.readouterr().out
    examples = help_text.split("examples:\n", 1)[1]
    assert f"topicmf {command} " in examples


def test_top_help_lists_examples_and_exit_codes(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert "examples:" in text and "topicmf analyze corpora/" in text
    for code in ("0 ", "1 ", "2 ", "130"):
        assert f"  {code}" in text.split("exit status:", 1)[1]


def test_module_per_subcommand_each_short():
    folder = ROOT / "topicmf" / "cli"
    for module in set(COMMANDS.values()):
        lines = (folder / f"{module}.py").read_text(encoding="utf-8").count("\n")
        assert lines <= 200, (module, lines)


def test_usage_error_is_status_2_and_no_command_prints_help(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["analyze", "x", "--topics", "two"])
    assert exit_.value.code == 2
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().err


@pytest.mark.parametrize("message, expected", [
    ("After pruning, no terms remain; try a lower 'min_df' or a higher 'max_df'.",
     "After pruning, no terms remain; try a lower --min-df or a higher --max-df."),
    ("The 'n_topics' parameter of NMF must be an int in the range [1, 1000]. Got 0 instead.",
     "--topics must be an int in the range [1, 1000]. Got 0 instead."),
    ("remove them or pass duplicates='mean' (or 'last').",
     "remove them or pass --duplicates mean (or 'last')."),
    ("check 'lang' and 'stopwords'.", "check --lang and --stopwords."),
    ("cannot write to x (denied); choose another output folder.",
     "cannot write to x (denied); choose another output folder with --out."),
    ("the id 'unknown' twice; n_features=1 kept", "the id 'unknown' twice; n_features=1 kept"),
    ("n_topics=2 is larger than the number of terms (n_features=1); ask for at most 1 topics.",
     "--topics 2 is larger than the number of terms (n_features=1); ask for at most 1 topics."),
    ("no terms remain (min_df=2, max_df=0.5, 3 documents)",
     "no terms remain (--min-df 2, --max-df 0.5, 3 documents)"),
])
def test_library_parameter_names_become_the_commands_flags(message, expected):
    flags = {"min_df": "--min-df", "max_df": "--max-df", "duplicates": "--duplicates",
             "lang": "--lang", "stopwords": "--stopwords", "out": "--out"}
    assert _common.flag_message(message, flags) == expected


def test_flags_of_a_subcommand_come_from_its_parser():
    _, subparsers = build_parser()
    flags = _common.parser_flags(subparsers["analyze"])
    assert flags["min_df"] == "--min-df" and flags["text_column"] == "--text-column"
    assert flags["seed"] == "--seed"
    # An on/off flag is named by its "on" form, not --no-sublinear-tf.
    assert flags["sublinear_tf"] == "--sublinear-tf" and flags["weighting"] == "--weighting"


def test_a_library_error_reaches_the_shell_with_the_flag(tmp_path, capsys):
    corpus = tmp_path / "c.csv"
    corpus.write_text("body\nstocks fell\nvoters went\n", encoding="utf-8")
    assert main(["analyze", str(corpus), "--topics", "2", "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "choose one with --text-column" in err


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("env, colored", [({}, True), ({"NO_COLOR": "1"}, False),
                                          ({"TERM": "dumb"}, False)])
def test_errors_are_coloured_on_a_terminal_unless_no_color(env, colored, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    _common.say("error", "bad")
    assert ("\033[" in terminal.getvalue()) is colored
    assert terminal.getvalue().endswith("bad\n")


def test_no_colour_when_not_a_terminal(capsys):
    _common.say("warning", "careful")
    assert capsys.readouterr().err == "topicmf: warning: careful\n"


def test_shell_completion_through_argcomplete(tmp_path):
    import argcomplete  # noqa: F401 -- in the test extra: missing, this test fails
    env = dict(os.environ, _ARGCOMPLETE="1", _ARGCOMPLETE_IFS="\n", COMP_LINE="topicmf ana",
               COMP_POINT="11", _ARGCOMPLETE_SUPPRESS_SPACE="0")
    out = tmp_path / "completions"
    env["_ARGCOMPLETE_STDOUT_FILENAME"] = str(out)
    subprocess.run([sys.executable, "-m", "topicmf"], env=env, check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert out.read_text().split() == ["analyze"]


@pytest.mark.parametrize("cell, written", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+cmd", "'+cmd"),
    ("-rate", "'-rate"), ("@user", "'@user"), ("\tx", "'\tx"), ("-0.25", "-0.25"),
    ("+3", "+3"), ("-1e-05", "-1e-05"), ("stocks", "stocks"), (3, 3), ("", ""),
])
def test_csv_cells_are_safe_to_open_in_a_spreadsheet(cell, written):
    assert _csv.safe_cell(cell) == written


def test_doc_ids_that_look_like_formulas_are_written_as_text(tmp_path):
    corpus = tmp_path / "c.csv"
    rows = [("=1+1", "stocks fell as markets slid"), ("@home", "stocks rose as markets rallied"),
            ("-x", "voters went to the polls"), ("plain", "voters chose a new party")]
    with corpus.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("id", "text"), *rows])
    out = tmp_path / "o"
    assert main(["analyze", str(corpus), "--topics", "2", "--id-column", "id", "--min-df", "1",
                 "--out", str(out), "--quiet"]) == 0
    with (out / "doc_topics.csv").open(newline="", encoding="utf-8") as handle:
        ids = [row["doc_id"] for row in csv.DictReader(handle)]
    assert ids == ["'=1+1", "'@home", "'-x", "plain"]


def test_the_parsers_model_lists_are_the_librarys():
    from topicmf.cli import analyze as analyze_command, compare as compare_command
    from topicmf.models import VARIANTS
    from topicmf.pipeline import DEFAULTS

    assert compare_command.VARIANTS == tuple(VARIANTS)
    assert set(analyze_command.MODELS) == set(VARIANTS) - {"lda"}  # LDA: a reference in compare
    assert analyze_command.DEFAULT_MODEL == DEFAULTS["model"]


def test_the_fit_line_shows_the_fit_apart_from_tokenizing(two_topic_folder, tmp_path, capsys):
    assert main(["analyze", str(two_topic_folder), "--topics", "2", "--min-df", "1",
                 "--out", str(tmp_path / "o")]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert f"{DEFAULTS['model'].upper()} with 2 topics (" in first and " iterations in " in first
    assert "; tokenizing " in first and first.endswith(" s)")


def test_export_command_writes_each_format_of_a_saved_run(two_topic_folder, tmp_path, capsys):
    import json as json_module

    run = tmp_path / "run"
    assert main(["analyze", str(two_topic_folder), "--topics", "2", "--min-df", "1",
                 "--out", str(run), "--quiet"]) == 0
    for to, expected in (("gensim", {"corpus.mm", "dictionary.txt", "topics.json"}),
                         ("parquet", {"topics.parquet", "doc_topics.parquet"})):
        assert main(["export", str(run), "--to", to, "--json"]) == 0
        files = json_module.loads(capsys.readouterr().out)["files"]
        assert {Path(f).name for f in files} == expected
        assert all(Path(f).parent == run / f"export-{to}" for f in files)
    assert main(["export", str(tmp_path / "nothing"), "--to", "gensim"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--out" in err


def test_user_data_with_line_breaks_stays_on_one_line(tmp_path, capsys):
    corpus = tmp_path / "c.csv"
    corpus.write_bytes(b'"body\nmore",label\nstocks fell,a\n')
    assert main(["analyze", str(corpus), "--topics", "2", "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "body\\nmore" in err
    _common.say("warning", "a label\nwith a break")
    assert capsys.readouterr().err == "topicmf: warning: a label\\nwith a break\n"


def test_reading_limits_have_flags(tmp_path, capsys):
    corpus = tmp_path / "c.csv"
    corpus.write_text("text\n" + "stocks fell " * 40 + "\nvoters went\nstocks rose\n",
                      encoding="utf-8")
    assert main(["analyze", str(corpus), "--topics", "2", "--min-df", "1", "--quiet",
                 "--max-doc-chars", "50", "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    assert err.count("topicmf: warning:") == 1 and "row-1" in err
    _, subparsers = build_parser()
    flags = _common.parser_flags(subparsers["build-matrix"])
    assert flags["max_doc_chars"] == "--max-doc-chars"
    assert flags["max_unpacked_ratio"] == "--max-unpacked-ratio"


def test_no_report_writes_the_results_only(two_topic_folder, tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["analyze", str(two_topic_folder), "--topics", "2", "--min-df", "1",
                 "--no-report", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["doc_topics.csv", "model", "topics.csv",
                                                     "topics.json"]
    printed = capsys.readouterr().out
    assert "Report:" not in printed and "report.json" not in printed
    assert main(["search", str(out), "stocks", "-n", "1"]) == 0


@pytest.mark.parametrize("flag", ["--encoding", "--stopwords", "--userdict", "--out"])
def test_a_nul_in_any_path_or_name_is_one_line(flag, two_topic_folder, tmp_path, capsys):
    argv = ["analyze", str(two_topic_folder), "--topics", "2", "--out", str(tmp_path / "o"),
            flag, "a\x00b"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "a\\x00b" in err
