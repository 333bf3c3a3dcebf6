"""Cleanup steps against none, on the four labelled corpora: the evidence for their defaults.

    python benchmarks/cleanup.py [--only 20ng|reuters|thucnews|news6] [--seeds 1]
                                 [--variants] [--save results.json]

For each corpus of ``benchmarks/quality.py`` (20 Newsgroups, Reuters R8, THUCNews headlines, the
Chinese 6-category news), each row adds one step to the row named in ``BASE``:

- none: topicmf's tokenizer on the texts as they are;
- mail: the headers (but the subject) and attribution lines ("x writes:") of posts dropped
  (``topicmf.clean.strip_mail``);
- + boilerplate: lines in at least max(5, 1 % of the documents) documents dropped
  (``topicmf.clean.repeated_lines``);
- + news stopwords: ``Tokenizer(news_stopwords=True)`` (said, told, reuter, 表示, 记者, ...);
- + phrases: two-word collocations joined by gensim's Phrases (``topicmf.clean.learn_phrases``).

With ``--variants`` the rows after mail are other versions of a step, each on mail: mail +
signatures and mail + quotes (also the signature after "-- ", or the quoted lines), and
boilerplate at a lower share (lines in 0.2 % of the documents, and at least 5).

Each row is vectorized with ``topicmf analyze``'s defaults (min_df 2, max_df 0.5) and fitted
with K = classes by NMF (Frobenius, TF-IDF), KL-NMF (TF-IDF) and PLSA (counts) for each seed.
Measured: NMI and ARI of the dominant topic against the labels; NPMI (gensim c_npmi, window 10)
of the top 10 terms against two references, the row's own tokens ("NPMI") and the tokens of row
none for every row ("NPMI raw": cleaning removes words from the reference too, so only a fixed
reference compares rows fairly; for the phrases row the raw tokens get the same phrases
joined); diversity of the top 25. A row whose tokens are those of its base (a step that
changed nothing on a corpus) is not fitted again. Prints a Markdown table per corpus, the means
over the corpora, and each step's change against its base.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from quality import CASES, read_case  # noqa: E402

from topicmf import evaluate  # noqa: E402
from topicmf.clean import drop_lines, join_phrases, learn_phrases, repeated_lines, \
    strip_mail  # noqa: E402
from topicmf.models import NMF, PLSA  # noqa: E402
from topicmf.tokenize import Tokenizer  # noqa: E402
from topicmf.vectorize import vectorize  # noqa: E402

#: Each row and the row it adds its step to.
BASE = {"none": None, "mail": "none", "+ boilerplate": "mail",
        "+ news stopwords": "+ boilerplate", "+ phrases": "+ news stopwords",
        "mail + signatures": "mail", "mail + quotes": "mail", "+ boilerplate (0.2 %)": "mail"}
MODELS = {"NMF": ("tfidf", lambda k, seed: NMF(k, random_state=seed)),
          "KL-NMF": ("tfidf", lambda k, seed: NMF(k, beta_loss="kullback-leibler",
                                                   random_state=seed)),
          "PLSA": ("counts", lambda k, seed: PLSA(k, random_state=seed))}
METRICS = ("nmi", "ari", "npmi", "npmi_raw", "diversity")
HEADERS = ("NMI", "ARI", "NPMI", "NPMI raw", "diversity")


class CachedTokens:
    """A tokenizer's token lists, each distinct text tokenized once over all the rows."""

    def __init__(self, tokenizer: Tokenizer):
        self.tokenizer, self.cache = tokenizer, {}

    def __call__(self, texts: list[str]) -> list[list[str]]:
        new = list(dict.fromkeys(t for t in texts if t not in self.cache))
        if new:
            self.cache.update(zip(new, self.tokenizer.tokenize_many(new)))
        return [self.cache[t] for t in texts]


def without_repeated_lines(texts, min_share):
    lines = repeated_lines(texts, min_share=min_share)
    print(f"  {len(lines)} repeated lines in {min_share:.1%} of the documents", file=sys.stderr)
    return [drop_lines(text, lines) for text in texts]


