"""Topics over time: dates read from columns and file names, the table per period, its CSV,
the report's section, the command line, and the dated Chinese news corpus."""

import csv
import datetime
import json

import numpy as np
import pytest

from topicmf import CorpusError, InvalidParameterError, TopicmfWarning, analyze, load_corpus
from topicmf.cli import main
from topicmf.export import write_outputs
from topicmf.report import report_data
from topicmf.timeline import choose_period, period_label

from conftest import SHARED_CORPORA, make_two_topic_texts

SWITCH = datetime.date(2024, 3, 1)  # finance before, politics from this day on


def dated_rows(n_per_class=30):
    """Finance stories every other day of Jan-Feb 2024, politics ones from 1 March."""
    texts = make_two_topic_texts(n_per_class)
    rows = []
    for label, start in (("finance", datetime.date(2024, 1, 1)), ("politics", SWITCH)):
        stories = [text for name, text in texts.items() if name.startswith(label)]
        for i, text in enumerate(stories):
            rows.append({"id": f"{label}-{i}", "text": text,
                         "date": (start + datetime.timedelta(days=2 * i)).isoformat()})
    return rows


def write_jsonl(path, rows):
    path.write_text("\n".join(json.dumps(row) for row in rows), encoding="utf-8")
    return path


@pytest.fixture
def dated_file(tmp_path):
    return write_jsonl(tmp_path / "dated.jsonl", dated_rows())


@pytest.fixture
def dated_result(dated_file):
    return analyze(load_corpus(dated_file), n_topics=2)


# ------------------------------------------------------------------------------ reading dates

