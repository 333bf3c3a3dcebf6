"""What the HTML report shows, gathered from one run as plain JSON-ready data.

``report_data(result)`` is saved as ``report.json`` beside the other outputs so the page can be
rendered again (``topicmf report FOLDER``) without refitting. Everything is kept small: at most
``HEATMAP_ROWS`` documents in the heatmap and ``MAP_POINTS`` on the document map (a random
sample of a larger corpus, stratified by dominant topic, and the data says so).
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import InvalidParameterError
from ..timeline import dated_table

__all__ = ["report_data", "FORMAT", "FORMAT_VERSION"]

FORMAT = "topicmf-report"
FORMAT_VERSION = 1

N_TERMS = 30            # terms per topic kept for the bars and the relevance slider
LAMBDA_GRID = np.linspace(0.0, 1.0, 11)
N_DOCS_PER_TOPIC = 5    # representative documents per topic card
TITLE_CHARS = 120
EXCERPT_CHARS = 2000
HEATMAP_ROWS = 2000
MAP_POINTS = 5000
MAX_LABELS = 40         # rows of the labels-vs-topics table; the rest are pooled as "(other)"
SAMPLE_SEED = 0


def report_data(result, *, label: str = "nmf", command=None,
                period: str | None = None) -> dict:
    """Everything the report page needs from one :class:`topicmf.pipeline.TopicResult`.

    ``label`` names the run (its tab, its plot files); ``command`` is the command line that
    made it (a string or a list of arguments), shown in the run summary. When the documents
    have dates, ``time`` holds the topics over time by ``period`` (None: chosen by the span).
    """
    if not isinstance(label, str) or not label.strip():
        raise InvalidParameterError(f"report_data needs a non-empty run label; got {label!r}.")
    if command is not None and not isinstance(command, str):
        command = " ".join(str(part) for part in command)
    weights = result.doc_weights  # fitted documents x topics; maybe a memory map
    topic_term = _topic_term_distributions(result.model.components_)
    term_freq = result.term_frequencies()
    dominant = result.dominant_topics
    n_topics = topic_term.shape[0]
    labels = result.fitted_labels
    intertopic = _intertopic(topic_term)
    shares = np.bincount(dominant, minlength=n_topics) / max(1, len(dominant))
    # Only the documents the page shows are read: the best of each topic, and the samples.
    best = _best_rows(weights, N_DOCS_PER_TOPIC)
    heat_rows = _stratified_sample(dominant, HEATMAP_ROWS)
    map_rows = _stratified_sample(dominant, MAP_POINTS)
    read = np.unique(np.concatenate([best.ravel(), map_rows]))  # titles and excerpts
    ids_only = np.setdiff1d(heat_rows, read)
    documents = dict(zip(read.tolist(), zip(result.fitted_ids(read), result.fitted_texts(read))))
    documents.update(zip(ids_only.tolist(), ((doc_id, "") for doc_id in
                                              result.fitted_ids(ids_only))))
    data = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "label": label.strip(),
        "command": command,
        "summary": result.analysis.info,
        "topics": _topics(topic_term, term_freq, result.analysis.vocabulary.terms,
                          result.model.top_terms(result.analysis.vocabulary.terms, N_TERMS),
                          shares, dominant, weights, best, documents,
                          result.analysis.topic_labels(),
                          _seed_words(result.analysis)),
        "heatmap": _heatmap(weights, dominant, labels, heat_rows, documents),
        "doc_map": _doc_map(weights, dominant, labels, map_rows, documents,
                            intertopic["coordinates"]),
        "intertopic": intertopic,
        "similarity": _round(_cosine(topic_term), 4),
        "convergence": {"objective": [float(f"{v:.6g}") for v in result.model.history_],
                        "maximize": bool(result.model.maximize_objective)},
        "labels": _labels_vs_topics(labels, dominant, n_topics) if labels else None,
        "excluded_documents": len(result.excluded),
    }
    table = dated_table(result, period)
    if table is not None:
        data["time"] = {"period": table.period, "measure": table.measure,
                        "periods": table.periods, "counts": table.counts.tolist(),
                        "shares": _round(table.shares, 4), "n_undated": table.n_undated}
    return data


def _best_rows(weights, n: int, chunk: int = 65536) -> np.ndarray:
    """Per topic, the rows of the ``n`` highest weights, highest first (ties: lower row
    first), read ``chunk`` rows at a time."""
    n_rows, k = weights.shape
    n = min(n, n_rows)
    rows = np.zeros((k, 0), dtype=np.int64)
    values = np.zeros((k, 0))
    for start in range(0, n_rows, chunk):
        part = np.asarray(weights[start:start + chunk], dtype=np.float64).T
        rows = np.hstack([rows, np.broadcast_to(np.arange(start, start + part.shape[1]),
                                                part.shape)])
        values = np.hstack([values, part])
        keep = np.stack([np.lexsort((r, -v))[:n] for r, v in zip(rows, values)])
        rows = np.take_along_axis(rows, keep, axis=1)
        values = np.take_along_axis(values, keep, axis=1)
    return rows


# ---------------------------------------------------------------------------- topics

def _topic_term_distributions(components) -> np.ndarray:
    """p(w|t): each topic's weights normalized to sum to 1. LSA's signed directions keep
    their positive part; a direction with none keeps its magnitude instead."""
    comps = np.asarray(components, dtype=np.float64)
    positive = np.clip(comps, 0, None)
    empty = positive.sum(axis=1) <= 0
    positive[empty] = np.abs(comps[empty])
    sums = positive.sum(axis=1, keepdims=True)
    return np.divide(positive, sums, out=np.full_like(positive, 1.0 / comps.shape[1]),
                     where=sums > 0)


def _term_frequencies(counts) -> np.ndarray:
    """p(w): each term's share of all tokens of the fitted documents."""
    totals = np.asarray(counts.sum(axis=0), dtype=np.float64).ravel()
    return totals / max(totals.sum(), 1.0)


