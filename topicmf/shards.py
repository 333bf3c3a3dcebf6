"""A vectorized corpus on disk, in shards of consecutive documents read one at a time.

``topicmf build-matrix`` (:func:`topicmf.build.build_matrix`) writes a shard folder:

    manifest.json      format and version; documents, terms and non-zeros; the terms in order,
                       their idf and the vectorizer and tokenizer settings; the source, its
                       files, labels, dates (None, or how many documents are dated and the
                       first and last date), skipped files and excluded documents; and for
                       each shard its file, documents, non-zeros, first document, size and
                       SHA-256
    shard-00000.npz    the documents [0, n0): np.savez, uncompressed, no object arrays
    shard-00001.npz    the documents [n0, n0 + n1) ...

Each shard holds ``indptr`` (int64), ``indices`` (int32, sorted within each row), ``counts``
(int32) and ``tfidf`` (float32) of its rows, ``doc_ids`` and ``labels`` (str; no ``labels``
when the corpus has none), ``dates`` (str, ISO ``YYYY-MM-DD`` or "" for a document without
one; only when the corpus has dates: then the manifest's ``dates`` is not None),
``source_file`` (index into the manifest's ``source_files``) and ``source_line`` (the line a
document starts on in that file), ``shape`` (its documents, all the terms) and ``build`` (the
id of the build that wrote it, also in the manifest). A folder built before shards kept
dates has none: it reads as a corpus without dates.

    shards = ShardSet.open("shards/")            # checks every shard's size and SHA-256
    for i in range(shards.n_shards):
        X = shards.read(i)                       # scipy.sparse.csr_array, TF-IDF in float32
    shards.vocabulary.transform(token_lists)     # new documents on the same terms and idf

Reading never unpickles anything. A missing, truncated or changed shard, or a manifest that
does not match its shards, is a ShardError naming the file and how to rebuild.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import shutil
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from . import __version__
from ._validation import check_choice, check_int
from .errors import CorpusError, OutputError, ShardError
from .vectorize import DocTermMatrix, Vocabulary

__all__ = ["ShardSet", "write_shard", "shards_from_matrix", "FORMAT", "FORMAT_VERSION",
           "MANIFEST"]

FORMAT = "topicmf-shards"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
KINDS = ("counts", "tfidf")
_HASH_CHUNK = 1 << 20
_SHOWN = 20  # excluded documents named in the manifest
_MANIFEST_KEYS = {"n_docs": int, "n_terms": int, "nnz": int, "build": str, "terms": list,
                  "idf": list, "vectorizer": dict, "tokenizer": dict, "shards": list}
_ENTRY_KEYS = {"file": str, "n_docs": int, "nnz": int, "first_doc": int, "bytes": int,
               "sha256": str}


def shard_name(index: int) -> str:
    return f"shard-{index:05d}.npz"


class ShardSet:
    """An open shard folder: its manifest, and each shard read on demand (see the module doc)."""

    def __init__(self, folder: Path, manifest: dict):
        self.folder = folder
        self.manifest = manifest
        self.n_docs: int = manifest["n_docs"]
        self.n_terms: int = manifest["n_terms"]
        self.nnz: int = manifest["nnz"]
        self.n_shards: int = len(manifest["shards"])
        self.terms = np.asarray(manifest["terms"], dtype=str)
        self.tokenizer_config: dict = manifest["tokenizer"]
        self.row_ranges: list[tuple[int, int]] = [
            (entry["first_doc"], entry["first_doc"] + entry["n_docs"])
            for entry in manifest["shards"]]

    @classmethod
    def open(cls, folder, *, verify: bool = True) -> "ShardSet":
        """Read and check the manifest; with ``verify``, also check that every shard is there
        with its size, SHA-256, documents, non-zeros and terms as the manifest says."""
        folder = Path(folder)
        manifest_path = folder / MANIFEST
        if not folder.is_dir():
            raise ShardError(f"{folder} is not a folder; give the folder topicmf build-matrix "
                             f"wrote.")
        if not manifest_path.is_file():
            raise ShardError(f"{manifest_path} is missing; give the folder topicmf build-matrix "
                             f"wrote, or {_rebuild(None, folder)}.")
        try:
            manifest = json.loads(manifest_path.read_bytes().decode("utf-8", "surrogatepass"))
        except (OSError, ValueError) as exc:
            raise ShardError(f"{manifest_path} is unreadable, corrupt or truncated "
                             f"({type(exc).__name__}: {exc}); {_rebuild(None, folder)}.") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ShardError(f"{manifest_path} is not the manifest of a topicmf shard folder; "
                             f"{_rebuild(None, folder)}.")
        if manifest.get("format_version") != FORMAT_VERSION:
            raise ShardError(
                f"{manifest_path} has format version {manifest.get('format_version')!r}; this "
                f"topicmf ({__version__}) reads version {FORMAT_VERSION}: "
                f"{_rebuild(manifest, folder)} with this version.")
        problem = _manifest_problem(manifest)
        if problem:
            raise ShardError(f"{manifest_path} does not match its shards ({problem}); "
                             f"{_rebuild(manifest, folder)}.")
        shards = cls(folder, manifest)
        if verify:
            for i in range(shards.n_shards):
                shards._verify(i)
        return shards

    # -- what the engine reads ----------------------------------------------------------------

    @property
    def vocabulary(self) -> Vocabulary:
        """Terms, idf and settings: ``vocabulary.transform`` folds in new documents."""
        return Vocabulary(terms=self.terms, idf=np.asarray(self.manifest["idf"], dtype=np.float64),
                          settings=dict(self.manifest["vectorizer"]))

    def path(self, i: int) -> Path:
        return self.folder / self.manifest["shards"][self._index(i)]["file"]

    def read(self, i: int, kind: str = "tfidf", dtype=np.float32) -> sp.csr_array:
        """Shard ``i`` as a canonical CSR array (sorted indices, int32 indices, int64 indptr),
        documents x all terms. ``kind`` is "counts" or "tfidf"; ``dtype`` None keeps what is
        stored (int32 counts, float32 TF-IDF). The file's size is checked at every read."""
        check_choice(kind, "kind", KINDS, owner="ShardSet.read")
        i = self._index(i)
        entry = self.manifest["shards"][i]
        arrays = self._load(i, ("indptr", "indices", kind))
        indptr, indices, data = arrays["indptr"], arrays["indices"], arrays[kind]
        if dtype is not None and data.dtype != dtype:
            data = data.astype(dtype)
        matrix = sp.csr_array((entry["n_docs"], self.n_terms), dtype=data.dtype)
        # Assigned, not passed to the constructor, which would give both index arrays one dtype.
        matrix.data, matrix.indices, matrix.indptr = data, indices, indptr
        matrix.has_sorted_indices = True
        matrix.has_canonical_format = True
        return matrix

    def doc_ids(self, i: int) -> list[str]:
        return self._load(self._index(i), ("doc_ids",))["doc_ids"].tolist()

    def labels(self, i: int) -> list[str] | None:
        """The labels of shard ``i``'s documents, or None when the corpus has no labels."""
        if self.manifest.get("labels") is None:
            return None
        return self._load(self._index(i), ("labels",))["labels"].tolist()

    def dates(self, i: int) -> list | None:
        """The dates of shard ``i``'s documents (a ``datetime.date``, or None for a document
        without one), or None when the corpus has no dates."""
        if self.manifest.get("dates") is None:
            return None
        i = self._index(i)
        written = self._load(i, ("dates",))["dates"]
        n_docs = self.manifest["shards"][i]["n_docs"]
        try:
            if written.shape != (n_docs,):
                raise ValueError(f"{written.size} dates")
            return [datetime.date.fromisoformat(text) if text else None
                    for text in written.tolist()]
        except (TypeError, ValueError) as exc:
            raise self._fail(i, f"does not hold a date or '' for each of its {n_docs} "
                                f"documents ({exc})") from None

    def column_totals(self, kind: str = "counts") -> np.ndarray:
        """Per-term sums over all documents (float64), in one pass over the shards."""
        totals = np.zeros(self.n_terms)
        for i in range(self.n_shards):
            matrix = self.read(i, kind, dtype=None)
            totals += np.bincount(matrix.indices, weights=matrix.data, minlength=self.n_terms)
        return totals

    def texts(self, positions) -> list[str]:
        """The texts of the documents at these global positions, read again from the source
        files (only those documents; a single-file source is streamed once)."""
        from .corpus import MAX_DOC_CHARS, MAX_UNPACKED_RATIO, stream_corpus

        positions = np.asarray(positions, dtype=np.int64).ravel()
        if len(positions) and (positions.min() < 0 or positions.max() >= self.n_docs):
            raise ShardError(f"document positions must be in [0, {self.n_docs}); got "
                             f"{positions.min()} to {positions.max()}.")
        source = self.manifest.get("source")
        if not source:
            raise ShardError(f"{self.folder / MANIFEST} names no source: these shards were "
                             f"written from a matrix in memory, so their texts are not on disk.")
        starts = np.array([start for start, _ in self.row_ranges], dtype=np.int64)
        shard_of = np.searchsorted(starts, positions, side="right") - 1
        files = self.manifest["source_files"]
        wanted = {}  # position -> (file, line, doc_id)
        for i in np.unique(shard_of):
            arrays = self._load(int(i), ("source_file", "source_line", "doc_ids"))
            for position in positions[shard_of == i]:
                row = int(position - starts[i])
                wanted[int(position)] = (files[int(arrays["source_file"][row])],
                                         int(arrays["source_line"][row]),
                                         str(arrays["doc_ids"][row]))
        try:
            stream = stream_corpus(source["resolved"], text_column=source["text_column"],
                                   id_column=source["id_column"],
                                   label_column=source["label_column"],
                                   date_column=source.get("date_column"), lines=source["lines"],
                                   encoding=source["encoding"],
                                   # A manifest from before these limits names none.
                                   max_doc_chars=source.get("max_doc_chars", MAX_DOC_CHARS),
                                   max_unpacked_ratio=source.get("max_unpacked_ratio",
                                                                 MAX_UNPACKED_RATIO))
            found = stream.read_at((file, line) for file, line, _ in wanted.values())
        except CorpusError as exc:
            raise ShardError(f"cannot read the texts again from {source['resolved']}, the "
                             f"source of {self.folder}: {exc}") from None
        texts = []
        for position in positions.tolist():
            file, line, doc_id = wanted[position]
            doc = found.get((file, line))
            if doc is None or doc.doc_id != doc_id:
                raise ShardError(
                    f"{source['resolved']} has changed since the shards in {self.folder} were "
                    f"built: document {doc_id} is no longer at {file} line {line}; "
                    f"{_rebuild(self.manifest, self.folder)}.")
            texts.append(doc.text)
        return texts

    def __repr__(self) -> str:
        return (f"ShardSet({str(self.folder)!r}: {self.n_docs} documents x {self.n_terms} "
                f"terms, {self.nnz} non-zeros in {self.n_shards} shards)")

    # -- checks ---------------------------------------------------------------------------------

    def _index(self, i) -> int:
        return check_int(i, "i", low=0, high=self.n_shards - 1, owner="ShardSet")

    def _fail(self, i: int, problem: str) -> ShardError:
        return ShardError(f"{self.path(i)} {problem}; {_rebuild(self.manifest, self.folder)}.")

    def _check_size(self, i: int) -> None:
        expected = self.manifest["shards"][i]["bytes"]
        try:
            size = self.path(i).stat().st_size
        except FileNotFoundError:
            raise self._fail(i, "is missing") from None
        except OSError as exc:
            raise self._fail(i, f"cannot be read ({exc.strerror or exc})") from None
        if size != expected:
            raise self._fail(i, f"has {size} bytes where {MANIFEST} says {expected}: it was "
                                f"truncated or changed")

    def _verify(self, i: int) -> None:
        self._check_size(i)
        digest = hashlib.sha256()
        with open(self.path(i), "rb") as handle:
            for chunk in iter(lambda: handle.read(_HASH_CHUNK), b""):
                digest.update(chunk)
        if digest.hexdigest() != self.manifest["shards"][i]["sha256"]:
            raise self._fail(i, f"does not match its SHA-256 in {MANIFEST}: it was changed, or "
                                f"comes from another build")
        self._load(i, ("indptr",))

    def _load(self, i: int, names) -> dict:
        """The named arrays of shard ``i``, after checking its size, build and shape."""
        self._check_size(i)
        entry = self.manifest["shards"][i]
        try:
            with np.load(self.path(i), allow_pickle=False) as npz:
                build = str(npz["build"])
                shape = tuple(int(n) for n in npz["shape"])
                arrays = {name: npz[name] for name in names}
        except (KeyError, ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
            raise self._fail(i, f"is unreadable ({type(exc).__name__}: {exc})") from None
        if build != self.manifest["build"]:
            raise self._fail(i, f"comes from another build ({build}, not "
                                f"{self.manifest['build']})")
        if shape != (entry["n_docs"], self.n_terms):
            raise self._fail(i, f"holds {shape[0]} documents x {shape[1]} terms where "
                                f"{MANIFEST} says {entry['n_docs']} x {self.n_terms}")
        if "indptr" in arrays:
            self._check_rows(i, arrays)
        return arrays

    def _check_rows(self, i: int, arrays: dict) -> None:
        entry = self.manifest["shards"][i]
        indptr = arrays["indptr"]
        if (indptr.dtype != np.int64 or indptr.shape != (entry["n_docs"] + 1,) or indptr[0] != 0
                or indptr[-1] != entry["nnz"] or np.any(np.diff(indptr) < 0)):
            raise self._fail(i, f"does not hold the {entry['nnz']} non-zeros of "
                                f"{entry['n_docs']} documents that {MANIFEST} lists")
        indices = arrays.get("indices")
        if indices is not None and (indices.dtype != np.int32 or len(indices) != entry["nnz"] or (
                len(indices) and (indices.min() < 0 or indices.max() >= self.n_terms))):
            raise self._fail(i, f"has term indices outside the {self.n_terms} terms of "
                                f"{MANIFEST}")
        for kind, dtype in (("counts", np.int32), ("tfidf", np.float32)):
            data = arrays.get(kind)
            if data is not None and (data.dtype != dtype or len(data) != entry["nnz"]):
                raise self._fail(i, f"has {len(data)} {kind} of dtype {data.dtype} where "
                                    f"{MANIFEST} says {entry['nnz']} of {np.dtype(dtype)}")


def _rebuild(manifest: dict | None, folder: Path) -> str:
    source = (manifest or {}).get("source") or {}
    if source.get("path"):
        return f"rebuild the shards with topicmf build-matrix {source['path']} --out {folder}"
    return "rebuild the shards with topicmf build-matrix"


def _manifest_problem(manifest: dict) -> str | None:
    """What is inconsistent in a manifest, or None."""
    for key, kind in _MANIFEST_KEYS.items():
        if not isinstance(manifest.get(key), kind) or isinstance(manifest.get(key), bool):
            return f"'{key}' is missing or not a {kind.__name__}"
    if not isinstance(manifest.get("dates"), (dict, type(None))):
        return "'dates' is neither null nor an object"
    n_terms = manifest["n_terms"]
    if len(manifest["terms"]) != n_terms or len(manifest["idf"]) != n_terms:
        return (f"n_terms is {n_terms} but it lists {len(manifest['terms'])} terms and "
                f"{len(manifest['idf'])} idf values")
    start = nnz = 0
    for i, entry in enumerate(manifest["shards"]):
        if not isinstance(entry, dict) or any(not isinstance(entry.get(k), kind)
                                              for k, kind in _ENTRY_KEYS.items()):
            return f"shard entry {i} is incomplete"
        if entry["file"] != shard_name(i) or entry["first_doc"] != start:
            return f"shard entry {i} is {entry['file']} from document {entry['first_doc']}, " \
                   f"not {shard_name(i)} from document {start}"
        start += entry["n_docs"]
        nnz += entry["nnz"]
    if start != manifest["n_docs"] or nnz != manifest["nnz"]:
        return (f"n_docs {manifest['n_docs']} and nnz {manifest['nnz']}, but the shards hold "
                f"{start} documents and {nnz} non-zeros")
    return None


# ---------------------------------------------------------------------------- writing

def write_shard(folder, index: int, counts_csr, tfidf_csr, doc_ids, labels, sources, *,
                first_doc: int = 0, build: str = "", dates=None) -> dict:
    """Write shard ``index`` into ``folder`` and return its manifest entry.

    ``counts_csr`` and ``tfidf_csr`` are the shard's rows (same sparsity pattern, every term
    as a column); ``labels`` is None for a corpus without labels; ``sources`` is None or a pair
    (source_file, source_line) of arrays, one entry a document; ``dates`` is None for a corpus
    without dates, else an ISO date (``YYYY-MM-DD``) or "" for each document.
    """
    counts = sp.csr_array(counts_csr)
    tfidf = sp.csr_array(tfidf_csr)
    for matrix in (counts, tfidf):
        matrix.sum_duplicates()  # also sorts the indices of each row
    if (counts.shape != tfidf.shape or not np.array_equal(counts.indptr, tfidf.indptr)
            or not np.array_equal(counts.indices, tfidf.indices)):
        raise ValueError("counts and tfidf of a shard must have the same non-zeros")
    n_docs, n_terms = counts.shape
    arrays = {
        "indptr": counts.indptr.astype(np.int64),
        "indices": counts.indices.astype(np.int32),
        "counts": counts.data.astype(np.int32),
        "tfidf": tfidf.data.astype(np.float32),
        "doc_ids": np.asarray(list(doc_ids), dtype=str),
        "shape": np.array([n_docs, n_terms], dtype=np.int64),
        "build": np.array(build, dtype=str),
    }
    if labels is not None:
        arrays["labels"] = np.asarray(list(labels), dtype=str)
    if dates is not None:
        arrays["dates"] = np.asarray(list(dates), dtype=str)
    if sources is not None:
        arrays["source_file"] = np.asarray(sources[0], dtype=np.int32)
        arrays["source_line"] = np.asarray(sources[1], dtype=np.int64)
    for name in ("doc_ids", "labels", "dates", "source_file", "source_line"):
        if name in arrays and arrays[name].shape != (n_docs,):
            raise ValueError(f"{name} of a shard needs one entry a document ({n_docs}); got "
                             f"{arrays[name].shape}")
    path = Path(folder) / shard_name(index)
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_HASH_CHUNK), b""):
            digest.update(chunk)
    return {"file": path.name, "n_docs": int(n_docs), "nnz": int(counts.nnz),
            "first_doc": int(first_doc), "bytes": path.stat().st_size,
            "sha256": digest.hexdigest()}