def rows_of(corpus, variants: bool):
    """Yield (step, token lists, phrases or None) for each row."""
    plain, news = CachedTokens(Tokenizer()), CachedTokens(Tokenizer(news_stopwords=True))
    texts = list(corpus.texts)
    yield "none", plain(texts), None
    texts = [strip_mail(text) for text in texts]
    yield "mail", plain(texts), None
    if variants:
        for step, options in (("mail + signatures", {"signature": True}),
                              ("mail + quotes", {"quotes": True})):
            yield step, plain([strip_mail(text, **options) for text in corpus.texts]), None
        yield "+ boilerplate (0.2 %)", plain(without_repeated_lines(texts, 0.002)), None
        return
    texts = without_repeated_lines(texts, 0.01)
    yield "+ boilerplate", plain(texts), None
    tokens = news(texts)
    yield "+ news stopwords", tokens, None
    phrases = learn_phrases(tokens)
    print(f"  {len(phrases)} phrases, e.g. {list(phrases.values())[:8]}", file=sys.stderr)
    yield "+ phrases", [join_phrases(t, phrases) for t in tokens], phrases


def fit_row(token_lists, labels, k, seeds):
    """The row's matrix and, per model, one (top 25 terms, dominant topics) per seed."""
    dtm = vectorize(token_lists, labels=labels, min_df=2, max_df=0.5)
    keep = np.flatnonzero(np.diff(dtm.counts.indptr) > 0)
    dtm = dtm.select(keep)
    fits = {}
    for name, (kind, make) in MODELS.items():
        fits[name] = []
        for seed in seeds:
            started = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                estimator = make(k, seed)
                dominant = estimator.fit_transform(dtm.matrix_for(kind)).argmax(axis=1)
            top = [[term for term, _ in topic] for topic in estimator.top_terms(dtm.terms, 25)]
            fits[name].append((top, dominant))
            print(f"    {name} seed {seed}: {time.perf_counter() - started:.1f} s",
                  file=sys.stderr)
    return dtm, keep, fits


def npmi(token_lists, terms, topic_sets) -> list[float]:
    scorer = evaluate.Coherence(token_lists, terms, topn=10)
    return [r["c_npmi"].value for r in scorer.score_many([[t[:10] for t in topics]
                                                          for topics in topic_sets],
                                                         ["c_npmi"])]


def run_case(name, seeds, variants):
    """{step: {model: {metric: mean over seeds}}} and a line saying what the corpus is."""
    corpus = read_case(name)
    k = len(set(corpus.labels))
    started = time.perf_counter()
    print(f"{name}: {len(corpus)} documents, K = {k}", file=sys.stderr)
    results, pending, raw, same_as, tokens_of = {}, [], None, {}, {}
    for step, token_lists, phrases in rows_of(corpus, variants):
        print(f"  {step}: tokens ready at {time.perf_counter() - started:.0f} s",
              file=sys.stderr)
        base = BASE[step]
        tokens_of[step] = token_lists
        if base is not None and token_lists == tokens_of[base]:  # the step changed nothing
            print(f"    the same tokens as {base}", file=sys.stderr)
            same_as[step] = same_as.get(base, base)
            continue
        dtm, keep, fits = fit_row(token_lists, corpus.labels, k, seeds)
        if raw is None:
            raw = (token_lists, list(dtm.terms))
        own = npmi([token_lists[i] for i in keep], dtm.terms,
                   [top for runs in fits.values() for top, _ in runs])
        results[step] = {}
        for model, runs in fits.items():
            values = {m: [] for m in METRICS}
            for (top, dominant), score in zip(runs, own[:len(runs)]):
                agreement = evaluate.label_agreement(dtm.labels, dominant)
                values["nmi"].append(agreement["nmi"])
                values["ari"].append(agreement["ari"])
                values["npmi"].append(score)
                values["diversity"].append(evaluate.topic_diversity(top, 25))
            own = own[len(runs):]
            results[step][model] = values
        pending.append((step, fits, phrases, dtm.n_docs, dtm.n_terms))
    # NPMI against row none's tokens: one count for the rows without phrases, one for theirs.
    tokens, terms = raw
    for with_phrases in (False, True):
        chosen = [p for p in pending if (p[2] is not None) == with_phrases]
        if not chosen:
            continue
        reference = tokens if not with_phrases else [join_phrases(t, chosen[0][2])
                                                     for t in tokens]
        topic_sets = [top for _, fits, *_ in chosen for runs in fits.values() for top, _ in runs]
        vocabulary = list(dict.fromkeys(terms + [t for top in topic_sets for topic in top
                                                 for t in topic[:10]]))
        scores = iter(npmi(reference, vocabulary, topic_sets))
        for step, fits, *_ in chosen:
            for model, runs in fits.items():
                results[step][model]["npmi_raw"] = [next(scores) for _ in runs]
    sizes = {step: (n_docs, n_terms) for step, _, _, n_docs, n_terms in pending}
    for step, earlier in same_as.items():
        results[step], sizes[step] = results[earlier], sizes[earlier]
    results = {step: results[step] for step in tokens_of}  # in the order of the rows
    print(f"  done in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    means = {step: {model: {m: float(np.mean(v)) for m, v in values.items()}
                    for model, values in by_model.items()} for step, by_model in results.items()}
    return means, sizes, k


