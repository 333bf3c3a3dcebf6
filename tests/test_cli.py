import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from topicmf import cli
from topicmf.io import load_analysis

ROOT = Path(__file__).resolve().parents[1]


def run(argv, capsys):
    status = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return status, out, err


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_analyze_writes_every_output_and_separates_the_classes(two_topic_folder, tmp_path, capsys):
    out = tmp_path / "out"
    status, stdout, _ = run(["analyze", two_topic_folder, "--topics", 2, "--out", out, "--min-df", 1], capsys)
    assert status == 0
    assert "Topic 0" in stdout and "Topic 1" in stdout and "finance/000.txt" in stdout
    assert sorted(p.name for p in out.iterdir()) == ["doc_topics.csv", "index.html", "model", "plots",
                                                     "report.json", "topics.csv", "topics.json"]
    rows = read_csv(out / "doc_topics.csv")
    assert list(rows[0]) == ["doc_id", "label", "topic", "topic_0", "topic_1"]
    assert len(rows) == 24
    by_label = {}
    for row in rows:
        by_label.setdefault(row["label"], set()).add(row["topic"])
    assert len(by_label["finance"]) == 1 and len(by_label["politics"]) == 1
    assert by_label["finance"] != by_label["politics"]
    topics = read_csv(out / "topics.csv")
    assert list(topics[0]) == ["topic", "rank", "term", "weight", "name"]
    summary = json.loads((out / "topics.json").read_text(encoding="utf-8"))
    assert summary["summary"]["model"]["n_topics"] == 2 and len(summary["topics"]) == 2
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_analyze_json_is_machine_readable(two_topic_folder, tmp_path, capsys):
    status, stdout, err = run(["analyze", two_topic_folder, "--topics", 2, "--out",
                               tmp_path / "o", "--json", "--model", "plsa", "--min-df", 1], capsys)
    assert status == 0
    data = json.loads(stdout)
    assert data["summary"]["model"]["name"] == "plsa"
    stages = [json.loads(line)["stage"] for line in err.splitlines()]
    assert stages[0] == "read" and {"tokenize", "fit"} <= set(stages)


