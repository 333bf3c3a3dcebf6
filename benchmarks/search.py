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
#: (sublinear tf, model, K, name) of each ranking by topic vectors.
CONFIGS = ((False, "nmf", 20, "the default (NMF, K = classes)"),
           (False, "plsa", 20, "PLSA, K = classes"), (False, "lsa", 20, "LSA, K = classes"),
           (False, "lsa", 200, "LSA, K = 200"), (False, "lsa", 400, "LSA, K = 400"),
           (True, "lsa", 200, "LSA, K = 200, sublinear tf"),
           (True, "lsa", 400, "LSA, K = 400, sublinear tf (recommended)"),
           (True, "lsa", 600, "LSA, K = 600, sublinear tf"))


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
    prepared, rows = {}, []
    for sublinear in (False, True):
        start = time.perf_counter()
        prepared[sublinear] = prepare(corpus, sublinear_tf=sublinear)
        print(f"20 Newsgroups: {len(corpus)} documents, tokenized and vectorized "
              f"(sublinear tf {sublinear}) in {time.perf_counter() - start:.0f} s")
    dtm = prepared[False].dtm
    labels = np.asarray(dtm.labels)
    texts = [corpus.texts[int(i)] for i in prepared[False].fitted_rows]
    queries = np.random.default_rng(0).choice(dtm.n_docs, args.queries, replace=False)
    for sublinear in (False, True):
        tfidf = prepared[sublinear].dtm.matrix_for("tfidf").tocsr()
        start = time.perf_counter()
        found = []
        for q in queries:
            scores = (tfidf @ tfidf[q].T).toarray().ravel()  # rows are unit length: cosine
            scores[q] = -np.inf
            found.append(precision_at(labels, q, np.argsort(-scores, kind="stable")[:10]))
        name = "TF-IDF cosine" + (", sublinear tf" if sublinear else " (the baseline)")
        rows.append((name, "-", np.mean(found), (time.perf_counter() - start) / len(queries)))
    for sublinear, model, k, name in CONFIGS:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = fit_prepared(prepared[sublinear], k, model=model, random_state=0)
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
