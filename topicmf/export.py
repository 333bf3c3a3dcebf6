"""Write an analysis's results for other tools: topics.json, topics.csv, doc_topics.csv, model/
(with the fitted documents' counts, model/counts.npz, which :func:`topicmf.interop.export_run`
reads), and topics_over_time.csv when the documents have dates.

All files of one run are written into a staging folder and moved into place together, so an
interrupted run leaves the output folder as it was.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

from . import _csv
from .io import save_analysis, staged_output, write_counts
from .errors import TopicmfWarning
from .pipeline import TopicResult, topic_label
from .timeline import dated_table, topic_evolution

__all__ = ["write_outputs", "write_assignments", "topic_label", "result_summary"]


def result_summary(result: TopicResult, period: str | None = None) -> dict:
    """The JSON-ready description of a run: settings, topics and where each document went;
    when the documents have dates, the summary's ``time`` says by which ``period`` (chosen by
    the span when None) topics_over_time.csv counts them."""
    shares = result.topic_shares
    n_docs = np.bincount(result.dominant_topics, minlength=result.analysis.n_topics)
    summary = result.analysis.info
    table = dated_table(result, period)
    if table is not None:
        summary = {**summary, "time": {"period": table.period, "n_periods": len(table.periods),
                                       "n_undated": table.n_undated}}
    names, labels = result.analysis.topic_names, result.analysis.topic_labels()
    return {
        "summary": summary,
        "topics": [
            {"topic": k, "name": names[k], "label": labels[k],
             "share": round(float(shares[k]), 6), "n_documents": int(n_docs[k]),
             "terms": [{"term": term, "weight": round(float(w), 6)} for term, w in terms]}
            for k, terms in enumerate(result.topics)
        ],
        "excluded_documents": result.excluded,
        "skipped_files": [{"file": f, "reason": r} for f, r in result.skipped],
    }


def write_outputs(results, directory, *, report: bool = True, command=None,
                  period: str | None = None) -> list[Path]:
    """Write topics.json, topics.csv, doc_topics.csv, model/ and the HTML report, and, when
    the documents have dates, topics_over_time.csv (and the report's section on it) by
    ``period`` ("day", "week", "month", "year"; None: chosen by the span, see
    :func:`topicmf.timeline.topics_over_time`).

    ``results`` is one TopicResult, or a list of them: one result's files go straight into
    ``directory``; several results (one per model) each get a subfolder named after the model,
    and one ``index.html`` shows them all. Everything is staged and moved into place at the
    end, so a failure writes nothing.
    """
    from .report import report_data, write_report, write_report_data

    directory = Path(directory)
    several = isinstance(results, (list, tuple)) and len(results) > 1
    results = list(results) if isinstance(results, (list, tuple)) else [results]
    if period is not None and all(dated_table(r, period) is None for r in results):
        warnings.warn(f"'period' {period!r} is ignored: no document has a date (name the "
                      f"column of dates with 'date_column').", TopicmfWarning, stacklevel=2)
    with staged_output(directory) as staging:
        pages = []
        for result in results:
            folder = staging / result.analysis.model_name if several else staging
            folder.mkdir(exist_ok=True)
            _write_run(result, folder, period)
            if report:
                data = report_data(result, label=result.analysis.model_name, command=command,
                                   period=period)
                write_report_data(data, folder)
                pages.append(data)
        if report:
            write_report(pages, staging)
        names = sorted(p.name for p in staging.iterdir())
    return [directory / name for name in names]


def _write_run(result: TopicResult, folder: Path, period: str | None) -> None:
    (folder / "topics.json").write_text(
        json.dumps(result_summary(result, period), ensure_ascii=False, indent=1),
        encoding="utf-8")
    _write_topics_csv(result, folder / "topics.csv")
    _write_doc_topics_csv(result, folder / "doc_topics.csv")
    table = dated_table(result, period)
    if table is not None:
        _csv.write_rows(folder / "topics_over_time.csv", table.rows())
        if result.dtm is not None:  # a run from shards would read every shard's counts again
            _csv.write_rows(folder / "topic_evolution.csv",
                            topic_evolution(result, table.period, 10).rows())
    save_analysis(result.analysis, folder / "model")
    if result.dtm is not None:  # a run from shards has its counts in the shard folder
        write_counts(result.dtm.counts, folder / "model")


def _write_topics_csv(result: TopicResult, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = _csv.writer(handle)
        writer.writerow(["topic", "rank", "term", "weight", "name"])
        names = result.analysis.topic_names
        for k, terms in enumerate(result.topics):
            for rank, (term, weight) in enumerate(terms, start=1):
                writer.writerow([k, rank, term, f"{weight:.6g}", names[k] or ""])


def _write_doc_topics_csv(result: TopicResult, path: Path) -> None:
    """One row per corpus document, in corpus order; excluded documents have no topic."""
    n_topics = result.analysis.n_topics
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = _csv.writer(handle)
        writer.writerow(["doc_id", "label", "topic", *(f"topic_{k}" for k in range(n_topics))])
        for doc_id, label, weights in result.doc_topic_rows():
            if weights is None:
                writer.writerow([doc_id, label, "", *([""] * n_topics)])
            else:
                writer.writerow([doc_id, label, int(weights.argmax()),
                                 *(f"{w:.6g}" for w in weights)])


def write_assignments(rows, path) -> Path:
    """Write what :meth:`Analysis.assign` returned as a CSV (doc_id, topic, topic_0..), in
    place at once: an interrupted write leaves no partial file."""
    path = Path(path)
    n_topics = len(rows[0]["weights"]) if rows else 0
    with staged_output(path.parent if str(path.parent) else Path(".")) as staging:
        with (staging / path.name).open("w", newline="", encoding="utf-8") as handle:
            writer = _csv.writer(handle)
            writer.writerow(["doc_id", "topic", *(f"topic_{k}" for k in range(n_topics))])
            for r in rows:
                writer.writerow([r["doc_id"], "" if r["topic"] is None else r["topic"],
                                 *(f"{w:.6g}" for w in r["weights"])])
    return path
