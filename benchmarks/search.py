"""Search by topic against plain TF-IDF cosine search, on 20 Newsgroups.

    python benchmarks/search.py [--queries 200] [--corpora ../shared/corpora]

For each of ``--queries`` documents drawn with seed 0, its own text is the query: folded into
each model (``result.search``'s ranking: cosine of topic vectors) and, for the baseline, the
TF-IDF cosine of the query's row with every document. The query document is left out of its
results. precision@10 is the share of the 10 results from the query's newsgroup, averaged over
the queries; the table also gives the fit and the time per query.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = (("nmf", 20, "the default (NMF, K = classes)"), ("plsa", 20, "PLSA, K = classes"),
           ("lsa", 20, "LSA, K = classes"), ("lsa", 100, "LSA, K = 100"),
           ("lsa", 200, "LSA, K = 200"), ("lsa", 400, "LSA, K = 400"))


def precision_at(labels: np.ndarray, query: int, rows: np.ndarray) -> float:
    return float(np.mean(labels[rows] == labels[query]))


def main() -> None:
    from topicmf import load_corpus
    from topicmf.pipeline import fit_prepared, prepare
    from topicmf.search import rank_by_cosine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--corpora", type=Path, default=ROOT.parent / "shared" / "corpora")
    args = parser.parse_args()
    corpus = load_corpus(args.corpora / "20newsgroups_bydate.jsonl.gz")
    start = time.perf_counter()
    prepared = prepare(corpus)
    print(f"20 Newsgroups: {len(corpus)} documents, tokenized and vectorized in "
          f"{time.perf_counter() - start:.0f} s")
    dtm = prepared.dtm
    labels = np.asarray(dtm.labels)
    texts = [corpus.texts[int(i)] for i in prepared.fitted_rows]
    queries = np.random.default_rng(0).choice(dtm.n_docs, args.queries, replace=False)

    tfidf = dtm.matrix_for("tfidf").tocsr()
    start = time.perf_counter()
    base = []
    for q in queries:
        scores = (tfidf @ tfidf[q].T).toarray().ravel()  # rows are unit length: cosine
        scores[q] = -np.inf
        top = np.argsort(-scores, kind="stable")[:10]
        base.append(precision_at(labels, q, top))
    rows = [("TF-IDF cosine (baseline)", "-", np.mean(base), (time.perf_counter() - start)
             / len(queries))]
    for model, k, name in CONFIGS:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = fit_prepared(prepared, k, model=model, random_state=0)
        fit_s = time.perf_counter() - start
        vectors = np.asarray(result.doc_weights, dtype=np.float64)
        start = time.perf_counter()
        folded, _ = result.analysis.doc_vectors([texts[q] for q in queries])
        found = [precision_at(labels, q, rank_by_cosine(vectors, folded[i], 10, exclude=q)[0])
                 for i, q in enumerate(queries)]
        rows.append((name, f"{fit_s:.0f}", np.mean(found),
                     (time.perf_counter() - start) / len(queries)))
    print(f"\n| ranking | fit s | precision@10 ({len(queries)} queries) | ms per query |")
    print("|---|---|---|---|")
    for name, fit_s, precision, seconds in rows:
        print(f"| {name} | {fit_s} | {precision:.3f} | {seconds * 1000:.1f} |")


if __name__ == "__main__":
    main()
