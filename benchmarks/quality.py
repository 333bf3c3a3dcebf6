"""Topic quality of topicmf's models beside scikit-learn's and gensim's, on the same tokens.

    python benchmarks/quality.py [--only 20ng|thucnews] [--skip-slow]
    python benchmarks/quality.py --only 20ng --tokens sklearn --min-df 5 --max-df 0.95

For each corpus: tokenize once with topicmf's tokenizer (or, with ``--tokens sklearn``,
scikit-learn's default analyzer with its English stopwords: no address filter, numbers kept,
words split at apostrophes, hyphens and dots), vectorize once (min_df 2, max_df 0.5 unless set),
fit every model on that matrix (TF-IDF for LSA / NMF, counts for the probabilistic models),
and score the top 10 terms of every model with one gensim c_npmi pass over the corpus itself
(window 10). Prints a Markdown table: NPMI, diversity (top 25), NMI / purity with the labels,
fit seconds.
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

from topicmf import evaluate  # noqa: E402
from topicmf.corpus import load_corpus  # noqa: E402
from topicmf.models import LDA, LSA, NMF, PLSA  # noqa: E402
from topicmf.tokenize import Tokenizer  # noqa: E402
from topicmf.vectorize import vectorize  # noqa: E402

CORPORA = ROOT.parent / "shared" / "corpora"
CASES = {"20ng": ("20newsgroups_bydate.jsonl.gz", 20, "filename"),
         "thucnews": ("thucnews_titles_zh.jsonl.gz", 10, None)}


def models(k, skip_slow):
    from sklearn.decomposition import NMF as SkNMF
    from sklearn.decomposition import LatentDirichletAllocation

    table = {
        "topicmf LSA": ("tfidf", lambda: LSA(k, random_state=0)),
        "topicmf NMF": ("tfidf", lambda: NMF(k, random_state=0)),
        "topicmf NMF-KL": ("tfidf", lambda: NMF(k, beta_loss="kullback-leibler", random_state=0)),
        "topicmf PLSA": ("counts", lambda: PLSA(k, random_state=0)),
        "sklearn NMF CD": ("tfidf", lambda: SkNMF(k, init="nndsvda", max_iter=400,
                                                  random_state=0)),
        "sklearn NMF KL (MU)": ("tfidf", lambda: SkNMF(k, init="nndsvda", solver="mu",
                                                      beta_loss="kullback-leibler",
                                                      max_iter=400, random_state=0)),
        "sklearn LDA": ("counts", lambda: LatentDirichletAllocation(
            k, learning_method="online", random_state=0)),
        "gensim LDA (topicmf LDA)": ("counts", lambda: LDA(k, passes=5, random_state=0)),
    }
    if skip_slow:
        table.pop("sklearn LDA")
        table.pop("gensim LDA (topicmf LDA)")
    return table


def tokenize(texts, tokens: str) -> list[list[str]]:
    if tokens == "sklearn":
        from sklearn.feature_extraction.text import CountVectorizer
        analyzer = CountVectorizer(stop_words="english").build_analyzer()
        return [analyzer(text) for text in texts]
    return Tokenizer().tokenize_many(texts)


def run_case(name, skip_slow, tokens="topicmf", min_df=2, max_df=0.5):
    filename, k, id_column = CASES[name]
    corpus = load_corpus(CORPORA / filename, id_column=id_column)
    started = time.perf_counter()
    token_lists = tokenize(corpus.texts, tokens)
    dtm = vectorize(token_lists, labels=corpus.labels, min_df=min_df, max_df=max_df)
    keep = np.flatnonzero(np.diff(dtm.counts.indptr) > 0)
    dtm = dtm.select(keep)
    print(f"{name}: {dtm.n_docs} documents, {dtm.n_terms} terms, K={k} "
          f"(prepared in {time.perf_counter() - started:.1f} s)", file=sys.stderr)
    fits = {}
    for label, (kind, make) in models(k, skip_slow).items():
        estimator = make()
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            doc_topic = estimator.fit_transform(dtm.matrix_for(kind))
        seconds = time.perf_counter() - started
        top = [[dtm.terms[i] for i in np.argsort(-row)[:25]] for row in estimator.components_]
        fits[label] = (top, doc_topic.argmax(axis=1), seconds)
        print(f"  {label}: {seconds:.1f} s", file=sys.stderr)
    started = time.perf_counter()
    scorer = evaluate.Coherence(token_lists, dtm.terms, topn=10)
    scores = scorer.score_many([top for top, _, _ in fits.values()], ["c_npmi"])
    print(f"  coherence of {len(fits)} models: {time.perf_counter() - started:.1f} s",
          file=sys.stderr)
    rows = []
    for (label, (top, dominant, seconds)), score in zip(fits.items(), scores):
        agreement = evaluate.label_agreement(dtm.labels, dominant)
        rows.append((label, score["c_npmi"].value, evaluate.topic_diversity(top, 25),
                     agreement["nmi"], agreement["purity"], seconds))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=list(CASES))
    parser.add_argument("--skip-slow", action="store_true", help="leave out the two LDAs")
    parser.add_argument("--tokens", choices=["topicmf", "sklearn"], default="topicmf",
                        help="whose tokenizer makes the tokens every model sees")
    parser.add_argument("--min-df", type=float, default=2)
    parser.add_argument("--max-df", type=float, default=0.5)
    args = parser.parse_args(argv)
    min_df = int(args.min_df) if args.min_df >= 1 else args.min_df
    for name in [args.only] if args.only else list(CASES):
        rows = run_case(name, args.skip_slow, args.tokens, min_df, args.max_df)
        print(f"\n{name} ({args.tokens} tokens, min_df {min_df:g}, max_df {args.max_df:g})"
              f"\n\n| model | NPMI (top 10) | diversity (top 25) | NMI | purity | fit s |")
        print("|---|---|---|---|---|---|")
        for label, npmi, diversity, nmi, purity, seconds in rows:
            print(f"| {label} | {npmi:.3f} | {diversity:.3f} | {nmi:.3f} | {purity:.3f} | "
                  f"{seconds:.1f} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
