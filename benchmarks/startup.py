"""Small runs: import times and the demo run's wall time, each in a fresh process.

    python benchmarks/startup.py [--rounds 5]
    python benchmarks/startup.py --kernels [--corpora ../shared/corpora]

Rows, each a new Python process, timed from outside (wall clock), round by round so that a
change in the machine's speed falls on every row; the table gives the median per row and the
ratios the everyday-use targets are stated in:

- ``import sklearn``: the reference, ``python -c "import sklearn"``;
- ``import topicmf``;
- ``library demo``: ``analyze`` + ``write_outputs`` (report included) on
  corpora/finance-politics-en, K = 2, from Python;
- ``cli demo``: ``python -m topicmf analyze corpora/finance-politics-en --topics 2``;
- ``cli demo, cold``: the same with ``NUMBA_CACHE_DIR`` pointing at a new empty folder.

The first round is a warm-up (file caches, compile cache) and is reported apart as "cold".

``--kernels`` measures where ``engine="auto"`` switches from the numpy kernels to the compiled
ones (``topicmf.models._kernels.SMALL_FIT_WORK``): fit seconds of NMF, KL-NMF and PLSA, 20
iterations with tol 0, numpy against numba (warm, best of 2), on the first n documents of 20
Newsgroups, and what a process's first compiled fit costs on top (loading the cached kernels,
in a fresh process).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "corpora" / "finance-politics-en"
LIBRARY = ("from topicmf import analyze, load_corpus; from topicmf.export import write_outputs; "
           "import sys; write_outputs(analyze(load_corpus(sys.argv[1]), n_topics=2), sys.argv[2])")


def rows(out: Path):
    py = sys.executable
    return {
        "import sklearn": ([py, "-c", "import sklearn"], {}),
        "import topicmf": ([py, "-c", "import topicmf"], {}),
        "library demo": ([py, "-c", LIBRARY, str(DEMO), str(out / "lib")], {}),
        "cli demo": ([py, "-m", "topicmf", "analyze", str(DEMO), "--topics", "2", "--out",
                      str(out / "cli"), "--quiet"], {}),
        "cli demo, cold": ([py, "-m", "topicmf", "analyze", str(DEMO), "--topics", "2",
                            "--out", str(out / "cold"), "--quiet"], {"cold": True}),
    }


def run(command, cold: bool, work: Path) -> float:
    env = dict(os.environ)
    if cold:
        env["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(dir=work)
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


KERNEL_FITS = (("NMF", "frobenius", 2, 1000), ("NMF", "frobenius", 10, 1000),
               ("NMF", "frobenius", 10, 10000), ("KL-NMF", "kullback-leibler", 2, 1000),
               ("KL-NMF", "kullback-leibler", 10, 500), ("KL-NMF", "kullback-leibler", 2, 4000), ("PLSA", None, 10, 500))
FIRST_FIT = ("import sys, numpy as np, scipy.sparse as sp; from topicmf import NMF; "
             "X = sp.random(200, 300, density=0.05, format='csr', random_state=0); "
             "import time; t = time.perf_counter(); "
             "NMF(2, max_iter=2, tol=0, engine=sys.argv[1]).fit(X); "
             "print(time.perf_counter() - t)")


def kernels(corpora: Path) -> None:
    """The numpy-vs-compiled table behind SMALL_FIT_WORK."""
    import warnings

    import numpy as np

    from topicmf import NMF, PLSA, load_corpus
    from topicmf.tokenize import Tokenizer
    from topicmf.vectorize import vectorize

    corpus = load_corpus(corpora / "20newsgroups_bydate.jsonl.gz", limit=10000)
    dtm = vectorize(Tokenizer("en").tokenize_many(corpus.texts))
    print("| model | K | documents | nnz x K | numpy s | numba s |")
    print("|---|---|---|---|---|---|")
    for name, loss, k, n in KERNEL_FITS:
        X = dtm.matrix_for("tfidf" if loss == "frobenius" else "counts")[:n]
        seconds = {}
        for engine in ("numpy", "numba"):
            model = (NMF(k, beta_loss=loss, max_iter=20, tol=0, random_state=0, engine=engine)
                     if loss else PLSA(k, max_iter=20, tol=0, random_state=0, engine=engine))
            best = np.inf
            for _ in range(3):  # the first is the warm-up
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model.fit(X)
                best = min(best, time.perf_counter() - start)
            seconds[engine] = best
        print(f"| {name} | {k} | {n:,} | {X.nnz * k:,} | {seconds['numpy']:.3f} | "
              f"{seconds['numba']:.3f} |")
    with tempfile.TemporaryDirectory() as empty:
        first = {}
        for label, engine, cache in (("numpy", "numpy", None), ("numba", "numba", None),
                                     ("numba, empty cache", "numba", empty)):
            env = dict(os.environ, **({"NUMBA_CACHE_DIR": cache} if cache else {}))
            done = subprocess.run([sys.executable, "-c", FIRST_FIT, engine], check=True,
                                  env=env, capture_output=True, text=True)
            first[label] = float(done.stdout)
    print()
    print("A process's first fit (200 x 300, 2 iterations), seconds: " +
          ", ".join(f"{label} {s:.2f}" for label, s in first.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--kernels", action="store_true",
                        help="the numpy-vs-compiled fit table instead")
    parser.add_argument("--corpora", type=Path, default=ROOT.parent / "shared" / "corpora")
    args = parser.parse_args()
    if args.kernels:
        kernels(args.corpora)
        return
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        table = rows(work)
        times = {name: [] for name in table}
        first = {}
        for round_ in range(args.rounds + 1):
            for name, (command, options) in table.items():
                seconds = run(command, options.get("cold", False), work)
                if round_ == 0:
                    first[name] = seconds
                else:
                    times[name].append(seconds)
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"| row | median s ({args.rounds} rounds) | first call s |")
    print("|---|---|---|")
    for name in table:
        print(f"| {name} | {median[name]:.2f} | {first[name]:.2f} |")
    base = median["import sklearn"]
    print()
    print(f"import topicmf / import sklearn: {median['import topicmf'] / base:.2f} "
          "(target <= 0.3)")
    print(f"cli demo / import sklearn: {median['cli demo'] / base:.2f} (target <= 1.5)")
    print(f"library demo / import sklearn: {median['library demo'] / base:.2f}")
    print(f"cli demo, cold compile cache / cli demo: "
          f"{median['cli demo, cold'] / median['cli demo']:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