def table(means, sizes=None) -> str:
    head = "| cleaning | model | " + " | ".join(HEADERS) + \
        (" | documents | terms |" if sizes else " |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for step, by_model in means.items():
        for model, values in by_model.items():
            cells = " | ".join(f"{values[m]:.3f}" for m in METRICS)
            extra = f" | {sizes[step][0]:,} | {sizes[step][1]:,}" if sizes else ""
            lines.append(f"| {step} | {model} | {cells}{extra} |")
    return "\n".join(lines)


def mean_over(cases: dict) -> dict:
    """{step: {model: {metric: mean over the corpora}}}."""
    first = next(iter(cases.values()))
    return {step: {model: {m: float(np.mean([c[step][model][m] for c in cases.values()]))
                           for m in METRICS} for model in first[step]} for step in first}


def step_effects(cases: dict) -> str:
    """Each step's change against its base row: the mean over corpora and models, and the
    worst corpus and model, for NMI, NPMI raw and NPMI."""
    lines = ["| step | against | mean ΔNMI | worst ΔNMI | mean ΔNPMI raw | worst ΔNPMI raw | mean ΔNPMI "
             "| worst ΔNPMI |", "|---|---|---|---|---|---|---|---|"]
    for step in list(next(iter(cases.values())))[1:]:
        before = BASE[step]
        cells = []
        for metric in ("nmi", "npmi_raw", "npmi"):
            deltas = [(c[step][model][metric] - c[before][model][metric], name, model)
                      for name, c in cases.items() for model in c[step]]
            worst = min(deltas)
            cells += [f"{np.mean([d for d, *_ in deltas]):+.3f}",
                      f"{worst[0]:+.3f} ({worst[1]}, {worst[2]})"]
        lines.append(f"| {step} | {before} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=list(CASES), action="append")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--variants", action="store_true",
                        help="none, mail, and other versions of the steps instead of the steps")
    parser.add_argument("--save", type=Path, help="also write the numbers to this JSON file")
    args = parser.parse_args(argv)
    cases = {}
    for name in args.only or list(CASES):
        means, sizes, k = run_case(name, list(range(args.seeds)), args.variants)
        cases[name] = means
        print(f"\n{name}: K = {k}, seeds 0-{args.seeds - 1} (means)\n\n{table(means, sizes)}")
        sys.stdout.flush()
    print(f"\nMean over {', '.join(cases)}\n\n{table(mean_over(cases))}")
    print(f"\nEach step against the row it builds on (means over corpora and models; the "
          f"worst corpus and model)\n\n{step_effects(cases)}")
    if args.save:
        args.save.write_text(json.dumps(cases, indent=1))


if __name__ == "__main__":
    main()
