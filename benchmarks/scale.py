"""Scale: fits from shards, in memory, with gensim and on Dask, on corpora of 1x, 4x and 16x
20 Newsgroups, and one fit held to a memory cap.

    python benchmarks/scale.py                    # the full run (about 45 minutes on 2 cores)
    python benchmarks/scale.py --quick            # tiny sizes: checks that every row runs
    python benchmarks/scale.py --table            # the table and summary of --results again
    python benchmarks/scale.py --stages dask,cap  # some stages again, merged into --results

**The corpora.** 20 Newsgroups (``--corpora``/20newsgroups_bydate.jsonl.gz) is tokenized and
vectorized with ``prepare(load_corpus(...))`` (cached under ``--work``/20ng), and plain PLSA
(no background) with K = 20 is fitted to its counts. A synthetic document then has the length
(in vocabulary tokens) of a 20 Newsgroups document drawn at random, a topic mixture drawn from
the Dirichlet whose mean and total variance match the fitted P(z | d) rows (moment matching),
a topic per token from that mixture, and each word by inverse-CDF sampling: a uniform searched
in the topic's cumulative term distribution (O(tokens log V)). Documents are written as their
words joined by spaces (topicmf's tokenizer gives every term back: checked on the vocabulary
and on the first documents of each corpus) to ``--work``/synthetic-<m>x.jsonl.gz, m = 1, 4, 16
times the 20 Newsgroups documents, each size from its own seed (deterministic; a corpus whose
parameters have not changed is not drawn again).

**The rows.** Every measurement runs in a fresh subprocess. Peak memory is the process's
VmHWM: the whole resident process (imports, the matrix when it is in memory, the fit's working
set), its peak reset (``clear_refs``) just before what is measured.

``--quick`` checks that every row runs, and measures nothing worth comparing: corpora of 40,
160 and 640 documents drawn from a model of the first 200 posts, 4 iterations, no warm-ups,
every row in the benchmark's own process (but the capped one), Dask rows for NMF only, on one
cluster started at the beginning, and a capped corpus far below 10x its cap.

- build: ``topicmf.build.build_matrix`` on the text, ``--shard-docs`` documents a shard (time,
  the main process's peak and the largest tokenizing worker's, the shards' size on disk);
- fits, K = 20, float32, ``--iterations`` iterations with tol = 0 (LSA: its 5 power
  iterations): NMF (Frobenius, TF-IDF), KL-NMF (TF-IDF), PLSA (counts, its default background)
  and LSA (TF-IDF), each after one warm-up fit of the same model and engine on a small shard
  folder (imports, numba's cached kernels); the row "cold" is NMF from shards at 1x in a fresh
  process without it. Engines: ``shards`` (``ShardBlocks``: one shard at a time; the time
  excludes opening the folder, which checks every shard's SHA-256, reported apart),
  ``memory`` (the shards concatenated, ``InMemoryBlocks`` of one block: the fastest in-memory
  fit) and ``memory-blocks`` (the same matrix cut at the shards' rows: the same numbers as
  from shards, without the disk);
- gensim ``LsiModel`` (num_topics 20, chunksize 20,000, its default 2 power iterations, one
  pass) and ``Nmf`` (num_topics 20, passes 1, its default chunksize 2,000 and inner
  iterations), both reading the same shards' TF-IDF through :class:`ShardCorpus`, one shard at
  a time;
- Dask (``topicmf.engine.DaskBlocks`` on the shards, a LocalCluster of 1 and of 2 worker
  processes with one thread each, numba on one thread) on the largest corpus; the workers'
  peaks are their VmHWM; and the costs the model of N workers needs: broadcasting an
  n_terms x K array, a trivial task, an n_terms x K sum across workers, and a profiled fit
  (Dask's task stream) for the tasks of a round;
- the cap: a shard folder at least 10x the cap on disk, written directly from drawn counts
  with ``topicmf.shards.write_shard`` (TF-IDF with the largest built corpus's idf; no text, so
  no tokenizing), its pages dropped from the page cache, then NMF from shards in a process
  held to the cap by a cgroup v1 memory controller (which counts page cache too). The cap is
  1.1 x the peak of the NMF fit from shards on the largest corpus, rounded up to 10 MB
  (``--cap-mb`` to choose it).

Results go to ``--results`` (default benchmarks/scale_results.json; with ``--quick``,
``--work``/scale_results.json), with every row's figures; the table and the summary (slopes of
log time on log nnz, shards / memory, Dask's speed-up, the model of N workers and the targets)
are computed from it.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SOURCE_FILE = "20newsgroups_bydate.jsonl.gz"
MODELS = {  # row -> (matrix, name in the table)
    "nmf_fro": ("tfidf", "NMF"),
    "nmf_kl": ("tfidf", "KL-NMF"),
    "plsa": ("counts", "PLSA"),
    "lsa": ("tfidf", "LSA"),
}
ENGINES = ("shards", "memory", "memory-blocks")
STAGES = ("corpora", "build", "fit", "gensim", "dask", "cap")
CGROUP = Path("/sys/fs/cgroup/memory/topicmf-scale")
RESULT_MARK = "RESULT "
DRAW_CHUNK = 2000  # documents drawn at a time; part of what a seed means

# What --quick changes: tiny corpora from a model of the first documents of 20 Newsgroups.
FULL = {"source_docs": None, "source_iter": 100, "base_docs": None, "shard_docs": 5000,
        "iterations": 10,
        "warm_docs": 1000, "warm_shard_docs": 250, "cap_min_docs": 0}
QUICK = {"source_docs": 200, "source_iter": 20, "base_docs": 40, "shard_docs": 320,
         "iterations": 4,
         "warm_docs": 160, "warm_shard_docs": 80, "cap_min_docs": 640}


# ================================================================== memory and processes
def _peak_bytes() -> int:
    """This process's peak resident size (VmHWM)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _reset_peak() -> None:
    """VmHWM starts again from the current resident size (Linux: clear_refs 5)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _read_bytes() -> int:
    """Bytes this process has had read from the block device (not from the page cache)."""
    with open("/proc/self/io") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("read_bytes:"))


def _mb(n_bytes) -> float:
    return n_bytes / 2**20


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in Path(folder).iterdir() if p.is_file())


# ================================================================== 20 Newsgroups and its model
def source_model(args, log) -> dict:
    """The generator's parameters (terms, P(w | z), Dirichlet alpha, document lengths), fitted
    once and kept in --work as .npz / .json."""
    import scipy.sparse as sp

    folder = args.work / ("20ng-quick" if args.quick else "20ng")
    folder.mkdir(parents=True, exist_ok=True)
    meta_file = folder / "model.json"
    params = {"source_docs": args.mode["source_docs"], "iterations": args.mode["source_iter"],
              "topics": args.topics, "seed": args.seed, "file": SOURCE_FILE}
    if meta_file.exists():
        meta = json.loads(meta_file.read_text())
        if meta["params"] == params and (folder / "model.npz").exists():
            with np.load(folder / "model.npz", allow_pickle=False) as npz:
                arrays = {name: npz[name] for name in npz.files}
            return {**arrays, "terms": json.loads((folder / "terms.json").read_text()),
                    "meta": meta}
    from topicmf import load_corpus
    from topicmf.models import PLSA
    from topicmf.pipeline import prepare

    start = time.perf_counter()
    corpus = load_corpus(args.corpora / SOURCE_FILE, limit=args.mode["source_docs"])
    tokenizer = _tokenizer()
    prepared = prepare(corpus, tokenizer=tokenizer)
    counts = sp.csr_array(prepared.dtm.counts, dtype=np.float64)
    terms = [str(t) for t in prepared.dtm.terms]
    prepare_s = time.perf_counter() - start
    # The generator writes terms as text for topicmf's tokenizer to read back: each must come
    # back as itself, or the synthetic matrix would not be the one drawn.
    lost = [t for t in terms if tokenizer(t) != [t]]
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plsa = PLSA(args.topics, background=0.0, max_iter=args.mode["source_iter"], tol=0.0,
                    random_state=args.seed).fit(counts)
    fit_s = time.perf_counter() - start
    phi = np.asarray(plsa.components_, dtype=np.float64)
    phi /= phi.sum(axis=1, keepdims=True)
    theta = np.asarray(plsa.doc_topic_, dtype=np.float64)
    theta /= theta.sum(axis=1, keepdims=True)
    # Moment matching: the Dirichlet with the rows' mean m and the same total variance,
    # sum_k m_k (1 - m_k) / (s + 1) = sum_k var_k.
    mean, var = theta.mean(axis=0), theta.var(axis=0)
    precision = float((mean * (1 - mean)).sum() / var.sum() - 1.0)
    alpha = mean * precision
    lengths = np.asarray(counts.sum(axis=1)).ravel().astype(np.int64)
    meta = {"params": params, "n_docs": int(counts.shape[0]), "n_terms": int(counts.shape[1]),
            "nnz": int(counts.nnz), "tokens": int(lengths.sum()),
            "prepare_s": prepare_s, "plsa_s": fit_s,
            "plsa_log_likelihood": float(plsa.history_[-1]),
            "dirichlet_alpha": alpha.tolist(), "dirichlet_precision": precision,
            "terms_not_kept_by_tokenizer": len(lost),
            "length_quantiles": {str(q): float(np.quantile(lengths, q))
                                 for q in (0, 0.25, 0.5, 0.75, 0.99, 1)}}
    np.savez(folder / "model.npz", phi=phi, alpha=alpha, lengths=lengths)
    (folder / "terms.json").write_text(json.dumps(terms))
    meta_file.write_text(json.dumps(meta, indent=1))
    log(f"20 Newsgroups: {counts.shape}, nnz {counts.nnz:,}; prepare {prepare_s:.1f} s, "
        f"PLSA {fit_s:.1f} s; Dirichlet precision {precision:.3f}; {len(lost)} terms not "
        f"given back by the tokenizer")
    return {"phi": phi, "alpha": alpha, "lengths": lengths, "terms": terms, "meta": meta}


_TOKENIZER = []


def _tokenizer():
    """The tokenizer build_matrix uses by default (one instance: it loads jieba's
    dictionary on first use)."""
    if not _TOKENIZER:
        from topicmf.tokenize import Tokenizer
        _TOKENIZER.append(Tokenizer())
    return _TOKENIZER[0]


class Generator:
    """Documents drawn from the fitted topic model (see the module's docstring)."""

    def __init__(self, model: dict):
        self.cdf = np.cumsum(model["phi"], axis=1)
        self.alpha = np.asarray(model["alpha"], dtype=np.float64)
        self.lengths = np.asarray(model["lengths"], dtype=np.int64)
        self.terms = model["terms"]
        self.n_terms = self.cdf.shape[1]

    def draw(self, rng: np.random.Generator, n_docs: int):
        """(indptr, words): document d's word ids are words[indptr[d]:indptr[d + 1]]."""
        lengths = rng.choice(self.lengths, size=n_docs)
        theta = rng.dirichlet(self.alpha, size=n_docs)
        theta /= theta.sum(axis=1, keepdims=True)
        per_topic = rng.multinomial(lengths, theta)
        docs, words = [], []
        rows = np.arange(n_docs)
        for k in range(self.cdf.shape[0]):
            n_k = per_topic[:, k]
            total = int(n_k.sum())
            if total == 0:
                continue
            cdf = self.cdf[k]
            drawn = np.searchsorted(cdf, rng.random(total) * cdf[-1], side="right")
            np.minimum(drawn, self.n_terms - 1, out=drawn)
            docs.append(np.repeat(rows, n_k))
            words.append(drawn)
        docs, words = np.concatenate(docs), np.concatenate(words)
        words = words[np.argsort(docs, kind="stable")]
        indptr = np.zeros(n_docs + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        return indptr, words


def _gzip_text(path: Path):
    # mtime 0: the same documents give the same bytes.
    return io.TextIOWrapper(gzip.GzipFile(filename="", mode="wb", compresslevel=1,
                                          fileobj=open(path, "wb"), mtime=0), encoding="utf-8")


def write_text_corpus(path: Path, generator: Generator, n_docs: int, seed_tag, log) -> dict:
    """Draw n_docs documents (seeded by seed_tag) as jsonl.gz text; skipped when a corpus with
    the same parameters is there."""
    meta_file = path.with_suffix(".json")
    params = {"n_docs": n_docs, "seed": list(seed_tag), "chunk": DRAW_CHUNK,
              "alpha": generator.alpha.tolist(), "n_terms": generator.n_terms}
    if meta_file.exists() and path.exists():
        meta = json.loads(meta_file.read_text())
        if meta["params"] == params:
            return meta
    start = time.perf_counter()
    terms = generator.terms
    tokens = 0
    partial = path.with_name(path.name + ".partial")
    with _gzip_text(partial) as out:
        for chunk, first in enumerate(range(0, n_docs, DRAW_CHUNK)):
            n = min(DRAW_CHUNK, n_docs - first)
            indptr, words = generator.draw(np.random.default_rng([*seed_tag, chunk]), n)
            tokens += len(words)
            text = [terms[w] for w in words.tolist()]
            lines = [json.dumps({"id": str(first + d),
                                 "text": " ".join(text[indptr[d]:indptr[d + 1]])})
                     for d in range(n)]
            out.write("\n".join(lines) + "\n")
    partial.replace(path)
    meta = {"params": params, "tokens": tokens, "bytes": path.stat().st_size,
            "draw_s": time.perf_counter() - start,
            "tokens_kept": tokens_kept(path, generator, seed_tag, min(DRAW_CHUNK, n_docs))}
    meta_file.write_text(json.dumps(meta, indent=1))
    log(f"{path.name}: {n_docs:,} documents, {tokens:,} tokens, {_mb(meta['bytes']):.0f} MB, "
        f"{meta['draw_s']:.1f} s; tokenizer kept {meta['tokens_kept']:.6f} of the tokens")
    return meta


def tokens_kept(path: Path, generator: Generator, seed_tag, first_chunk: int,
                n_docs: int = 500) -> float:
    """The share of the drawn words of the first documents that topicmf's tokenizer reads
    back from the text, word for word (the first chunk drawn again: ``first_chunk`` is its
    size)."""
    from topicmf.corpus import stream_corpus

    tokenizer = _tokenizer()
    indptr, words = generator.draw(np.random.default_rng([*seed_tag, 0]), first_chunk)
    same = total = 0
    for d, doc in enumerate(stream_corpus(path, limit=n_docs)):
        drawn = [generator.terms[w] for w in words[indptr[d]:indptr[d + 1]]]
        read = tokenizer(doc.text)
        total += len(drawn)
        same += sum(a == b for a, b in zip(drawn, read)) if len(read) == len(drawn) else 0
    return same / max(total, 1)


def write_count_shards(folder: Path, generator: Generator, vocabulary_from: Path, n_docs: int,
                       shard_docs: int, seed_tag, log) -> dict:
    """A shard folder of n_docs drawn documents written from their counts (no text): the
    terms and idf of the shard folder vocabulary_from, TF-IDF as build_matrix makes it."""
    import scipy.sparse as sp
    from topicmf.shards import ShardSet, new_manifest, write_manifest, write_shard
    from topicmf.tokenize import Tokenizer
    from sklearn.preprocessing import normalize

    meta_file = folder.with_name(folder.name + ".json")
    reference = ShardSet.open(vocabulary_from, verify=False)
    params = {"n_docs": n_docs, "shard_docs": shard_docs, "seed": list(seed_tag),
              "chunk": DRAW_CHUNK, "vocabulary": reference.manifest["build"]}
    if meta_file.exists() and (folder / "manifest.json").exists():
        meta = json.loads(meta_file.read_text())
        if meta["params"] == params:
            return meta
    start = time.perf_counter()
    vocabulary = reference.vocabulary
    position = {term: i for i, term in enumerate(vocabulary.terms.tolist())}
    # Generator term -> column of the shards (-1: pruned there, dropped here too).
    remap = np.array([position.get(t, -1) for t in generator.terms], dtype=np.int64)
    idf = vocabulary.idf.astype(np.float64)
    n_terms = len(vocabulary)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    manifest = new_manifest(vocabulary, Tokenizer().get_config(), n_documents_read=n_docs)
    entries, rest, first = [], None, 0
    pieces = []
    for chunk, at in enumerate(range(0, n_docs, DRAW_CHUNK)):
        n = min(DRAW_CHUNK, n_docs - at)
        indptr, words = generator.draw(np.random.default_rng([*seed_tag, chunk]), n)
        rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
        columns = remap[words]
        kept = columns >= 0
        keys, counts = np.unique(rows[kept] * n_terms + columns[kept], return_counts=True)
        counts_csr = sp.csr_array((counts.astype(np.int64), (keys // n_terms, keys % n_terms)),
                                  shape=(n, n_terms))
        pieces.append(counts_csr)
        held = sum(p.shape[0] for p in pieces)
        while held >= shard_docs or (at + n == n_docs and held):
            block = sp.vstack(pieces, format="csr")
            take = min(shard_docs, block.shape[0])
            shard, rest = block[:take], block[take:]
            nonempty = np.diff(shard.indptr) > 0
            shard = shard[nonempty]
            tfidf = shard.astype(np.float64)
            tfidf.data *= idf[tfidf.indices]
            tfidf = normalize(tfidf, norm="l2")
            ids = [str(first + d) for d in range(shard.shape[0])]
            entries.append(write_shard(folder, len(entries), shard, tfidf, ids, None, None,
                                       first_doc=first, build=manifest["build"]))
            first += shard.shape[0]
            pieces = [rest] if rest.shape[0] else []
            held = rest.shape[0]
    write_manifest(folder, manifest, entries)
    meta = {"params": params, "n_docs": first, "nnz": sum(e["nnz"] for e in entries),
            "n_shards": len(entries), "bytes": folder_bytes(folder),
            "write_s": time.perf_counter() - start}
    meta_file.write_text(json.dumps(meta, indent=1))
    log(f"{folder.name}: {first:,} documents, nnz {meta['nnz']:,}, {len(entries)} shards, "
        f"{_mb(meta['bytes']):,.0f} MB, written in {meta['write_s']:.0f} s")
    return meta


def drop_page_cache(folder: Path) -> None:
    """Evict the folder's files from the page cache, so that a reader has to read them from
    the disk (and have the pages charged to its own memory cgroup)."""
    for path in Path(folder).iterdir():
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


# ================================================================== the rows (in a child)
class ShardCorpus:
    """The documents of a shard folder as gensim's bag-of-words stream: (term id, value)
    lists, one shard in memory at a time."""

    def __init__(self, folder, kind: str = "tfidf"):
        from topicmf.shards import ShardSet
        self.shards = ShardSet.open(folder, verify=False)
        self.kind = kind

    def __len__(self) -> int:
        return self.shards.n_docs

    def __iter__(self):
        for i in range(self.shards.n_shards):
            X = self.shards.read(i, kind=self.kind, dtype=np.float32)
            indptr, indices, data = X.indptr.tolist(), X.indices, X.data
            for a, b in zip(indptr[:-1], indptr[1:]):
                yield list(zip(indices[a:b].tolist(), data[a:b].tolist()))
            del X, indices, data


def make_model(name: str, k: int, iterations: int, seed: int):
    from topicmf.models import LSA, NMF, PLSA
    if name == "nmf_fro":
        return NMF(k, max_iter=iterations, tol=0.0, random_state=seed)
    if name == "nmf_kl":
        return NMF(k, beta_loss="kullback-leibler", max_iter=iterations, tol=0.0,
                   random_state=seed)
    if name == "plsa":
        return PLSA(k, max_iter=iterations, tol=0.0, random_state=seed)
    return LSA(k, random_state=seed)


def load_matrix(folder, kind: str):
    """Every shard of the folder in one CSR array, float32, and the shards' row bounds."""
    import scipy.sparse as sp
    from topicmf.shards import ShardSet
    shards = ShardSet.open(folder, verify=False)
    X = sp.vstack([shards.read(i, kind=kind) for i in range(shards.n_shards)], format="csr")
    X = sp.csr_array(X, dtype=np.float32)
    X.sort_indices()
    return X, [0] + [stop for _, stop in shards.row_ranges]


def _counting(source):
    """Count the source's map_reduce rounds (the passes over the blocks) on the instance."""
    calls = [0]
    inner = source.map_reduce

    def map_reduce(step, *shared):
        calls[0] += 1
        return inner(step, *shared)

    source.map_reduce = map_reduce
    return calls


def run_fit(task: dict, folder, work: Path, client=None) -> dict:
    """One fit of task's model on folder with task's engine; figures of that fit."""
    from topicmf.engine import InMemoryBlocks
    model_name, engine = task["model"], task["engine"]
    kind = MODELS[model_name][0]
    X = None
    start = time.perf_counter()
    if engine == "shards":
        from topicmf.engine import ShardBlocks
        _reset_peak()
        before = _rss_bytes()
        start = time.perf_counter()
        source = ShardBlocks(folder, kind=kind, dtype=np.float32,
                             work_dir=work / f"fit-{os.getpid()}")
    elif engine == "dask":
        from topicmf.engine import DaskBlocks
        client.run(_reset_peak)
        _reset_peak()
        before = _rss_bytes()
        start = time.perf_counter()
        source = DaskBlocks(client, shards=str(folder), kind=kind, dtype=np.float32)
    else:
        X, bounds = load_matrix(folder, kind)
        _reset_peak()
        before = _rss_bytes()
        start = time.perf_counter()
        source = InMemoryBlocks(X) if engine == "memory" else InMemoryBlocks(X, bounds=bounds)
    open_s = time.perf_counter() - start
    rounds = _counting(source)
    model = make_model(model_name, task["topics"], task["iterations"], task["seed"])
    read_before = _read_bytes()
    start = time.perf_counter()
    model.fit(source)
    fit_s = time.perf_counter() - start
    result = {"fit_s": fit_s, "open_s": open_s, "peak_mb": _mb(_peak_bytes()),
              "rss_before_mb": _mb(before), "rounds": rounds[0],
              "n_iter": int(model.n_iter_), "objective": float(model.history_[-1]),
              "nnz": int(source.nnz), "n_docs": int(source.shape[0]),
              "n_terms": int(source.shape[1]), "n_blocks": len(source.blocks),
              "disk_read_mb": _mb(_read_bytes() - read_before)}
    if engine == "dask":
        peaks = client.run(_peak_bytes)
        result["worker_peak_mb"] = _mb(max(peaks.values()))
        result["workers"] = len(peaks)
    del model
    source.close()
    return result


def run_gensim(task: dict, folder) -> dict:
    import logging
    logging.getLogger("gensim").setLevel(logging.WARNING)
    from topicmf.shards import ShardSet
    terms = ShardSet.open(folder, verify=False).terms.tolist()
    id2word = dict(enumerate(terms))
    corpus = ShardCorpus(folder, "tfidf")
    _reset_peak()
    before = _rss_bytes()
    start = time.perf_counter()
    if task["model"] == "gensim_lsi":
        from gensim.models import LsiModel
        LsiModel(corpus, num_topics=task["topics"], id2word=id2word, chunksize=20000)
    else:
        from gensim.models.nmf import Nmf
        Nmf(corpus, num_topics=task["topics"], id2word=id2word, passes=1,
            random_state=task["seed"])
    return {"fit_s": time.perf_counter() - start, "peak_mb": _mb(_peak_bytes()),
            "rss_before_mb": _mb(before), "n_docs": len(corpus), "nnz": corpus.shards.nnz}


def run_build(task: dict) -> dict:
    from topicmf.build import build_matrix
    _reset_peak()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        shards = build_matrix(task["text"], task["out"], shard_docs=task["shard_docs"],
                              n_jobs=task["n_jobs"], tokenizer=_tokenizer())
    seconds = time.perf_counter() - start
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return {"build_s": seconds, "peak_mb": _mb(_peak_bytes()), "worker_peak_mb": _mb(workers),
            "n_docs": shards.n_docs, "n_terms": shards.n_terms, "nnz": shards.nnz,
            "n_shards": shards.n_shards, "disk_mb": _mb(folder_bytes(Path(task["out"]))),
            "timings_s": shards.manifest.get("timings_s")}


def _noop(i):
    return i


def run_dask_costs(task: dict, client, folder) -> dict:
    """What the model of N workers needs: the seconds to broadcast an n_terms x K array to
    every worker, of a trivial task, and of adding two such arrays held by different
    workers (one of them sent), each the median of a few tries."""
    from distributed import wait
    from topicmf.shards import ShardSet
    n_terms = ShardSet.open(folder, verify=False).n_terms
    H = np.random.default_rng(0).random((n_terms, task["topics"]), dtype=np.float32)
    workers = sorted(client.scheduler_info()["workers"])

    def timed(fn, tries=task["tries"]):
        times = []
        for _ in range(tries):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    def broadcast():
        future = client.scatter(H, broadcast=True, hash=False)
        wait(future)
        del future

    n_tasks = 20 * task["tries"]

    def tasks():
        client.gather(client.map(_noop, range(n_tasks), pure=False))

    a = client.scatter(H, workers=workers[:1], hash=False)
    b = client.scatter(H, workers=workers[-1:], hash=False)
    wait([a, b])

    def add():
        future = client.submit(np.add, a, b, pure=False, workers=workers[:1])
        wait(future)
        del future

    return {"workers": len(workers), "n_terms": n_terms, "topics": task["topics"],
            "array_mb": _mb(H.nbytes), "broadcast_s": timed(broadcast),
            "task_s": timed(tasks) / n_tasks, "add_s": timed(add)}


def run_dask_profile(task: dict, client, folder) -> dict:
    """A fit under Dask's task stream: how many tasks a round makes and how much of the wall
    time they spend computing."""
    from distributed import get_task_stream
    from topicmf.engine import DaskBlocks
    kind = MODELS[task["model"]][0]
    with DaskBlocks(client, shards=str(folder), kind=kind, dtype=np.float32) as source:
        rounds = _counting(source)
        model = make_model(task["model"], task["topics"], task["iterations"], task["seed"])
        with get_task_stream(client) as stream:
            start = time.perf_counter()
            model.fit(source)
            wall = time.perf_counter() - start
    groups: dict[str, dict] = {}
    for record in stream.data:
        group = groups.setdefault(_task_group(record["key"]),
                                  {"tasks": 0, "compute_s": 0.0, "transfer_s": 0.0})
        group["tasks"] += 1
        for part in record.get("startstops", ()):
            what = part["action"]
            if what in ("compute", "transfer"):
                group[f"{what}_s"] += part["stop"] - part["start"]
    n_tasks = sum(g["tasks"] for g in groups.values())
    return {"wall_s": wall, "rounds": rounds[0], "tasks": n_tasks,
            "tasks_per_round": n_tasks / max(rounds[0], 1),
            "compute_s": sum(g["compute_s"] for g in groups.values()),
            "transfer_s": sum(g["transfer_s"] for g in groups.values()),
            "groups": groups, "workers": len(client.scheduler_info()["workers"])}


def _task_group(key) -> str:
    """What a DaskBlocks task does, from its key topicmf-<source>-<what>-<round>-<block>...:
    its words without the source and the numbers ("range_step W", "range_step sum")."""
    key = key if isinstance(key, str) else str(key[0])
    parts = key.split("-")[2:]
    return " ".join(p for p in parts if not p.isdigit()) or key


# --quick keeps one cluster for the whole run (started early, see main), in this process.
_QUICK_CLIENTS: list = []


def _warm_worker() -> None:
    import topicmf.engine.cluster  # noqa: F401
    import topicmf.models  # noqa: F401


def start_quick_cluster() -> None:
    """--quick: a 2-worker cluster whose workers import topicmf while the first stages run."""
    client = _cluster(_QUICK_CLIENTS, 2)
    for address in client.scheduler_info()["workers"]:
        client.submit(_warm_worker, workers=[address], pure=False)


def child(tasks: list[dict], emit=None) -> None:
    """Run tasks in order in this process; print each one's figures as a JSON line (or hand
    them to ``emit(key, figures)``)."""
    clients = _QUICK_CLIENTS if emit is not None else []
    warmed = set()
    try:
        for task in tasks:
            work = Path(task["work"])
            kind = task["kind"]
            client = None
            if "workers" in task:
                client = _cluster(clients, task["workers"])
            what = (kind, task.get("model"), task.get("engine"), task.get("workers"))
            if task.get("warm") and what not in warmed:
                # Imports, numba's cached kernels, the workers' imports: once, on the small
                # folder, with the same model and engine, outside what is measured.
                warmed.add(what)
                if kind == "fit":
                    run_fit(task, task["warm_folder"], work, client)
                elif kind == "gensim":
                    run_gensim(task, task["warm_folder"])
            if kind == "fit":
                result = run_fit(task, task["folder"], work, client)
            elif kind == "gensim":
                result = run_gensim(task, task["folder"])
            elif kind == "build":
                result = run_build(task)
            elif kind == "dask_costs":
                result = run_dask_costs(task, client, task["folder"])
            elif kind == "dask_profile":
                if task.get("warm"):
                    run_dask_profile({**task, "iterations": 2}, client, task["warm_folder"])
                result = run_dask_profile(task, client, task["folder"])
            else:
                raise SystemExit(f"unknown task {kind}")
            if task.get("io"):
                result["read_bytes_mb"] = _mb(_read_bytes())
            result["load"] = os.getloadavg()
            if emit is None:
                print(RESULT_MARK + json.dumps({"key": task["key"], **result}), flush=True)
            else:
                emit(task["key"], result)
    finally:
        if emit is None:
            for client in clients:
                client.close()


def _cluster(clients: list, workers: int):
    """A client of a LocalCluster of ``workers`` single-threaded worker processes: the one in
    ``clients`` scaled to that count, or a new one."""
    if not clients:
        from topicmf.engine.cluster import connect
        clients.append(connect(workers=workers, threads_per_worker=1, dashboard_address=None))
    client = clients[0]
    if len(client.scheduler_info()["workers"]) != workers:
        client.cluster.scale(workers)
        client.wait_for_workers(workers)
        while len(client.scheduler_info()["workers"]) > workers:
            time.sleep(0.1)
    return client


def run_children(groups: list[list[dict]], args, log, preexec=None) -> dict:
    """Each group of tasks in a fresh subprocess, one after the other; their results by key,
    and under "failed: <keys>" what a failed process said. With --quick (and no preexec),
    in this process: a check that every row runs, not a measurement."""
    results = {}
    if args.quick and preexec is None:
        for tasks in groups:
            keys = ", ".join(t["key"] for t in tasks)
            start = time.perf_counter()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    child(tasks, emit=results.__setitem__)
            except Exception as exc:  # noqa: BLE001 (reported as the row's failure)
                import traceback
                results[f"failed: {keys}"] = {"error": traceback.format_exc()[-2000:]}
                log(f"  FAILED: {keys}: {exc!r}")
            else:
                log(f"  {keys}: {time.perf_counter() - start:.1f} s (in this process)")
        return results
    for tasks in groups:
        command = [sys.executable, __file__, "--child", json.dumps(tasks)]
        keys = ", ".join(t["key"] for t in tasks)
        start = time.perf_counter()
        out = subprocess.run(command, capture_output=True, text=True, preexec_fn=preexec)
        for line in out.stdout.splitlines():
            if line.startswith(RESULT_MARK):
                result = json.loads(line[len(RESULT_MARK):])
                results[result.pop("key")] = result
        if out.returncode != 0:
            log(out.stderr[-3000:])
            results[f"failed: {keys}"] = {"returncode": out.returncode,
                                          "stderr": out.stderr[-2000:]}
            log(f"  FAILED ({out.returncode}): {keys}")
        else:
            log(f"  {keys}: {time.perf_counter() - start:.1f} s")
    return results


# ================================================================== the stages (parent)
def record(results: dict, new: dict) -> None:
    """Merge new rows into the results; a row that ran drops an earlier failure of it."""
    rows = results["rows"]
    for key in [k for k in rows if k.startswith("failed: ")]:
        if any(part in new for part in key.removeprefix("failed: ").split(", ")):
            del rows[key]
    rows.update(new)


def dask_available() -> str | None:
    """None when the Dask engine can run, else why not."""
    try:
        import distributed  # noqa: F401
        from topicmf.engine import cluster  # noqa: F401
    except ImportError as exc:
        return f"the Dask rows are skipped: {exc} (topicmf.engine.cluster or distributed)"
    return None


def size_name(m: int) -> str:
    return f"{m}x"


def stage_corpora(args, results, log) -> Generator:
    model = source_model(args, log)
    results["source"] = model["meta"]
    generator = Generator(model)
    base = args.mode["base_docs"] or model["meta"]["n_docs"]
    corpora = results.setdefault("corpora", {})
    for m in args.sizes:
        path = args.work / f"synthetic-{size_name(m)}.jsonl.gz"
        corpora[size_name(m)] = {"n_docs": base * m, "path": str(path),
                                 **write_text_corpus(path, generator, base * m,
                                                     (args.seed, m), log)}
    warm = args.work / "synthetic-warm.jsonl.gz"
    write_text_corpus(warm, generator, args.mode["warm_docs"], (args.seed, 0), log)
    return generator


def task_base(args, key, kind, **fields) -> dict:
    return {"key": key, "kind": kind, "work": str(args.work), "topics": args.topics,
            "iterations": args.iterations, "seed": args.seed,
            "warm_folder": str(args.work / "shards-warm"), **fields}


def stage_build(args, results, log) -> None:
    from topicmf.build import build_matrix
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        build_matrix(args.work / "synthetic-warm.jsonl.gz", args.work / "shards-warm",
                     shard_docs=args.mode["warm_shard_docs"], n_jobs=1)
    tasks = [task_base(args, f"build {size_name(m)}", "build",
                       text=str(args.work / f"synthetic-{size_name(m)}.jsonl.gz"),
                       out=str(args.work / f"shards-{size_name(m)}"),
                       shard_docs=args.shard_docs, n_jobs=1 if args.quick else None)
             for m in args.sizes]
    record(results, run_children(group(tasks, args), args, log))


def group(tasks: list[dict], args) -> list[list[dict]]:
    """One task a process; with --quick, every task of the stage in one process (which checks
    that each row runs, not what it measures)."""
    return [tasks] if args.quick else [[t] for t in tasks]


def stage_fit(args, results, log) -> None:
    tasks = [task_base(args, f"cold {size_name(args.sizes[0])} nmf_fro shards", "fit",
                       model="nmf_fro", engine="shards",
                       folder=str(args.work / f"shards-{size_name(args.sizes[0])}"),
                       warm=False)]
    for m in args.sizes:
        for model in MODELS:
            for engine in ENGINES:
                tasks.append(task_base(args, f"fit {size_name(m)} {model} {engine}", "fit",
                                       model=model, engine=engine,
                                       folder=str(args.work / f"shards-{size_name(m)}"),
                                       warm=not args.quick))
    record(results, run_children(group(tasks, args), args, log))


def stage_gensim(args, results, log) -> None:
    tasks = [task_base(args, f"fit {size_name(m)} {model} shards", "gensim", model=model,
                       folder=str(args.work / f"shards-{size_name(m)}"),
                       warm=not args.quick)
             for m in args.sizes for model in ("gensim_lsi", "gensim_nmf")]
    record(results, run_children(group(tasks, args), args, log))


def stage_dask(args, results, log) -> None:
    why = dask_available()
    if why:
        log(why)
        results["dask_skipped"] = why
        return
    results.pop("dask_skipped", None)
    largest = size_name(args.sizes[-1])
    folder = str(args.work / f"shards-{largest}")
    tasks = []
    # --quick: NMF only (a round costs a Dask cluster about as much at any size), 2 workers
    # first, so that the 1-worker rows need no new worker process.
    for workers in ((2, 1) if args.quick else (1, 2)):
        for model in (["nmf_fro"] if args.quick else MODELS):
            tasks.append(task_base(args, f"fit {largest} {model} dask-{workers}", "fit",
                                   model=model, engine="dask", workers=workers, folder=folder,
                                   warm=not args.quick))
        tasks.append(task_base(args, f"dask costs {workers}", "dask_costs", workers=workers,
                               folder=folder, tries=3 if args.quick else 7))
        if workers == 2:
            # Tasks a round do not depend on the iterations: 2 are enough.
            tasks.append(task_base(args, "dask profile 2", "dask_profile", workers=2,
                                   folder=folder, model="nmf_fro", warm=not args.quick,
                                   iterations=1 if args.quick else 2))
    # A process (and a cluster) per row; with --quick, one process holds both clusters.
    record(results, run_children(group(tasks, args), args, log))


def choose_cap(args, results) -> int:
    if args.cap_mb:
        return int(args.cap_mb * 2**20)
    row = results["rows"].get(f"fit {size_name(args.sizes[-1])} nmf_fro shards")
    if row is None:
        raise SystemExit("the cap comes from the NMF fit from shards on the largest corpus: "
                         "run the fit stage first, or give --cap-mb")
    return int(math.ceil(row["peak_mb"] * 1.1 / 10) * 10 * 2**20)


def stage_cap(args, results, log) -> None:
    cap = choose_cap(args, results)
    largest = args.work / f"shards-{size_name(args.sizes[-1])}"
    per_doc = folder_bytes(largest) / json.loads((largest / "manifest.json").read_text())["n_docs"]
    # --quick keeps the plumbing and drops the size: its corpus is far below 10x the cap.
    n_docs = args.mode["cap_min_docs"] if args.quick else int(math.ceil(10.5 * cap / per_doc))
    generator = Generator(source_model(args, log))
    folder = args.work / "shards-cap"
    written = write_count_shards(folder, generator, largest, n_docs, args.shard_docs,
                                 (args.seed, 999), log)
    drop_page_cache(folder)
    task = task_base(args, "capped nmf_fro shards", "fit", model="nmf_fro", engine="shards",
                     folder=str(folder), warm=True, io=True,
                     iterations=args.cap_iterations)
    row = {"cap_mb": _mb(cap), "disk_mb": _mb(written["bytes"]), "n_docs": written["n_docs"],
           "nnz": written["nnz"], "n_shards": written["n_shards"],
           "write_s": written["write_s"], "iterations": args.cap_iterations}
    row["disk_over_cap"] = row["disk_mb"] / row["cap_mb"]
    try:
        if CGROUP.exists():
            CGROUP.rmdir()
        CGROUP.mkdir()
        (CGROUP / "memory.limit_in_bytes").write_text(str(cap))
        procs = CGROUP / "cgroup.procs"
    except OSError as exc:
        row["cgroup"] = f"not available ({exc}); ran without a cap: the peak is VmHWM only"
        log(row["cgroup"])
        procs = None

    def enter_cgroup():
        procs.write_text(str(os.getpid()))

    start = time.perf_counter()
    fitted = run_children([[task]], args, log, preexec=enter_cgroup if procs else None)
    row["wall_s"] = time.perf_counter() - start
    if procs is not None:
        row["cgroup"] = str(CGROUP)
        row["max_usage_mb"] = _mb(int((CGROUP / "memory.max_usage_in_bytes").read_text()))
        row["failcnt"] = int((CGROUP / "memory.failcnt").read_text())
        oom = dict(line.split() for line in (CGROUP / "memory.oom_control").read_text()
                   .splitlines())
        row["oom_kill"] = int(oom.get("oom_kill", 0))
        stat = dict(line.split() for line in (CGROUP / "memory.stat").read_text().splitlines())
        row["pgmajfault"] = int(stat.get("total_pgmajfault", 0))
        CGROUP.rmdir()
    row.update(fitted.get(task["key"], {}))
    if task["key"] not in fitted:
        row["failed"] = next((v for k, v in fitted.items() if k.startswith("failed")), None)
    results["rows"]["capped"] = row
    log(f"capped: {json.dumps(row)}")


# ================================================================== summary and table
def slope(points) -> float | None:
    """Least-squares slope of log(seconds) on log(nnz)."""
    points = [p for p in points if p and p[1] > 0]
    if len(points) < 2:
        return None
    x, y = np.log([p[0] for p in points]), np.log([p[1] for p in points])
    return float(np.polyfit(x, y, 1)[0])


def summarize(results: dict, sizes: list[int]) -> dict:
    rows = results["rows"]
    names = [size_name(m) for m in sizes]
    summary = {"slopes": {}, "shards_over_memory": {}, "shards_over_memory_blocks": {},
               "peak_growth": {}, "dask_speedup": {}, "vs_gensim": {}}
    for model in [*MODELS, "gensim_lsi", "gensim_nmf"]:
        for engine in ENGINES:
            pts = [(rows[k]["nnz"], rows[k]["fit_s"]) for n in names
                   if (k := f"fit {n} {model} {engine}") in rows]
            value = slope(pts)
            if value is not None:
                summary["slopes"][f"{model} {engine}"] = value
        first, last = (rows.get(f"fit {n} {model} shards") for n in (names[0], names[-1]))
        if first and last:
            summary["peak_growth"][model] = last["peak_mb"] / first["peak_mb"]
        for n in names:
            shard = rows.get(f"fit {n} {model} shards")
            for engine, into in (("memory", "shards_over_memory"),
                                 ("memory-blocks", "shards_over_memory_blocks")):
                mem = rows.get(f"fit {n} {model} {engine}")
                if shard and mem:
                    summary[into][f"{model} {n}"] = shard["fit_s"] / mem["fit_s"]
    for ours, theirs in (("lsa", "gensim_lsi"), ("nmf_fro", "gensim_nmf")):
        for n in names:
            a, b = rows.get(f"fit {n} {ours} shards"), rows.get(f"fit {n} {theirs} shards")
            if a and b:
                summary["vs_gensim"][f"{ours} {n}"] = {
                    "peak_ours_mb": a["peak_mb"], "peak_gensim_mb": b["peak_mb"],
                    "time_ours_s": a["fit_s"], "time_gensim_s": b["fit_s"]}
    largest = names[-1]
    for model in MODELS:
        one, two = (rows.get(f"fit {largest} {model} dask-{w}") for w in (1, 2))
        if one and two:
            summary["dask_speedup"][model] = one["fit_s"] / two["fit_s"]
    summary["workers_model"] = workers_model(results, largest)
    summary["targets"] = targets(summary, rows, names)
    return summary


def workers_model(results: dict, largest: str) -> dict | None:
    """T_round(N) = c nnz K / N + broadcast(N) + o tasks_per_round + ceil(log2 N) add,
    c from the 1-worker fits, the other terms measured; predicted against measured."""
    rows = results["rows"]
    costs = {w: rows.get(f"dask costs {w}") for w in (1, 2)}
    profile = rows.get("dask profile 2")
    if not all(costs.values()) or not profile:
        return None
    b1, b2 = costs[1]["broadcast_s"], costs[2]["broadcast_s"]
    per_worker = max(b2 - b1, 0.0)  # each more worker receives one more copy
    base = b1 - per_worker
    o = costs[2]["task_s"]
    add = costs[2]["add_s"]
    tasks_round = profile["tasks_per_round"]
    model = {"broadcast_base_s": base, "broadcast_per_worker_s": per_worker,
             "task_s": o, "add_across_workers_s": add, "tasks_per_round": tasks_round,
             "profile": {k: profile[k] for k in ("wall_s", "rounds", "tasks", "compute_s",
                                                 "transfer_s")},
             "models": {}}
    for name in MODELS:
        one, two = (rows.get(f"fit {largest} {name} dask-{w}") for w in (1, 2))
        if not one:
            continue
        nnz, k, rounds = one["nnz"], costs[1]["topics"], one["rounds"]

        def overhead(n):
            return base + per_worker * n + o * tasks_round + math.ceil(math.log2(n)) * add

        per_round_1 = one["fit_s"] / rounds
        c = max(per_round_1 - overhead(1), 1e-9) / (nnz * k)

        def predict(n, nnz=nnz):
            return rounds * (c * nnz * k / n + overhead(n))

        # Adding the (n + 1)-th worker pays while it saves more local work than it adds.
        best = next(n for n in range(1, 4097) if predict(n + 1) >= predict(n))
        best_10x = next(n for n in range(1, 4097)
                        if predict(n + 1, 10 * nnz) >= predict(n, 10 * nnz))
        model["models"][name] = {
            "c_ns_per_nnz_topic": c * 1e9, "rounds": rounds,
            "overhead_per_round_s": {str(n): overhead(n) for n in (1, 2, 4, 8, 16)},
            "local_per_round_s": {str(n): c * nnz * k / n for n in (1, 2, 4, 8, 16)},
            "predicted_s": {str(n): predict(n) for n in (1, 2, 4, 8, 16, 32)},
            "measured_s": {"1": one["fit_s"], **({"2": two["fit_s"]} if two else {})},
            "workers_that_pay": best, "workers_that_pay_10x_nnz": best_10x}
    return model


def targets(summary: dict, rows: dict, names: list[str]) -> list[dict]:
    out = []
    ratios = summary["shards_over_memory"]
    if ratios:
        worst = max(ratios, key=ratios.get)
        out.append({"target": "from shards <= 1.3x the in-memory time",
                    "met": all(v <= 1.3 for v in ratios.values()),
                    "numbers": ratios, "worst": [worst, ratios[worst]]})
    growth = {m: v for m, v in summary["peak_growth"].items() if m in MODELS}
    if growth:
        out.append({"target": f"peak RSS from shards flat: {names[-1]} <= 1.2x {names[0]}",
                    "met": all(v <= 1.2 for v in growth.values()), "numbers": growth})
    vs = summary["vs_gensim"]
    if vs:
        out.append({"target": "peak RSS from shards below gensim's on the same job",
                    "met": all(v["peak_ours_mb"] < v["peak_gensim_mb"] for v in vs.values()),
                    "numbers": {k: [v["peak_ours_mb"], v["peak_gensim_mb"]]
                                for k, v in vs.items()}})
    slopes = {k: v for k, v in summary["slopes"].items() if k.split()[0] in MODELS}
    if slopes:
        out.append({"target": "time linear in nnz: slope <= 1.1",
                    "met": all(v <= 1.1 for v in slopes.values()), "numbers": slopes})
    if summary["dask_speedup"]:
        out.append({"target": "Dask 2 single-threaded workers >= 1.6x faster than 1",
                    "met": all(v >= 1.6 for v in summary["dask_speedup"].values()),
                    "numbers": summary["dask_speedup"]})
    capped = rows.get("capped")
    if capped and "fit_s" in capped:
        out.append({"target": "a fit from shards at least 10x its memory cap on disk",
                    "met": capped["disk_over_cap"] >= 10 and capped.get("oom_kill", 0) == 0
                    and "max_usage_mb" in capped,
                    "numbers": {k: capped.get(k) for k in ("disk_mb", "cap_mb", "max_usage_mb",
                                                           "failcnt", "peak_mb")}})
    return out


def print_table(results: dict, sizes: list[int]) -> None:
    rows, summary = results["rows"], results.get("summary", {})
    p = results.get("params", {})
    print(f"Synthetic corpora from PLSA (K = {p.get('topics')}) fitted to 20 Newsgroups; fits "
          f"K = {p.get('topics')}, float32, {p.get('iterations')} iterations (LSA: 5 power "
          f"iterations), {p.get('shard_docs')} documents a shard; load average now "
          f"{tuple(round(x, 2) for x in os.getloadavg())}")
    print("'s / MB': the fit's seconds / the process's peak resident MB; 'x mem': shards / "
          "memory (one block) time")
    header = ["size", "engine", "docs", "nnz", "build s", "build peak MB", "disk MB",
              *(f"{label} s / MB" for _, label in MODELS.values()),
              *(f"{label} x mem" for _, label in MODELS.values())]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))

    def cell(row):
        return f"{row['fit_s']:.2f} / {row['peak_mb']:.0f}" if row and "fit_s" in row else ""

    for m in sizes:
        n = size_name(m)
        build = rows.get(f"build {n}", {})
        for engine in (*ENGINES, "gensim"):
            if engine == "gensim":
                fits = {"nmf_fro": rows.get(f"fit {n} gensim_nmf shards"),
                        "lsa": rows.get(f"fit {n} gensim_lsi shards")}
                label = "gensim (Nmf, LsiModel) on the shards"
            else:
                fits = {model: rows.get(f"fit {n} {model} {engine}") for model in MODELS}
                label = engine
            any_row = next((r for r in fits.values() if r), None)
            if any_row is None:
                continue
            first = engine == "shards"
            ratio = [f"{summary.get('shards_over_memory', {}).get(f'{model} {n}', 0):.2f}"
                     if first and f"{model} {n}" in summary.get("shards_over_memory", {})
                     else "" for model in MODELS]
            print("| " + " | ".join([
                n, label, f"{any_row['n_docs']:,}", f"{any_row['nnz']:,}",
                f"{build['build_s']:.1f}" if first and build else "",
                (f"{build['peak_mb']:.0f} (workers {build['worker_peak_mb']:.0f})"
                 if first and build else ""),
                f"{build['disk_mb']:.0f}" if first and build else "",
                *(cell(fits.get(model)) for model in MODELS), *ratio]) + " |")
    largest = size_name(sizes[-1])
    for workers in (1, 2):
        fits = {model: rows.get(f"fit {largest} {model} dask-{workers}") for model in MODELS}
        any_row = next((r for r in fits.values() if r), None)
        if any_row is None:
            continue
        print("| " + " | ".join([
            largest, f"dask, {workers} worker{'s' * (workers > 1)} x 1 thread "
                     f"(worker peak MB: {max(r['worker_peak_mb'] for r in fits.values() if r):.0f})",
            f"{any_row['n_docs']:,}", f"{any_row['nnz']:,}", "", "", "",
            *(cell(fits.get(model)) for model in MODELS), "", "", "", ""]) + " |")
    if results.get("dask_skipped"):
        print(f"Dask: {results['dask_skipped']}")
    cold = rows.get(f"cold {size_name(sizes[0])} nmf_fro shards")
    warm = rows.get(f"fit {size_name(sizes[0])} nmf_fro shards")
    if cold and warm:
        print(f"Cold first call (fresh process, no warm-up), NMF from shards at "
              f"{size_name(sizes[0])}: {cold['fit_s']:.2f} s against {warm['fit_s']:.2f} s "
              f"after the warm-up (peak {cold['peak_mb']:.0f} MB)")
    slopes = summary.get("slopes", {})
    if slopes:
        print("Slope of log(fit s) on log(nnz): " + ", ".join(
            f"{k} {v:.2f}" for k, v in slopes.items()))
    if summary.get("dask_speedup"):
        print("Dask 1 -> 2 workers speed-up: " + ", ".join(
            f"{MODELS[k][1]} {v:.2f}x" for k, v in summary["dask_speedup"].items()))
    model = summary.get("workers_model")
    if model:
        print(f"Model of N workers: broadcast {model['broadcast_base_s'] * 1e3:.1f} ms + "
              f"{model['broadcast_per_worker_s'] * 1e3:.1f} ms per worker; "
              f"{model['tasks_per_round']:.0f} tasks a round at "
              f"{model['task_s'] * 1e3:.2f} ms; a sum across workers "
              f"{model['add_across_workers_s'] * 1e3:.1f} ms a level")
        for name, m in model["models"].items():
            print(f"  {MODELS[name][1]}: c = {m['c_ns_per_nnz_topic']:.2f} ns per nnz and "
                  f"topic, {m['rounds']} rounds; predicted s for N = 1, 2, 4, 8, 16: "
                  + ", ".join(f"{m['predicted_s'][str(n)]:.1f}" for n in (1, 2, 4, 8, 16))
                  + f" (measured {', '.join(f'{v:.1f}' for v in m['measured_s'].values())}); "
                  f"workers stop paying beyond {m['workers_that_pay']} "
                  f"({m['workers_that_pay_10x_nnz']} at 10x the nnz)")
    capped = rows.get("capped")
    if capped:
        print(f"Memory cap: {capped.get('disk_mb', 0):,.0f} MB of shards "
              f"({capped.get('n_docs', 0):,} documents, nnz {capped.get('nnz', 0):,}) = "
              f"{capped.get('disk_over_cap', 0):.1f}x the cap of {capped.get('cap_mb', 0):.0f} "
              f"MB ({capped.get('cgroup')}); NMF {capped.get('iterations')} iterations "
              + (f"in {capped['fit_s']:.1f} s (open {capped['open_s']:.1f} s), VmHWM "
                 f"{capped['peak_mb']:.0f} MB, cgroup max usage "
                 f"{capped.get('max_usage_mb', float('nan')):.0f} MB, failcnt "
                 f"{capped.get('failcnt')}, OOM kills {capped.get('oom_kill')}, read from disk "
                 f"{capped.get('disk_read_mb', 0):,.0f} MB"
                 if "fit_s" in capped else f"FAILED: {capped.get('failed')}"))
    for t in summary.get("targets", []):
        print(f"Target {'MET' if t['met'] else 'NOT MET'}: {t['target']}")
    failed = [k.removeprefix("failed: ") for k in rows if k.startswith("failed: ")]
    if failed:
        print(f"Failed rows: {failed}")


# ================================================================== main
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/topicmf_scale"),
                        help="folder for the corpora, shards and caches (outside the "
                             "repository)")
    parser.add_argument("--corpora", type=Path, default=ROOT.parent / "shared" / "corpora")
    parser.add_argument("--results", type=Path)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--table", action="store_true", help="print the table of --results")
    parser.add_argument("--stages", default=",".join(STAGES))
    parser.add_argument("--sizes", default="1,4,16")
    parser.add_argument("--topics", type=int, default=20)
    parser.add_argument("--iterations", type=int, help="iterations of every fit but LSA "
                                                        "(default 10; --quick: 4)")
    parser.add_argument("--cap-iterations", type=int, default=3)
    parser.add_argument("--shard-docs", type=int)
    parser.add_argument("--cap-mb", type=float)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        warnings.simplefilter("ignore")
        child(json.loads(args.child))
        return 0
    args.mode = QUICK if args.quick else FULL
    args.sizes = [int(s) for s in args.sizes.split(",")]
    args.shard_docs = args.shard_docs or args.mode["shard_docs"]
    args.iterations = args.iterations or args.mode["iterations"]
    args.work = args.work.resolve()
    results_file = args.results or (args.work / "scale_results.json" if args.quick
                                    else ROOT / "benchmarks" / "scale_results.json")
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    results.setdefault("rows", {})

    def log(message):
        print(message, file=sys.stderr, flush=True)

    if not args.table:
        args.work.mkdir(parents=True, exist_ok=True)
        stages = args.stages.split(",")
        unknown = set(stages) - set(STAGES)
        if unknown:
            raise SystemExit(f"unknown stages {sorted(unknown)}; the stages are {STAGES}")
        results["params"] = {"topics": args.topics, "iterations": args.iterations,
                             "shard_docs": args.shard_docs, "sizes": args.sizes,
                             "seed": args.seed, "quick": args.quick,
                             "cap_iterations": args.cap_iterations}
        results["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                              "date": time.strftime("%Y-%m-%d")}
        if args.quick and "dask" in stages and not dask_available():
            start_quick_cluster()
        for stage in STAGES:
            if stage not in stages:
                continue
            log(f"== {stage}")
            start = time.perf_counter()
            {"corpora": stage_corpora, "build": stage_build, "fit": stage_fit,
             "gensim": stage_gensim, "dask": stage_dask, "cap": stage_cap}[stage](
                args, results, log)
            results.setdefault("stage_s", {})[stage] = time.perf_counter() - start
            results["summary"] = summarize(results, args.sizes)
            results_file.parent.mkdir(parents=True, exist_ok=True)
            results_file.write_text(json.dumps(results, indent=1))
        for client in _QUICK_CLIENTS:
            client.close()
    else:
        args.sizes = results.get("params", {}).get("sizes", args.sizes)
    results["summary"] = summarize(results, args.sizes)
    print_table(results, args.sizes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
