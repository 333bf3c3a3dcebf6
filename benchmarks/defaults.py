"""Choosing the default model by leave-one-corpus-out over the four labelled corpora.

    python benchmarks/defaults.py [--seeds 3] [--only NAME,NAME] [--candidates NAME,NAME]

Every candidate (a model, its settings and the matrix it is fitted on) is fitted on each
corpus of ``benchmarks/quality.py`` (20 Newsgroups, Reuters R8, THUCNews headlines, the
Chinese 6-category news) with K = the number of classes, topicmf's tokens and ``analyze``'s
vocabulary defaults, for ``--seeds`` seeds. It prints one table per corpus (NMI and ARI of
the dominant topic with the labels, NPMI of the top 10 terms with gensim c_npmi on the corpus
itself, diversity of the top 25, fit time), then the leave-one-corpus-out choice: for each
corpus, the candidate of highest mean NMI on the other three, and how it does on the one left
out against the best candidate there. A default is only as good as its worst fold.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from quality import CASES, read_case, tokenize  # noqa: E402

from topicmf import evaluate  # noqa: E402
from topicmf.models import NMF, PLSA  # noqa: E402
from topicmf.vectorize import Vocabulary, tfidf_weights, vectorize  # noqa: E402

#: name: (matrix, make(k, seed))
CANDIDATES = {
    "NMF (Frobenius), TF-IDF": ("tfidf", lambda k, s: NMF(k, random_state=s)),
    "KL-NMF, TF-IDF": ("tfidf", lambda k, s: NMF(k, beta_loss="kullback-leibler",
                                                 random_state=s)),
    "KL-NMF, TF-IDF, 100 iterations": ("tfidf", lambda k, s: NMF(
        k, beta_loss="kullback-leibler", max_iter=100, random_state=s)),
    "KL-NMF, sublinear TF-IDF": ("sublinear", lambda k, s: NMF(
        k, beta_loss="kullback-leibler", random_state=s)),
    "KL-NMF, counts": ("counts", lambda k, s: NMF(k, beta_loss="kullback-leibler",
                                                  random_state=s)),
    "PLSA, background 0": ("counts", lambda k, s: PLSA(k, background=0.0, random_state=s)),
    "PLSA, background 0.5": ("counts", lambda k, s: PLSA(k, background=0.5,
                                                         random_state=s)),
    "PLSA, background 0.8": ("counts", lambda k, s: PLSA(k, background=0.8,
                                                         random_state=s)),
}


def prepare(name):
    corpus = read_case(name)
    token_lists = tokenize(corpus.texts, "topicmf")
    dtm = vectorize(token_lists, labels=corpus.labels)
    keep = np.flatnonzero(np.diff(dtm.counts.indptr) > 0)
    dtm = dtm.select(keep)
    token_lists = [token_lists[i] for i in keep]
    sublinear = tfidf_weights(dtm.counts, Vocabulary(
        dtm.vocabulary.terms, dtm.vocabulary.idf, {**dtm.vocabulary.settings,
                                                   "sublinear_tf": True}))
    matrices = {"tfidf": dtm.tfidf, "counts": dtm.counts.astype(np.float64),
                "sublinear": sublinear}
    return dtm, token_lists, matrices


def run_corpus(name, candidates, seeds):
    started = time.perf_counter()
    dtm, token_lists, matrices = prepare(name)
    k = len(set(dtm.labels))
    print(f"{name}: {dtm.n_docs} documents, {dtm.n_terms} terms, K={k} "
          f"(prepared in {time.perf_counter() - started:.1f} s)", file=sys.stderr)
    scorer = evaluate.Coherence(token_lists, dtm.terms, topn=10)
    rows = {}
    for label in candidates:
        kind, make = CANDIDATES[label]
        runs = []
        for seed in range(seeds):
            model = make(k, seed)
            started = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                doc_topic = model.fit_transform(matrices[kind])
            seconds = time.perf_counter() - started
            top = [[dtm.terms[i] for i in np.argsort(-row)[:25]] for row in model.components_]
            agreement = evaluate.label_agreement(dtm.labels, doc_topic.argmax(axis=1))
            runs.append({"nmi": agreement["nmi"], "ari": agreement["ari"], "top": top,
                         "diversity": evaluate.topic_diversity(top, 25), "seconds": seconds})
        for run, score in zip(runs, scorer.score_many([r["top"] for r in runs], ["c_npmi"])):
            run["npmi"] = score["c_npmi"].value
        rows[label] = {m: (float(np.mean([r[m] for r in runs])),
                           float(np.std([r[m] for r in runs])))
                       for m in ("nmi", "ari", "npmi", "diversity", "seconds")}
        print(f"  {label}: NMI {rows[label]['nmi'][0]:.3f}, "
              f"{rows[label]['seconds'][0]:.1f} s a fit", file=sys.stderr)
    return dtm, k, rows


def print_table(name, dtm, k, rows, seeds):
    print(f"\n{name}: {dtm.n_docs} documents, {dtm.n_terms} terms, K = {k}, {seeds} seeds; "
          f"mean ± sd over the seeds\n")
    print("| candidate | NMI | ARI | NPMI (top 10) | diversity (top 25) | fit s |")
    print("|---|---|---|---|---|---|")
    for label, v in rows.items():
        cells = " | ".join(f"{v[m][0]:.3f} ± {v[m][1]:.3f}"
                           for m in ("nmi", "ari", "npmi", "diversity"))
        print(f"| {label} | {cells} | {v['seconds'][0]:.1f} |")
    sys.stdout.flush()


def leave_one_out(results):
    """For each corpus: the candidate of best mean NMI on the others, its NMI there, the best
    candidate's there, and the gap."""
    names = list(results)
    candidates = list(results[names[0]])
    folds = []
    for held in names:
        others = [n for n in names if n != held]
        chosen = max(candidates, key=lambda c: np.mean([results[n][c]["nmi"][0] for n in others]))
        best = max(candidates, key=lambda c: results[held][c]["nmi"][0])
        folds.append((held, chosen, results[held][chosen]["nmi"][0], best,
                      results[held][best]["nmi"][0]))
    return folds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="corpora, comma-separated: " + ", ".join(CASES))
    parser.add_argument("--candidates", help="comma-separated names of CANDIDATES")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(CASES)
    candidates = args.candidates.split(",") if args.candidates else list(CANDIDATES)
    for label in candidates:
        if label not in CANDIDATES:
            parser.error(f"unknown candidate {label!r}; choose from {', '.join(CANDIDATES)}")
    results = {}
    for name in names:
        dtm, k, rows = run_corpus(name, candidates, args.seeds)
        print_table(name, dtm, k, rows, args.seeds)
        results[name] = rows
    print("\nMean over the corpora\n")
    print("| candidate | NMI | NPMI | worst NMI gap to the best candidate |")
    print("|---|---|---|---|")
    for label in candidates:
        gaps = [max(r[c]["nmi"][0] for c in candidates) - r[label]["nmi"][0]
                for r in results.values()]
        print(f"| {label} | {np.mean([r[label]['nmi'][0] for r in results.values()]):.3f} | "
              f"{np.mean([r[label]['npmi'][0] for r in results.values()]):.3f} | "
              f"{max(gaps):.3f} |")
    if len(names) > 1:
        print("\nLeave one corpus out (chosen by mean NMI on the other corpora)\n")
        print("| left out | chosen on the others | its NMI there | best there | best NMI | gap |")
        print("|---|---|---|---|---|---|")
        for held, chosen, nmi, best, best_nmi in leave_one_out(results):
            print(f"| {held} | {chosen} | {nmi:.3f} | {best} | {best_nmi:.3f} | "
                  f"{best_nmi - nmi:.3f} |")


if __name__ == "__main__":
    main()
