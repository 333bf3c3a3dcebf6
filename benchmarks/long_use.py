"""Long use as a library: many ``analyze`` runs (report included) in one process, and how the
process's resident memory grows after the first few.

    python benchmarks/long_use.py [--runs 100] [--warmup 5] [--corpus corpora/finance-politics-zh]

Prints the resident set size after the warm-up and every tenth run after it, and the growth
from the warm-up to the end (target: below 5%). Each run is what a notebook user repeats:
``analyze`` on a freshly loaded corpus, then ``write_outputs`` with the HTML report.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def rss_mb() -> float:
    """Resident memory of this process now, in MB (Linux /proc)."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def measure(corpus: Path, runs: int, warmup: int, every: int = 10) -> list[tuple[int, float]]:
    """(run number, RSS in MB) after the warm-up and at every ``every`` runs after it."""
    from topicmf import analyze, load_corpus
    from topicmf.export import write_outputs

    points = []
    with tempfile.TemporaryDirectory() as work:
        for run in range(1, warmup + runs + 1):
            result = analyze(load_corpus(corpus), n_topics=2, random_state=run)
            write_outputs([result], Path(work) / "out")
            del result
            gc.collect()
            done = run - warmup
            if done == 0 or (done > 0 and (done % every == 0 or done == runs)):
                points.append((run, rss_mb()))
    return points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpora" / "finance-politics-zh")
    args = parser.parse_args()
    start = time.perf_counter()
    points = measure(args.corpus, args.runs, args.warmup)
    print(f"| run | RSS MB |\n|---|---|")
    for run, rss in points:
        print(f"| {run} | {rss:.1f} |")
    growth = points[-1][1] / points[0][1] - 1
    print(f"\n{args.runs} runs after {args.warmup} warm-up runs on {args.corpus.name}, "
          f"{time.perf_counter() - start:.0f} s: memory growth {growth:+.1%} (target < 5%)")
    sys.exit(0 if growth < 0.05 else 1)


if __name__ == "__main__":
    main()
