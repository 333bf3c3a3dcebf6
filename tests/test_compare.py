"""compare, sweep and their subcommands on small corpora."""

import json

import numpy as np
import pytest

from conftest import make_two_topic_texts, subcommand_parser
from topicmf.cli import compare as _cli_compare, sweep as _cli_sweep
from topicmf.compare import K_RULE, compare, parse_ks, plot_sweep, recommend_k, sweep
from topicmf.corpus import Corpus
from topicmf.errors import InvalidParameterError


@pytest.fixture(scope="module")
def corpus():
    texts = make_two_topic_texts(n_per_class=15)
    return Corpus(ids=list(texts), texts=list(texts.values()),
                  labels=[name.split("/")[0] for name in texts], name="news", source="test")


@pytest.fixture(scope="module")
def comparison(corpus):
    return compare(corpus, 2)


def test_compare_has_every_metric_for_every_model(comparison):
    rows = {row["model"]: row for row in comparison.rows}
    assert list(rows) == ["lsa", "nmf", "nmf-kl", "plsa", "lda"]
    for name, row in rows.items():
        for key in ("c_npmi", "c_v", "u_mass", "diversity", "nmi", "ari", "purity",
                    "stability", "fit_s"):
            assert isinstance(row[key], float), (name, key)
        assert -1 <= row["c_npmi"] <= 1 and 0 < row["diversity"] <= 1
        assert ("error" in row) == (name in ("lsa", "nmf", "nmf-kl"))
        assert ("heldout_perplexity" in row) == (name in ("plsa", "lda"))
    # Two disjoint vocabularies: the non-negative models find the two classes exactly.
    for name in ("nmf", "nmf-kl", "plsa", "lda"):
        assert rows[name]["purity"] == 1.0 and rows[name]["nmi"] == pytest.approx(1.0)
        assert rows[name]["stability"] > 0.95
    assert comparison.settings["coherence"]["window_sizes"] == {
        "c_npmi": 10, "c_v": 110, "u_mass": None}
    assert all(len(topics) == 2 for topics in comparison.topics.values())
    # Both topics of every non-negative model are found again by the other seeds' runs.
    for name in ("nmf", "nmf-kl", "plsa", "lda"):
        assert len(comparison.recurrence[name]) == 2
        assert min(comparison.recurrence[name]) > 0.9


def test_topic_recurrence_marks_the_topic_the_other_runs_miss():
    from topicmf.evaluate import topic_recurrence

    rng = np.random.RandomState(0)
    reference = rng.uniform(size=(3, 40)) ** 8  # three distinct topics
    noisy = [reference * rng.uniform(0.9, 1.1, size=reference.shape) for _ in range(3)]
    for run in noisy:
        run[1] = rng.uniform(size=40) ** 8  # topic 1 is never found again
    found = topic_recurrence(reference, noisy)
    assert found[0] > 0.95 and found[2] > 0.95 and found[1] < 0.5
    assert topic_recurrence(reference, [reference[::-1]]) == pytest.approx(np.ones(3))
    with pytest.raises(InvalidParameterError, match="at least one other run"):
        topic_recurrence(reference, [])


def test_compare_rejects_unknown_models(corpus):
    with pytest.raises(InvalidParameterError, match="'models'"):
        compare(corpus, 2, models=["nmf", "bert"])


def test_sweep_recommends_the_planted_number_of_topics(corpus, tmp_path):
    result = sweep(corpus, [2, 3, 4], seeds=(0, 1))
    assert [row["n_topics"] for row in result.rows] == [2, 3, 4]
    assert result.recommended_k == 2 and result.rule == K_RULE
    assert all(0 <= row["stability"] <= 1 for row in result.rows)
    errors = [row["error"] for row in result.rows]
    assert errors == sorted(errors, reverse=True)  # more topics fit the matrix better
    plot_sweep(result, tmp_path / "sweep.png")
    assert (tmp_path / "sweep.png").read_bytes()[:4] == b"\x89PNG"


