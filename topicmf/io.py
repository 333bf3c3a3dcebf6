"""Saving and loading a fitted analysis, and writing outputs so they are never half-written.

A saved analysis is a folder with two files:

    model.json   format version, library version, settings, tokenizer settings (with the user's
                 words), model parameters, corpus summary, and the SHA-256 of model.npz
    model.npz    the arrays: terms, idf, the model's factors (loaded with allow_pickle=False)

Loading never runs code from the file (no pickle) and refuses a file whose checksum, format or
arrays do not match what model.json says.

The model folder of a run of ``topicmf analyze`` (on a corpus, not on shards) also holds
``counts.npz``, the term counts of the fitted documents (scipy's sparse .npz, read with
allow_pickle=False), for exporting the run to other tools (:mod:`topicmf.interop`).
"""

from __future__ import annotations

import contextlib
import hashlib
import io as _io
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from . import __version__
from .errors import ModelFileError, OutputError
from .models import model_class
from .pipeline import Analysis
from .tokenize import Tokenizer
from .vectorize import Vocabulary

__all__ = ["save_analysis", "load_analysis", "staged_output", "write_array_file",
           "read_array_file", "write_counts", "read_counts", "FORMAT_VERSION"]

FORMAT = "topicmf-analysis"
FORMAT_VERSION = 1
HEADER, ARRAYS = "model.json", "model.npz"
COUNTS = "counts.npz"


def write_array_file(directory, header: dict, arrays: dict) -> Path:
    """Write ``arrays`` to model.npz and ``header`` (plus the arrays' shapes, dtypes and
    SHA-256) to model.json in ``directory``, atomically: the format of every saved model."""
    buffer = _io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    payload = buffer.getvalue()
    header = {**header,
              "arrays": {n: {"shape": list(a.shape), "dtype": a.dtype.str}
                         for n, a in arrays.items()},
              "arrays_sha256": hashlib.sha256(payload).hexdigest()}
    directory = Path(directory)
    with staged_output(directory) as staging:
        (staging / ARRAYS).write_bytes(payload)
        (staging / HEADER).write_text(json.dumps(header, ensure_ascii=False, indent=1),
                                      encoding="utf-8")
    return directory


def read_array_file(directory, fmt: str, version: int, *, what: str = "topicmf model",
                    fix: str = "run analyze again") -> tuple[dict, dict]:
    """Read what :func:`write_array_file` wrote. A missing, corrupt, truncated, changed or
    other-format file is a ModelFileError naming the file and saying ``fix``."""
    directory = Path(directory)
    header_path, arrays_path = directory / HEADER, directory / ARRAYS
    if not directory.is_dir():
        raise ModelFileError(f"{directory} is not a folder; give the folder the {what} was "
                             f"saved in.")
    for path in (header_path, arrays_path):
        if not path.is_file():
            raise ModelFileError(f"{path} is missing; give the folder the {what} was saved "
                                 f"in, or {fix}.")
    try:
        header = json.loads(header_path.read_text(encoding="utf-8"))
        if not isinstance(header, dict):
            raise ValueError("not an object")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{header_path} is corrupt or truncated ({exc}); {fix}.") from None
    if header.get("format") != fmt:
        raise ModelFileError(f"{header_path} is not a {what} file.")
    if header.get("format_version") != version:
        raise ModelFileError(
            f"{header_path} has format version {header.get('format_version')!r}; this topicmf "
            f"({__version__}) reads version {version}: {fix} with this version.")
    payload = arrays_path.read_bytes()
    if hashlib.sha256(payload).hexdigest() != header.get("arrays_sha256"):
        raise ModelFileError(f"{arrays_path} does not match its checksum in {HEADER}: the file "
                             f"was truncated or changed; {fix}.")
    try:
        with np.load(_io.BytesIO(payload), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        _check_arrays(arrays, header["arrays"])
    except (KeyError, ValueError, TypeError, OSError, zipfile.BadZipFile) as exc:
        raise ModelFileError(f"{arrays_path} is unreadable or does not match {HEADER} "
                             f"({type(exc).__name__}: {exc}); {fix}.") from None
    return header, arrays


def save_analysis(analysis: Analysis, directory) -> Path:
    """Write ``analysis`` into ``directory`` (created; files replaced atomically)."""
    params, model_arrays = analysis.model.get_state()
    arrays = {"terms": np.asarray(analysis.vocabulary.terms, dtype=str),
              "idf": np.asarray(analysis.vocabulary.idf)}
    arrays.update({f"model.{name}": np.asarray(value) for name, value in model_arrays.items()})
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "library_version": __version__,
        "model_name": analysis.model_name,
        "model_state": params,
        "tokenizer": analysis.tokenizer.get_config(),
        "vocabulary_settings": analysis.vocabulary.settings,
        "info": analysis.info,
    }
    return write_array_file(directory, header, arrays)


