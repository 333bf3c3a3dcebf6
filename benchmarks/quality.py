"""Topic quality of topicmf's models beside their peers, on the same tokens, over seeds.

    python benchmarks/quality.py [--only 20ng|reuters|thucnews|news6] [--seeds 5]
                                 [--k-factor 1] [--skip-slow]
    python benchmarks/quality.py --only 20ng --tokens sklearn --min-df 5 --max-df 0.95

The four labelled corpora of ``../shared/corpora/``: 20 Newsgroups (20 classes), Reuters-21578
(the 8 most common single-topic classes, R8), THUCNews headlines (10) and the Chinese
6-category news (6). For each corpus: tokenize once with topicmf's tokenizer (or, with
``--tokens sklearn``, scikit-learn's default analyzer with its English stopwords), vectorize
once (min_df 2, max_df 0.5 unless set: topicmf analyze's defaults), fit every model with
K = classes x ``--k-factor`` and each of ``--seeds`` random seeds on that matrix (TF-IDF for
LSA / NMF, counts for the probabilistic models), and score the top 10 terms of every fit with
one gensim c_npmi pass over the corpus itself (window 10). Prints a Markdown table per corpus:
means and standard deviations over the seeds of NMI and ARI (dominant topic against the
labels), NPMI, diversity (top 25), and the stability of the topics over the seeds (mean
matched cosine), with the mean fit time. "topicmf default" is what ``topicmf analyze`` fits
with no options. tomotopy's LDA is a peer when tomotopy is installed (``pip install tomotopy``;
not a dependency of topicmf).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from topicmf import evaluate  # noqa: E402
from topicmf.corpus import Corpus, load_corpus  # noqa: E402
from topicmf.models import LDA, LSA, NMF, PLSA, make_model, model_class  # noqa: E402
from topicmf.pipeline import DEFAULTS  # noqa: E402
from topicmf.tokenize import Tokenizer  # noqa: E402
from topicmf.vectorize import vectorize  # noqa: E402

CORPORA = ROOT.parent / "shared" / "corpora"
#: name: (file, number of classes kept (None: all), id column)
CASES = {"20ng": ("20newsgroups_bydate.jsonl.gz", None, "filename"),
         "reuters": ("reuters21578.jsonl.gz", 8, "filename"),
         "thucnews": ("thucnews_titles_zh.jsonl.gz", None, None),
         "news6": ("chinese_news_6cat_zh.jsonl.gz", None, None)}


def models(k, skip_slow, n_init=1):
    from sklearn.decomposition import NMF as SkNMF
    from sklearn.decomposition import LatentDirichletAllocation

    default = DEFAULTS["model"]
    table = {
        "topicmf default": (model_class(default).input_kind,
                            lambda seed: make_model(default, k, random_state=seed)),
        **({} if n_init == 1 else {
            f"topicmf NMF, n_init {n_init}": ("tfidf", lambda seed: NMF(
                k, random_state=seed, n_init=n_init)),
            f"topicmf NMF-KL, n_init {n_init}": ("tfidf", lambda seed: NMF(
                k, beta_loss="kullback-leibler", random_state=seed, n_init=n_init)),
            f"topicmf PLSA, n_init {n_init}": ("counts", lambda seed: PLSA(
                k, random_state=seed, n_init=n_init))}),
        "topicmf LSA": ("tfidf", lambda seed: LSA(k, random_state=seed)),
        "topicmf NMF": ("tfidf", lambda seed: NMF(k, random_state=seed)),
        "topicmf NMF-KL": ("tfidf", lambda seed: NMF(k, beta_loss="kullback-leibler",
                                                     random_state=seed)),
        "topicmf PLSA": ("counts", lambda seed: PLSA(k, random_state=seed)),
        "sklearn NMF CD": ("tfidf", lambda seed: SkNMF(k, init="nndsvda", max_iter=400,
                                                       random_state=seed)),
        "sklearn NMF KL (MU)": ("tfidf", lambda seed: SkNMF(k, init="nndsvda", solver="mu",
                                                           beta_loss="kullback-leibler",
                                                           max_iter=400, random_state=seed)),
        "sklearn LDA": ("counts", lambda seed: LatentDirichletAllocation(
            k, learning_method="online", random_state=seed)),
        "gensim LDA (topicmf LDA)": ("counts", lambda seed: LDA(k, passes=5, random_state=seed)),
    }
    try:
        import tomotopy  # noqa: F401
        table["tomotopy LDA"] = ("tokens", lambda seed: TomotopyLDA(k, seed))
    except ImportError:
        print("tomotopy is not installed (pip install tomotopy): its LDA is left out",
              file=sys.stderr)
    if skip_slow:
        for name in ("sklearn LDA", "gensim LDA (topicmf LDA)", "sklearn NMF KL (MU)"):
            table.pop(name)
    return table


class TomotopyLDA:
    """tomotopy's LDA on the token lists (its own recipe: collapsed Gibbs sampling, 1,000
    iterations, alpha 0.1, eta 0.01 as its defaults), restricted to our vocabulary."""

    def __init__(self, k, seed):
        self.k, self.seed = k, seed

    def fit_tokens(self, token_lists, terms):
        import tomotopy as tp

        vocabulary = set(terms)
        model = tp.LDAModel(k=self.k, seed=self.seed)
        kept = []
        for tokens in token_lists:
            words = [t for t in tokens if t in vocabulary]
            kept.append(bool(words))
            if words:
                model.add_doc(words)
        model.train(1000, workers=1)
        index = {term: i for i, term in enumerate(terms)}
        self.components_ = np.zeros((self.k, len(terms)))
        for z in range(self.k):
            for word, p in model.get_topic_words(z, top_n=50):
                self.components_[z, index[word]] = p
        doc_topic = np.zeros((len(token_lists), self.k))
        rows = np.flatnonzero(kept)
        doc_topic[rows] = [doc.get_topic_dist() for doc in model.docs]
        return doc_topic


def tokenize(texts, tokens: str) -> list[list[str]]:
    if tokens == "sklearn":
        from sklearn.feature_extraction.text import CountVectorizer
        analyzer = CountVectorizer(stop_words="english").build_analyzer()
        return [analyzer(text) for text in texts]
    return Tokenizer().tokenize_many(texts)


def read_case(name) -> Corpus:
    filename, n_classes, id_column = CASES[name]
    if n_classes is None:
        return load_corpus(CORPORA / filename, id_column=id_column)
    # The n most common classes of documents that have a body and exactly one label.
    rows = [json.loads(line) for line in gzip.open(CORPORA / filename, "rt", encoding="utf-8")]
    rows = [r for r in rows if r.get("label") and (r.get("text") or "").strip()]
    kept = {label for label, _ in Counter(r["label"] for r in rows).most_common(n_classes)}
    rows = [r for r in rows if r["label"] in kept]
    return Corpus(ids=[r[id_column] for r in rows], texts=[r["text"] for r in rows],
                  labels=[r["label"] for r in rows], name=name, source=str(CORPORA / filename))


def run_case(name, skip_slow, tokens="topicmf", min_df=2, max_df=0.5, seeds=5, k_factor=1,
             n_init=1):
    corpus = read_case(name)
    k = len(set(corpus.labels)) * k_factor
    started = time.perf_counter()
    token_lists = tokenize(corpus.texts, tokens)
    dtm = vectorize(token_lists, labels=corpus.labels, min_df=min_df, max_df=max_df)
    keep = np.flatnonzero(np.diff(dtm.counts.indptr) > 0)
    dtm = dtm.select(keep)
    token_lists = [token_lists[i] for i in keep]
    print(f"{name}: {dtm.n_docs} documents, {dtm.n_terms} terms, K={k} "
          f"(prepared in {time.perf_counter() - started:.1f} s)", file=sys.stderr)
    fits = {}
    for label, (kind, make) in models(k, skip_slow, n_init).items():
        fits[label] = []
        for seed in range(seeds):
            estimator = make(seed)
            started = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if kind == "tokens":
                    doc_topic = estimator.fit_tokens(token_lists, list(dtm.terms))
                else:
                    doc_topic = estimator.fit_transform(dtm.matrix_for(kind))
            seconds = time.perf_counter() - started
            H = np.asarray(estimator.components_, dtype=np.float64)
            top = [[dtm.terms[i] for i in np.argsort(-row)[:25]] for row in H]
            fits[label].append((top, doc_topic.argmax(axis=1), seconds, H))
        print(f"  {label}: {np.mean([f[2] for f in fits[label]]):.1f} s a fit", file=sys.stderr)
    started = time.perf_counter()
    scorer = evaluate.Coherence(token_lists, dtm.terms, topn=10)
    flat = [fit[0] for runs in fits.values() for fit in runs]
    scores = iter(scorer.score_many(flat, ["c_npmi"]))
    print(f"  coherence of {len(flat)} fits: {time.perf_counter() - started:.1f} s",
          file=sys.stderr)
    rows = []
    for label, runs in fits.items():
        values = {"nmi": [], "ari": [], "npmi": [], "diversity": []}
        for top, dominant, _, _ in runs:
            agreement = evaluate.label_agreement(dtm.labels, dominant)
            values["nmi"].append(agreement["nmi"])
            values["ari"].append(agreement["ari"])
            values["npmi"].append(next(scores)["c_npmi"].value)
            values["diversity"].append(evaluate.topic_diversity(top, 25))
        stable = evaluate.stability([np.abs(H) for *_, H in runs]) if len(runs) > 1 else np.nan
        rows.append((label, {name: (np.mean(v), np.std(v)) for name, v in values.items()},
                     stable, np.mean([r[2] for r in runs])))
    return k, dtm, rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=list(CASES))
    parser.add_argument("--skip-slow", action="store_true",
                        help="leave out scikit-learn's LDA and KL-MU NMF and gensim's LDA")
    parser.add_argument("--tokens", choices=["topicmf", "sklearn"], default="topicmf",
                        help="whose tokenizer makes the tokens every model sees")
    parser.add_argument("--min-df", type=float, default=2)
    parser.add_argument("--max-df", type=float, default=0.5)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--k-factor", type=int, default=1, help="K = classes x this")
    parser.add_argument("--n-init", type=int, default=1,
                        help="also topicmf's NMF, NMF-KL and PLSA with this many restarts")
    args = parser.parse_args(argv)
    min_df = int(args.min_df) if args.min_df >= 1 else args.min_df
    for name in [args.only] if args.only else list(CASES):
        k, dtm, rows = run_case(name, args.skip_slow, args.tokens, min_df, args.max_df,
                                args.seeds, args.k_factor, args.n_init)
        print(f"\n{name}: {dtm.n_docs} documents, {dtm.n_terms} terms, K = {k}, "
              f"{args.seeds} seeds ({args.tokens} tokens, min_df {min_df:g}, "
              f"max_df {args.max_df:g}); mean ± sd over the seeds\n")
        print("| model | NMI | ARI | NPMI (top 10) | diversity (top 25) | stability | fit s |")
        print("|---|---|---|---|---|---|---|")
        for label, v, stable, seconds in rows:
            cells = " | ".join(f"{v[m][0]:.3f} ± {v[m][1]:.3f}"
                               for m in ("nmi", "ari", "npmi", "diversity"))
            print(f"| {label} | {cells} | {stable:.3f} | {seconds:.1f} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