def test_k_rule():
    def row(k, npmi, diversity=0.9, stability=0.9):
        return {"n_topics": k, "c_npmi": npmi, "diversity": diversity, "stability": stability}
    assert recommend_k([row(5, 0.10), row(10, 0.20), row(15, 0.195)]) == 10
    assert recommend_k([row(5, 0.10), row(10, 0.195), row(15, 0.20)]) == 10  # near-tie
    assert recommend_k([row(5, 0.10), row(10, 0.30, diversity=0.5)]) == 5
    assert recommend_k([row(5, 0.10, stability=0.1), row(10, 0.3, stability=0.2)]) == 10


@pytest.mark.parametrize("text, ks", [("2:10:4", [2, 6, 10]), ("3:5", [3, 4, 5]),
                                      ("5,10", [5, 10]), ("7", [7])])
def test_parse_ks(text, ks):
    assert parse_ks(text) == ks


@pytest.mark.parametrize("text", ["2:x", "0:4", "5:1", "2:10:0", "", "1:2:3:4"])
def test_parse_ks_errors_say_how_to_write_it(text):
    with pytest.raises(InvalidParameterError, match="START:STOP"):
        parse_ks(text)


def _parser():
    def both(commands, common):
        _cli_compare.add_parser(commands, common)
        _cli_sweep.add_parser(commands, common)
    return subcommand_parser(both)


def test_compare_command_writes_table_and_report(two_topic_folder, tmp_path, capsys):
    out = tmp_path / "report"
    args = _parser().parse_args(["compare", str(two_topic_folder), "--topics", "2",
                                 "--models", "nmf,plsa", "--seeds", "2", "--out", str(out)])
    assert args.run(args) == 0
    shown = capsys.readouterr().out
    table = [line.split() for line in shown.splitlines() if line.strip()]
    assert ["model", "c_npmi", "c_v", "u_mass", "diversity"] == table[1][:5]
    assert [table[2][0], table[3][0]] == ["nmf", "plsa"]
    report = json.loads((out / "compare.json").read_text(encoding="utf-8"))
    assert [row["model"] for row in report["rows"]] == ["nmf", "plsa"]
    assert report["settings"]["coherence"]["topn"] == 10
    header = (out / "compare.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("model,n_topics,fit_s,c_npmi,c_v,u_mass,diversity")
    assert "recurs in the other runs" in shown
    assert set(report["recurrence"]) == {"nmf", "plsa"}
    assert all(len(values) == 2 for values in report["recurrence"].values())


def test_compare_command_samples_the_documents_for_the_other_runs(two_topic_folder, tmp_path,
                                                                   capsys):
    out = tmp_path / "sampled"
    args = _parser().parse_args(["compare", str(two_topic_folder), "--topics", "2",
                                 "--models", "nmf-kl", "--seeds", "3", "--sample", "0.8",
                                 "--json", "--out", str(out)])
    assert args.run(args) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["settings"]["sample"] == 0.8 and len(printed["recurrence"]["nmf-kl"]) == 2
    args = _parser().parse_args(["compare", str(two_topic_folder), "--topics", "2",
                                 "--sample", "1.5", "--out", str(tmp_path / "bad")])
    with pytest.raises(InvalidParameterError, match="sample"):
        args.run(args)
    assert not (tmp_path / "bad").exists()


def test_sweep_command_json(two_topic_folder, tmp_path, capsys):
    out = tmp_path / "sweep"
    args = _parser().parse_args(["sweep", str(two_topic_folder), "--topics", "2:3",
                                 "--seeds", "2", "--json", "--out", str(out)])
    assert args.run(args) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["recommended_k"] in (2, 3) and printed["rule"] == K_RULE
    assert sorted(p.name for p in out.iterdir()) == ["sweep.csv", "sweep.json", "sweep.png"]


def test_bad_topics_is_a_one_line_error(two_topic_folder, tmp_path):
    args = _parser().parse_args(["sweep", str(two_topic_folder), "--topics", "a:b",
                                 "--out", str(tmp_path / "x")])
    with pytest.raises(InvalidParameterError, match="START:STOP"):
        args.run(args)
    assert not (tmp_path / "x").exists()
