"""Plain-text tables for the terminal, aligned for wide (CJK) characters too."""

from __future__ import annotations

import unicodedata
from types import SimpleNamespace

import numpy as np

__all__ = ["format_topics", "format_labels_vs_topics", "format_factorization", "format_analysis",
           "format_metrics", "pad"]


def _width(text: str) -> int:
    """Columns the text takes in a terminal: East Asian wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in str(text))


def _left(text: str, width: int) -> str:
    text = str(text)
    return text + " " * max(0, width - _width(text))


def _right(text: str, width: int) -> str:
    text = str(text)
    return " " * max(0, width - _width(text)) + text


pad = SimpleNamespace(width=_width, left=_left, right=_right)


def format_topics(topics, shares=None, labels=None) -> str:
    """Each topic on its own block: header with its share and its label (default: its top
    3 terms), then its terms with weights."""
    lines = []
    for k, terms in enumerate(topics):
        share = "" if shares is None else f"  ({shares[k]:.0%} of documents)"
        label = labels[k] if labels is not None else " / ".join(t for t, _ in terms[:3])
        lines.append(f"Topic {k}{share}: {label}")
        lines.append("  " + "  ".join(f"{term} {weight:.3g}" for term, weight in terms))
    return "\n".join(lines)


def format_labels_vs_topics(labels, topics, n_topics: int) -> str:
    """Counts of documents per label (rows) and dominant topic (columns), with purity."""
    names = sorted(set(labels))
    index = {name: i for i, name in enumerate(names)}
    table = np.zeros((len(names), n_topics), dtype=int)
    for label, topic in zip(labels, topics):
        table[index[label], topic] += 1
    purity = table.max(axis=0).sum() / max(1, table.sum())
    width = max(5, max(_width(n) for n in names))
    head = _left("label", width) + "".join(f"{'t' + str(k):>7}" for k in range(n_topics))
    rows = [_left(name, width) + "".join(f"{c:>7}" for c in table[i]) for i, name in enumerate(names)]
    return "\n".join(["Labels vs dominant topics:", head, *rows,
                      f"purity {purity:.3f} (share of documents whose topic's majority label is theirs)"])


def format_factorization(table, model, row_factors, model_name: str, title: str) -> str:
    """Both factors of a small labelled matrix, and which rows and columns load on each factor."""
    n_factors = row_factors.shape[1]
    names = [f"F{k}" for k in range(n_factors)]
    objective = f", objective {model.history_[-1]:.4g}" if len(model.history_) else ""
    out = [f"{title}: {len(table.row_labels)} rows x {len(table.column_labels)} columns, "
           f"{model_name.upper()} with {n_factors} factors{objective}", ""]
    out += _matrix_block(f"Row factors ({len(table.row_labels)} x {n_factors})",
                         table.row_labels, names, row_factors)
    out.append("")
    out += _matrix_block(f"Column factors ({len(table.column_labels)} x {n_factors}, transposed)",
                         table.column_labels, names, model.components_.T)
    out.append("")
    out.append("Loads most on each factor:")
    for k, name in enumerate(names):
        rows = [r for r, f in zip(table.row_labels, row_factors.argmax(axis=1)) if f == k]
        cols = [c for c, f in zip(table.column_labels, model.components_.argmax(axis=0)) if f == k]
        out.append(f"  {name}: rows {', '.join(rows) or '-'}; columns {', '.join(cols) or '-'}")
    return "\n".join(out)


def _matrix_block(title, row_names, column_names, values) -> list[str]:
    width = max(_width(n) for n in row_names)
    lines = [title + ":", _left("", width) + "".join(f"{c:>9}" for c in column_names)]
    for name, row in zip(row_names, np.asarray(values)):
        lines.append(_left(name, width) + "".join(f"{v:9.3f}" for v in row))
    return lines


def format_analysis(result, out) -> str:
    """What ``topicmf analyze`` prints for one run: the corpus and fit line, the topics, labels
    against topics when there are few, and the documents' topics (``out``: where the full
    table went)."""
    info = result.analysis.info
    corpus, vocab, model = info["corpus"], info["vocabulary"], info["model"]
    seconds = info["timings_s"]
    before = seconds["total"] - seconds["fit"]
    step = "tokenizing" if "tokenize" in seconds else "opening the shards"
    lines = [f"{corpus['name']}: {corpus['n_documents']} documents, {vocab['n_terms']} terms, "
             f"{model['name'].upper()} with {model['n_topics']} topics "
             f"({model['n_iter']} iterations in {_seconds(seconds['fit'])}; "
             f"{step} {_seconds(before)})", "",
             format_topics(result.topics, result.topic_shares,
                           result.analysis.topic_labels()), ""]
    labels = result.fitted_labels
    if labels and len(set(labels)) <= 30 and result.analysis.n_topics <= 30:
        lines += [format_labels_vs_topics(labels, result.dominant_topics,
                                          result.analysis.n_topics), ""]
    n_docs = result.doc_weights.shape[0]
    shown = min(n_docs, 100 if n_docs <= 100 else 20)
    ids = result.fitted_ids(range(shown))
    width = min(48, max(_width(i) for i in ids))
    lines.append(f"{'document':<{width}}  topic  weight")
    for doc_id, weights in zip(ids, result.doc_weights[:shown]):
        lines.append(f"{_left(doc_id, width)}  {int(weights.argmax()):>5}  {weights.max():6.2f}")
    if n_docs > shown:
        lines.append(f"... and {n_docs - shown} more: see {out}/doc_topics.csv")
    return "\n".join(lines)


#: The metric columns of ``compare`` and ``sweep`` tables, in their order.
METRIC_COLUMNS = ("c_npmi", "c_v", "u_mass", "diversity", "error", "perplexity",
                  "heldout_perplexity", "nmi", "ari", "purity", "stability", "fit_s")


def format_metrics(rows, first: str) -> str:
    """Metric rows as an aligned table led by the column ``first``; columns absent from every
    row are left out."""
    columns = [first] + [c for c in METRIC_COLUMNS if any(row.get(c) is not None for row in rows)]
    cells = [[_metric(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in cells]
    return "\n".join(lines)


def _metric(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) >= 1000 else f"{value:.3f}"
    return str(value)


def _seconds(value: float) -> str:
    """A duration for people: 0.02 s, 1.2 s, 37 s."""
    return f"{value:.2f} s" if value < 1 else f"{value:.1f} s" if value < 10 else f"{value:.0f} s"