def _seed_words(analysis) -> list[list[str]]:
    """Each topic's seed words as matched to the vocabulary ([] for a free topic)."""
    seeds = analysis.info.get("model", {}).get("seed_words") or {}
    return [list(seeds.get(name, [])) if name else [] for name in analysis.topic_names]


def _topics(topic_term, term_freq, terms, top_terms, shares, dominant, weights, best,
            documents, labels, seed_words) -> list[dict]:
    n_docs = np.bincount(dominant, minlength=len(topic_term))
    result = []
    for k, (dist, top) in enumerate(zip(topic_term, top_terms)):
        candidates = _relevance_candidates(dist, term_freq)
        result.append({
            "topic": k,
            "label": labels[k],
            "seed_words": seed_words[k],
            "share": round(float(shares[k]), 6),
            "n_documents": int(n_docs[k]),
            "top_terms": [[term, float(f"{w:.4g}")] for term, w in top],
            # [term, p(w|t), p(w)]: enough for the page to rank by relevance at any lambda.
            "terms": [[str(terms[i]), float(f"{dist[i]:.4g}"), float(f"{term_freq[i]:.4g}")]
                      for i in candidates],
            "documents": _representative(weights, k, best[k], documents),
        })
    return result


def _relevance_candidates(dist, term_freq) -> np.ndarray:
    """Terms that are among the top N_TERMS by relevance (Sievert & Shirley 2014) at some
    lambda on a grid of 0, 0.1, ..., 1; the page re-ranks only these."""
    usable = (dist > 0) & (term_freq > 0)
    log_p = np.log(np.where(usable, dist, 1.0))
    log_lift = log_p - np.log(np.where(usable, term_freq, 1.0))
    if not usable.any():
        return np.argsort(-dist, kind="stable")[:N_TERMS]
    chosen: dict[int, None] = {}
    n = min(N_TERMS, int(usable.sum()))
    for lam in LAMBDA_GRID[::-1]:
        relevance = np.where(usable, lam * log_p + (1 - lam) * log_lift, -np.inf)
        best = np.argpartition(-relevance, n - 1)[:n]
        chosen.update(dict.fromkeys(best[np.argsort(-relevance[best], kind="stable")].tolist()))
    return np.fromiter(chosen, dtype=np.int64)


