"""Document similarity: TF-IDF, sublinear TF-IDF and log-entropy, as they are and through LSA,
against gensim's LSI on its log-entropy, on the four labelled corpora.

    python benchmarks/similarity.py [--only 20ng|reuters|thucnews|news6] [--max-docs 8000]
                                    [--pairs 2000] [--queries 200]

The corpora and their classes are those of ``benchmarks/quality.py``. Each is tokenized once
with topicmf's tokenizer and vectorized three times on the same vocabulary (min_df 2, max_df
0.5: ``topicmf analyze``'s defaults), documents left without terms dropped; a corpus of more
than ``--max-docs`` documents is first cut to a sample of that many (seed 0). The task, drawn
once per corpus with seed 0: ``--pairs`` pairs of documents with the same label and as many
with different labels, each pair scored by the cosine of the two document vectors: ROC AUC
(how often a same-label pair scores above a different-label one); and ``--queries`` documents
as queries, the other documents ranked by cosine to the query's vector (``result.similar``'s
ranking, the query left out): precision@10 is the share of the 10 from the query's class.
Each figure comes with its standard error (Hanley and McNeil's for the AUC; over the queries for
precision@10); every row sees the same pairs and queries.

Rows: the weighted rows themselves (lexical similarity), LSA at K = 200 and 400 on each
weighting (the fitted document vectors, U S), the default model and Frobenius NMF (K =
classes, their topic mixtures) and, as the anchor, gensim's LsiModel (its defaults) on
gensim's LogEntropyModel over the same counts. fit s: the fit alone (vectorizing is under a
second).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from quality import CASES, read_case, tokenize  # noqa: E402

from topicmf.models import LSA, make_model, model_class  # noqa: E402
from topicmf.pipeline import DEFAULTS  # noqa: E402
from topicmf.search import rank_by_cosine  # noqa: E402
from topicmf.vectorize import vectorize  # noqa: E402

#: (name, vectorize options) of each weighting.
WEIGHTINGS = (("TF-IDF", {}), ("sublinear TF-IDF", {"sublinear_tf": True}),
              ("log-entropy", {"weighting": "log-entropy"}))
KS = (200, 400)


def sample_pairs(labels: np.ndarray, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """(pairs, same): ``n`` distinct pairs of different documents with the same label and
    ``n`` with different labels, and which is which."""
    by_label = {label: np.flatnonzero(labels == label) for label in np.unique(labels)}
    found = {True: set(), False: set()}
    while min(len(pairs) for pairs in found.values()) < n:
        a = int(rng.integers(len(labels)))
        same = len(found[True]) < n and (len(found[False]) >= n or rng.random() < 0.5)
        if same:
            b = int(rng.choice(by_label[labels[a]]))
        else:
            b = int(rng.integers(len(labels)))
            if labels[b] == labels[a]:
                continue
        if a != b:
            found[same].add((min(a, b), max(a, b)))
    pairs = [*sorted(found[True])[:n], *sorted(found[False])[:n]]
    return np.array(pairs), np.r_[np.ones(n, bool), np.zeros(n, bool)]


def scores(vectors, pairs, labels, queries) -> tuple[float, float, float, float]:
    """(ROC AUC of the pairs' cosines, its standard error, precision@10 of the queries, its
    standard error) for dense vectors or l2-normalized sparse rows."""
    from sklearn.metrics import roc_auc_score

    if hasattr(vectors, "multiply"):  # sparse rows of unit length: cosine is the dot product
        vectors = vectors.tocsr()
        cosine = np.asarray(vectors[pairs[:, 0]].multiply(vectors[pairs[:, 1]]).sum(axis=1))
        found = []
        for q in queries:
            row = (vectors @ vectors[q].T).toarray().ravel()
            row[q] = -np.inf
            found.append(np.mean(labels[np.argsort(-row, kind="stable")[:10]] == labels[q]))
    else:
        norms = np.maximum(np.linalg.norm(vectors, axis=1), 1e-300)
        unit = vectors / norms[:, None]
        cosine = np.einsum("ij,ij->i", unit[pairs[:, 0]], unit[pairs[:, 1]])
        found = [np.mean(labels[rank_by_cosine(vectors, vectors[q], 10, exclude=q)[0]]
                         == labels[q]) for q in queries]
    same = labels[pairs[:, 0]] == labels[pairs[:, 1]]
    auc = roc_auc_score(same, np.ravel(cosine))
    return (auc, auc_standard_error(auc, int(same.sum()), int((~same).sum())),
            float(np.mean(found)), float(np.std(found, ddof=1) / np.sqrt(len(found))))


def auc_standard_error(auc: float, n_positive: int, n_negative: int) -> float:
    """Hanley and McNeil's (1982) standard error of a ROC AUC."""
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    variance = (auc * (1 - auc) + (n_positive - 1) * (q1 - auc * auc)
                + (n_negative - 1) * (q2 - auc * auc)) / (n_positive * n_negative)
    return float(np.sqrt(variance))


