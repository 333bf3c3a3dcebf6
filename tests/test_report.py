"""The HTML report: its data, its escaping, several runs in tabs, re-rendering from report.json."""

import argparse
import json
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import make_two_topic_texts, subcommand_parser

import topicmf.report.data as report_module
from topicmf import Tokenizer, analyze, load_corpus
from topicmf.cli.report import run as run_report_command
from topicmf.errors import InvalidParameterError, ModelFileError, TopicmfWarning
from topicmf.evaluate import label_agreement
from topicmf.report import load_report_data, report_data, write_report, write_report_data
from topicmf.report import plots as plots_module
from topicmf.report.data import document_title

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
CHINESE = ROOT / "corpora" / "finance-politics-zh"


def make_corpus_file(folder: Path, chinese: int = 0) -> Path:
    """A jsonl corpus: two planted topics, two hostile documents (in text and id), and
    optionally ``chinese`` Chinese documents of each class from the demo corpus."""
    # The hostile documents come first so that they win ties for the representative documents.
    rows = [{"id": SCRIPT, "label": "finance",
             "text": f"Subject: {SCRIPT}\n\n{SCRIPT} stocks shares investors earnings"},
            {"id": IMG, "label": "politics",
             "text": f"{IMG} election voters candidate senate {IMG}"}]
    rows += [{"id": name, "label": name.split("/")[0], "text": text}
             for name, text in make_two_topic_texts().items()]
    for label in ("finance", "politics"):
        for path in sorted((CHINESE / label).glob("*.txt"))[:chinese]:
            rows.append({"id": f"zh/{label}/{path.name}", "label": label,
                         "text": path.read_text(encoding="utf-8")})
    path = folder / "corpus.jsonl"
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows),
                    encoding="utf-8")
    return path


def fit(corpus, n_topics=2, model="nmf"):
    """Fit with the hostile markup as stopwords, so the hostile documents are as typical of
    their topic as any and show among the representative documents."""
    tokenizer = Tokenizer(stopwords=["script", "alert", "img", "src", "onerror", "subject"])
    return analyze(corpus, n_topics, model=model, tokenizer=tokenizer, min_df=1)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return load_corpus(make_corpus_file(tmp_path_factory.mktemp("corpus")))


@pytest.fixture(scope="module")
def result(corpus):
    return fit(corpus)


@pytest.fixture(scope="module")
def data(result):
    return report_data(result, label="nmf", command=["topicmf", "analyze", "corpus.jsonl"])


