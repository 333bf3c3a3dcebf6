"""Chinese tokenization speed: serial vs parallel Tokenizer, plain jieba and rjieba.

    python benchmarks/tokenize_speed.py [--corpus PATH] [--limit N] [--jobs N]

Prints characters per second for each path, with the load average before and after (other
work on the machine slows every row), and, when rjieba is installed, how closely rjieba's
segmentation agrees with the jieba path of topicmf (same dictionary additions and user words).
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter
from pathlib import Path

from topicmf import load_corpus
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

    serial_tok = Tokenizer()
    serial_tok("預熱")  # load the dictionary outside the timing
    row, serial = _timed("Tokenizer, n_jobs=1 (reference)", n_chars,
                         lambda: serial_tok.tokenize_many(texts, n_jobs=1))
    rows.append(row)
    row, parallel = _timed(f"Tokenizer, n_jobs={args.jobs} (incl. start-up)", n_chars,
                           lambda: Tokenizer().tokenize_many(texts, n_jobs=args.jobs))
    rows.append(row)
    assert parallel == serial, "parallel output differs from serial output"

    agreement = None
    try:
        import rjieba
    except ImportError:
        rjieba = None
    if rjieba is not None:
        plain = rjieba.Jieba()
        row, _ = _timed("rjieba.cut alone, 1 process", n_chars,
                        lambda: [plain.cut(t) for t in texts])
        rows.append(row)
        rtok = RjiebaTokenizer()
        rtok("預熱")
        row, rtokens = _timed("Tokenizer with rjieba segmenter, 1 process", n_chars,
                              lambda: rtok.tokenize_many(texts, n_jobs=1))
        rows.append(row)
        agreement = _agreement(serial, rtokens)

    reference = rows[0]["chars_per_s"]
    print(f"\n{'path':<46} {'seconds':>8} {'M chars/s':>10} {'vs jieba':>9}")
    for row in rows:
        print(f"{row['path']:<46} {row['seconds']:>8.2f} {row['chars_per_s'] / 1e6:>10.2f} "
              f"{row['chars_per_s'] / reference:>8.2f}x")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if agreement is not None:
        same_docs, unmatched, n_tokens = agreement
        print(f"\nrjieba vs jieba inside Tokenizer (same dictionary additions): "
              f"{same_docs} of {len(texts)} documents identical ({same_docs / len(texts):.2%}); "
              f"{unmatched} of {n_tokens} tokens unmatched "
              f"({1 - unmatched / max(1, 2 * n_tokens):.5%} token agreement)")


if __name__ == "__main__":
    main()