def new_manifest(vocabulary: Vocabulary, tokenizer_config: dict, **fields) -> dict:
    """A manifest's fixed part; ``fields`` add or override entries (source, labels, ...)."""
    return {"format": FORMAT, "format_version": FORMAT_VERSION,
            "library_version": __version__, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "build": uuid.uuid4().hex, "n_docs": 0, "n_terms": len(vocabulary), "nnz": 0,
            "n_documents_read": 0,
            "terms": [str(term) for term in vocabulary.terms],
            "idf": [float(value) for value in vocabulary.idf],
            "vectorizer": dict(vocabulary.settings), "tokenizer": tokenizer_config,
            "source": None, "source_files": [], "skipped": {"count": 0, "first": []},
            "labels": None, "dates": None, "excluded": {"count": 0, "first": []},
            "shards": [], **fields}


def write_manifest(folder, manifest: dict, shards: list[dict]) -> None:
    """Complete ``manifest`` with its shards and totals and write it into ``folder``."""
    manifest["shards"] = shards
    manifest["n_docs"] = sum(entry["n_docs"] for entry in shards)
    manifest["nnz"] = sum(entry["nnz"] for entry in shards)
    text = json.dumps(manifest, ensure_ascii=False, indent=1)
    # Text read from JSON may hold lone surrogates; they must survive the round trip.
    (Path(folder) / MANIFEST).write_bytes(text.encode("utf-8", "surrogatepass"))


