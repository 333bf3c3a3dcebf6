"""How results show in a notebook: ``_repr_html_`` tables and ``show()``'s sandboxed report."""

from __future__ import annotations

import html
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import make_two_topic_texts

from topicmf import Corpus, analyze
from topicmf.compare import Comparison, SweepResult
from topicmf.errors import InvalidParameterError

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'

pytestmark = pytest.mark.filterwarnings("ignore::topicmf.errors.ConvergenceWarning")


@pytest.fixture(scope="module")
def result():
    texts = make_two_topic_texts()
    ids = list(texts)
    ids[0] = HOSTILE
    corpus = Corpus(ids=ids, texts=[f"{HOSTILE} {t}" if i == 0 else t
                                    for i, t in enumerate(texts.values())],
                    labels=[HOSTILE if i == 0 else t.split("/")[0] for i, t in enumerate(texts)],
                    name=f"news {HOSTILE}", source="memory")
    return analyze(corpus, 2, min_df=1, random_state=0)


class Elements(HTMLParser):
    """Every start tag with its attributes, as a browser would parse them."""

    def __init__(self, text):
        super().__init__()
        self.tags = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_result_table_has_a_row_per_topic_and_escapes_the_corpus_name(result):
    page = result._repr_html_()
    tags = [tag for tag, _ in Elements(page).tags]
    assert "script" not in tags and "img" not in tags
    assert html.escape(f"news {HOSTILE}") in page
    assert "24 documents" in page and f"{len(result.analysis.vocabulary)} terms" in page
    assert f"{result.analysis.model_name.upper()} with 2 topics" in page
    assert tags.count("tr") == 1 + 2  # the header and one row per topic
    for k, terms in enumerate(result.topics):
        term, weight = terms[0]
        assert f"{term} {weight:.3g}" in page
        assert f"<td style=\"text-align:left\">{result.topic_shares[k]:.0%}</td>" in page


def test_show_puts_the_whole_report_in_a_sandboxed_iframe(result):
    view = result.show(height=500)
    frame = Elements(view._repr_html_()).tags
    assert [tag for tag, _ in frame] == ["iframe"]
    attrs = frame[0][1]
    assert attrs["sandbox"] == "allow-scripts"  # no allow-same-origin: apart from the notebook
    assert "height:500px" in attrs["style"]
    assert attrs["srcdoc"] == view.page  # the attribute holds the page, escaped exactly once
    page = view.page
    assert page.startswith("<!DOCTYPE html>") and "Topics of news" in page
    assert "data:image/png;base64," in page  # plots inline
    assert "plots/</code> folder" not in page  # no folder beside an iframe
    assert 'src="http' not in page and "href=\"http" not in page
    assert HOSTILE not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    with pytest.raises(InvalidParameterError, match="'height'"):
        result.show(height=0)


def test_tables_and_show_need_no_ipython_and_tables_no_matplotlib(tmp_path):
    code = (
        "import sys; sys.modules['IPython'] = None\n"
        "from topicmf import load_corpus, analyze\n"
        f"r = analyze(load_corpus({str(ROOT / 'corpora' / 'finance-politics-en')!r}), 2)\n"
        "table = r._repr_html_()\n"
        "assert 'matplotlib' not in sys.modules, 'the table imported matplotlib'\n"
        "assert '<iframe' in r.show()._repr_html_()\n"
        "print(table.count('<tr>'))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "3"
    assert list(tmp_path.iterdir()) == []  # show() writes nothing where it runs


def test_comparison_and_sweep_tables_show_every_metric_escaped():
    rows = [{"model": "nmf", "n_topics": 2, "c_npmi": 0.12345, "diversity": 0.9,
             "stability": None, "notes": ["c_npmi: topic 0: 1 of 45 pairs ..."]},
            {"model": HOSTILE, "n_topics": 2, "c_npmi": -0.5, "diversity": 1.0,
             "stability": 0.8, "notes": []}]
    settings = {"corpus": HOSTILE, "n_fitted": 80, "n_terms": 268, "n_topics": 2,
                "model": "nmf", "coherence": {"topn": 10}}
    for table in (Comparison(rows=rows, topics={}, settings=settings)._repr_html_(),
                  SweepResult(rows=rows, recommended_k=2, settings=settings)._repr_html_()):
        tags = Elements(table).tags
        assert "script" not in [t for t, _ in tags] and "img" not in [t for t, _ in tags]
        headers = table.split("<tbody>")[0]
        for column in ("model", "n_topics", "c_npmi", "diversity", "stability"):
            assert f">{column}</th>" in headers
        assert ">notes</th>" not in headers and "1 note(s)" in table
        assert ">0.1235</td>" in table and ">-</td>" in table
        assert html.escape(HOSTILE) in table
    assert "recommended K = 2" in SweepResult(rows=rows, recommended_k=2,
                                              settings=settings)._repr_html_()
