"""Chinese tokenization speed: jieba, topicmf's Tokenizer on jieba and on its compiled copy of
jieba's segmentation, serial and parallel, and rjieba when it is installed.

    python benchmarks/tokenize_speed.py [--corpus PATH] [--limit N] [--jobs N]

Prints characters per second for each path, with the load average before and after (other
work on the machine slows every row). Checks that the compiled segmenter gives the same words
as jieba, alone on the corpus's Han runs and inside the Tokenizer (every document's tokens),
and that the parallel path gives the serial tokens; it stops with an error if not. When rjieba
is installed, prints how closely its segmentation agrees with the jieba path (same dictionary
additions and user words).
"""

from __future__ import annotations

import argparse
import os
import re
import time
from collections import Counter
from pathlib import Path

from topicmf import load_corpus
from topicmf._segment import CompiledSegmenter
from topicmf.tokenize import Tokenizer, _available_cpus, _builtin_words, _parse_userdict

DEFAULT_CORPUS = Path("/work/shared/corpora/chinese_news_6cat_zh.jsonl.gz")


class _RjiebaSegmenter:
    """Adapter giving rjieba the ``cut(text, HMM=...)`` call the Tokenizer makes on jieba."""

    def __init__(self, segmenter):
        self._segmenter = segmenter

    def cut(self, text, HMM=True):
        return self._segmenter.cut(text, hmm=HMM)

    def add_word(self, word, freq=None, tag=None):
        self._segmenter.add_word(word, freq, tag)


class RjiebaTokenizer(Tokenizer):
    """The topicmf Tokenizer with rjieba as the segmenter, dictionary additions included."""

    def __init__(self):
        super().__init__(engine="jieba")  # the path that calls cut() on self._jieba

    def _build_jieba(self):
        import rjieba

        segmenter = _RjiebaSegmenter(rjieba.Jieba())
        for word, freq, tag in _parse_userdict((*_builtin_words("zh_words"), *self.userdict)):
            segmenter.add_word(self._converter.convert(word), freq, tag)
        return segmenter


def _timed(label, n_chars, func):
    start = time.perf_counter()
    output = func()
    seconds = time.perf_counter() - start
    return {"path": label, "seconds": seconds, "chars_per_s": n_chars / seconds}, output


def _agreement(reference, other):
    """Documents with identical token lists, and tokens (as multisets per document) not shared."""
    same_docs = sum(a == b for a, b in zip(reference, other))
    common = sum(sum((Counter(a) & Counter(b)).values()) for a, b in zip(reference, other))
    total = sum(len(a) + len(b) for a, b in zip(reference, other))
    return same_docs, total - 2 * common, sum(map(len, reference))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N documents")
    parser.add_argument("--jobs", type=int, default=_available_cpus(),
                        help="worker processes for the parallel path (default: all CPUs)")
    args = parser.parse_args(argv)

    texts = list(load_corpus(args.corpus).texts)[:args.limit]
    n_chars = sum(map(len, texts))
    load_before = os.getloadavg()
    print(f"corpus {args.corpus.name}: {len(texts)} documents, {n_chars / 1e6:.2f} M characters; "
          f"{_available_cpus()} CPUs; load average {load_before[0]:.2f}")

    import jieba
    jieba.setLogLevel(60)
    jieba.initialize()
    rows = []
    row, _ = _timed("jieba.lcut alone, 1 process", n_chars, lambda: [jieba.lcut(t) for t in texts])
    rows.append(row)

    # The segmenters alone on the same Han runs (what the Tokenizer gives them).
    runs = [run for text in texts for run in re.findall("[\u4e00-\u9fd5]+", text)]
    n_run_chars = sum(map(len, runs))
    plain = jieba.Tokenizer()
    plain.initialize()
    row, reference_words = _timed("jieba.cut on the Han runs, 1 process", n_run_chars,
                                  lambda: [w for run in runs for w in plain.cut(run)])
    rows.append(row)
    compiled = CompiledSegmenter(plain)
    compiled.cut("預熱")  # load the compiled code outside the timing
    joined = "\n".join(runs)
    row, bounds = _timed("compiled segmenter on the Han runs, 1 process", n_run_chars,
                         lambda: compiled.bounds(joined))
    rows.append(row)
    words = [joined[a:b] for a, b in zip(*(x.tolist() for x in bounds))]
    if words != reference_words:
        raise SystemExit("the compiled segmenter's words differ from jieba's")

    jieba_tok = Tokenizer(engine="jieba")
    jieba_tok("預熱")  # load the dictionary outside the timing
    row, serial = _timed("Tokenizer on jieba, n_jobs=1 (reference)", n_chars,
                         lambda: jieba_tok.tokenize_many(texts, n_jobs=1))
    rows.append(row)
    fast_tok = Tokenizer(engine="compiled")
    fast_tok("預熱")
    row, fast = _timed("Tokenizer, n_jobs=1", n_chars,
                       lambda: fast_tok.tokenize_many(texts, n_jobs=1))
    rows.append(row)
    if fast != serial:
        raise SystemExit("the Tokenizer's tokens differ between the compiled segmenter and jieba")
    row, parallel = _timed(f"Tokenizer, n_jobs={args.jobs} (incl. start-up)", n_chars,
                           lambda: Tokenizer().tokenize_many(texts, n_jobs=args.jobs))
    rows.append(row)
    if parallel != serial:
        raise SystemExit("parallel output differs from serial output")

    agreement = None
    try:
        import rjieba
    except ImportError:
        rjieba = None
    if rjieba is not None:
        rust = rjieba.Jieba()
        row, _ = _timed("rjieba.cut alone, 1 process", n_chars,
                        lambda: [rust.cut(t) for t in texts])
        rows.append(row)
        rtok = RjiebaTokenizer()
        rtok("預熱")
        row, rtokens = _timed("Tokenizer with rjieba segmenter, 1 process", n_chars,
                              lambda: rtok.tokenize_many(texts, n_jobs=1))
        rows.append(row)
        agreement = _agreement(serial, rtokens)

    reference = rows[0]["chars_per_s"]
    print(f"\n{'path':<50} {'seconds':>8} {'M chars/s':>10} {'vs jieba':>9}")
    for row in rows:
        print(f"{row['path']:<50} {row['seconds']:>8.2f} {row['chars_per_s'] / 1e6:>10.2f} "
              f"{row['chars_per_s'] / reference:>8.2f}x")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(f"\ncompiled segmenter vs jieba: the same {len(words):,} words on the "
          f"{n_run_chars / 1e6:.2f} M characters of Han runs; the Tokenizer's tokens are the same "
          f"on all {len(texts):,} documents ({sum(map(len, serial)):,} tokens)")
    if agreement is not None:
        same_docs, unmatched, n_tokens = agreement
        print(f"\nrjieba vs jieba inside Tokenizer (same dictionary additions): "
              f"{same_docs} of {len(texts)} documents identical ({same_docs / len(texts):.2%}); "
              f"{unmatched} of {n_tokens} tokens unmatched "
              f"({1 - unmatched / max(1, 2 * n_tokens):.5%} token agreement)")


if __name__ == "__main__":
    main()
