"""Guided topics: how much seed words help the classes they name, and what they cost the rest.

    python benchmarks/guided.py [--seeds 5] [--strengths 0.1,0.3,1] [--models nmf,plsa]
                                [--corpora ../shared/corpora]

THUCNews headlines (10 classes x 2,000), K = 10. For each model and random seed, one fit with
no seed words and one per seed strength with three words for each of finance, stocks and
politics (word lists: ``chosen``, picked by the class names before any fit; ``naive``, the
first words a reader would try; and ``typical``, the three words most typical of each class by
its labels, a reference for what three well-chosen words can do, not a user's case). For each
class, the F1 of its best-matching topic (the
documents whose dominant topic it is, against the class), and for a seeded class also the F1
of the topic named after it. Means over the seeds; "others" is the mean over the seven
classes not seeded.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

#: Per corpus: its file, K, and the seed word lists (three classes, three words each, picked
#: by the class names before any fit).
CORPORA = {
    "thucnews": ("thucnews_titles_zh.jsonl.gz", 10, {
        "chosen": {"finance": ["银行", "基金", "理财"], "stocks": ["股票", "股市", "大盘"],
                   "politics": ["政府", "外交", "会见"]},
        "naive": {"finance": ["金融", "经济", "投资"], "stocks": ["股票", "股价", "涨停"],
                  "politics": ["政治", "领导", "国家"]}}),
    "news6": ("chinese_news_6cat_zh.jsonl.gz", 6, {
        "chosen": {"tech": ["手机", "电脑", "互联网"], "health": ["健康", "医生", "疾病"],
                   "fashion": ["时尚", "服装", "搭配"]}}),
    "20ng": ("20newsgroups_bydate.jsonl.gz", 20, {
        "chosen": {"sci.space": ["space", "nasa", "orbit"],
                   "rec.sport.hockey": ["hockey", "nhl", "goalie"],
                   "talk.politics.guns": ["gun", "firearms", "weapons"]}}),
}


def f1_table(labels: np.ndarray, topics: np.ndarray, k: int) -> tuple[list[str], np.ndarray]:
    """(classes, F1 of every class x topic): the topic's documents against the class."""
    classes = sorted(set(labels.tolist()))
    table = np.zeros((len(classes), k))
    for i, name in enumerate(classes):
        in_class = labels == name
        for t in range(k):
            in_topic = topics == t
            hits = float(np.sum(in_class & in_topic))
            if hits:
                precision, recall = hits / in_topic.sum(), hits / in_class.sum()
                table[i, t] = 2 * precision * recall / (precision + recall)
    return classes, table


def typical_words(prepared, labels: np.ndarray, classes, n: int = 3) -> dict:
    """The ``n`` terms most typical of each class: share of the class's documents that use
    the term, times the log of how much more often they do than all documents."""
    present = (prepared.dtm.counts > 0).astype(np.float64)
    overall = np.asarray(present.sum(axis=0)).ravel()
    terms = prepared.dtm.vocabulary.terms
    words = {}
    for name in classes:
        inside = labels == name
        used = np.asarray(present[inside].sum(axis=0)).ravel()
        score = used / inside.sum() * np.log((used + 1) / (overall + 10) * len(labels)
                                            / inside.sum())
        words[name] = [str(terms[i]) for i in np.argsort(-score)[:n]]
    return words


def main() -> None:
    from topicmf import load_corpus
    from topicmf.pipeline import fit_prepared, prepare

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--strengths", default="0.1,0.3,1")
    parser.add_argument("--models", default="nmf,plsa")
    parser.add_argument("--corpus", default="thucnews", choices=sorted(CORPORA))
    parser.add_argument("--corpora", type=Path, default=ROOT.parent / "shared" / "corpora")
    args = parser.parse_args()
    file, k, word_lists = CORPORA[args.corpus]
    corpus = load_corpus(args.corpora / file)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prepared = prepare(corpus)
    labels = np.asarray(prepared.dtm.labels)
    print(f"{file}: {len(corpus)} documents, {prepared.dtm.n_terms} terms, "
          f"prepared in {time.perf_counter() - start:.1f} s; K = {k}")
    strengths = [float(s) for s in args.strengths.split(",")]
    word_lists = {**word_lists, "typical": typical_words(
        prepared, labels, list(next(iter(word_lists.values()))))}
    print("seed words:", word_lists)
    rows = []
    for model in args.models.split(","):
        for words_name in ["none", *word_lists]:
            for strength in ([None] if words_name == "none" else strengths):
                words = word_lists.get(words_name)
                best, named, seconds = [], [], []
                for seed in range(args.seeds):
                    began = time.perf_counter()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        result = fit_prepared(prepared, k, model=model, random_state=seed,
                                              seed_words=words, seed_strength=strength)
                    seconds.append(time.perf_counter() - began)
                    classes, table = f1_table(labels, result.dominant_topics, k)
                    seeded = list(next(iter(word_lists.values())))
                    best.append(table.max(axis=1))
                    names = result.analysis.topic_names
                    named.append([table[i, names.index(c)] if c in names else np.nan
                                  for i, c in enumerate(classes)])
                rows.append((model, words_name, strength, classes, np.mean(best, axis=0),
                             np.std(best, axis=0), np.mean(named, axis=0), np.mean(seconds)))
                print_row(rows[-1], seeded)
    print()
    print_table(rows, seeded)


def _summary(row, seeded_names):
    classes = row[3]
    seeded = [classes.index(c) for c in seeded_names]
    others = [i for i in range(len(classes)) if i not in seeded]
    return seeded, others


def print_row(row, seeded_names) -> None:
    model, words, strength, classes, best, spread, named, seconds = row
    seeded, others = _summary(row, seeded_names)
    print(f"{model} {words} {strength}: " + " ".join(
        f"{classes[i]} {best[i]:.3f}" for i in seeded) + f" others {best[others].mean():.3f}"
        f" ({seconds:.2f} s a fit)", flush=True)


def print_table(rows, seeded_names) -> None:
    print("| model | seed words | strength | "
          + " | ".join(f"{c} best (named)" for c in seeded_names)
          + " | seeded: gain | others: mean F1 (change) | fit s |")
    print("|---|---|---|" + "---|" * (len(seeded_names) + 3))
    baseline = {}
    for row in rows:
        model, words, strength, classes, best, spread, named, seconds = row
        seeded, others = _summary(row, seeded_names)
        if words == "none":
            baseline[model] = row
        base = baseline[model]
        gains = best[seeded] - base[4][seeded]
        cells = [f"{best[i]:.3f} ({named[i]:.3f})" if not np.isnan(named[i])
                 else f"{best[i]:.3f} ± {spread[i]:.3f}" for i in seeded]
        change = best[others].mean() - base[4][others].mean()
        print(f"| {model} | {words} | {'' if strength is None else strength} | "
              + " | ".join(cells)
              + f" | {'' if words == 'none' else f'{gains.min():+.3f} min, {gains.mean():+.3f} mean'}"
              f" | {best[others].mean():.3f} ({change:+.3f}) | {seconds:.2f} |")


if __name__ == "__main__":
    main()