def load_analysis(directory) -> Analysis:
    """Read an analysis saved by :func:`save_analysis`; ModelFileError if anything is off.

    ``directory`` may also be an output folder of ``topicmf analyze`` (its ``model/`` is used).
    """
    directory = Path(directory)
    if not (directory / HEADER).exists() and (directory / "model" / HEADER).exists():
        directory = directory / "model"
    header, arrays = read_array_file(directory, FORMAT, FORMAT_VERSION,
                                     fix="run analyze again to rewrite the model")
    try:
        model_arrays = {name[len("model."):]: value for name, value in arrays.items()
                        if name.startswith("model.")}
        model = model_class(header["model_name"]).from_state(header["model_state"], model_arrays)
        vocabulary = Vocabulary(terms=arrays["terms"], idf=arrays["idf"],
                                settings=header["vocabulary_settings"]).check()
        tokenizer = Tokenizer.from_config(header["tokenizer"])
    except ModelFileError as exc:
        raise ModelFileError(f"{directory}: {exc}") from None
    except (KeyError, ValueError, TypeError) as exc:
        raise ModelFileError(f"{directory} holds an unreadable or inconsistent model "
                             f"({type(exc).__name__}: {exc}); run analyze again.") from None
    if model.components_.shape[1] != len(vocabulary):
        raise ModelFileError(f"{directory}: the model has {model.components_.shape[1]} terms "
                             f"but the vocabulary {len(vocabulary)}; run analyze again.")
    return Analysis(tokenizer=tokenizer, vocabulary=vocabulary, model=model,
                    model_name=header["model_name"], info=header.get("info", {}))


def write_counts(counts, directory) -> Path:
    """Save a sparse matrix of term counts as ``directory/counts.npz`` (CSR, compressed)."""
    path = Path(directory) / COUNTS
    sp.save_npz(path, sp.csr_matrix(counts), compressed=True)
    return path


def read_counts(directory, shape: tuple[int, int]) -> sp.csr_matrix:
    """The counts :func:`write_counts` saved in ``directory``, checked to be a well-formed
    CSR matrix of ``shape``; ModelFileError otherwise. Never unpickles."""
    path = Path(directory) / COUNTS
    fix = "re-run topicmf analyze to write it again"
    if not path.is_file():
        raise ModelFileError(f"{path} is missing; {fix}.")
    try:
        with np.load(_io.BytesIO(path.read_bytes()), allow_pickle=False) as npz:
            if npz["format"].item() != b"csr":
                raise ValueError(f"format {npz['format'].item()!r}, not csr")
            matrix = sp.csr_matrix((npz["data"], npz["indices"], npz["indptr"]),
                                   shape=tuple(int(n) for n in npz["shape"]))
        matrix.check_format(full_check=True)
    except (KeyError, ValueError, TypeError, OSError, zipfile.BadZipFile) as exc:
        raise ModelFileError(f"{path} is unreadable or truncated ({type(exc).__name__}: "
                             f"{exc}); {fix}.") from None
    if matrix.shape != tuple(shape):
        raise ModelFileError(f"{path} holds {matrix.shape[0]} documents x {matrix.shape[1]} "
                             f"terms where the run has {shape[0]} x {shape[1]}; {fix}.")
    return matrix