def _representative(weights, k, rows, documents) -> list[dict]:
    cards = []
    for i in rows.tolist():
        weight = float(weights[i, k])
        if weight > 0:
            doc_id, text = documents[i]
            cards.append({"id": doc_id, "title": document_title(text),
                          "weight": round(weight, 4), "text": text[:EXCERPT_CHARS],
                          "truncated": len(text) > EXCERPT_CHARS})
    return cards


_HEADER = re.compile(r"^[A-Za-z][\w-]*:\s")
_SUBJECT = re.compile(r"^subject:\s*(.+)$", re.IGNORECASE)


def document_title(text: str) -> str:
    """A document's title: its first non-blank line, or the Subject of a mail or news post
    (text that opens with ``Header: value`` lines), trimmed to TITLE_CHARS characters."""
    lines = [line.strip() for line in text.splitlines()[:30]]
    first = next((line for line in lines if line), "")
    if _HEADER.match(first):
        for line in lines:
            if not line:
                break
            match = _SUBJECT.match(line)
            if match and match.group(1).strip():
                first = match.group(1).strip()
                break
    first = " ".join(first.split())
    return first if len(first) <= TITLE_CHARS else first[:TITLE_CHARS - 1] + "…"


# ---------------------------------------------------------------------------- documents

def _stratified_sample(groups, size, seed=SAMPLE_SEED) -> np.ndarray:
    """Row indices: all rows when there are at most ``size``, else a random sample with each
    group represented in proportion (at least one row per group)."""
    n = len(groups)
    if n <= size:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    picked = []
    for group in np.unique(groups):
        members = np.flatnonzero(groups == group)
        take = max(1, int(round(size * len(members) / n)))
        picked.append(rng.choice(members, size=min(take, len(members)), replace=False))
    return np.sort(np.concatenate(picked))


def _heatmap(weights, dominant, labels, rows, documents) -> dict:
    """Rows of the document-topic heatmap, grouped by label (if any), then dominant topic,
    strongest documents first within a group."""
    label_codes = _codes(labels)[rows] if labels else np.zeros(len(rows), dtype=int)
    order = np.lexsort((-_rows_of(weights, rows).max(axis=1), dominant[rows], label_codes))
    rows = rows[order]
    return {
        "n_documents": len(dominant),
        "sampled": len(rows) < len(dominant),
        "grouped_by": ["label", "dominant topic"] if labels else ["dominant topic"],
        "ids": [documents[i][0] for i in rows.tolist()],
        "topic": dominant[rows].tolist(),
        "label": [labels[i] for i in rows] if labels else None,
        "weights": _round(_rows_of(weights, rows), 3),
    }


def _rows_of(weights, rows) -> np.ndarray:
    """``weights[rows]`` in float64 (rows sorted or not), also from a memory map."""
    return np.asarray(weights[np.asarray(rows, dtype=np.int64)], dtype=np.float64)


def _doc_map(weights, dominant, labels, rows, documents, topic_xy) -> dict:
    """Documents in 2-D: each at the mix of its topics' places on the intertopic map, so
    documents of one topic gather around it and mixed documents lie between their topics."""
    mix = np.clip(_rows_of(weights, rows), 0, None)
    sums = mix.sum(axis=1, keepdims=True)
    mix = np.divide(mix, sums, out=np.zeros_like(mix), where=sums > 0)
    xy = mix @ np.asarray(topic_xy, dtype=np.float64).reshape(-1, 2)
    # Documents with the same mix would sit on one point: a little jitter shows how many.
    spread = max(float(np.ptp(xy)) if xy.size else 0.0, 1e-6)
    xy = xy + np.random.default_rng(SAMPLE_SEED).normal(0, 0.015 * spread, xy.shape)
    return {
        "n_documents": len(dominant),
        "sampled": len(rows) < len(dominant),
        "method": "topic mixture over the intertopic map",
        "x": _round(xy[:, 0], 4), "y": _round(xy[:, 1], 4),
        "topic": dominant[rows].tolist(),
        "label": [labels[i] for i in rows] if labels else None,
        "ids": [documents[i][0] for i in rows.tolist()],
        "titles": [document_title(documents[i][1]) for i in rows.tolist()],
    }


