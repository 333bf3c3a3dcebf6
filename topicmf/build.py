"""Vectorize a corpus larger than memory into a shard folder (see :mod:`topicmf.shards`).

    shards = build_matrix("news.jsonl.gz", "shards/", shard_docs=20000)

Two passes, with the same vocabulary, counts and TF-IDF as ``prepare(load_corpus(path))``
(log-entropy: the same to rounding, its sums of tf ln tf being added chunk by chunk):

1. The documents are read as a stream and tokenized in chunks (in worker processes once the
   corpus is large), and every token's document frequency and total count are counted
   exactly, with its sum of tf ln tf: per chunk, then summed. Each document's tokens go, as
   integer ids with their counts, to a spill file in the staging folder, so pass 2 does not
   tokenize again.
2. The vocabulary is pruned as :func:`topicmf.vectorize.vectorize` prunes it; the spill is read
   back and written as shards of ``shard_docs`` documents, counts and TF-IDF. Documents with
   no term left are left out and named in a warning.

Each document is cleaned before it is tokenized by the steps of ``clean`` that work on one
document at a time (:func:`topicmf.clean.strip_mail`: mail and news posts). The steps that
learn from the whole corpus before a document is tokenized, repeated lines (``boilerplate``)
and phrases, would need a pass of their own over the input, so a Cleaner asking for them is
refused here.

Dates are read as :func:`topicmf.load_corpus` reads them (``date_column``, a column named
"date", or a date in a file name), one warning counting those that are no date, and each
shard keeps its documents' dates when the corpus has any.

Memory: bounded are the texts (a chunk of up to 500 documents per worker, at most two chunks
per worker in flight) and pass 2 (one shard, plus one block of the spill). What grows is the
token table (each distinct token with its document frequency, total count and sum of
tf ln tf: it grows with the vocabulary before pruning, not with the number of documents), the
set of document ids when they come from a column (to check they are unique), and for a folder
the list of its files.
Disk: the spill, about 8 bytes for each distinct token of each document plus the ids and
dates, beside the output until the build ends.
"""

from __future__ import annotations

import collections
import json
import shutil
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from . import tokenize as _tokenize
from ._validation import check_int
from .clean import CORPUS_STEPS, Cleaner, as_cleaner
from .corpus import MAX_DOC_CHARS, MAX_UNPACKED_RATIO, DateReader, stream_corpus
from .errors import InvalidParameterError, OutputError, TopicmfWarning, VocabularyError
from .shards import ShardSet, new_manifest, staged_folder, write_manifest, write_shard
from .vectorize import (Vocabulary, _check_df, check_weighting, count_tokens, keep_columns,
                        prune_terms, term_weights, token_statistics)

__all__ = ["build_matrix"]

_CHUNK_DOCS = 500
_CHUNK_CHARS = 1_000_000
_IN_FLIGHT_PER_JOB = 2
_BLOCK_DOCS = 4096  # documents read back from the spill at a time
_SHOWN = 20  # excluded documents named in the manifest