def _check_arrays(arrays: dict, expected: dict) -> None:
    if set(arrays) != set(expected):
        raise ValueError(f"arrays {sorted(arrays)} differ from those listed {sorted(expected)}")
    for name, spec in expected.items():
        if list(arrays[name].shape) != spec["shape"] or arrays[name].dtype.str != spec["dtype"]:
            raise ValueError(f"array {name!r} has shape {arrays[name].shape} and dtype "
                             f"{arrays[name].dtype.str}, not {spec}")


def check_output_path(path) -> Path:
    """``path`` as a Path, or an OutputError if no file system could hold it (a NUL
    character)."""
    if "\x00" in str(path):
        raise OutputError(f"the output path {str(path)!r} holds a NUL character, which no file "
                          f"system allows; choose another output folder.")
    return Path(path)


@contextlib.contextmanager
def staged_output(directory):
    """Yield an empty staging folder; on success its entries replace those in ``directory``.

    The staging folder sits beside ``directory`` (same file system, so each move is a rename).
    If the block raises (a bug, a full disk, Ctrl-C, SIGTERM), the staging folder is removed
    and ``directory`` is left as it was; an OSError while writing (a full disk, a read-only
    file system) becomes an OutputError naming the file. The moves into ``directory`` run with
    Ctrl-C and SIGTERM held back and, where the system has ``flock``, under a lock on its
    parent folder, so neither a signal nor a second run writing there at the same time can
    leave a mix of two runs: ``directory`` holds the old results or all of the new ones.
    """
    directory = check_output_path(directory)
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".partial",
                                        dir=directory.parent))
    except OSError as exc:
        raise OutputError(f"cannot write to {directory} ({exc.strerror or exc}); choose "
                          f"another output folder.") from None
    try:
        try:
            yield staging
        except OSError as exc:
            where = f" while writing {Path(exc.filename).name}" if exc.filename else ""
            raise OutputError(f"cannot write {directory}: {exc.strerror or exc}{where}; free "
                              f"some space or choose another output folder.") from None
        try:
            with _commit_guard(directory.parent):
                directory.mkdir(exist_ok=True)
                for entry in sorted(staging.iterdir()):
                    _replace(entry, directory / entry.name)
        except OSError as exc:
            raise OutputError(f"cannot write to {directory} ({exc.strerror or exc}); choose "
                              f"another output folder.") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@contextlib.contextmanager
def _commit_guard(folder: Path):
    """Hold SIGINT and SIGTERM back, and lock ``folder`` against other topicmf runs, for the
    few renames that put a run in place (milliseconds). A signal that came meanwhile is
    handled as it would have been once they are done. (Python handles signals in the main
    thread only; called from another thread, only the lock applies.)"""
    import signal
    import threading

    pending, previous = [], {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, lambda number, frame: pending.append(number))
    lock = None
    try:
        try:
            import fcntl
            lock = os.open(folder, os.O_RDONLY)
            fcntl.flock(lock, fcntl.LOCK_EX)
        except (ImportError, OSError):  # no flock here (Windows, some network file systems)
            if lock is not None:
                os.close(lock)
            lock = None
        yield
    finally:
        if lock is not None:
            os.close(lock)  # releases the flock
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in dict.fromkeys(pending):
            handler = previous[signum]
            if callable(handler):
                handler(signum, None)
            elif handler == signal.SIG_DFL:
                signal.raise_signal(signum)


def _replace(source: Path, target: Path) -> None:
    if source.is_dir() and target.exists():
        # A folder cannot be renamed over a non-empty one: move the old one aside first.
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
        os.replace(source, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(source, target)