def test_dates_in_every_form_and_a_named_column(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("id,text,when\na,one,2024-01-05\nb,two,20240106\nc,three,2024/01/07\n"
                    "d,four,2024-02\ne,five,2024-01-08T10:30:00+08:00\nf,six,\n",
                    encoding="utf-8")
    corpus = load_corpus(path, date_column="when")
    assert corpus.dates == [datetime.date(2024, 1, 5), datetime.date(2024, 1, 6),
                            datetime.date(2024, 1, 7), datetime.date(2024, 2, 1),
                            datetime.date(2024, 1, 8), None]
    assert load_corpus(path).dates is None  # no column named "date"


def test_a_column_named_date_is_used_when_present(dated_file):
    corpus = load_corpus(dated_file)
    assert corpus.dates[0] == datetime.date(2024, 1, 1) and None not in corpus.dates


def test_a_missing_date_column_lists_the_columns(dated_file):
    with pytest.raises(CorpusError, match=r"no column 'when' \(columns: id, text, date\); "
                                          r"choose one with 'date_column'"):
        load_corpus(dated_file, date_column="when")


def test_unreadable_dates_are_counted_and_named_in_one_warning(tmp_path):
    rows = dated_rows(6)
    rows[0]["date"], rows[1]["date"], rows[2]["date"] = "next Tuesday", "2024-02-30", ""
    path = write_jsonl(tmp_path / "d.jsonl", rows)
    with pytest.warns(TopicmfWarning) as caught:
        corpus = load_corpus(path)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "2 documents left undated" in message
    assert "finance-0 'next Tuesday'" in message and "finance-1 '2024-02-30'" in message
    assert corpus.dates[:3] == [None, None, None] and None not in corpus.dates[3:]
    table = analyze(corpus, n_topics=2).topics_over_time()
    assert table.n_undated == 3 and table.counts.sum() == len(rows) - 3


def test_a_folder_takes_dates_from_its_file_names(tmp_path):
    names = {"20220924_00.txt": datetime.date(2022, 9, 24),
             "2022-09-25-news.txt": datetime.date(2022, 9, 25),
             "2022_09_26.txt": datetime.date(2022, 9, 26), "notes.txt": None}
    for name in names:
        (tmp_path / name).write_text("stocks and bonds", encoding="utf-8")
    corpus = load_corpus(tmp_path)
    assert dict(zip(corpus.ids, corpus.dates)) == names


def test_a_folder_without_dates_in_its_names_has_none(two_topic_folder):
    assert load_corpus(two_topic_folder).dates is None


# ------------------------------------------------------------------------------ the table

def test_the_rows_flip_at_the_known_date_and_sum_to_one(dated_result):
    table = dated_result.topics_over_time("month")
    assert table.period == "month" and table.measure == "mean weight"
    assert table.periods == ["2024-01", "2024-02", "2024-03", "2024-04"]
    assert table.counts.tolist() == [16, 14, 16, 14] and table.n_undated == 0
    np.testing.assert_allclose(table.shares.sum(axis=1), 1.0)
    finance = int(np.argmax(table.shares[0]))
    assert (table.shares[:2, finance] > 0.9).all() and (table.shares[2:, finance] < 0.1).all()
    assert not np.isnan(table.shares).any()


def test_coordinate_models_give_the_dominant_topic_share(dated_file):
    table = analyze(load_corpus(dated_file), n_topics=2, model="lsa").topics_over_time("month")
    assert table.measure == "dominant topic"
    np.testing.assert_allclose(table.shares.sum(axis=1), 1.0)
    assert set(np.round(table.shares, 6).ravel().tolist()) <= {0.0, 1.0}


def test_empty_periods_are_left_out_in_order(dated_result):
    table = dated_result.topics_over_time("day")  # a story every other day
    assert len(table.periods) == 60 and table.periods == sorted(table.periods)
    assert (table.counts > 0).all()


@pytest.mark.parametrize(("days", "period"), [(0, "day"), (60, "day"), (61, "week"),
                                              (366, "week"), (367, "month"), (3653, "month"),
                                              (3654, "year")])
def test_the_period_is_chosen_by_the_span(days, period):
    first = datetime.date(2020, 1, 1)
    assert choose_period(first, first + datetime.timedelta(days=days)) == period


def test_period_labels():
    day = datetime.date(2022, 9, 24)
    assert [period_label(day, p) for p in ("day", "week", "month", "year")] == \
        ["2022-09-24", "2022-W38", "2022-09", "2022"]
    assert period_label(datetime.date(2021, 1, 1), "week") == "2020-W53"  # ISO weeks


def test_a_wrong_period_or_no_dates_is_an_error(dated_result, two_topic_folder):
    with pytest.raises(InvalidParameterError, match="'period' parameter of topics_over_time"):
        dated_result.topics_over_time("decade")
    with pytest.raises(InvalidParameterError, match="has no dates"):
        analyze(load_corpus(two_topic_folder), n_topics=2).topics_over_time()


# ------------------------------------------------------------------------------ outputs

def test_the_csv_json_and_report_of_a_dated_run(dated_result, tmp_path, monkeypatch):
    from topicmf import _csv

    cells = []
    safe = _csv.safe_cell
    monkeypatch.setattr(_csv, "safe_cell", lambda value: cells.append(value) or safe(value))
    write_outputs(dated_result, tmp_path / "out", period="month")
    with (tmp_path / "out" / "topics_over_time.csv").open(encoding="utf-8") as handle:
        table = list(csv.reader(handle))
    assert table[0] == ["period", "n_documents", "topic_0", "topic_1"]
    assert [row[0] for row in table[1:]] == ["2024-01", "2024-02", "2024-03", "2024-04"]
    assert "2024-03" in cells  # written through the spreadsheet-safe writer
    for row in table[1:]:
        assert abs(float(row[2]) + float(row[3]) - 1) < 1e-5
    summary = json.loads((tmp_path / "out" / "topics.json").read_text(encoding="utf-8"))
    assert summary["summary"]["time"] == {"period": "month", "n_periods": 4, "n_undated": 0}
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert page.count('data-section="time"') == 1 and "2024-03" in page
    assert (tmp_path / "out" / "plots" / "time.png").is_file()


def test_a_run_without_dates_has_no_time_outputs(two_topic_folder, tmp_path):
    result = analyze(load_corpus(two_topic_folder), n_topics=2)
    write_outputs(result, tmp_path / "out")
    assert not (tmp_path / "out" / "topics_over_time.csv").exists()
    assert not (tmp_path / "out" / "topic_evolution.csv").exists()
    assert "time" not in json.loads((tmp_path / "out" / "topics.json").read_text())["summary"]
    assert 'data-section="time"' not in (tmp_path / "out" / "index.html").read_text()
    assert "time" not in report_data(result)
    with pytest.warns(TopicmfWarning, match="'period' 'week' is ignored"):
        write_outputs(result, tmp_path / "again", period="week", report=False)


def test_the_report_is_drawn_again_from_its_data(dated_result, tmp_path):
    write_outputs(dated_result, tmp_path / "out")
    (tmp_path / "out" / "index.html").unlink()
    assert main(["report", str(tmp_path / "out"), "--quiet"]) == 0
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert page.count('data-section="time"') == 1 and "2024-W" in page


# ------------------------------------------------------------------------------ command line

def test_cli_date_column_and_period(tmp_path, capsys):
    rows = [{**row, "published": row.pop("date")} for row in dated_rows()]
    path = write_jsonl(tmp_path / "d.jsonl", rows)
    out = tmp_path / "out"
    assert main(["analyze", str(path), "--topics", "2", "--date-column", "published",
                 "--period", "year", "--out", str(out), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["summary"]["time"] == {"period": "year", "n_periods": 1, "n_undated": 0}
    assert (out / "topics_over_time.csv").read_text(encoding="utf-8").splitlines()[1] \
        .startswith("2024,60,")
    assert main(["analyze", str(path), "--topics", "2", "--date-column", "when",
                 "--out", str(tmp_path / "x")]) == 1
    assert "choose one with --date-column" in capsys.readouterr().err


def test_cli_rejects_an_unknown_period(dated_file, capsys):
    with pytest.raises(SystemExit):
        main(["analyze", str(dated_file), "--topics", "2", "--period", "decade"])
    assert "--period" in capsys.readouterr().err


# ------------------------------------------------------------------------------ a real corpus

@pytest.mark.filterwarnings("ignore::topicmf.errors.ConvergenceWarning")  # 100 iterations
def test_chinese_news_by_month(tmp_path):
    path = SHARED_CORPORA / "xwlb_news_zh.jsonl.gz"
    assert path.is_file(), f"{path} is missing: the shared corpora are needed here"
    # The file is in date order: its first 1,200 stories span September to December 2022.
    corpus = load_corpus(path, limit=1200, id_column="filename")
    assert corpus.dates[0] == datetime.date(2022, 9, 24) and None not in corpus.dates
    result = analyze(corpus, n_topics=10, max_iter=100)
    data = report_data(result, period="month")
    time = data["time"]
    assert time["period"] == "month" and time["periods"][0] == "2022-09"
    assert len(time["periods"]) >= 4 and sum(time["counts"]) == len(result.fitted_rows)
    np.testing.assert_allclose(np.sum(time["shares"], axis=1), 1.0, atol=1e-3)
    write_outputs(result, tmp_path / "out", period="month")
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert page.count('data-section="time"') == 1 and "2022-10" in page


# ---------------------------------------------------------------------------- topic evolution

def evolving_rows():
    """Finance stories all year, whose word for the instrument changes on 1 March (dividend,
    then bonds), and politics stories all year."""
    rng = np.random.RandomState(3)
    finance = "market investors earnings shares rally index".split()
    politics = "election voters senate ballot campaign parliament".split()
    rows = []
    for i in range(80):
        date = datetime.date(2024, 1, 1) + datetime.timedelta(days=3 * i)
        late = date >= SWITCH
        words = list(rng.choice(finance, 6)) + ["bonds" if late else "dividend"] * 2
        rows.append({"id": f"f{i}", "text": " ".join(words), "date": date.isoformat()})
        rows.append({"id": f"p{i}", "text": " ".join(rng.choice(politics, 8)),
                     "date": date.isoformat()})
    return rows


def test_topic_evolution_follows_a_word_that_changes_and_keeps_every_token(tmp_path):
    corpus = load_corpus(write_jsonl(tmp_path / "evolving.jsonl", evolving_rows()))
    for model in ("nmf", "plsa", "lsa"):
        result = analyze(corpus, n_topics=2, model=model)
        evolution = result.topic_evolution("month", n=1000)
        assert evolution.periods[0] == "2024-01" and evolution.period == "month"
        finance = int(np.argmax([dict(t).get("market", 0) for t in evolution.terms[0]]))
        early, late = dict(evolution.terms[0][finance]), dict(evolution.terms[-1][finance])
        assert early.get("dividend", 0) > 0 and "bonds" not in early, model
        assert late.get("bonds", 0) > 0 and "dividend" not in late, model
        # Every token of a period's documents goes to some topic, once.
        counts = result.fitted_counts()
        table = result.topics_over_time("month")
        for p, label in enumerate(evolution.periods):
            got = sum(c for topic in evolution.terms[p] for _, c in topic)
            dates = result.fitted_dates()
            rows = [i for i, d in enumerate(dates) if period_label(d, "month") == label]
            assert got == pytest.approx(counts[rows].sum(), rel=1e-9)
            assert len(rows) == table.counts[p]
    top3 = result.topic_evolution("month", n=3)
    assert all(len(topic) <= 3 for period in top3.terms for topic in period)
    with pytest.raises(InvalidParameterError, match="'n'"):
        result.topic_evolution(n=0)


def test_a_dated_run_writes_topic_evolution_csv(dated_result, tmp_path):
    write_outputs(dated_result, tmp_path / "out", report=False, period="month")
    with (tmp_path / "out" / "topic_evolution.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["period", "topic", "rank", "term", "count"]
    assert {r["period"] for r in rows} == {"2024-01", "2024-02", "2024-03", "2024-04"}
    assert max(int(r["rank"]) for r in rows) <= 10