# ---------------------------------------------------------------------------- topic geometry

def _intertopic(topic_term) -> dict:
    """Jensen-Shannon distances between the topics' term distributions, placed in 2-D by
    classical multidimensional scaling."""
    topic_term = np.asarray(topic_term, dtype=np.float64)
    k = len(topic_term)
    own = np.array([_x_log_x(row).sum() for row in topic_term])  # -entropy of each topic
    distances = np.zeros((k, k))
    step = max(1, 2_000_000 // max(1, topic_term.shape[1]))  # rows at once: ~16 MB each
    for i in range(k - 1):  # topic i against the later topics, a block of rows at a time
        for start in range(i + 1, k, step):
            stop = min(k, start + step)
            mixed = _x_log_x((topic_term[i] + topic_term[start:stop]) / 2).sum(axis=1)
            distances[i, start:stop] = distances[start:stop, i] = _js_distance(
                own[i], own[start:stop], mixed)
    return {"distance": "jensen-shannon (base 2)", "distances": _round(distances, 4),
            "coordinates": _round(_classical_mds(distances), 4)}


def _x_log_x(values):
    """values * ln(values), 0 where a value is 0."""
    logs = np.log(values, out=np.zeros_like(values), where=values > 0)
    return values * logs


def _js_distance(own_p, own_q, mixed):
    """Jensen-Shannon distance in bits, in [0, 1], from sum p ln p, sum q ln q and
    sum m ln m (m = (p + q) / 2): the divergence is H(m) - (H(p) + H(q)) / 2. Clipped, so
    round-off on near-identical or near-disjoint distributions cannot give NaN or more than 1."""
    divergence = ((own_p + own_q) / 2 - mixed) / np.log(2)
    return np.sqrt(np.clip(divergence, 0.0, 1.0))


def _classical_mds(distances) -> np.ndarray:
    """Coordinates in 2-D whose distances best match ``distances`` (Torgerson scaling)."""
    k = len(distances)
    centering = np.eye(k) - np.full((k, k), 1.0 / k)
    gram = -0.5 * centering @ (distances ** 2) @ centering
    values, vectors = np.linalg.eigh(gram)
    top = np.argsort(values)[::-1][:2]
    coords = vectors[:, top] * np.sqrt(np.clip(values[top], 0, None))
    if coords.shape[1] < 2:
        coords = np.hstack([coords, np.zeros((k, 2 - coords.shape[1]))])
    # eigh's signs are arbitrary: fix them so the same topics are drawn the same way each time.
    signs = np.sign(coords[np.abs(coords).argmax(axis=0), [0, 1]])
    return coords * np.where(signs == 0, 1, signs) + 0.0  # no -0.0 in the JSON


def _cosine(rows) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    unit = np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0)
    return unit @ unit.T


# ---------------------------------------------------------------------------- labels

def _labels_vs_topics(labels, dominant, n_topics) -> dict:
    from ..evaluate import label_agreement

    names, codes = np.unique(np.asarray(labels, dtype=str), return_inverse=True)
    table = np.zeros((len(names), n_topics), dtype=np.int64)
    np.add.at(table, (codes, dominant), 1)
    order = np.argsort(-table.sum(axis=1), kind="stable")
    names, table = names[order].tolist(), table[order]
    if len(names) > MAX_LABELS:
        other = table[MAX_LABELS - 1:].sum(axis=0, keepdims=True)
        names = names[:MAX_LABELS - 1] + [f"(other {len(names) - MAX_LABELS + 1} labels)"]
        table = np.vstack([table[:MAX_LABELS - 1], other])
    agreement = label_agreement(labels, dominant.tolist())
    return {"labels": names, "table": table.tolist(),
            **{key: round(value, 4) for key, value in agreement.items()}}


# ---------------------------------------------------------------------------- helpers

def _codes(values) -> np.ndarray:
    return np.unique(np.asarray(values, dtype=str), return_inverse=True)[1].ravel()


def _round(array, digits: int):
    return np.round(np.asarray(array, dtype=np.float64), digits).tolist()
