"""Speed of the LSA, NMF and PLSA fits against scikit-learn and gensim, side by side.

    python benchmarks/speed.py                       # 20 Newsgroups, K = 20, median of 3
    python benchmarks/speed.py --repeats 1 --only ours_nmf_kl,sk_mu_kl

The TF-IDF and count matrices are built once with topicmf's tokenizer and ``vectorize``
defaults and cached as .npz under ``--cache`` (outside the repository). Every row runs in a
fresh subprocess, so its peak memory (ru_maxrss after the fit minus the resident size just
before it) is its own. Everyone gets the same float32 matrix, the same start (NNDSVDa for
NMF) and the same iteration count (tol = 0). The objective of every row is recomputed here
the same way: ||X - W H||_F for Frobenius NMF and LSA, D(X || W H) for KL-NMF, and for PLSA
the same divergence with P(w | d) scaled by the document lengths.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp

CORPUS = Path("/work/shared/corpora/20newsgroups_bydate.jsonl.gz")
K = 20


# ------------------------------------------------------------------ the matrices
def build_matrices(cache: Path) -> None:
    """Tokenize and vectorize the corpus once; store tfidf and counts as float32 .npz."""
    from topicmf.corpus import load_corpus
    from topicmf.tokenize import Tokenizer
    from topicmf.vectorize import vectorize

    cache.mkdir(parents=True, exist_ok=True)
    corpus = load_corpus(CORPUS)
    tokens = Tokenizer().tokenize_many(corpus.texts)
    dtm = vectorize(tokens)
    for kind in ("tfidf", "counts"):
        X = sp.csr_matrix(dtm.matrix_for(kind), dtype=np.float32)
        sp.save_npz(cache / f"{kind}.npz", X)


def load(cache: Path, kind: str) -> sp.csr_matrix:
    return sp.csr_matrix(sp.load_npz(cache / f"{kind}.npz"), dtype=np.float32)


# ------------------------------------------------------------------ objectives
def frobenius(X, W, H) -> float:
    X64, W, H = X.astype(np.float64), W.astype(np.float64), H.astype(np.float64)
    sq = X64.multiply(X64).sum() - 2 * np.vdot(W, X64 @ H.T) + np.vdot(W.T @ W, H @ H.T)
    return float(np.sqrt(max(sq, 0.0)))


def divergence(X, W, H) -> float:
    from topicmf.models import _kernels
    X64 = sp.csr_array(X.astype(np.float64))
    W, H = W.astype(np.float64), H.astype(np.float64)
    loglik, _, _ = _kernels.ratio_pass(X64, W, np.ascontiguousarray(H.T), rows=False,
                                       cols=False)
    x = X64.data
    return float((x * np.log(x)).sum() - loglik.sum() - x.sum() + W.sum(0) @ H.sum(1))


def projection_error(X, VT) -> float:
    """||X - X V V^T||_F for orthonormal rows VT: the LSA residual."""
    X64 = X.astype(np.float64)
    sq = X64.multiply(X64).sum() - np.linalg.norm(X64 @ VT.T.astype(np.float64)) ** 2
    return float(np.sqrt(max(sq, 0.0)))


# ------------------------------------------------------------------ the rows
def _ours(name, **params):
    from topicmf.models import MODELS
    return MODELS[name](n_topics=K, random_state=0, tol=0.0, **params) if name != "lsa" \
        else MODELS[name](n_topics=K, random_state=0, **params)


def run_row(row: str, X):
    """Fit one row's model on X; return (a function computing the objective, iterations)."""
    from sklearn.decomposition import NMF as SkNMF, TruncatedSVD

    if row in ("ours_nmf_fro", "ours_nmf_fro_numpy"):
        engine = "numpy" if row.endswith("numpy") else "auto"
        m = _ours("nmf", max_iter=200, engine=engine).fit(X)
        return lambda: frobenius(X, m.doc_topic_, m.components_), m.n_iter_
    if row in ("ours_nmf_kl", "ours_nmf_kl_numpy"):
        engine = "numpy" if row.endswith("numpy") else "auto"
        m = _ours("nmf", beta_loss="kullback-leibler", max_iter=100, engine=engine).fit(X)
        return lambda: divergence(X, m.doc_topic_, m.components_), m.n_iter_
    if row in ("ours_plsa", "ours_plsa_numpy"):
        engine = "numpy" if row.endswith("numpy") else "auto"
        m = _ours("plsa", max_iter=100, engine=engine).fit(X)
        lengths = np.asarray(X.sum(axis=1)).ravel()
        return lambda: divergence(X, m.doc_topic_ * lengths[:, None], m.components_), m.n_iter_
    if row == "ours_lsa":
        m = _ours("lsa").fit(X)
        return lambda: projection_error(X, m.components_), m.n_iter_
    if row.startswith("sk_"):
        if row.startswith("sk_tsvd"):
            algorithm = row.removeprefix("sk_tsvd_")
            m = TruncatedSVD(K, algorithm=algorithm, random_state=0).fit(X)
            return lambda: projection_error(X, m.components_), 1
        solver, beta, iters = {"sk_mu": ("mu", "frobenius", 200),
                               "sk_cd": ("cd", "frobenius", 200),
                               "sk_mu_kl": ("mu", "kullback-leibler", 100),
                               "sk_mu_kl_counts": ("mu", "kullback-leibler", 100)}[row]
        m = SkNMF(K, solver=solver, beta_loss=beta, init="nndsvda", tol=0.0, max_iter=iters,
                  random_state=0)
        W = m.fit_transform(X)
        loss = frobenius if beta == "frobenius" else divergence
        return lambda: loss(X, W, m.components_), m.n_iter_
    if row == "gensim_lsi":
        from gensim.matutils import Sparse2Corpus
        from gensim.models import LsiModel
        m = LsiModel(Sparse2Corpus(X, documents_columns=False), num_topics=K,
                     id2word={i: str(i) for i in range(X.shape[1])})
        return lambda: projection_error(X, m.projection.u.T), 1
    if row == "gensim_nmf":
        from gensim.matutils import Sparse2Corpus
        from gensim.models.nmf import Nmf
        Nmf(Sparse2Corpus(X, documents_columns=False), num_topics=K, random_state=0,
            id2word={i: str(i) for i in range(X.shape[1])})
        return lambda: float("nan"), 1
    if row == "floor":
        HT = np.random.RandomState(0).rand(X.shape[1], K).astype(X.dtype)
        times = []
        for _ in range(20):
            start = time.perf_counter()
            X @ HT
            times.append(time.perf_counter() - start)
        seconds = statistics.median(times)
        return lambda: seconds, 1
    raise SystemExit(f"unknown row {row}")


