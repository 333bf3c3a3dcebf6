"""Topics over time: how much of each period's documents each topic holds.

    result = analyze(load_corpus("news.jsonl.gz"), n_topics=10)   # a corpus with dates
    table = result.topics_over_time()            # the period chosen by the corpus's span
    table.periods, table.counts, table.shares    # labels, documents, n_periods x K
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np

from ._validation import check_choice
from .errors import InvalidParameterError

__all__ = ["TopicsOverTime", "TopicEvolution", "topics_over_time", "topic_evolution",
           "dated_table", "choose_period", "period_label", "PERIODS"]

PERIODS = ("day", "week", "month", "year")
#: The longest span (last date - first date, in days) drawn by day, week and month.
SPAN_DAYS = {"day": 60, "week": 366, "month": 3653}
_CHUNK_ROWS = 65536  # documents' weights read at a time


@dataclass
class TopicsOverTime:
    """Each period's share of each topic.

    ``periods`` are the labels of the periods that have documents, in time order ("2022-09-24",
    "2022-W38" (ISO week), "2022-09", "2022"); a period without documents is left out, so
    there is no empty row. ``counts`` is the number of documents in each, ``shares`` an
    ``n_periods x n_topics`` array whose rows sum to 1. ``measure`` says what a share is:
    ``"mean weight"`` (the mean of the documents' topic mixtures) for models whose document
    weights are mixtures, ``"dominant topic"`` (the share of documents with that dominant
    topic) for models whose weights are signed coordinates (LSA). ``n_undated``: fitted
    documents left out for having no date.
    """

    period: str
    periods: list[str]
    shares: np.ndarray
    counts: np.ndarray
    measure: str
    n_undated: int

    def rows(self) -> list[dict]:
        """One dict per period: ``period``, ``n_documents``, ``topic_0`` ... (for a CSV)."""
        return [{"period": label, "n_documents": int(count),
                 **{f"topic_{k}": float(f"{share:.6g}") for k, share in enumerate(row)}}
                for label, count, row in zip(self.periods, self.counts, self.shares)]


def topics_over_time(result, period: str | None = None) -> TopicsOverTime:
    """The topics of ``result`` (a TopicResult of a corpus with dates) per period.

    ``period`` is "day", "week", "month" or "year"; None chooses by the span from the first
    date to the last: up to 60 days by day, up to a year (366 days) by week, up to ten years
    (3,653 days) by month, longer by year. Only fitted documents with a date count.
    """
    period, periods, codes, rows, n_undated = _periods(result, period, "topics_over_time")
    measure = _measure(result)
    counts = np.bincount(codes, minlength=len(periods))
    sums = np.zeros((len(periods), result.doc_weights.shape[1]))
    # A chunk of rows at a time: the weights of a run from shards are read from disk.
    for start in range(0, len(rows), _CHUNK_ROWS):
        chunk = slice(start, start + _CHUNK_ROWS)
        weights = np.asarray(result.doc_weights[rows[chunk]], dtype=np.float64)
        np.add.at(sums, codes[chunk], _document_vectors(weights, measure))
    return TopicsOverTime(period=period, periods=periods.tolist(),
                          shares=sums / counts[:, None], counts=counts, measure=measure,
                          n_undated=n_undated)


@dataclass
class TopicEvolution:
    """Each topic's top terms in each period: ``terms[p][k]`` is a list of (term, count)
    for period ``periods[p]`` and topic k, the counts being the tokens of that period's
    documents that the topic explains (see :func:`topic_evolution`)."""

    period: str
    periods: list[str]
    terms: list[list[list[tuple[str, float]]]]

    def rows(self) -> list[dict]:
        """One dict per (period, topic, rank): ``period``, ``topic``, ``rank`` (from 1),
        ``term``, ``count`` (for a CSV)."""
        return [{"period": label, "topic": k, "rank": rank, "term": term,
                 "count": float(f"{count:.6g}")}
                for label, topics in zip(self.periods, self.terms)
                for k, top in enumerate(topics)
                for rank, (term, count) in enumerate(top, start=1)]


def topic_evolution(result, period: str | None = None, n: int = 10) -> TopicEvolution:
    """The ``n`` top terms of each topic in each period (``period`` as in
    :func:`topics_over_time`): each token of a period's documents is shared among the topics
    in proportion to document weight times topic weight (the E step of PLSA: token w of
    document d goes to topic z by theta_dz phi_zw / sum_z' theta_dz' phi_z'w, with phi the
    topics' term weights scaled to sum to 1), and a topic's terms in the period are ranked by
    the tokens it gets. For LSA, whose weights are signed, a document's tokens go to its
    dominant topic. The shares are made a block of documents at a time (the E step's ratios
    at the stored entries, as PLSA's fit makes them); no documents x terms x topics array."""
    from ._validation import check_int
    from .models import _kernels

    n = check_int(n, "n", low=1, high=1000, owner="topic_evolution")
    period, periods, codes, rows, _ = _periods(result, period, "topic_evolution")
    measure = _measure(result)
    counts = result.fitted_counts().tocsr()
    k = result.doc_weights.shape[1]
    if measure == "mean weight":
        phi = np.abs(np.asarray(result.model.components_, dtype=np.float64))
        totals = phi.sum(axis=1, keepdims=True)
        phi = np.divide(phi, totals, out=np.zeros_like(phi), where=totals > 0)
    else:
        phi = np.ones((k, counts.shape[1]))
    phiT = np.ascontiguousarray(phi.T)
    terms = result.analysis.vocabulary.terms
    # The documents of each period: one sort, then a slice per period.
    order = rows[np.argsort(codes, kind="stable")]
    bounds = np.searchsorted(np.sort(codes, kind="stable"), np.arange(len(periods) + 1))
    found = []
    for p in range(len(periods)):
        members = order[bounds[p]:bounds[p + 1]]
        X = counts[members]
        weights = _document_vectors(np.asarray(result.doc_weights[members], dtype=np.float64),
                                    measure)
        total = np.zeros((counts.shape[1], k))
        for block in _kernels.row_blocks(X, k):  # temporaries of bounded size
            R, _ = _kernels.ratio_at_nonzeros(_kernels.take_rows(X, block), weights[block],
                                              phiT)
            total += R.T @ weights[block]
        total *= phiT  # token w of d to z: x_dw theta_dz phi_zw / sum_z' theta_dz' phi_z'w
        found.append([[(str(terms[i]), float(total[i, z])) for i in _top(total[:, z], n)]
                      for z in range(k)])
    return TopicEvolution(period=period, periods=periods.tolist(), terms=found)


def _top(values: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` largest positive values, largest first, ties by lower index."""
    from .search import _top as top
    return top(values, min(n, int((values > 0).sum())))


def _measure(result) -> str:
    return "mean weight" if result.model.doc_weights_kind == "mixture" else "dominant topic"


def _periods(result, period, owner: str):
    """(period, period labels, each dated fitted document's period code, their rows, the
    number undated) for ``result``'s fitted documents."""
    if period is not None:
        check_choice(period, "period", PERIODS, owner=owner)
    dates = result.fitted_dates()
    if dates is None:
        raise InvalidParameterError(
            "The corpus has no dates; load it with 'date_column' naming the column that holds "
            "them (or name its files by date) to see topics over time.")
    dated = np.array([date is not None for date in dates], dtype=bool)
    if not dated.any():
        raise InvalidParameterError(
            "No fitted document has a date; check 'date_column' and the form of the dates "
            "(YYYY-MM-DD, YYYYMMDD, YYYY/MM/DD, YYYY-MM).")
    known = [date for date in dates if date is not None]
    period = period or choose_period(min(known), max(known))
    labels = [period_label(date, period) for date in known]
    periods, codes = np.unique(np.asarray(labels, dtype=str), return_inverse=True)
    return period, periods, codes.ravel(), np.flatnonzero(dated), int((~dated).sum())


def dated_table(result, period: str | None = None) -> TopicsOverTime | None:
    """``topics_over_time(result, period)`` when a fitted document has a date, else None (the
    outputs of a run without dates are those of any run)."""
    if period is not None:
        check_choice(period, "period", PERIODS)
    dates = result.fitted_dates()
    if dates is None or all(date is None for date in dates):
        return None
    return topics_over_time(result, period)


def choose_period(first: datetime.date, last: datetime.date) -> str:
    """The period that draws the span from ``first`` to ``last`` in a readable number of rows."""
    span = (last - first).days
    return next((name for name, days in SPAN_DAYS.items() if span <= days), "year")


def period_label(date: datetime.date, period: str) -> str:
    """The label of the ``period`` that holds ``date``; labels sort in time order."""
    if period == "day":
        return date.isoformat()
    if period == "week":
        year, week, _ = date.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{date.year}-{date.month:02d}"
    return f"{date.year}"


def _document_vectors(weights: np.ndarray, measure: str) -> np.ndarray:
    """What each document adds to its period: its mixture, or a 1 for its dominant topic (so
    also for a mixture of all zeros, whose dominant topic is the first)."""
    dominant = np.zeros_like(weights)
    dominant[np.arange(len(weights)), weights.argmax(axis=1)] = 1.0
    if measure == "dominant topic":
        return dominant
    sums = weights.sum(axis=1, keepdims=True)
    return np.where(sums > 0, weights / np.where(sums > 0, sums, 1.0), dominant)