def build_matrix(path, out, *, shard_docs=20000, tokenizer=None, min_df=2, max_df=0.5,
                 max_terms=None, sublinear_tf=False, weighting="tfidf", clean=False,
                 text_column="text", id_column=None, label_column=None, date_column=None,
                 lines=False, encoding=None, n_jobs=None, progress=None,
                 max_doc_chars=MAX_DOC_CHARS,
                 max_unpacked_ratio=MAX_UNPACKED_RATIO) -> ShardSet:
    """Read the corpus at ``path`` (any input of :func:`topicmf.load_corpus`) as a stream and
    write its counts and TF-IDF into the shard folder ``out``; return it opened.

    The vectorizer settings are those of :func:`topicmf.vectorize.vectorize`; ``clean``
    (True, False or a :class:`topicmf.clean.Cleaner`) says how to clean each document, as
    in :func:`topicmf.pipeline.prepare` but without the corpus-wide steps; the reading
    settings, limits included (``max_doc_chars``, ``max_unpacked_ratio``), those of
    :func:`topicmf.load_corpus`, and they are kept in the manifest so that ``texts`` reads
    documents again as they were built. Dates (``date_column``, by default a column named
    "date", or dates in a folder's file names) are read as ``load_corpus`` reads them and kept
    in the shards (:meth:`ShardSet.dates`). ``n_jobs``: worker processes for tokenizing (None: every CPU for a large input, from the start when
    its size on disk shows it, else once 2 M characters have been read; 1: always this
    process). ``progress(stage, done, total)`` is called with stage "read" (pass 1, documents
    read; total None when unknown) and "write" (pass 2, documents written or excluded).
    ``out`` is written all at once: a failed or interrupted build leaves nothing there and an
    earlier shard folder as it was; a folder that is not a shard folder is refused.
    """
    shard_docs = check_int(shard_docs, "shard_docs", low=1, owner="build_matrix")
    min_df, max_df = _check_df(min_df, "min_df"), _check_df(max_df, "max_df")
    max_terms = check_int(max_terms, "max_terms", low=1, owner="build_matrix", allow_none=True)
    n_jobs = check_int(n_jobs, "n_jobs", low=1, high=1024, owner="build_matrix",
                       allow_none=True)
    check_weighting(weighting, sublinear_tf, owner="build_matrix")
    cleaner = _per_document(clean)
    tokenizer = tokenizer if tokenizer is not None else _tokenize.Tokenizer()
    stream = stream_corpus(path, text_column=text_column, id_column=id_column,
                           label_column=label_column, date_column=date_column, lines=lines,
                           encoding=encoding, max_doc_chars=max_doc_chars,
                           max_unpacked_ratio=max_unpacked_ratio,
                           owner="build_matrix")
    out = Path(out)
    _check_output(Path(path), out)
    report = progress or (lambda stage, done, total: None)
    timings = {}
    with staged_folder(out) as staging:
        spill = _Spill(staging / ".spill")
        start = time.perf_counter()
        dates = DateReader()
        try:
            tokens, n_read = _first_pass(stream, tokenizer, cleaner, n_jobs, spill, report,
                                         dates)
            dates.add_warning(stream)
        finally:
            spill.close()
            for message in stream.warnings:
                warnings.warn(message, TopicmfWarning, stacklevel=2)
        timings["read"] = time.perf_counter() - start
        start = time.perf_counter()
        vocabulary, remap, pruned = prune_terms(tokens, n_read, min_df=min_df, max_df=max_df,
                                                max_terms=max_terms, sublinear_tf=sublinear_tf,
                                                weighting=weighting)
        del tokens
        timings["prune"] = time.perf_counter() - start
        start = time.perf_counter()
        manifest = new_manifest(
            vocabulary, tokenizer.get_config(), n_documents_read=n_read, pruned_terms=pruned,
            source={"path": str(path), "resolved": str(Path(path).resolve()),
                    "kind": stream.kind, "name": stream.name, "text_column": text_column,
                    "id_column": id_column, "label_column": label_column,
                    "date_column": date_column, "lines": lines,
                    "encoding": encoding, "max_doc_chars": stream.max_doc_chars,
                    "max_unpacked_ratio": stream.max_unpacked_ratio},
            source_files=stream.files, cleaning=cleaner.get_config(),
            skipped={"count": len(stream.skipped),
                     "first": [list(item) for item in stream.skipped[:_SHOWN]]})
        writer = _ShardWriter(staging, vocabulary, shard_docs, manifest["build"],
                              stream.has_labels, stream.has_dates)
        _second_pass(spill, remap, writer, n_read, report)
        shutil.rmtree(spill.folder)
        if writer.written == 0:
            raise VocabularyError("After pruning, every document is empty; try a lower 'min_df' "
                                  "or a higher 'max_df'.")
        _warn_excluded(writer.excluded, writer.n_excluded)
        timings["write"] = time.perf_counter() - start
        manifest.update(
            labels=sorted(writer.label_set) if stream.has_labels else None,
            dates=writer.date_range() if stream.has_dates else None,
            excluded={"count": writer.n_excluded, "first": writer.excluded[:_SHOWN]},
            timings_s={name: round(seconds, 3) for name, seconds in timings.items()})
        write_manifest(staging, manifest, writer.entries)
    return ShardSet.open(out, verify=False)