ROWS = {  # row -> (matrix, what it is compared with)
    "floor": ("tfidf", None),
    "ours_lsa": ("tfidf", "sk_tsvd_randomized"),
    "sk_tsvd_randomized": ("tfidf", None),
    "sk_tsvd_arpack": ("tfidf", None),
    "gensim_lsi": ("tfidf", None),
    "ours_nmf_fro": ("tfidf", "sk_mu"),
    "sk_mu": ("tfidf", None),
    "sk_cd": ("tfidf", None),
    "gensim_nmf": ("tfidf", None),
    "ours_nmf_kl": ("tfidf", "sk_mu_kl"),
    "sk_mu_kl": ("tfidf", None),
    "ours_plsa": ("counts", "sk_mu_kl_counts"),
    "sk_mu_kl_counts": ("counts", None),
}
OPTIONAL_ROWS = {"ours_nmf_fro_numpy": ("tfidf", "sk_mu"),
                 "ours_nmf_kl_numpy": ("tfidf", "sk_mu_kl"),
                 "ours_plsa_numpy": ("counts", "sk_mu_kl_counts")}


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def child(row: str, cache: Path) -> None:
    """Run one row in this process and print its measurements as JSON."""
    warnings.simplefilter("ignore")
    X = load(cache, ROWS.get(row, OPTIONAL_ROWS.get(row))[0])
    if row.startswith("ours_") and not row.endswith("numpy"):
        # Compile (or load the cached compilation of) the kernels outside the timing.
        run_row(row, X[:50])
    before = _rss_bytes()
    start = time.perf_counter()
    evaluate, n_iter = run_row(row, X)
    seconds = time.perf_counter() - start
    objective = evaluate()
    if row == "floor":
        seconds = objective
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    print(json.dumps({"seconds": seconds, "peak_mb": max(peak, 0) / 2**20,
                      "objective": objective, "n_iter": n_iter, "nnz": X.nnz,
                      "shape": X.shape}))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/topicmf_speed"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default="", help="comma-separated rows to run")
    parser.add_argument("--numpy", action="store_true", help="also run the numpy engine")
    parser.add_argument("--results", type=Path, default=Path("/tmp/topicmf_speed/results.json"),
                        help="JSON file the measured rows are merged into; the table shows "
                             "every row it holds")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.cache)
        return 0
    if not (args.cache / "counts.npz").exists():
        build_matrices(args.cache)
    rows = dict(ROWS, **(OPTIONAL_ROWS if args.numpy else {}))
    if args.only:
        rows = {r: rows.get(r, OPTIONAL_ROWS.get(r)) for r in args.only.split(",")}
    results = json.loads(args.results.read_text()) if args.results.exists() else {}
    for row in rows:
        runs = []
        for _ in range(args.repeats):
            out = subprocess.run([sys.executable, __file__, "--child", row, "--cache",
                                  str(args.cache)], capture_output=True, text=True, check=True)
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        results[row] = {key: statistics.median(r[key] for r in runs)
                        for key in ("seconds", "peak_mb", "objective", "n_iter")}
        results[row]["nnz"], results[row]["shape"] = runs[0]["nnz"], runs[0]["shape"]
        results[row]["repeats"], results[row]["load"] = args.repeats, os.getloadavg()
        print(f"  {row}: {results[row]}", file=sys.stderr, flush=True)
        args.results.write_text(json.dumps(results, indent=1))
    print_table({**ROWS, **OPTIONAL_ROWS}, results)
    return 0


def print_table(rows, results) -> None:
    floor = results.get("floor", {}).get("seconds")
    any_row = next(iter(results.values()))
    print(f"20 Newsgroups {tuple(any_row['shape'])}, nnz {any_row['nnz']:,}, K = {K}, "
          f"float32; load average now {os.getloadavg()}")
    print("| row | matrix | iters | time s | iter / floor | peak MB | objective | "
          "time ours / theirs | objective ours / theirs | runs | load (1 min) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for row, (kind, rival) in rows.items():
        if row not in results:
            continue
        r = results[row]
        per_iter = (f"{r['seconds'] / r['n_iter'] / floor:.1f}"
                    if floor and row.startswith("ours_") and row != "ours_lsa" else "")
        ratio = obj_ratio = ""
        if rival in results:
            ratio = f"{r['seconds'] / results[rival]['seconds']:.2f}"
            obj_ratio = f"{r['objective'] / results[rival]['objective']:.4f}"
        objective = "" if row == "floor" else f"{r['objective']:.6g}"
        print(f"| {row} | {kind} | {r['n_iter']:g} | {r['seconds']:.3f} | {per_iter} | "
              f"{r['peak_mb']:.0f} | {objective} | {ratio} | {obj_ratio} | {r['repeats']} | "
              f"{r['load'][0]:.1f} |")


if __name__ == "__main__":
    sys.exit(main())
