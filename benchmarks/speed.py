"""Speed of the LSA, NMF and PLSA fits against scikit-learn and gensim, side by side.

    python benchmarks/speed.py                       # 20 Newsgroups, K = 20, median of 3
    python benchmarks/speed.py --repeats 1 --only ours_nmf_kl,sk_mu_kl
    python benchmarks/speed.py --corpus zh6 --topics 50   # Chinese news, 6 categories, K = 50
    python benchmarks/speed.py --scale [--only floor,ours_nmf_fro]   # time against size

``--corpus`` picks 20ng (20 Newsgroups, 18,846 English posts) or zh6 (11,640 long Chinese news
articles, tokenized through jieba), read from ``--corpora`` (default ../shared/corpora beside
the repository); ``--topics`` sets K. The TF-IDF and count matrices of each corpus are built
once with topicmf's tokenizer and ``vectorize`` defaults and cached as .npz under
``--cache``/<corpus> (outside the repository). Measurements are merged into ``--results``
under their corpus and K; the table shows those of the current corpus and K. Every row runs
in a fresh subprocess, so its peak memory (the process's VmHWM after the fit minus the
resident size just before it, the peak reset there, the objective computed after) is its own;
every row first runs once on a small slice, so imports and compilation are not counted. The
resident size moved by up to 60 MB between runs of the same fit on this machine, so each row
is also fitted once more (3 iterations) under tracemalloc: "traced" is the peak of the memory
the fit allocated, which does not depend on the operating system. Everyone gets the same float32 matrix, the same
start (NNDSVDa for NMF) and the same iteration count (tol = 0). The objective of every row is
recomputed here the same way: ||X - W H||_F for Frobenius NMF and LSA, D(X || W H) for
KL-NMF, and for PLSA the same divergence with P(w | d) scaled by the document lengths (plain PLSA,
``background=0``, so that it fits the same objective as KL-NMF).

The repeats run round by round (each row once, then each row again), and ``time ours /
theirs`` is the median of the ratios within a round, so a change in the machine's speed
between minutes falls on both sides of a ratio.

``iter / floor`` is one iteration without the start (the fit's time minus that of the same
fit stopped after one iteration, over the remaining iterations) against one X @ H.T.

``--scale`` replaces that table: each of floor, ours_nmf_fro, ours_nmf_kl and ours_plsa (or the
``--only`` rows) is fitted on the first 1/4, 1/2 and all of the documents (row slices of the
cached matrix, same vocabulary, same fixed iteration count), each in its own subprocess, and
the table gives the seconds against nnz and, per row, the least-squares slope of log(time)
against log(nnz): 1 means linear in the nonzeros.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[1]
CORPORA = {  # --corpus -> (file under --corpora, name in the table)
    "20ng": ("20newsgroups_bydate.jsonl.gz", "20 Newsgroups"),
    "zh6": ("chinese_news_6cat_zh.jsonl.gz", "Chinese news, 6 categories"),
}
SCALE_ROWS = ("floor", "ours_nmf_fro", "ours_nmf_kl", "ours_plsa")
FRACTIONS = (Fraction(1, 4), Fraction(1, 2), Fraction(1))


# ------------------------------------------------------------------ the matrices
def build_matrices(path: Path, cache: Path) -> None:
    """Tokenize and vectorize the corpus at path once; store tfidf and counts as float32 .npz."""
    from topicmf.corpus import load_corpus
    from topicmf.tokenize import Tokenizer
    from topicmf.vectorize import vectorize

    cache.mkdir(parents=True, exist_ok=True)
    corpus = load_corpus(path)
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
def _ours(name, k: int, **params):
    from topicmf.models import MODELS
    return MODELS[name](n_topics=k, random_state=0, tol=0.0, **params) if name != "lsa" \
        else MODELS[name](n_topics=k, random_state=0, **params)


def run_row(row: str, X, k: int, max_iter: int | None = None):
    """Fit one row's model on X; return (a function computing the objective, iterations).
    ``max_iter`` replaces the iteration count of the iterative models (ours and scikit-learn's
    NMF)."""
    from sklearn.decomposition import NMF as SkNMF, TruncatedSVD

    if row in ("ours_nmf_fro", "ours_nmf_fro_numpy"):
        engine = "numpy" if row.endswith("numpy") else "auto"
        m = _ours("nmf", k, max_iter=max_iter or 200, engine=engine).fit(X)
        return lambda: frobenius(X, m.doc_topic_, m.components_), m.n_iter_
    if row in ("ours_nmf_kl", "ours_nmf_kl_numpy"):
        engine = "numpy" if row.endswith("numpy") else "auto"
        m = _ours("nmf", k, beta_loss="kullback-leibler", max_iter=max_iter or 100,
                  engine=engine).fit(X)
        return lambda: divergence(X, m.doc_topic_, m.components_), m.n_iter_
    if row in ("ours_plsa", "ours_plsa_numpy"):
        engine = "numpy" if row.endswith("numpy") else "auto"
        m = _ours("plsa", k, background=0.0, max_iter=max_iter or 100, engine=engine).fit(X)
        lengths = np.asarray(X.sum(axis=1)).ravel()
        return lambda: divergence(X, m.doc_topic_ * lengths[:, None], m.components_), m.n_iter_
    if row == "ours_lsa":
        m = _ours("lsa", k).fit(X)
        return lambda: projection_error(X, m.components_), m.n_iter_
    if row.startswith("sk_"):
        if row.startswith("sk_tsvd"):
            algorithm = row.removeprefix("sk_tsvd_")
            m = TruncatedSVD(k, algorithm=algorithm, random_state=0).fit(X)
            return lambda: projection_error(X, m.components_), 1
        solver, beta, iters = {"sk_mu": ("mu", "frobenius", 200),
                               "sk_cd": ("cd", "frobenius", 200),
                               "sk_mu_kl": ("mu", "kullback-leibler", 100),
                               "sk_mu_kl_counts": ("mu", "kullback-leibler", 100)}[row]
        m = SkNMF(k, solver=solver, beta_loss=beta, init="nndsvda", tol=0.0,
                  max_iter=max_iter or iters, random_state=0)
        W = m.fit_transform(X)
        loss = frobenius if beta == "frobenius" else divergence
        return lambda: loss(X, W, m.components_), m.n_iter_
    if row == "gensim_lsi":
        from gensim.matutils import Sparse2Corpus
        from gensim.models import LsiModel
        m = LsiModel(Sparse2Corpus(X, documents_columns=False), num_topics=k,
                     id2word={i: str(i) for i in range(X.shape[1])})
        return lambda: projection_error(X, m.projection.u.T), 1
    if row == "gensim_nmf":
        from gensim.matutils import Sparse2Corpus
        from gensim.models.nmf import Nmf
        Nmf(Sparse2Corpus(X, documents_columns=False), num_topics=k, random_state=0,
            id2word={i: str(i) for i in range(X.shape[1])})
        return lambda: float("nan"), 1
    if row == "floor":
        HT = np.random.RandomState(0).rand(X.shape[1], k).astype(X.dtype)
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
ALL_ROWS = {**ROWS, **OPTIONAL_ROWS}


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_bytes() -> int:
    """This process's peak resident size, VmHWM. Unlike ru_maxrss it does not carry over the
    parent's peak through fork and exec (large when the parent has just built the matrices)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))