def _per_document(clean) -> Cleaner:
    """``clean`` as a Cleaner, refused if it asks for a step that learns from the whole
    corpus."""
    cleaner = as_cleaner(clean, "build_matrix")
    asked = [step for step in CORPUS_STEPS if getattr(cleaner, step)]
    if asked:
        raise InvalidParameterError(
            f"build_matrix reads the corpus once and cannot run {' or '.join(asked)}, which "
            f"learn from the whole corpus first; leave them out of 'clean', or use analyze "
            f"on the corpus itself.")
    return cleaner


def _check_output(path: Path, out: Path) -> None:
    from .io import check_output_path

    source, target = path.resolve(), check_output_path(out).resolve()
    if target == source or source in target.parents:
        raise OutputError(f"'out' {out} is the input or inside it ({path}); choose a folder "
                          f"outside the input for the shards.")
    if target in source.parents:
        raise OutputError(f"the input {path} is inside 'out' {out}, which the shards would "
                          f"replace; choose another folder.")


# ---------------------------------------------------------------------------- pass 1

class _TokenTable:
    """Every distinct token seen so far, with its exact document frequency and total count,
    and its sum of tf ln tf over the documents (for log-entropy)."""

    def __init__(self):
        self.ids: dict[str, int] = {}
        self.sums = [np.zeros(1024, dtype=np.int64), np.zeros(1024, dtype=np.int64),
                     np.zeros(1024, dtype=np.float64)]

    def add(self, terms: list[str], columns: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Count a chunk given in its own token ids; return its columns as table ids."""
        ids = self.ids
        table_ids = np.fromiter((ids.setdefault(term, len(ids)) for term in terms),
                                dtype=np.int64, count=len(terms))
        n = len(ids)
        if n > len(self.sums[0]):
            size = max(n, 2 * len(self.sums[0]))
            self.sums = [np.concatenate([a, np.zeros(size - len(a), a.dtype)])
                         for a in self.sums]
        columns = table_ids[columns]
        for total, chunk in zip(self.sums, token_statistics(columns, counts, n)):
            total[:n] += chunk
        return columns


def _tokenize_and_count(texts: list[str]):
    """Runs in a worker process set up by topicmf.tokenize._init_worker."""
    return count_tokens(_tokenize._tokenize_chunk(texts))


class _Spill:
    """Each document's token ids and counts, and its id, label, place and date, in files read
    back in order by pass 2."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir()
        self._files = {name: open(folder / name, "wb")
                       for name in ("lengths", "columns", "counts", "docs")}

    def write(self, meta, indptr: np.ndarray, columns: np.ndarray, counts: np.ndarray) -> None:
        np.diff(indptr).astype(np.int64).tofile(self._files["lengths"])
        columns.astype(np.int32).tofile(self._files["columns"])
        counts.astype(np.int32).tofile(self._files["counts"])
        self._files["docs"].write("".join(json.dumps(m) + "\n" for m in meta).encode("ascii"))

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()

    def blocks(self, size: int):
        """Yield (lengths, columns, counts, meta) for ``size`` documents at a time."""
        names = ("lengths", "columns", "counts", "docs")
        files = {name: open(self.folder / name, "rb") for name in names}
        try:
            while True:
                lengths = np.fromfile(files["lengths"], dtype=np.int64, count=size)
                if not len(lengths):
                    return
                n = int(lengths.sum())
                columns = np.fromfile(files["columns"], dtype=np.int32, count=n)
                counts = np.fromfile(files["counts"], dtype=np.int32, count=n)
                meta = [json.loads(files["docs"].readline()) for _ in range(len(lengths))]
                yield lengths, columns, counts, meta
        finally:
            for handle in files.values():
                handle.close()


def _first_pass(stream, tokenizer, cleaner, n_jobs, spill: _Spill, report, dates: DateReader):
    table = _TokenTable()
    n_read = 0
    chunks = _counted_chunks(stream, tokenizer, n_jobs, lambda: _bytes_on_disk(stream),
                             cleaner)
    for meta, (terms, indptr, columns, counts) in chunks:
        # The date as written becomes an ISO date or "" here, so the spill holds 10 characters.
        meta = [(doc_id, label, file, line, _iso(dates.read(doc_id, date)))
                for doc_id, label, file, line, date in meta]
        spill.write(meta, indptr, table.add(terms, columns, counts), counts)
        n_read += len(meta)
        report("read", n_read, stream.expected)
    tokens = list(table.ids)
    return (tokens, *(sums[:len(tokens)] for sums in table.sums)), n_read


def _chunks(stream, cleaner=None):
    clean = cleaner.texts if cleaner is not None and cleaner.active else None
    texts, meta, chars = [], [], 0
    for doc in stream:
        texts.append(doc.text if clean is None else clean([doc.text])[0])
        meta.append((doc.doc_id, doc.label, doc.file, doc.line, doc.date))
        chars += len(doc.text)
        if len(texts) >= _CHUNK_DOCS or chars >= _CHUNK_CHARS:
            yield texts, meta, chars
            texts, meta, chars = [], [], 0
    if texts:
        yield texts, meta, chars


def _iso(date) -> str:
    return "" if date is None else date.isoformat()


def _counted_chunks(stream, tokenizer, n_jobs, input_bytes=None, cleaner=None):
    """Yield (meta, counted chunk) in input order: in this process, or in worker processes
    with a few chunks in flight, so that the reader never runs far ahead of them.
    ``input_bytes()``, asked once the first chunk is read, is the input's size on disk;
    ``cleaner`` (a :class:`topicmf.clean.Cleaner`) cleans each text first."""
    from concurrent.futures import ProcessPoolExecutor

    pool, in_flight, chars = None, collections.deque(), 0
    try:
        for texts, meta, size in _chunks(stream, cleaner):
            if chars == 0 and input_bytes is not None:
                # A low estimate of the input's characters (UTF-8 takes at most 3 bytes for
                # the characters of our languages), so a large input starts its workers at once.
                chars = input_bytes() // 3
            chars += size
            if pool is None:
                jobs = _jobs(n_jobs, chars)
                if jobs > 1:
                    pool = ProcessPoolExecutor(jobs, mp_context=_tokenize._process_context(),
                                               initializer=_tokenize._init_worker,
                                               initargs=(tokenizer.get_config(), tokenizer.engine))
                    limit = _IN_FLIGHT_PER_JOB * jobs
            if pool is None:
                if chars > _tokenize._COMPILED_MIN_CHARS:
                    tokenizer._start_compiled()
                yield meta, count_tokens([tokenizer(text) for text in texts])
                continue
            in_flight.append((meta, pool.submit(_tokenize_and_count, texts)))
            while len(in_flight) >= limit:
                done_meta, future = in_flight.popleft()
                yield done_meta, future.result()
        while in_flight:
            done_meta, future = in_flight.popleft()
            yield done_meta, future.result()
    except BaseException:
        if pool is not None:  # on an error or Ctrl-C, do not wait for the queued chunks
            pool.shutdown(wait=True, cancel_futures=True)
        raise
    if pool is not None:
        pool.shutdown()


def _bytes_on_disk(stream) -> int:
    """The size of the input's text in bytes (for .jsonl.gz as gzip records it), roughly."""
    try:
        if stream.kind == "folder":
            return sum((stream.path / name).stat().st_size for name in stream.files)
        size = stream.path.stat().st_size
        if stream.kind == ".jsonl.gz" and size >= 4:
            with open(stream.path, "rb") as handle:
                handle.seek(-4, 2)
                # The uncompressed size modulo 2**32; on larger files it can be too small.
                return max(size, int.from_bytes(handle.read(4), "little"))
        return size
    except OSError:
        return 0


def _jobs(n_jobs: int | None, chars: int) -> int:
    """Worker processes to start now (1: stay in this process for the time being)."""
    if n_jobs is not None:
        return n_jobs
    # As in Tokenizer.tokenize_many: workers take a second or two to start.
    return _tokenize._available_cpus() if chars > _tokenize._PARALLEL_MIN_CHARS else 1


# ---------------------------------------------------------------------------- pruning

# ---------------------------------------------------------------------------- pass 2

class _ShardWriter:
    """Collects non-empty rows and writes a shard each time ``shard_docs`` are there."""

    def __init__(self, folder: Path, vocabulary: Vocabulary, shard_docs: int, build: str,
                 has_labels: bool, has_dates: bool = False):
        self.folder, self.shard_docs, self.build = folder, shard_docs, build
        self.n_terms = len(vocabulary)
        self.vocabulary = vocabulary
        self.has_labels, self.has_dates = has_labels, has_dates
        self.n_dated, self.first_date, self.last_date = 0, None, None  # ISO dates written
        self.entries: list[dict] = []
        self.written = 0
        self.excluded: list[str] = []
        self.n_excluded = 0
        self.label_set: set[str] = set()
        self._rows: list[np.ndarray] = []     # row lengths of the pending pieces
        self._columns: list[np.ndarray] = []
        self._counts: list[np.ndarray] = []
        self._meta: list = []

    def add(self, lengths, columns, counts, meta) -> None:
        empty = np.flatnonzero(lengths == 0)
        if len(empty):
            self.n_excluded += len(empty)
            room = _SHOWN - len(self.excluded)
            self.excluded += [meta[i][0] for i in empty[:max(room, 0)]]
        keep = lengths > 0
        self._rows.append(lengths[keep])
        self._columns.append(columns)
        self._counts.append(counts)
        self._meta += [m for m, k in zip(meta, keep) if k]
        while len(self._meta) >= self.shard_docs:
            self._write(self.shard_docs)

    def finish(self) -> None:
        if self._meta:
            self._write(len(self._meta))

    def _write(self, n: int) -> None:
        lengths = np.concatenate(self._rows)
        columns, counts = np.concatenate(self._columns), np.concatenate(self._counts)
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lengths[:n], out=indptr[1:])
        nnz = int(indptr[-1])
        shard = sp.csr_array((n, self.n_terms), dtype=np.int64)
        shard.data, shard.indices, shard.indptr = counts[:nnz].astype(np.int64), columns[:nnz], \
            indptr
        shard.has_sorted_indices = True
        tfidf = term_weights(shard, self.vocabulary)
        meta = self._meta[:n]
        labels = (["" if m[1] is None else m[1] for m in meta] if self.has_labels else None)
        if labels is not None:
            self.label_set.update(labels)
        dates = [m[4] for m in meta] if self.has_dates else None
        known = [date for date in dates or () if date]
        if known:  # ISO dates sort in time order
            self.n_dated += len(known)
            self.first_date = min(known + [self.first_date or known[0]])
            self.last_date = max(known + [self.last_date or known[0]])
        self.entries.append(write_shard(
            self.folder, len(self.entries), shard, tfidf, [m[0] for m in meta], labels,
            ([m[2] for m in meta], [m[3] for m in meta]), first_doc=self.written,
            build=self.build, dates=dates))
        self.written += n
        self._rows, self._columns, self._counts = [lengths[n:]], [columns[nnz:]], [counts[nnz:]]
        self._meta = self._meta[n:]

    def date_range(self) -> dict:
        """The manifest's ``dates``: how many documents written have a date, the first and
        the last (ISO; None when none has one)."""
        return {"n_dated": self.n_dated, "first": self.first_date, "last": self.last_date}


def _second_pass(spill: _Spill, remap: np.ndarray, writer: _ShardWriter, n_read: int,
                 report) -> None:
    done = 0
    for lengths, columns, counts, meta in spill.blocks(_BLOCK_DOCS):
        # Table ids are in order of first appearance; term indices must be sorted in a row.
        writer.add(*keep_columns(lengths, columns, counts, remap), meta)
        done += len(lengths)
        report("write", done, n_read)
    writer.finish()


def _warn_excluded(first: list[str], count: int) -> None:
    if count:
        shown = ", ".join(first[:3]) + (", ..." if count > 3 else "")
        warnings.warn(f"{count} document(s) have no term left after stopwords and pruning and "
                      f"are left out of the shards: {shown}", TopicmfWarning, stacklevel=3)