def shards_from_matrix(dtm: DocTermMatrix, folder, *, shard_docs: int = 20000,
                       tokenizer=None) -> ShardSet:
    """Write an in-memory DocTermMatrix as a shard folder (replacing an earlier one) and open
    it. Rows are written as they are (``prepare`` has already set aside empty documents);
    ``tokenizer`` is the Tokenizer that made the tokens (default: ``Tokenizer()``, as
    ``prepare`` uses). The shards name no source, so ``texts`` cannot read their texts."""
    from .tokenize import Tokenizer

    shard_docs = check_int(shard_docs, "shard_docs", low=1, owner="shards_from_matrix")
    tokenizer = tokenizer if tokenizer is not None else Tokenizer()
    labels = dtm.labels
    manifest = new_manifest(dtm.vocabulary, tokenizer.get_config(),
                            n_documents_read=dtm.n_docs, pruned_terms=dtm.pruned_terms,
                            labels=None if labels is None else sorted(set(labels)))
    folder = Path(folder)
    with staged_folder(folder) as staging:
        entries = []
        for index, start in enumerate(range(0, dtm.n_docs, shard_docs)):
            stop = min(start + shard_docs, dtm.n_docs)
            entries.append(write_shard(
                staging, index, dtm.counts[start:stop], dtm.tfidf[start:stop],
                dtm.doc_ids[start:stop], None if labels is None else labels[start:stop], None,
                first_doc=start, build=manifest["build"]))
        write_manifest(staging, manifest, entries)
    return ShardSet.open(folder)


