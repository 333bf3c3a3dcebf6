"""How well each model separates two known classes with --topics 2, beside scikit-learn.

    python benchmarks/separation.py [--corpora ../shared/corpora]

Cases: THUCNews headlines, finance + stocks (one class) against politics (6,000 headlines,
Simplified Chinese); and our demo corpora (Traditional Chinese and English). For each, the same
tokens and matrix go to our LSA, NMF, PLSA and to scikit-learn's NMF (MU, CD, KL-MU) and
LatentDirichletAllocation. Purity: the share of documents whose dominant topic's majority class
is their own (0.5 is chance for two balanced classes when topics collapse, 1.0 perfect).
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.decomposition import NMF as SkNMF
from sklearn.decomposition import LatentDirichletAllocation

from topicmf import LSA, NMF, PLSA, Tokenizer, load_corpus, vectorize

ROOT = Path(__file__).resolve().parents[1]


def purity(labels, topics) -> float:
    labels = np.asarray(labels)
    return sum(np.unique(labels[topics == t], return_counts=True)[1].max()
               for t in np.unique(topics)) / len(labels)


def cases(corpora: Path):
    thuc = load_corpus(corpora / "thucnews_titles_zh.jsonl.gz", id_column="filename")
    keep = [i for i, label in enumerate(thuc.labels) if label in ("finance", "stocks", "politics")]
    yield ("THUCNews finance+stocks vs politics", [thuc.texts[i] for i in keep],
           ["politics" if thuc.labels[i] == "politics" else "finance" for i in keep])
    for name in ("finance-politics-zh", "finance-politics-en"):
        demo = load_corpus(ROOT / "corpora" / name)
        yield name, demo.texts, demo.labels


def models(seed: int):
    """(name, estimator, input) for ours and the reference library, K = 2."""
    return [
        ("topicmf LSA", LSA(2, random_state=seed), "tfidf"),
        ("topicmf NMF", NMF(2, random_state=seed), "tfidf"),
        ("topicmf NMF-KL", NMF(2, beta_loss="kullback-leibler", random_state=seed), "tfidf"),
        ("topicmf PLSA", PLSA(2, random_state=seed), "counts"),
        ("sklearn NMF MU", SkNMF(2, solver="mu", init="nndsvda", max_iter=200, random_state=seed), "tfidf"),
        ("sklearn NMF CD", SkNMF(2, solver="cd", init="nndsvda", max_iter=200, random_state=seed), "tfidf"),
        ("sklearn NMF KL", SkNMF(2, solver="mu", beta_loss="kullback-leibler", init="nndsvda",
                                 max_iter=200, random_state=seed), "tfidf"),
        ("sklearn LDA", LatentDirichletAllocation(2, random_state=seed), "counts"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", type=Path, default=ROOT.parent / "shared" / "corpora")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # convergence warnings of the reference runs
    tokenizer = Tokenizer()
    print(f"{'case':<38} {'model':<16} {'purity':>7} {'fit s':>7}")
    for case, texts, labels in cases(args.corpora):
        dtm = vectorize(tokenizer.tokenize_many(texts), labels=labels)  # the CLI's defaults
        rows = np.setdiff1d(np.arange(dtm.n_docs), dtm.empty_rows())
        dtm = dtm.select(rows)
        for name, model, kind in models(args.seed):
            start = time.perf_counter()
            doc_topic = model.fit_transform(dtm.matrix_for(kind).astype(np.float64))
            elapsed = time.perf_counter() - start
            print(f"{case:<38} {name:<16} {purity(dtm.labels, doc_topic.argmax(1)):7.3f} {elapsed:7.2f}")
        print(f"{'':<38} ({dtm.n_docs} documents, {dtm.n_terms} terms)")


if __name__ == "__main__":
    main()
