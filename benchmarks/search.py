"""Search by topic against plain TF-IDF cosine search, on 20 Newsgroups.

    python benchmarks/search.py [--queries 200] [--corpora ../shared/corpora]

For each of ``--queries`` documents drawn with seed 0, its own text is the query: folded into
each model (``result.search``'s ranking: cosine of topic vectors) and, for the baselines, the
cosine of the query's weighted row (TF-IDF, sublinear TF-IDF, log-entropy) with every
document. The query document is left out of its results. precision@10 is the share of the 10
results from the query's newsgroup, averaged over the queries; the table also gives the fit and
the time per query.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
#: The weightings: name and prepare()'s options.
WEIGHTINGS = {"plain": {}, "sublinear": {"sublinear_tf": True},
              "log-entropy": {"weighting": "log-entropy"}}
#: (weighting, model, K, name) of each ranking by topic vectors.
CONFIGS = (("plain", "nmf", 20, "the default (NMF, K = classes)"),
           ("plain", "plsa", 20, "PLSA, K = classes"), ("plain", "lsa", 20, "LSA, K = classes"),
           ("plain", "lsa", 200, "LSA, K = 200"), ("plain", "lsa", 400, "LSA, K = 400"),
           ("sublinear", "lsa", 200, "LSA, K = 200, sublinear tf"),
           ("sublinear", "lsa", 400, "LSA, K = 400, sublinear tf"),
           ("sublinear", "lsa", 600, "LSA, K = 600, sublinear tf"),
           ("log-entropy", "lsa", 200, "LSA, K = 200, log-entropy"),
           ("log-entropy", "lsa", 400, "LSA, K = 400, log-entropy"))


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
    for weighting, options in WEIGHTINGS.items():
        start = time.perf_counter()
        prepared[weighting] = prepare(corpus, **options)
        print(f"20 Newsgroups: {len(corpus)} documents, tokenized and vectorized "
              f"({weighting}) in {time.perf_counter() - start:.0f} s")
    dtm = prepared["plain"].dtm
    labels = np.asarray(dtm.labels)
    texts = [corpus.texts[int(i)] for i in prepared["plain"].fitted_rows]
    queries = np.random.default_rng(0).choice(dtm.n_docs, args.queries, replace=False)
    for weighting in WEIGHTINGS:
        tfidf = prepared[weighting].dtm.matrix_for("tfidf").tocsr()
        start = time.perf_counter()
        found = []
        for q in queries:
            scores = (tfidf @ tfidf[q].T).toarray().ravel()  # rows are unit length: cosine
            scores[q] = -np.inf
            found.append(precision_at(labels, q, np.argsort(-scores, kind="stable")[:10]))
        name = {"plain": "TF-IDF cosine (the baseline)",
                "sublinear": "TF-IDF cosine, sublinear tf",
                "log-entropy": "log-entropy cosine"}[weighting]
        rows.append((name, "-", np.mean(found), (time.perf_counter() - start) / len(queries)))
    for weighting, model, k, name in CONFIGS:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = fit_prepared(prepared[weighting], k, model=model, random_state=0)
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
