"""Small runs: import times and the demo run's wall time, each in a fresh process.

    python benchmarks/startup.py [--rounds 5]

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
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
