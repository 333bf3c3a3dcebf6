"""PLSA's background weight: the evidence for the default.

    python benchmarks/background.py [--corpora ../shared/corpora] [--weights 0,0.5,0.8,0.9,0.95]

PLSA (topicmf, seed 0, counts, the CLI's pruning) with each background weight b on the same
tokens: 20 Newsgroups (20 topics: NPMI of the top 10 terms, diversity of the top 25), THUCNews
headlines (finance + stocks vs politics with 2 topics, and 10 classes with 10 topics) and the
first 3,000 articles of the 6-class Chinese news corpus; purity and NMI of the dominant topic
against the labels everywhere, NPMI everywhere (the corpus itself as the reference).
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np

from topicmf import PLSA, Tokenizer, load_corpus, vectorize
from topicmf.evaluate import Coherence, label_agreement, topic_diversity

ROOT = Path(__file__).resolve().parents[1]


def cases(corpora: Path, tokenizer: Tokenizer):
    ng = load_corpus(corpora / "20newsgroups_bydate.jsonl.gz")
    yield "20 Newsgroups", tokenizer.tokenize_many(ng.texts), ng.labels, 20
    thuc = load_corpus(corpora / "thucnews_titles_zh.jsonl.gz")
    tokens = tokenizer.tokenize_many(thuc.texts)
    keep = [i for i, label in enumerate(thuc.labels) if label in ("finance", "stocks", "politics")]
    yield ("THUCNews finance+stocks vs politics", [tokens[i] for i in keep],
           ["politics" if thuc.labels[i] == "politics" else "finance" for i in keep], 2)
    yield "THUCNews 10 classes", tokens, thuc.labels, 10
    news = load_corpus(corpora / "chinese_news_6cat_zh.jsonl.gz", limit=3000)
    yield "Chinese news 6 classes (3,000)", tokenizer.tokenize_many(news.texts), news.labels, 6
    reuters = load_corpus(corpora / "reuters21578.jsonl.gz")
    keep = [i for i, (label, text) in enumerate(zip(reuters.labels, reuters.texts))
            if label and text.strip()]
    yield ("Reuters-21578, one topic (20)", tokenizer.tokenize_many([reuters.texts[i] for i in keep]),
           [reuters.labels[i] for i in keep], 20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", type=Path, default=ROOT.parent / "shared" / "corpora")
    parser.add_argument("--weights", default="0,0.5,0.8,0.9,0.95")
    args = parser.parse_args()
    weights = [float(w) for w in args.weights.split(",")]
    warnings.simplefilter("ignore")
    print("| corpus | b | purity | NMI | NPMI | diversity |\n|---|---|---|---|---|---|")
    for name, tokens, labels, k in cases(args.corpora, Tokenizer()):
        dtm = vectorize(tokens, labels=labels)
        dtm = dtm.select(np.setdiff1d(np.arange(dtm.n_docs), dtm.empty_rows()))
        topic_sets, agreements = [], []
        for weight in weights:
            model = PLSA(k, background=weight, random_state=0)
            topics = model.fit_transform(dtm.counts).argmax(axis=1)
            agreements.append(label_agreement(dtm.labels, topics))
            topic_sets.append([[t for t, _ in topic] for topic in model.top_terms(dtm.terms, 25)])
        scores = Coherence(tokens, dtm.terms, topn=10).score_many(
            [[t[:10] for t in terms] for terms in topic_sets])
        for weight, agreement, terms, score in zip(weights, agreements, topic_sets, scores):
            print(f"| {name} | {weight:g} | {agreement['purity']:.3f} | {agreement['nmi']:.3f} | "
                  f"{score['c_npmi'].value:.3f} | {topic_diversity(terms):.3f} |", flush=True)


if __name__ == "__main__":
    main()
