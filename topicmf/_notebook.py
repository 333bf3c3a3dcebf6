"""How results look in a notebook: HTML tables for ``_repr_html_``, and the full report in a
sandboxed iframe for ``TopicResult.show()``.

Every text that goes into the HTML passes through :func:`html.escape`. Nothing here imports
IPython or fetches anything from the network; the tables need neither matplotlib nor the
report (``show()`` draws the report's plots, so it does use matplotlib).
"""

from __future__ import annotations

import html
import tempfile

from ._validation import check_int

__all__ = ["ReportView", "result_html", "rows_html", "report_view"]


class ReportView:
    """The HTML report of one result, shown inline by Jupyter (and any front end that calls
    ``_repr_html_``) in an ``<iframe srcdoc=...>``. The iframe is sandboxed with
    ``allow-scripts`` only: the report's scripts (tabs, term slider, document map) run, in an
    origin of their own, with no access to the notebook. ``page`` is the page itself, the
    same as the ``index.html`` that ``topicmf analyze`` writes."""

    def __init__(self, page: str, height: int = 800):
        self.page = page
        self.height = height

    def _repr_html_(self) -> str:
        return (f'<iframe title="topicmf report" sandbox="allow-scripts" '
                f'style="width:100%;height:{int(self.height)}px;border:1px solid #ccc" '
                f'srcdoc="{html.escape(self.page, quote=True)}"></iframe>')

    def __repr__(self) -> str:
        return f"<ReportView: a {len(self.page):,}-character HTML report; display it in a notebook>"


def report_view(result, *, height: int = 800) -> ReportView:
    """The report page of ``result`` (a TopicResult), plots inline, as a :class:`ReportView`."""
    from .report import report_data
    from .report.html import render_report

    height = check_int(height, "height", low=100, high=10_000, owner="show")
    data = report_data(result, label=result.analysis.model_name)
    with tempfile.TemporaryDirectory(prefix="topicmf-plots-") as plots_dir:
        page = render_report([data], plots_dir, plots_beside=False)
    return ReportView(page, height)


def result_html(result) -> str:
    """One row per topic (number, share of documents, top terms with weights), under a line
    naming the corpus, its size, the model and K."""
    info = result.analysis.info
    corpus = info.get("corpus") or {}
    n_documents, n_fitted = corpus.get("n_documents"), corpus.get("n_fitted")
    fitted = f" ({n_fitted:,} fitted)" if n_fitted is not None and n_fitted != n_documents else ""
    documents = "" if n_documents is None else f"{n_documents:,} documents{fitted}, "
    header = (f"{corpus.get('name') or 'corpus'}: {documents}"
              f"{len(result.analysis.vocabulary):,} terms, "
              f"{result.analysis.model_name.upper()} with {result.analysis.n_topics} topics")
    shares = result.topic_shares
    names = result.analysis.topic_names
    rows = [[k if names[k] is None else f"{k} {names[k]}", f"{shares[k]:.0%}",
             ", ".join(f"{term} {weight:.3g}" for term, weight in terms)]
            for k, terms in enumerate(result.topics)]
    return _page(header, ["topic", "share of documents", f"top {result.top_n} terms (weight)"],
                 rows)


def rows_html(rows: list[dict], header: str) -> str:
    """A table of metric rows (dicts; a column for each key but ``notes``), under ``header``,
    with the number of notes the rows carry."""
    columns = list(dict.fromkeys(key for row in rows for key in row if key != "notes"))
    cells = [[_cell(row.get(column)) for column in columns] for row in rows]
    n_notes = sum(len(row.get("notes") or []) for row in rows)
    footer = f"{n_notes} note(s): see each row's 'notes'." if n_notes else ""
    return _page(header, columns, cells, footer)


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return "; ".join(map(str, value))
    return str(value)


def _page(header: str, columns: list[str], rows: list[list], footer: str = "") -> str:
    escape = html.escape
    head = "".join(f'<th style="text-align:left">{escape(str(c))}</th>' for c in columns)
    body = "".join("<tr>" + "".join(f'<td style="text-align:left">{escape(str(v))}</td>'
                                    for v in row) + "</tr>" for row in rows)
    foot = f"<p>{escape(footer)}</p>" if footer else ""
    return (f'<div class="topicmf"><p><strong>{escape(header)}</strong></p>'
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{foot}</div>")