@contextlib.contextmanager
def staged_folder(folder):
    """Yield an empty folder beside ``folder`` that replaces it whole on success.

    ``folder`` must be new, empty or an earlier shard folder: anything else is refused rather
    than replaced. If the block raises, the staging folder is removed and ``folder`` is left
    as it was.
    """
    from .io import check_output_path

    folder = check_output_path(folder)
    if folder.is_file() or (folder.is_dir() and any(folder.iterdir())
                            and not is_shard_folder(folder)):
        raise OutputError(f"{folder} exists and is not a shard folder; choose a new or empty "
                          f"folder (an earlier shard folder there is replaced).")
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".partial",
                                        dir=folder.parent))
        # mkdtemp makes a private folder; the shards get the permissions of any new folder.
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)
    except OSError as exc:
        raise OutputError(f"cannot write to {folder} ({exc.strerror or exc}); choose another "
                          f"output folder.") from None
    try:
        yield staging
        old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
        try:
            if folder.exists():
                os.replace(folder, old)
            try:
                os.replace(staging, folder)
            except OSError:
                if old.exists():
                    os.replace(old, folder)
                raise
        except OSError as exc:
            raise OutputError(f"cannot write to {folder} ({exc.strerror or exc}); choose "
                              f"another output folder.") from None
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def is_shard_folder(folder) -> bool:
    """Whether ``folder`` holds a shard folder's manifest."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_bytes().decode("utf-8", "surrogatepass"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("format") == FORMAT