def topic_mixtures(name: str, k: int, dtm) -> np.ndarray:
    """The document vectors of the model ``name`` (a key of topicmf.models.VARIANTS), seed
    0, as every output shows them."""
    model = make_model(name, k, random_state=0)
    return model_class(name).display_weights(model.fit_transform(dtm.matrix_for(
        model.input_kind)))


def gensim_lsi(counts, k: int) -> np.ndarray:
    """gensim's LsiModel (its defaults, seed 0) on its LogEntropyModel of the same counts:
    the documents' LSI vectors."""
    import logging

    from gensim.matutils import Sparse2Corpus, corpus2dense
    from gensim.models import LogEntropyModel, LsiModel

    logging.getLogger("gensim").setLevel(logging.WARNING)
    corpus = Sparse2Corpus(counts, documents_columns=False)
    weighted = LogEntropyModel(corpus)[corpus]
    lsi = LsiModel(weighted, num_topics=k, id2word={i: str(i) for i in range(counts.shape[1])},
                   random_seed=0)
    return corpus2dense(lsi[weighted], num_terms=k, num_docs=counts.shape[0]).T


def run_case(name: str, max_docs: int, n_pairs: int, n_queries: int):
    corpus = read_case(name)
    n_read = len(corpus)
    rng = np.random.default_rng(0)
    keep = (np.sort(rng.choice(n_read, max_docs, replace=False)) if n_read > max_docs
            else np.arange(n_read))
    started = time.perf_counter()
    tokens = tokenize([corpus.texts[i] for i in keep], "topicmf")
    labels = [corpus.labels[i] for i in keep]
    tokenized = time.perf_counter() - started
    matrices = {}
    for weighting, options in WEIGHTINGS:
        dtm = vectorize(tokens, labels=labels, **options)
        matrices[weighting] = dtm.select(np.setdiff1d(np.arange(dtm.n_docs), dtm.empty_rows()))
    dtm = matrices["TF-IDF"]
    labels = np.asarray(dtm.labels)
    k = len(set(dtm.labels))
    print(f"{name}: {dtm.n_docs} of {n_read} documents ({len(keep)} sampled), "
          f"{dtm.n_terms} terms, {k} classes; tokenized in {tokenized:.0f} s", file=sys.stderr)
    pairs, _ = sample_pairs(labels, n_pairs, np.random.default_rng(0))
    queries = np.random.default_rng(1).choice(dtm.n_docs, n_queries, replace=False)

    def timed(make):
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            vectors = make()
        return vectors, time.perf_counter() - started

    fits = [(f"{weighting} cosine", lambda m=matrix: m.tfidf, False)
            for weighting, matrix in matrices.items()]
    fits += [(f"LSA K = {n}, {weighting}",
              lambda m=matrix, n=n: LSA(n, random_state=0).fit_transform(m.tfidf), True)
             for n in KS for weighting, matrix in matrices.items()]
    fits += [(label, lambda name=name: topic_mixtures(name, k, dtm), True)
             for name, label in ((DEFAULTS["model"], f"the default ({DEFAULTS['model']}, "
                                  f"K = {k})"), ("nmf", f"NMF (Frobenius), K = {k}"))]
    fits += [(f"gensim LSI K = {n} on its log-entropy (anchor)",
              lambda n=n: gensim_lsi(dtm.counts, n), True) for n in KS]
    LSA(8, random_state=0).fit(dtm.tfidf)  # compiles the kernels, outside the timings
    rows = []
    for label, make, fitted in fits:
        vectors, seconds = timed(make)
        measured = scores(vectors, pairs, labels, queries)
        rows.append((label, *measured, f"{seconds:.0f}" if fitted else "-"))
        print(f"  {label}: AUC {measured[0]:.3f}, P@10 {measured[2]:.3f} ({seconds:.1f} s)",
              file=sys.stderr, flush=True)
    return dtm, n_read, len(keep), k, rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=list(CASES))
    parser.add_argument("--max-docs", type=int, default=8000)
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args(argv)
    for name in [args.only] if args.only else list(CASES):
        dtm, n_read, n_sampled, k, rows = run_case(name, args.max_docs, args.pairs,
                                                   args.queries)
        sample = (f"a sample of {n_sampled} of {n_read}" if n_sampled < n_read
                  else f"all {n_read}")
        print(f"\n{name}: {sample} documents, {dtm.n_docs} with terms, {dtm.n_terms} terms, "
              f"{k} classes; {args.pairs} + {args.pairs} pairs, {args.queries} queries\n")
        print("| vectors | ROC AUC (same vs different label) | precision@10 | fit s |")
        print("|---|---|---|---|")
        for label, auc, auc_se, precision, precision_se, seconds in rows:
            print(f"| {label} | {auc:.3f} ± {auc_se:.3f} | "
                  f"{precision:.3f} ± {precision_se:.3f} | {seconds} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
