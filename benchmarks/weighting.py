"""Plain against sublinear TF in the TF-IDF matrix: the evidence for the default.

    python benchmarks/weighting.py [--corpora ../shared/corpora]

NMF and KL-NMF (topicmf, seed 0) on the same tokens with sublinear_tf off and on; 20 Newsgroups
(20 topics: NPMI of the top 10 terms, diversity of the top 25), THUCNews headlines (finance +
stocks vs politics with 2 topics, and 10 classes with 10 topics) and the first 3,000 articles of
the 6-class Chinese news corpus (purity and NMI of the dominant topic).
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np

from topicmf import NMF, Tokenizer, load_corpus, vectorize
from topicmf.evaluate import Coherence, label_agreement, topic_diversity

ROOT = Path(__file__).resolve().parents[1]


def cases(corpora: Path, tokenizer: Tokenizer):
    ng = load_corpus(corpora / "20newsgroups_bydate.jsonl.gz")
    yield "20 Newsgroups", tokenizer.tokenize_many(ng.texts), ng.labels, 20, True
    thuc = load_corpus(corpora / "thucnews_titles_zh.jsonl.gz")
    tokens = tokenizer.tokenize_many(thuc.texts)
    keep = [i for i, label in enumerate(thuc.labels) if label in ("finance", "stocks", "politics")]
    yield ("THUCNews finance+stocks vs politics", [tokens[i] for i in keep],
           ["politics" if thuc.labels[i] == "politics" else "finance" for i in keep], 2, False)
    yield "THUCNews 10 classes", tokens, thuc.labels, 10, False
    news = load_corpus(corpora / "chinese_news_6cat_zh.jsonl.gz", limit=3000)
    yield "Chinese news 6 classes (3,000)", tokenizer.tokenize_many(news.texts), news.labels, 6, False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", type=Path, default=ROOT.parent / "shared" / "corpora")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print(f"{'corpus':<34} {'model':<7} {'tf':<9} {'purity':>7} {'NMI':>6} {'NPMI':>6} {'div':>6}")
    for name, tokens, labels, k, coherence in cases(args.corpora, Tokenizer()):
        for sublinear in (False, True):
            dtm = vectorize(tokens, labels=labels, sublinear_tf=sublinear)
            dtm = dtm.select(np.setdiff1d(np.arange(dtm.n_docs), dtm.empty_rows()))
            scorer = Coherence(tokens, dtm.terms, topn=10) if coherence else None
            for label, model in (("nmf", NMF(k, random_state=0)),
                                 ("nmf-kl", NMF(k, beta_loss="kullback-leibler", random_state=0))):
                if coherence and label == "nmf-kl":
                    continue  # KL-NMF on 20 Newsgroups takes minutes; the NPMI case is NMF
                topics = model.fit_transform(dtm.tfidf).argmax(axis=1)
                agreement = label_agreement(dtm.labels, topics)
                npmi = div = float("nan")
                if scorer is not None:
                    terms = [[t for t, _ in topic] for topic in model.top_terms(dtm.terms, 25)]
                    npmi = scorer.score([t[:10] for t in terms])["c_npmi"].value
                    div = topic_diversity(terms)
                print(f"{name:<34} {label:<7} {'sublinear' if sublinear else 'plain':<9} "
                      f"{agreement['purity']:7.3f} {agreement['nmi']:6.3f} {npmi:6.3f} {div:6.3f}",
                      flush=True)


if __name__ == "__main__":
    main()