def _reset_peak() -> None:
    """Start VmHWM again from the current resident size (Linux: clear_refs 5)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def child(row: str, cache: Path, k: int, fraction: Fraction) -> None:
    """Run one row in this process on the first fraction of the documents; print JSON."""
    warnings.simplefilter("ignore")
    X = load(cache, ALL_ROWS[row][0])
    if fraction != 1:
        X = X[: int(X.shape[0] * fraction)]
    # Imports, numba compilation and lazy set-up happen on a small slice, outside the timing
    # and the memory measurement, for every row alike. The slice holds just enough non-zeros
    # (times K) for engine="auto" to pick the compiled kernels, as the whole fit does: below
    # SMALL_FIT_WORK it would warm the numpy ones and leave loading the compiled ones (about
    # 0.3 s) inside the timed fit.
    from topicmf.models._kernels import SMALL_FIT_WORK
    rows = int(np.searchsorted(X.indptr, SMALL_FIT_WORK // k + 1)) + 1
    run_row(row, X[: min(X.shape[0], max(50, 2 * k, rows))], k)
    before = _rss_bytes()
    _reset_peak()
    start = time.perf_counter()
    evaluate, n_iter = run_row(row, X, k)
    seconds = time.perf_counter() - start
    peak = _peak_bytes() - before  # before the objective, which makes float64 copies
    objective = evaluate()
    if row == "floor":
        seconds = objective
    result = {"seconds": seconds, "peak_mb": max(peak, 0) / 2**20, "objective": objective,
              "n_iter": n_iter, "nnz": X.nnz, "shape": X.shape}
    if row.startswith("ours_") and row != "ours_lsa":
        # One iteration's cost without the start: the same fit stopped after one iteration.
        start = time.perf_counter()
        run_row(row, X, k, max_iter=1)
        first = time.perf_counter() - start
        result["iter_seconds"] = (seconds - first) / max(n_iter - 1, 1)
    if row != "floor":
        result["traced_mb"] = traced_peak(row, X, k) / 2**20
    print(json.dumps(result))


def traced_peak(row: str, X, k: int) -> int:
    """Bytes of the largest amount of memory the row's fit holds at once, counted by
    tracemalloc (numpy and scipy arrays are traced; memory numba allocates inside compiled
    code is not, and the kernels allocate their outputs outside it). Unlike the resident size
    this does not depend on what the operating system reclaims or maps in. Iterative fits run
    3 iterations: every iteration allocates the same."""
    import tracemalloc

    tracemalloc.start()
    try:
        run_row(row, X, k, max_iter=3)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def run_once(row: str, fraction: Fraction, args: argparse.Namespace) -> dict:
    """One run of row on the first fraction of the documents, in a fresh subprocess."""
    command = [sys.executable, __file__, "--child", row, "--corpus", args.corpus, "--cache",
               str(args.cache), "--topics", str(args.topics), "--fraction", str(fraction)]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def summarize(runs: list[dict]) -> dict:
    """The median of each measurement over the runs, and every run's seconds."""
    result = {key: statistics.median(r[key] for r in runs)
              for key in ("seconds", "peak_mb", "objective", "n_iter", "iter_seconds",
                          "traced_mb")
              if key in runs[0]}
    result["nnz"], result["shape"] = runs[0]["nnz"], runs[0]["shape"]
    result["run_seconds"] = [r["seconds"] for r in runs]
    result["repeats"], result["load"] = len(runs), os.getloadavg()
    return result


