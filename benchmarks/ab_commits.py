"""Per-iteration time of one fit on two versions of topicmf, alternating processes.

    git worktree add /tmp/old e14b7ce
    python benchmarks/ab_commits.py --old /tmp/old --model fro --pairs 3 --iterations 100

Each pair runs the fit once with the old tree first on PYTHONPATH, then with this one, each in
a fresh process: a warm-up fit on 500 rows (compiles, imports), then the fit stopped after one
iteration and after 1 + N, and prints (t_{1+N} - t_1) / N, the cost of an iteration without the
start, and the objective. Alternating puts a change in the machine's speed on both sides. The
matrix is speed.py's cached 20 Newsgroups TF-IDF / counts (run speed.py once to make it).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import sys, time, warnings
import numpy as np, scipy.sparse as sp
warnings.simplefilter("ignore")
from topicmf.models import NMF, PLSA
kind, n, cache = sys.argv[1], int(sys.argv[2]), sys.argv[3]
make = {"fro": lambda i: NMF(20, max_iter=i, tol=0, random_state=0),
        "kl": lambda i: NMF(20, beta_loss="kullback-leibler", max_iter=i, tol=0, random_state=0),
        "plsa": lambda i: PLSA(20, max_iter=i, tol=0, random_state=0)}[kind]
X = sp.load_npz(f"{cache}/{'counts' if kind == 'plsa' else 'tfidf'}.npz").astype(np.float32).tocsr()
make(2).fit(X[:500])
t = time.perf_counter(); make(1).fit(X); one = time.perf_counter() - t
t = time.perf_counter(); model = make(1 + n).fit(X); more = time.perf_counter() - t
print(f"{(more - one) / n * 1000:.1f} {model.history_[-1]:.6g}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, required=True, help="the other version's tree")
    parser.add_argument("--model", choices=["fro", "kl", "plsa"], default="fro")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/topicmf_speed/20ng"))
    args = parser.parse_args()
    rows = []
    for _ in range(args.pairs):
        pair = []
        for tree in (args.old, ROOT):
            env = {**os.environ, "PYTHONPATH": str(tree)}
            out = subprocess.run([sys.executable, "-c", CHILD, args.model, str(args.iterations),
                                  str(args.cache)], env=env, check=True, capture_output=True,
                                 text=True).stdout.split()
            pair.append((float(out[0]), out[1]))
        rows.append(pair)
    print(f"| pair | {args.old.name} ms / iteration | this tree ms / iteration | objectives |")
    print("|---|---|---|---|")
    for i, ((old, old_obj), (new, new_obj)) in enumerate(rows, 1):
        print(f"| {i} | {old:.1f} | {new:.1f} | {old_obj} / {new_obj} |")


if __name__ == "__main__":
    main()