@pytest.fixture(scope="module")
def out(data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("page")
    write_report([data], folder)
    return folder


@pytest.fixture(scope="module")
def page(out):
    return (out / "index.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def chinese_data():
    return report_data(analyze(load_corpus(CHINESE), 2), label="中文")


# ------------------------------------------------------------------------------ data

def test_report_data_is_plain_json_and_describes_the_run(result, data):
    text = json.dumps(data, allow_nan=False)  # no numpy types, no NaN
    assert json.loads(text) == data
    assert data["label"] == "nmf" and data["command"] == "topicmf analyze corpus.jsonl"
    assert data["summary"] == result.analysis.info
    assert data["convergence"]["objective"] == pytest.approx(result.model.history_, rel=1e-5)
    assert data["excluded_documents"] == 0


def test_topics_carry_probabilities_for_the_relevance_slider(result, data):
    counts = np.asarray(result.dtm.counts.sum(axis=0)).ravel()
    p_w = dict(zip(result.analysis.vocabulary.terms, counts / counts.sum()))
    components = result.model.components_
    assert len(data["topics"]) == 2
    for k, topic in enumerate(data["topics"]):
        assert topic["label"] == " / ".join(t for t, _ in result.topics[k][:3])
        terms = {t: (pwt, pw) for t, pwt, pw in topic["terms"]}
        top = result.topics[k][0][0]
        assert terms[top][0] == pytest.approx(components[k].max() / components[k].sum(), rel=1e-3)
        for term, (pwt, pw) in terms.items():
            assert pw == pytest.approx(p_w[term], rel=1e-3)
        # The first candidates are the most probable terms, in order.
        pwts = [pwt for _, pwt, _ in topic["terms"][:10]]
        assert pwts == sorted(pwts, reverse=True)
    assert sum(t["share"] for t in data["topics"]) == pytest.approx(1.0)
    assert sum(t["n_documents"] for t in data["topics"]) == result.dtm.n_docs


def test_relevance_candidates_include_the_most_specific_terms():
    dist = np.array([0.5, 0.3, 0.1, 0.1] + [0.0] * 40)
    freq = np.array([0.5, 0.2, 0.001, 0.2] + [0.298 / 40] * 40)
    chosen = report_module._relevance_candidates(dist, freq).tolist()
    assert chosen[:4] == [0, 1, 2, 3]          # lambda = 1 first: by p(w|t)
    assert len(chosen) == 4                    # terms with p(w|t) = 0 are never relevant


def test_representative_documents_are_the_heaviest(result, data):
    for k, topic in enumerate(data["topics"]):
        weights = [doc["weight"] for doc in topic["documents"]]
        assert weights == sorted(weights, reverse=True)
        assert weights[0] == pytest.approx(result.doc_weights[:, k].max(), abs=1e-4)
        for doc in topic["documents"]:
            i = result.dtm.doc_ids.index(doc["id"])
            assert doc["text"] == result.corpus.texts[result.fitted_rows[i]][:2000]


def test_document_title_takes_the_first_line_or_the_subject():
    assert document_title("\n\n  Hello   world \nsecond") == "Hello world"
    mail = "From: a@b.c (A)\nSubject: Re: the bible quiz\nLines: 3\n\nFrom the text"
    assert document_title(mail) == "Re: the bible quiz"
    assert document_title("Note: no subject here\nbody") == "Note: no subject here"
    long = document_title("x" * 500)
    assert len(long) == 120 and long.endswith("…")
    assert document_title("") == ""


def test_heatmap_map_and_geometry_cover_every_document(result, data):
    n = result.dtm.n_docs
    heat = data["heatmap"]
    assert not heat["sampled"] and len(heat["ids"]) == n == heat["n_documents"]
    assert heat["grouped_by"] == ["label", "dominant topic"]
    assert heat["label"] == sorted(heat["label"])                # grouped by label first
    assert np.asarray(heat["weights"]).shape == (n, 2)
    doc_map = data["doc_map"]
    assert not doc_map["sampled"] and len(doc_map["x"]) == len(doc_map["titles"]) == n
    assert np.asarray(data["intertopic"]["coordinates"]).shape == (2, 2)
    distance = data["intertopic"]["distances"][0][1]
    assert 0 < distance <= 1 and np.diag(data["similarity"]) == pytest.approx([1, 1])


def test_large_corpora_are_sampled_and_say_so(result, monkeypatch):
    monkeypatch.setattr(report_module, "HEATMAP_ROWS", 10)
    monkeypatch.setattr(report_module, "MAP_POINTS", 12)
    data = report_data(result)
    assert data["heatmap"]["sampled"] and len(data["heatmap"]["ids"]) in range(9, 12)
    assert data["doc_map"]["sampled"] and len(data["doc_map"]["x"]) in range(11, 14)
    assert set(data["heatmap"]["topic"]) == {0, 1}               # every group is kept
    assert data["heatmap"]["n_documents"] == result.dtm.n_docs


def test_labels_vs_topics_matches_evaluate(result, data):
    labels = data["labels"]
    assert labels["labels"] == ["finance", "politics"]
    assert np.asarray(labels["table"]).sum() == result.dtm.n_docs
    expected = label_agreement(result.dtm.labels, result.dominant_topics.tolist())
    assert labels["purity"] == pytest.approx(expected["purity"], abs=1e-4)
    assert labels["nmi"] == pytest.approx(expected["nmi"], abs=1e-4)
    assert labels["purity"] > 0.9


def test_lsa_topics_use_the_positive_part(corpus):
    data = report_data(fit(corpus, model="lsa"), label="lsa")
    for topic in data["topics"]:
        assert all(pwt >= 0 for _, pwt, _ in topic["terms"])
    assert data["labels"] is not None and data["convergence"]["maximize"] is False


def test_report_data_rejects_an_empty_label(result):
    with pytest.raises(InvalidParameterError, match="label"):
        report_data(result, label=" ")


# ------------------------------------------------------------------------------ page

def test_page_escapes_documents_in_html_and_in_the_script_data(page):
    assert SCRIPT not in page and "<img src=x" not in page and IMG not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page            # shown as text
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert '<span class="doc-id">&lt;script&gt;alert(1)&lt;/script&gt;</span>' in page
    data_block = re.search(r'<script type="application/json" id="report-data">(.*?)</script>',
                           page, re.S).group(1)
    assert "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in data_block
    assert "<" not in data_block and ">" not in data_block
    # Only the page's own two scripts open and close.
    assert page.count("<script") == 2 and page.count("</script>") == 2
    # Nothing is fetched: every src is inline data, no link leaves the page.
    assert not re.findall(r'(?:src|href)\s*=\s*"(?!data:)', page)
    assert "https://" not in page and "@import" not in page


def test_page_is_self_contained_with_every_section(page, data):
    for section in ("summary", "topics", "heatmap", "doc-map", "intertopic", "hierarchy",
                    "convergence", "labels"):
        assert f'data-section="{section}"' in page
    assert page.count("data:image/png;base64,") == 6
    assert 'type="range"' in page and "Topic 0:" in page and 'class="tabs"' not in page
    assert data["topics"][0]["label"] in page
    assert "topicmf analyze corpus.jsonl" in page


def test_plots_are_written_as_png_and_svg(out):
    names = sorted(p.name for p in (out / "plots").iterdir())
    expected = sorted(f"{n}.{ext}" for n in plots_module.PLOTS for ext in ("png", "svg"))
    assert names == expected
    assert (out / "plots" / "heatmap.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in (out / "plots" / "heatmap.svg").read_text(encoding="utf-8")


def test_several_runs_get_tabs_a_metrics_table_and_aligned_topics(corpus, data, tmp_path):
    plsa = report_data(fit(corpus, model="plsa"), label="plsa")
    page = write_report([data, plsa], tmp_path, title="Two models").read_text(encoding="utf-8")
    assert page.count('role="tab"') == 2 and page.count('role="tabpanel"') == 2
    assert 'data-section="comparison"' in page and "<title>Two models</title>" in page
    aligned = re.search(r'<table class="aligned">(.*?)</table>', page, re.S).group(1)
    assert aligned.count("<tr>") == 3                      # header + one row per topic
    assert "purity" in page and "topic diversity" in page
    assert (tmp_path / "plots" / "nmf-heatmap.png").is_file()
    assert (tmp_path / "plots" / "plsa-heatmap.png").is_file()


def test_write_report_rejects_what_is_not_report_data(tmp_path):
    for runs in ([], [{"topics": []}], "nmf"):
        with pytest.raises(InvalidParameterError, match="report_data"):
            write_report(runs, tmp_path)


# ------------------------------------------------------------------------------ re-render

def _args(folder, **extra):
    return argparse.Namespace(folder=str(folder), title=None, json=False, quiet=False,
                              debug=False, **extra)


def test_report_command_re_renders_from_saved_data(data, tmp_path, capsys):
    write_report_data(data, tmp_path)
    assert run_report_command(_args(tmp_path)) == 0
    assert "index.html" in capsys.readouterr().out
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert data["topics"][1]["label"] in page and SCRIPT not in page
    assert (tmp_path / "plots" / "doc_map.svg").is_file()
    assert not list(tmp_path.glob(".*partial"))            # staging folder cleaned up


def test_report_command_reads_one_subfolder_per_model(data, tmp_path, capsys):
    for label in ("plsa", "lsa"):
        (tmp_path / label).mkdir()
        write_report_data({**data, "label": label}, tmp_path / label)
    assert [r["label"] for r in load_report_data(tmp_path)] == ["lsa", "plsa"]
    args = _args(tmp_path)
    args.json = True
    assert run_report_command(args) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["runs"] == ["lsa", "plsa"] and len(printed["plots"]) == 32
    assert (tmp_path / "index.html").read_text(encoding="utf-8").count('role="tab"') == 2


@pytest.mark.parametrize("content, message", [
    (None, "has no report.json"),
    ("{not json", "unreadable or truncated"),
    ('{"format": "something else"}', "not a topicmf report"),
    ('{"format": "topicmf-report", "format_version": 99}', "format version 99"),
])
def test_report_command_explains_bad_folders(tmp_path, content, message):
    if content is not None:
        (tmp_path / "report.json").write_text(content, encoding="utf-8")
    with pytest.raises(ModelFileError, match=message):
        run_report_command(_args(tmp_path))
    assert not (tmp_path / "index.html").exists()


def test_report_command_needs_a_folder(tmp_path):
    with pytest.raises(ModelFileError, match="not a folder"):
        load_report_data(tmp_path / "missing")


# ------------------------------------------------------------------------------ fonts

def test_chinese_terms_render_in_the_plots_without_missing_glyphs(chinese_data, tmp_path):
    # pytest turns warnings into errors: a "Glyph ... missing" warning would fail this test.
    assert plots_module.cjk_font() is not None, (
        "no CJK font found by matplotlib: install Debian's fonts-noto-cjk")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in chinese_data["topics"][0]["label"])
    images = plots_module.render_plots(chinese_data, tmp_path, "")
    assert set(images) == set(plots_module.PLOTS)


def test_missing_cjk_font_gives_one_warning_not_one_per_glyph(chinese_data, monkeypatch,
                                                            tmp_path):
    monkeypatch.setattr(plots_module, "cjk_font", lambda: None)
    with pytest.warns(TopicmfWarning, match="fonts-noto-cjk") as record:
        plots_module.render_plots(chinese_data, tmp_path, "")
    assert len(record) == 1


def test_report_subcommand_registers_on_a_parser():
    from topicmf.cli.report import add_parser

    args = subcommand_parser(add_parser).parse_args(["report", "out", "--title", "T", "--quiet"])
    assert args.folder == "out" and args.title == "T" and args.quiet
    assert args.run is run_report_command


def test_intertopic_distances_are_scipys_jensen_shannon():
    from scipy.spatial.distance import jensenshannon

    from topicmf.report.data import _intertopic

    rng = np.random.default_rng(0)
    P = rng.random((12, 3000))
    P[3, :1500] = 0  # disjoint supports and an identical pair: the edge cases
    P[7, 1500:] = 0
    P /= P.sum(axis=1, keepdims=True)
    P[5] = P[4]
    got = np.array(_intertopic(P)["distances"])
    expected = np.array([[jensenshannon(a, b, base=2) for b in P] for a in P])
    np.testing.assert_allclose(got, expected, atol=5.1e-5)  # the report rounds to 4 places
    assert np.isfinite(got).all() and got[4, 5] == 0
