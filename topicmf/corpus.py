"""Read a corpus: a folder of .txt files, or one .txt, .csv, .jsonl or .jsonl.gz file.

    corpus = load_corpus("corpora/news")           # labels from the top-level subfolders
    corpus = load_corpus("news.jsonl.gz", id_column="filename")

Bytes that are not UTF-8 are decoded as GB18030 or Big5, whichever reads as more plausible
Chinese. Files and documents that cannot be used are skipped with a TopicmfWarning and listed
in ``Corpus.skipped``; an error is raised only when nothing usable is left.
"""

from __future__ import annotations

import codecs
import csv
import functools
import gzip
import io
import json
import math
import os
import re
import unicodedata
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from ._validation import check_int
from .errors import CorpusError, InvalidParameterError, TopicmfWarning

__all__ = ["Corpus", "load_corpus", "decode_bytes"]

_KINDS = "a folder of .txt files, or a .txt, .csv, .jsonl or .jsonl.gz file"
_BINARY_PROBE = 8192
_SHOWN = 5  # how many skipped items an error or warning lists by name


@dataclass
class Corpus:
    """Documents with their ids, optional labels, and what was skipped while reading them."""

    ids: list[str]
    texts: list[str]
    labels: list[str] | None
    name: str
    source: str
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)


class _FileProblem(CorpusError):
    """A file that cannot be used; ``reason`` is the short form listed in ``Corpus.skipped``."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


# ---------------------------------------------------------------------------- public API

def load_corpus(path, *, text_column="text", id_column=None, label_column=None,
                lines=False, encoding=None, limit=None, progress=None) -> Corpus:
    """Read the documents at ``path``.

    ``path`` is a folder (every ``*.txt`` below it is a document, labelled by its top-level
    subfolder) or a ``.txt``, ``.csv``, ``.jsonl`` or ``.jsonl.gz`` file. In csv/jsonl input the
    text comes from ``text_column``; ids and labels from ``id_column`` / ``label_column``, or
    from columns named "id" / "label" when present. ``lines=True`` makes every non-blank line of
    a .txt file a document. ``encoding`` turns off detection; ``limit`` stops after that many
    documents. ``progress(done, total)``, if given, is called as files of a folder are read
    (every 100 files and at the end), or once at the end for a single file. Raises CorpusError
    when nothing usable can be read.
    """
    for value, name, optional in ((text_column, "text_column", False),
                                  (id_column, "id_column", True),
                                  (label_column, "label_column", True)):
        _check_column_name(value, name, optional)
    if not isinstance(lines, bool):
        raise InvalidParameterError(
            f"The 'lines' parameter of load_corpus must be a bool. Got {lines!r} instead.")
    _check_encoding(encoding)
    limit = check_int(limit, "limit", low=1, owner="load_corpus", allow_none=True)

    source = str(path)
    path = Path(path)
    if not path.exists():
        raise CorpusError(f"{source} does not exist")
    docs = _Docs(limit, progress)
    try:
        if path.is_dir():
            _read_folder(path, source, docs, lines, encoding)
            name = path.resolve().name
        else:
            kind = _file_kind(path, source)
            _read_file(path, kind, source, docs, text_column, id_column, label_column,
                       lines, encoding)
            name = path.name[: -len(kind)]
            if progress is not None:
                progress(1, 1)
    finally:
        # Emitted here so that they point at the caller, also when an error follows.
        for message in docs.warnings:
            warnings.warn(message, TopicmfWarning, stacklevel=2)
    return Corpus(ids=docs.ids, texts=docs.texts, labels=docs.labels, name=name, source=source,
                  skipped=docs.skipped)


def decode_bytes(data: bytes, *, name: str, encoding: str | None = None) -> str:
    """Decode the bytes of a text file named ``name``; newlines become ``\\n``, no BOM.

    Without ``encoding``: UTF-8 (with or without BOM), UTF-16 with a BOM, else GB18030 or
    Big5-HKSCS, whichever gives more plausible Chinese. Raises CorpusError if nothing fits.
    """
    if encoding is not None:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as error:
            raise _FileProblem(
                f"{name} is not valid {encoding} text (bad bytes at offset {error.start}); "
                f"pass the right --encoding or leave it out to detect it",
                f"not {encoding}") from None
    else:
        text = _detect_and_decode(data, name)
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


# ---------------------------------------------------------------------------- collecting documents

class _Docs:
    """Documents read so far, with what was skipped and the warnings to emit."""

    def __init__(self, limit: int | None, progress=None):
        self.limit = limit
        self.progress = progress
        self.ids: list[str] = []
        self.texts: list[str] = []
        self.labels: list[str] | None = None
        self.skipped: list[tuple[str, str]] = []
        self.warnings: list[str] = []
        self._raw_labels: list[str | None] = []

    @property
    def full(self) -> bool:
        return self.limit is not None and len(self.texts) >= self.limit

    def add(self, doc_id: str, text: str, label: str | None = None) -> None:
        self.ids.append(doc_id)
        self.texts.append(text)
        self._raw_labels.append(label)

    def skip(self, item: str, reason: str, message: str | None = None) -> None:
        self.skipped.append((item, reason))
        if message:
            self.warnings.append(message)

    def finish_labels(self) -> None:
        """Labels are None if no document has one, else "" stands in for a missing one."""
        if any(label is not None for label in self._raw_labels):
            self.labels = ["" if label is None else label for label in self._raw_labels]


def _first_few(items: list[str]) -> str:
    return ", ".join(items[:_SHOWN]) + (", ..." if len(items) > _SHOWN else "")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


# ---------------------------------------------------------------------------- folders and .txt

def _txt_files(root: Path, docs: _Docs) -> list[Path]:
    """Relative paths of the visible .txt files below ``root``, in a fixed order."""
    def unreadable(error: OSError) -> None:
        item = Path(error.filename or root).relative_to(root).as_posix()
        reason = error.strerror or type(error).__name__
        docs.skip(item, reason, f"skipped the folder {error.filename}: {reason}")

    found = []
    for folder, subfolders, files in os.walk(root, onerror=unreadable):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        base = Path(folder).relative_to(root)
        found.extend(base / name for name in files
                     if not name.startswith(".") and name.lower().endswith(".txt"))
    return sorted(found, key=lambda rel: rel.parts)


def _read_folder(root: Path, source: str, docs: _Docs, lines: bool, encoding: str | None) -> None:
    files = _txt_files(root, docs)
    if not files:
        raise CorpusError(
            f"{source} has no .txt files; expected .txt files (one document each, in one "
            f"subfolder per label), or pass a .csv/.jsonl file")
    for done, rel in enumerate(files):
        if docs.progress is not None and done % 100 == 0:
            docs.progress(done, len(files))
        if docs.full:
            break
        item = rel.as_posix()
        shown = str(Path(source) / rel)
        try:
            data = _read_bytes(root / rel, shown)
            if _looks_binary(data):
                raise _FileProblem(shown, "binary")
            text = decode_bytes(data, name=shown, encoding=encoding)
        except _FileProblem as problem:
            docs.skip(item, problem.reason, f"skipped {shown}: {problem.reason}")
            continue
        label = rel.parts[0] if len(rel.parts) > 1 else None
        before = len(docs.texts)
        if lines:
            _add_lines(text, item, docs, label)
        elif text.strip():
            docs.add(item, text, label)
        if len(docs.texts) == before:
            docs.skip(item, "empty", f"skipped {shown}: empty")
    if docs.progress is not None:
        docs.progress(len(files), len(files))
    if not docs.texts:
        raise CorpusError(
            f"{source}: no readable documents ({_count(len(docs.skipped), 'file')} skipped: "
            f"{_first_few([f'{item} {reason}' for item, reason in docs.skipped])}); expected "
            f"non-empty UTF-8, GB18030 or Big5 .txt files")
    docs.finish_labels()


def _add_lines(text: str, item: str, docs: _Docs, label: str | None) -> None:
    for number, line in enumerate(text.split("\n"), 1):
        if docs.full:
            return
        if line.strip():
            docs.add(f"{item}:{number}", line.strip(), label)


def _read_file(path: Path, kind: str, source: str, docs: _Docs, text_column: str,
               id_column: str | None, label_column: str | None, lines: bool,
               encoding: str | None) -> None:
    data = _read_bytes(path, source)
    if kind == ".jsonl.gz":
        data = _gunzip(data, source)
    if _looks_binary(data):
        raise CorpusError(f"{source} is a binary file, not text; pass {_KINDS}")
    text = decode_bytes(data, name=source, encoding=encoding)
    if kind == ".txt":
        if lines:
            _add_lines(text, path.name, docs, None)
        elif text.strip():
            docs.add(path.name, text)
        if not docs.texts:
            raise CorpusError(f"{source} is empty; it needs some text")
        return
    if kind == ".csv":
        columns, rows = _csv_rows(text, source)
        records = (dict(zip(columns, row)) for row in rows)
    else:
        columns, records = None, _jsonl_records(text, source)
    _read_records(records, columns, source, docs, text_column, id_column, label_column)


# ---------------------------------------------------------------------------- csv and jsonl

def _csv_rows(text: str, source: str) -> tuple[list[str], list[list[str]]]:
    """The header and the non-blank data rows of a csv file."""
    reader = csv.reader(io.StringIO(text, newline=""))
    old_limit = csv.field_size_limit()
    # Whole documents in one cell easily exceed the csv module's 128 KiB default.
    csv.field_size_limit(max(old_limit, 2**31 - 1))
    try:
        header = next(reader, None)
        rows = [row for row in reader if row]
    except csv.Error as error:
        raise CorpusError(f"{source} line {reader.line_num} is not valid csv ({error})") from None
    finally:
        csv.field_size_limit(old_limit)
    if not header:
        raise CorpusError(f"{source} is empty; expected a header row naming the columns")
    return [name.strip() for name in header], rows


def _jsonl_records(text: str, source: str):
    """Yield the JSON object on each non-blank line."""
    # split("\n"), not splitlines(): raw U+2028 and friends are legal inside JSON strings.
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise CorpusError(f"{source} line {number} is not valid JSON ({error.msg}); "
                              f"each line must hold one JSON object") from None
        if not isinstance(record, dict):
            raise CorpusError(f"{source} line {number} is a JSON {type(record).__name__}, "
                              f"not an object; each line must hold one JSON object")
        yield record


def _read_records(records, columns: list[str] | None, source: str, docs: _Docs,
                  text_column: str, id_column: str | None, label_column: str | None) -> None:
    """Add one document per record (a dict); ``columns`` is None when only reading can tell."""
    seen = dict.fromkeys(columns or [])  # column names in order of first appearance
    if columns is not None:
        _check_columns(seen, source, text_column, id_column, label_column)
    id_key, label_key = id_column or "id", label_column or "label"
    rows, texts, raw_ids, raw_labels, empty = 0, [], [], [], []
    for record in records:
        if columns is None:
            seen.update(dict.fromkeys(record))
        rows += 1
        text = _cell_text(record.get(text_column))
        if not text.strip():
            empty.append((rows, record.get(id_key)))
            continue
        texts.append(text)
        raw_ids.append((rows, record.get(id_key)))
        raw_labels.append(record.get(label_key))
        if docs.limit is not None and len(texts) >= docs.limit:
            break
    if rows == 0:
        raise CorpusError(f"{source} has no data rows")
    _check_columns(seen, source, text_column, id_column, label_column)

    use_ids = id_key in seen
    if empty:
        names = [_cell_text(value).strip() if use_ids and _cell_text(value).strip()
                 else f"row-{row}" for row, value in empty]
        docs.skipped.extend((name, "empty") for name in names)
        docs.warnings.append(f"{source}: skipped {_count(len(names), 'document')} with an "
                             f"empty '{text_column}' ({_first_few(names)})")
    if not texts:
        raise CorpusError(f"{source}: all {_count(rows, 'document')} have an empty "
                          f"'{text_column}'; choose the column holding the text with "
                          f"--text-column")
    docs.ids = [_row_id(row, value, use_ids, id_key, source) for row, value in raw_ids]
    docs.texts = texts
    if label_key in seen:
        docs.labels = [_cell_text(value) for value in raw_labels]
    _check_unique(docs.ids, source, id_key)


def _check_columns(seen, source: str, text_column: str, id_column: str | None,
                   label_column: str | None) -> None:
    for column, option in ((text_column, "--text-column"), (id_column, "--id-column"),
                           (label_column, "--label-column")):
        if column is not None and column not in seen:
            columns = ", ".join(seen) or "none"
            raise CorpusError(f"{source} has no column '{column}' (columns: {columns}); "
                              f"choose one with {option}")


def _cell_text(value) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _row_id(row: int, value, use_ids: bool, id_key: str, source: str) -> str:
    if not use_ids:
        return f"row-{row}"
    doc_id = _cell_text(value).strip()
    if not doc_id:
        raise CorpusError(f"{source} row {row} has no '{id_key}'; fill it in or choose "
                          f"another column with --id-column")
    return doc_id


def _check_unique(ids: list[str], source: str, id_key: str) -> None:
    seen = set()
    for doc_id in ids:
        if doc_id in seen:
            raise CorpusError(f"{source} has the id '{doc_id}' more than once in column "
                              f"'{id_key}'; ids must be unique (or choose --id-column)")
        seen.add(doc_id)


# ---------------------------------------------------------------------------- files and bytes

def _check_column_name(value, name: str, optional: bool) -> None:
    if (value is None and optional) or (isinstance(value, str) and value.strip()):
        return
    raise InvalidParameterError(
        f"The '{name}' parameter of load_corpus must be a column name (a non-empty str)"
        f"{' or None' if optional else ''}. Got {value!r} instead.")


def _check_encoding(encoding) -> None:
    if encoding is None:
        return
    if isinstance(encoding, str):
        try:
            b"a".decode(encoding)  # LookupError for unknown names and bytes-to-bytes codecs
            return
        except UnicodeDecodeError:
            return
        except LookupError:
            pass
    raise InvalidParameterError(
        f"The 'encoding' parameter of load_corpus must be the name of a text encoding, such "
        f"as 'utf-8', 'gb18030' or 'big5', or None. Got {encoding!r} instead.")


def _file_kind(path: Path, source: str) -> str:
    lower = path.name.lower()
    for kind in (".jsonl.gz", ".jsonl", ".csv", ".txt"):
        if lower.endswith(kind):
            return kind
    raise CorpusError(f"{source} is not a supported kind of input; pass {_KINDS}")


def _read_bytes(path: Path, shown: str) -> bytes:
    try:
        return path.read_bytes()
    except PermissionError:
        raise _FileProblem(f"{shown} cannot be read (permission denied); check its permissions",
                           "permission denied") from None
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise _FileProblem(f"{shown} cannot be read ({reason})", reason) from None


def _gunzip(data: bytes, source: str) -> bytes:
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as error:
        raise CorpusError(f"{source} is not a valid gzip file ({error}); "
                          f"compress it again or pass the uncompressed .jsonl") from None


def _looks_binary(data: bytes) -> bool:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False  # UTF-16 text is full of NUL bytes
    return b"\0" in data[:_BINARY_PROBE]


# ------------------------------------------------------------------------ guessing the encoding

_CHINESE_CODECS = ("gb18030", "big5hkscs")  # Big5-HKSCS: Big5 plus the Hong Kong additions
_NOT_ASCII = re.compile(r"[^\x00-\x7f]")
_SAMPLE = 5000       # characters scored, from the first non-ASCII one on
_WORD_BONUS = 3.0    # weight of the share of adjacent character pairs that form a word


def _detect_and_decode(data: bytes, name: str) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    candidates = []
    for codec in _CHINESE_CODECS:
        try:
            candidates.append(data.decode(codec))
        except UnicodeDecodeError:
            pass
    if not candidates:
        raise _FileProblem(f"{name} is not UTF-8, GB18030 or Big5 text; convert it to UTF-8 "
                           f"or pass --encoding", "not UTF-8, GB18030 or Big5")
    # Each codec accepts much of the other's bytes, so pick the text that reads best.
    return max(candidates, key=_plausibility)


def _plausibility(text: str) -> float:
    """How much ``text`` looks like real Chinese: high for common characters and words."""
    start = _NOT_ASCII.search(text)
    if start is None:
        return 0.0
    weights, words, to_simplified = _chinese_model()
    # Frequencies come from a Simplified dictionary; Traditional text is scored through it.
    sample = to_simplified(text[start.start(): start.start() + _SAMPLE])
    scores = [_char_weight(ch, weights) for ch in sample if ch > "\x7f" and not ch.isspace()]
    score = sum(scores) / len(scores) if scores else 0.0
    pairs = [a + b for a, b in zip(sample, sample[1:]) if _is_hanzi(a) and _is_hanzi(b)]
    if pairs:
        score += _WORD_BONUS * sum(pair in words for pair in pairs) / len(pairs)
    return score


def _is_hanzi(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _char_weight(ch: str, weights: dict[str, float]) -> float:
    weight = weights.get(ch)
    if weight is not None:
        return weight
    # Private-use and unassigned code points are what a wrong codec produces.
    return -5.0 if unicodedata.category(ch) in ("Co", "Cn") else 0.0


@functools.lru_cache(maxsize=1)
def _chinese_model():
    """Character weights (log frequency), two-character words, and a Traditional->Simplified
    converter; built from jieba's dictionary and OpenCC on first use."""
    import jieba
    import opencc

    counts: dict[str, int] = {}
    words = set()
    with io.TextIOWrapper(jieba.get_dict_file(), encoding="utf-8") as dictionary:
        for line in dictionary:
            parts = line.split()
            if len(parts) < 2 or not parts[1].isdigit():
                continue
            word, count = parts[0], int(parts[1])
            if len(word) == 2 and count >= 3:
                words.add(word)
            for ch in word:
                counts[ch] = counts.get(ch, 0) + count
    weights = {ch: math.log10(count + 1) for ch, count in counts.items()}
    for ch in "，。、；：？！「」『』（）《》〈〉【】“”‘’…—～·":
        weights[ch] = 4.0
    for code in range(0xFF01, 0xFF5F):  # full-width ASCII forms
        weights.setdefault(chr(code), 3.0)
    return weights, frozenset(words), opencc.OpenCC("t2s").convert