def time_ratio(ours: dict, theirs: dict) -> float:
    """ours / theirs in seconds: the median of the ratios of runs made in the same round
    when both rows ran round by round, else the ratio of the medians."""
    a, b = ours.get("run_seconds", []), theirs.get("run_seconds", [])
    if a and len(a) == len(b):
        return statistics.median(x / y for x, y in zip(a, b))
    return ours["seconds"] / theirs["seconds"]


def select_rows(only: str, scale: bool, numpy: bool) -> list[str]:
    if only:
        rows = only.split(",")
        unknown = [row for row in rows if row not in ALL_ROWS]
        if unknown:
            raise SystemExit(f"unknown rows {unknown}; the rows are {', '.join(ALL_ROWS)}")
        return rows
    if scale:
        return list(SCALE_ROWS)
    return list(ROWS) + (list(OPTIONAL_ROWS) if numpy else [])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=list(CORPORA), default="20ng")
    parser.add_argument("--corpora", type=Path, default=ROOT.parent / "shared" / "corpora",
                        help="folder holding the corpus files")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/topicmf_speed"),
                        help="the matrices of each corpus are kept in CACHE/<corpus>")
    parser.add_argument("--topics", type=int, default=20, help="K, the number of topics")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default="", help="comma-separated rows to run")
    parser.add_argument("--numpy", action="store_true", help="also run the numpy engine")
    parser.add_argument("--scale", action="store_true",
                        help="time the rows on the first 1/4, 1/2 and all of the documents")
    parser.add_argument("--results", type=Path,
                        help="JSON file the measurements are merged into, keyed by corpus and "
                             "K (default CACHE/speed_results.json); the table shows every row "
                             "it holds for this corpus and K")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--fraction", type=Fraction, default=Fraction(1), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    cache = args.cache / args.corpus
    if args.child:
        child(args.child, cache, args.topics, args.fraction)
        return 0
    rows = select_rows(args.only, args.scale, args.numpy)
    if not (cache / "counts.npz").exists():
        build_matrices(args.corpora / CORPORA[args.corpus][0], cache)
    results_file = args.results or args.cache / "speed_results.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    section = results.setdefault(f"{args.corpus} K={args.topics}" + " scale" * args.scale, {})
    # Round by round: every row runs once before any row runs again, so that a change in the
    # machine's speed (up to 2x between minutes here) falls on ours and theirs alike.
    keys = [(row, fraction, f"{row} {fraction}" if args.scale else row) for row in rows
            for fraction in (FRACTIONS if args.scale else (Fraction(1),))]
    runs = {key: [] for _, _, key in keys}
    for round_ in range(args.repeats):
        for row, fraction, key in keys:
            runs[key].append(run_once(row, fraction, args))
            section[key] = summarize(runs[key])
            print(f"  round {round_ + 1}, {key}: {section[key]}", file=sys.stderr, flush=True)
            results_file.write_text(json.dumps(results, indent=1))
    name = CORPORA[args.corpus][1]
    (print_scale_table if args.scale else print_table)(name, args.topics, section)
    return 0