def test_default_output_folder_is_reports_corpus_name(two_topic_folder, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, _, _ = run(["analyze", two_topic_folder, "--topics", 2, "--quiet", "--model", "lsa"], capsys)
    assert status == 0
    assert (tmp_path / "reports" / "news" / "topics.json").exists()


def test_quiet_prints_nothing(two_topic_folder, tmp_path, capsys):
    status, stdout, err = run(["analyze", two_topic_folder, "--topics", 2, "--out", tmp_path / "o",
                               "--quiet"], capsys)
    assert status == 0 and stdout == "" and err == ""


def test_assign_folds_new_documents_into_the_saved_model(two_topic_folder, tmp_path, capsys):
    out = tmp_path / "out"
    assert run(["analyze", two_topic_folder, "--topics", 2, "--out", out, "--quiet"], capsys)[0] == 0
    topic_of = {r["label"]: r["topic"] for r in read_csv(out / "doc_topics.csv")}
    new = tmp_path / "new"
    new.mkdir()
    (new / "a.txt").write_text("Investors cheered the dividend and bonds rally.", encoding="utf-8")
    (new / "b.txt").write_text("The senate candidate won the ballot and the campaign.", encoding="utf-8")
    (new / "c.txt").write_text("Completely unrelated zebra text.", encoding="utf-8")
    status, stdout, _ = run(["assign", out / "model", new, "--json"], capsys)
    assert status == 0
    docs = {d["doc_id"]: d for d in json.loads(stdout)["documents"]}
    assert str(docs["a.txt"]["topic"]) == topic_of["finance"]
    assert str(docs["b.txt"]["topic"]) == topic_of["politics"]
    assert docs["c.txt"]["topic"] is None
    # the output folder itself is accepted too, and a CSV can be written
    status, stdout, err = run(["assign", out, new, "--out", tmp_path / "assigned.csv"], capsys)
    assert status == 0 and "a.txt" in stdout and "no term" in err
    assert len(read_csv(tmp_path / "assigned.csv")) == 3


def test_factorize_term_document_table(tmp_path, capsys):
    status, stdout, _ = run(["factorize", ROOT / "corpora" / "term-document.csv", "--topics", 2], capsys)
    assert status == 0
    groups = [line for line in stdout.splitlines() if line.strip().startswith("F")]
    finance = next(g for g in groups if "投資" in g)
    politics = next(g for g in groups if "總統" in g)
    assert "股票" in finance and finance != politics
    assert "選舉" in politics and "立委" in politics


@pytest.mark.parametrize("model", ["lsa", "plsa"])
def test_factorize_other_models_json(model, capsys):
    status, stdout, _ = run(["factorize", ROOT / "corpora" / "term-document.csv", "--model", model,
                             "--json"], capsys)
    data = json.loads(stdout)
    assert status == 0 and len(data["row_factors"]) == 5 and len(data["column_factors"]) == 2


# ------------------------------------------------------------------ bad input: one line, exit 1

def assert_one_line_error(status, err, *needles):
    assert status == 1
    lines = [l for l in err.splitlines() if l.startswith("topicmf: error:")]
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_missing_folder(tmp_path, capsys):
    status, _, err = run(["analyze", tmp_path / "nope", "--topics", 2, "--out", tmp_path / "o"], capsys)
    assert_one_line_error(status, err, "nope")
    assert not (tmp_path / "o").exists()


def test_empty_folder(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    status, _, err = run(["analyze", tmp_path / "empty", "--topics", 2, "--out", tmp_path / "o"], capsys)
    assert_one_line_error(status, err, "empty")
    assert not (tmp_path / "o").exists()


def test_folder_with_no_readable_documents(tmp_path, capsys):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "a.txt").write_bytes(b"\x00\x01\x02binary\x00")
    (folder / "b.txt").write_text("   \n", encoding="utf-8")
    status, _, err = run(["analyze", folder, "--topics", 2, "--out", tmp_path / "o"], capsys)
    assert_one_line_error(status, err, "no readable documents")


def test_binary_file_is_skipped_with_a_warning(two_topic_folder, tmp_path, capsys):
    (two_topic_folder / "finance" / "zz.txt").write_bytes(b"\x00\xff\x00\xfe" * 10)
    status, _, err = run(["analyze", two_topic_folder, "--topics", 2, "--out", tmp_path / "o",
                          "--quiet"], capsys)
    assert status == 0
    assert "topicmf: warning:" in err and "zz.txt" in err


def test_all_stopwords_corpus(tmp_path, capsys):
    folder = tmp_path / "stop"
    folder.mkdir()
    for i in range(3):
        (folder / f"{i}.txt").write_text("the and of it is was", encoding="utf-8")
    status, _, err = run(["analyze", folder, "--topics", 2, "--out", tmp_path / "o"], capsys)
    assert_one_line_error(status, err, "stopwords")


@pytest.mark.parametrize("k,needle", [(0, "--topics"), (-3, "--topics"), (500, "at most")])
def test_bad_topic_counts(two_topic_folder, tmp_path, capsys, k, needle):
    status, _, err = run(["analyze", two_topic_folder, "--topics", k, "--out", tmp_path / "o"], capsys)
    assert_one_line_error(status, err, needle)
    assert not (tmp_path / "o").exists()


def test_topics_more_than_documents(tmp_path, capsys):
    folder = tmp_path / "few"
    folder.mkdir()
    for i, text in enumerate(["stocks bonds market", "stocks bonds yields", "election voters senate"]):
        (folder / f"{i}.txt").write_text(text, encoding="utf-8")
    status, _, err = run(["analyze", folder, "--topics", 5, "--out", tmp_path / "o",
                          "--min-df", 1, "--max-df", 1.0], capsys)
    assert_one_line_error(status, err, "documents")


def test_output_folder_that_cannot_be_written(two_topic_folder, tmp_path, capsys):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x", encoding="utf-8")
    status, _, err = run(["analyze", two_topic_folder, "--topics", 2, "--out", blocker / "sub"], capsys)
    assert_one_line_error(status, err, "--out")


def test_corrupted_and_truncated_model_files(two_topic_folder, tmp_path, capsys):
    out = tmp_path / "out"
    assert run(["analyze", two_topic_folder, "--topics", 2, "--out", out, "--quiet"], capsys)[0] == 0
    model = out / "model"
    data = (model / "model.npz").read_bytes()
    (model / "model.npz").write_bytes(data[: len(data) // 2])
    status, _, err = run(["assign", model, two_topic_folder], capsys)
    assert_one_line_error(status, err, "model.npz")
    (model / "model.npz").write_bytes(data)
    header = (model / "model.json").read_text(encoding="utf-8")
    (model / "model.json").write_text(header[: len(header) // 2], encoding="utf-8")
    status, _, err = run(["assign", model, two_topic_folder], capsys)
    assert_one_line_error(status, err, "model.json")
    (model / "model.json").unlink()
    status, _, err = run(["assign", model, two_topic_folder], capsys)
    assert_one_line_error(status, err, "missing")


def test_interrupted_run_leaves_no_half_written_files(two_topic_folder, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    assert run(["analyze", two_topic_folder, "--topics", 2, "--out", out, "--quiet"], capsys)[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("topicmf.export.save_analysis", interrupted)
    status, _, err = run(["analyze", two_topic_folder, "--topics", 3, "--out", out], capsys)
    assert status == 130 and "interrupted" in err
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == before  # the earlier results are untouched
    assert not [p for p in tmp_path.iterdir() if ".partial" in p.name]
    assert load_analysis(out).n_topics == 2
    fresh = tmp_path / "fresh"
    status, _, _ = run(["analyze", two_topic_folder, "--topics", 3, "--out", fresh], capsys)
    assert status == 130 and not fresh.exists()


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["analyze"])
    assert exc.value.code == 2
    assert "--topics" in capsys.readouterr().err


def test_python_dash_m_runs_the_command_line():
    done = subprocess.run([sys.executable, "-m", "topicmf", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "analyze" in done.stdout


# PLSA (background 0.8) puts 1 of the 80 Chinese items with politics (purity 0.988): a
# government agency's report on business-cycle signals. Plain PLSA had it right and one English
# item wrong instead.
@pytest.mark.parametrize("corpus,model", [("finance-politics-zh", "nmf"), ("finance-politics-en", "plsa"),
                                          ("finance-politics-en", "nmf")])
def test_demo_corpora_split_finance_from_politics(corpus, model, tmp_path, capsys):
    out = tmp_path / "out"
    status, stdout, _ = run(["analyze", ROOT / "corpora" / corpus, "--topics", 2, "--model", model,
                             "--out", out], capsys)
    assert status == 0 and "purity 1.000" in stdout
    topics = {}
    for row in read_csv(out / "doc_topics.csv"):
        topics.setdefault(row["label"], set()).add(row["topic"])
    assert len(topics["finance"]) == 1 and len(topics["politics"]) == 1
    assert topics["finance"] != topics["politics"]
    if corpus.endswith("zh"):
        terms = {r["term"] for r in read_csv(out / "topics.csv")}
        assert {"投資人", "股價", "立委", "選舉"} <= terms  # Traditional words, whole


def test_topics_more_than_terms(tmp_path, capsys):
    folder = tmp_path / "narrow"
    folder.mkdir()
    for i in range(8):
        (folder / f"{i}.txt").write_text("stocks bonds" if i % 2 else "voters senate", encoding="utf-8")
    status, _, err = run(["analyze", folder, "--topics", 6, "--out", tmp_path / "o",
                          "--max-df", 1.0], capsys)
    assert_one_line_error(status, err, "terms")


def test_missing_stopword_file_is_named(two_topic_folder, tmp_path, capsys):
    status, _, err = run(["analyze", two_topic_folder, "--topics", 2, "--out", tmp_path / "o",
                          "--stopwords", tmp_path / "nope.txt"], capsys)
    assert_one_line_error(status, err, "nope.txt")


def test_user_stopwords_and_words_reach_the_tokenizer(tmp_path, capsys):
    folder = tmp_path / "zh"
    (folder / "a").mkdir(parents=True)
    (folder / "b").mkdir()
    for i in range(4):
        (folder / "a" / f"{i}.txt").write_text("量子雲平台股價上漲，投資人看好。", encoding="utf-8")
        (folder / "b" / f"{i}.txt").write_text("總統選舉將至，立委候選人紛紛表態。", encoding="utf-8")
    (tmp_path / "words.txt").write_text("量子雲平台\n", encoding="utf-8")
    (tmp_path / "stop.txt").write_text("# no politics please\n表態\n", encoding="utf-8")
    out = tmp_path / "o"
    status, _, _ = run(["analyze", folder, "--topics", 2, "--out", out, "--max-df", 1.0,
                        "--userdict", tmp_path / "words.txt", "--stopwords", tmp_path / "stop.txt",
                        "--quiet"], capsys)
    assert status == 0
    terms = {r["term"] for r in read_csv(out / "topics.csv")}
    assert "量子雲平台" in terms and "表態" not in terms
    # the saved model keeps the user's words, so assign tokenizes the same way
    assert load_analysis(out).tokenizer("量子雲平台") == ["量子雲平台"]


def test_several_models_share_one_vocabulary_and_get_a_folder_each(two_topic_folder, tmp_path, capsys):
    out = tmp_path / "out"
    status, stdout, _ = run(["analyze", two_topic_folder, "--topics", 2, "--model", "all",
                             "--out", out], capsys)
    assert status == 0
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == [
        "lsa", "nmf", "nmf-kl", "plots", "plsa"]
    assert (out / "index.html").is_file() and (out / "nmf" / "report.json").is_file()
    vocabularies = {load_analysis(out / name).vocabulary.terms.tolist().__repr__()
                    for name in ("lsa", "nmf", "nmf-kl", "plsa")}
    assert len(vocabularies) == 1
    assert "LSA with 2 topics" in stdout and "PLSA with 2 topics" in stdout
    assert "NMF-KL with 2 topics" in stdout
    status, stdout, _ = run(["analyze", two_topic_folder, "--topics", 2, "--model", "nmf,plsa",
                             "--out", tmp_path / "two", "--json"], capsys)
    assert [r["summary"]["model"]["name"] for r in json.loads(stdout)["runs"]] == ["nmf", "plsa"]


@pytest.mark.parametrize("value", ["svd", "nmf,nmf", "nmf,", ""])
def test_unknown_model_is_a_usage_error(two_topic_folder, value, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["analyze", str(two_topic_folder), "--topics", "2", "--model", value])
    assert exc.value.code == 2 and "lsa, nmf, nmf-kl, plsa" in capsys.readouterr().err


def test_output_cut_short_by_the_reader_is_not_an_error(two_topic_folder, tmp_path, capsys):
    assert run(["analyze", two_topic_folder, "--topics", 2, "--out", tmp_path / "o", "--quiet"],
               capsys)[0] == 0
    many = tmp_path / "many.txt"  # far more output than a pipe holds, so the writer gets EPIPE
    many.write_text("investors bonds market rally\n" * 5000, encoding="utf-8")
    command = (f"{sys.executable} -m topicmf assign {tmp_path / 'o'} {many} --lines "
               f"| head -1")
    done = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and done.stdout.count("\n") == 1


def test_background_reaches_plsa_and_is_refused_without_it(two_topic_folder, tmp_path, capsys):
    for value in ("0", "0.5"):
        out = tmp_path / f"b{value}"
        status, _, _ = run(["analyze", two_topic_folder, "--topics", 2, "--model", "nmf,plsa",
                            "--background", value, "--out", out, "--quiet"], capsys)
        assert status == 0
        assert load_analysis(out / "plsa").model.background == float(value)
    plain = load_analysis(tmp_path / "b0" / "plsa").model.components_
    mixed = load_analysis(tmp_path / "b0.5" / "plsa").model.components_
    assert abs(plain - mixed).max() > 1e-3  # the weight changes the fit
    status, _, err = run(["analyze", two_topic_folder, "--topics", 2, "--background", "0.5",
                          "--out", tmp_path / "nmf"], capsys)
    assert_one_line_error(status, err, "--background", "--model plsa")
    assert not (tmp_path / "nmf").exists()
    status, _, err = run(["analyze", two_topic_folder, "--topics", 2, "--model", "plsa",
                          "--background", "1.5", "--out", tmp_path / "bad"], capsys)
    assert_one_line_error(status, err, "--background", "[0, 1)")


def test_weighting_reaches_the_saved_model_and_is_checked(two_topic_folder, tmp_path, capsys):
    status, _, _ = run(["analyze", two_topic_folder, "--topics", 2, "--model", "lsa",
                        "--weighting", "log-entropy", "--out", tmp_path / "le", "--quiet"], capsys)
    assert status == 0
    vocabulary = load_analysis(tmp_path / "le").vocabulary
    assert vocabulary.weighting == "log-entropy" and vocabulary.idf.max() <= 1.0
    status, _, _ = run(["analyze", two_topic_folder, "--topics", 2, "--model", "lsa",
                        "--out", tmp_path / "tfidf", "--quiet"], capsys)
    assert load_analysis(tmp_path / "tfidf").vocabulary.weighting == "tfidf"
    status, _, err = run(["analyze", two_topic_folder, "--topics", 2, "--weighting",
                          "log-entropy", "--sublinear-tf", "--out", tmp_path / "both"], capsys)
    assert_one_line_error(status, err, "--sublinear-tf applies to --weighting tfidf")
    assert not (tmp_path / "both").exists()
    with pytest.raises(SystemExit) as usage:
        cli.main(["analyze", str(two_topic_folder), "--topics", "2", "--weighting", "bm25"])
    assert usage.value.code == 2
    assert "'tfidf', 'log-entropy'" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["analyze", "build-matrix"])
def test_the_parsers_weightings_are_the_librarys(command):
    from conftest import subcommand_parser
    from topicmf.cli import analyze as analyze_command, build as build_command
    from topicmf.vectorize import WEIGHTINGS

    module = {"analyze": analyze_command, "build-matrix": build_command}[command]
    args = subcommand_parser(module.add_parser).parse_args(
        [command, "corpus", "--weighting", "log-entropy"]
        + (["--topics", "2"] if command == "analyze" else ["--out", "x"]))
    assert args.weighting == "log-entropy"
    parser = subcommand_parser(module.add_parser)
    sub = parser._subparsers._group_actions[0].choices[command]
    (action,) = [a for a in sub._actions if a.dest == "weighting"]
    assert tuple(action.choices) == WEIGHTINGS and action.default == "tfidf"