def print_table(name: str, k: int, results: dict) -> None:
    floor = results.get("floor", {}).get("seconds")
    any_row = next(iter(results.values()))
    print(f"{name} {tuple(any_row['shape'])}, nnz {any_row['nnz']:,}, K = {k}, "
          f"float32; load average now {os.getloadavg()}")
    n_docs, n_terms = any_row["shape"]
    # float32 data + int32 indices per stored entry, indptr; W and H in float32.
    base_mb = (any_row["nnz"] * 8 + (n_docs + 1) * 4) / 2**20
    base_mb += (n_docs + n_terms) * k * 4 / 2**20
    print(f"X + factors: {base_mb:.1f} MB; 'peak / (X + factors)' is (X + the fit's peak above "
          f"the resident size before it) / (X + factors); 'traced' is the same with the peak "
          f"of the memory the fit allocated, counted by tracemalloc")
    print("| row | matrix | iters | time s | iter / floor | peak MB | peak / (X + factors) | "
          "traced MB | traced / (X + factors) | objective | time ours / theirs | "
          "objective ours / theirs | runs | load (1 min) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    matrix_mb = (any_row["nnz"] * 8 + (n_docs + 1) * 4) / 2**20
    for row, (kind, rival) in ALL_ROWS.items():
        if row not in results:
            continue
        r = results[row]
        per_iter = (f"{r['iter_seconds'] / floor:.1f}" if floor and "iter_seconds" in r
                    else "")
        ratio = obj_ratio = ""
        if rival in results:
            ratio = f"{time_ratio(r, results[rival]):.2f}"
            obj_ratio = f"{r['objective'] / results[rival]['objective']:.4f}"
        objective = "" if row == "floor" else f"{r['objective']:.6g}"
        relative = (matrix_mb + r["peak_mb"]) / base_mb
        traced = traced_relative = ""
        if "traced_mb" in r:
            traced = f"{r['traced_mb']:.0f}"
            traced_relative = f"{(matrix_mb + r['traced_mb']) / base_mb:.1f}"
        print(f"| {row} | {kind} | {r['n_iter']:g} | {r['seconds']:.3f} | {per_iter} | "
              f"{r['peak_mb']:.0f} | {relative:.1f} | {traced} | {traced_relative} | "
              f"{objective} | {ratio} | {obj_ratio} | {r['repeats']} | {r['load'][0]:.1f} |")


def print_scale_table(name: str, k: int, results: dict) -> None:
    """One line per row and fraction; the slope of log(time) on log(nnz) on the "1" line."""
    full = next(r for key, r in results.items() if key.endswith(" 1"))
    print(f"{name} {tuple(full['shape'])}, the first 1/4, 1/2 and all of the documents, "
          f"K = {k}, float32; load average now {os.getloadavg()}")
    print("| row | matrix | fraction | documents | nnz | iters | time s | "
          "slope log time / log nnz | runs | load (1 min) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row, (kind, _) in ALL_ROWS.items():
        points = [results.get(f"{row} {fraction}") for fraction in FRACTIONS]
        if None in points:
            continue
        slope = np.polyfit(np.log([p["nnz"] for p in points]),
                           np.log([p["seconds"] for p in points]), 1)[0]
        for fraction, p in zip(FRACTIONS, points):
            shown = f"{slope:.2f}" if fraction == 1 else ""
            print(f"| {row} | {kind} | {fraction} | {p['shape'][0]:,} | {p['nnz']:,} | "
                  f"{p['n_iter']:g} | {p['seconds']:.3f} | {shown} | {p['repeats']} | "
                  f"{p['load'][0]:.1f} |")


if __name__ == "__main__":
    sys.exit(main())
