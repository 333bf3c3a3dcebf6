"""Read a corpus: a folder of .txt files, or one .txt, .csv, .jsonl or .jsonl.gz file.

    corpus = load_corpus("corpora/news")           # labels from the top-level subfolders
    corpus = load_corpus("news.jsonl.gz", id_column="filename")
    corpus.dates                                   # a datetime.date (or None) per document
    for doc in stream_corpus("big.jsonl.gz"):      # one document at a time, same ids and labels
        doc.doc_id, doc.text, doc.label, doc.file, doc.line

Bytes that are not UTF-8 are decoded as GB18030 or Big5, whichever reads as more plausible
Chinese. Files and documents that cannot be used are skipped with a TopicmfWarning and listed
in ``Corpus.skipped``; an error is raised only when nothing usable is left. Reading is bounded
(``max_doc_chars``, ``max_unpacked_ratio``): hostile or broken input ends in a CorpusError or a
warning, not in a program that takes all the memory.
"""

from __future__ import annotations

import csv
import functools
import json
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from ._dates import date_in_name, parse_date
from ._decode import FileProblem, TextFile, decode_bytes, read_text
from ._validation import check_float, check_int
from .errors import CorpusError, InvalidParameterError, TopicmfWarning

__all__ = ["Corpus", "CorpusStream", "SourceDocument", "load_corpus", "stream_corpus",
           "decode_bytes"]

_KINDS = "a folder of .txt files, or a .txt, .csv, .jsonl or .jsonl.gz file"
_SHOWN = 5  # how many skipped items an error or warning lists by name

MAX_DOC_CHARS = 10_000_000  # characters kept of a document; the rest is cut off
MAX_UNPACKED_RATIO = 200    # how many times its size a .jsonl.gz may unpack to (past 100 MB)
_RECORD_FACTOR, _RECORD_ROOM = 8, 1 << 16  # a csv row or jsonl line: 8 x max_doc_chars + 64 Ki


@dataclass
class Corpus:
    """Documents with their ids, optional labels and dates, and what was skipped while
    reading them. ``dates`` is None when the corpus has none, else a ``datetime.date`` or
    None (no date, or one that could not be read) per document."""

    ids: list[str]
    texts: list[str]
    labels: list[str] | None
    name: str
    source: str
    skipped: list[tuple[str, str]] = field(default_factory=list)
    dates: list | None = None

    def __len__(self) -> int:
        return len(self.texts)


# ---------------------------------------------------------------------------- public API

class SourceDocument(NamedTuple):
    """One document as :func:`stream_corpus` yields it, with where it came from."""

    doc_id: str
    text: str
    label: str | None  # None: no label (see CorpusStream.has_labels)
    file: int          # index into CorpusStream.files
    line: int          # the line it starts on in that file (1 for a whole .txt file)
    date: str | None = None  # the date as written (see CorpusStream.has_dates), not yet read


def load_corpus(path, *, text_column="text", id_column=None, label_column=None,
                date_column=None, lines=False, encoding=None, limit=None, progress=None,
                max_doc_chars=MAX_DOC_CHARS, max_unpacked_ratio=MAX_UNPACKED_RATIO) -> Corpus:
    """Read the documents at ``path``.

    ``path`` is a folder (every ``*.txt`` below it is a document, labelled by its top-level
    subfolder) or a ``.txt``, ``.csv``, ``.jsonl`` or ``.jsonl.gz`` file. In csv/jsonl input the
    text comes from ``text_column``; ids and labels from ``id_column`` / ``label_column``, or
    from columns named "id" / "label" when present; dates from ``date_column``, or a column
    named "date" when present. A folder's documents get the date their file name holds
    (``20220924_00.txt``, ``2022-09-24.txt``, ``2022_09_24.txt``). Dates read are
    ``YYYY-MM-DD`` (a time after it is dropped), ``YYYYMMDD``, ``YYYY/MM/DD`` and ``YYYY-MM``
    (the first of the month); a document whose date is in no such form, or not a real day,
    gets None, and one TopicmfWarning counts them and names the first few. ``lines=True`` makes every non-blank line of
    a .txt file a document. ``encoding`` turns off detection; ``limit`` stops after that many
    documents. ``progress(done, total)``, if given, is called as files of a folder are read
    (every 100 files and at the end), or once at the end for a single file. Raises CorpusError
    when nothing usable can be read.

    Limits on input (None turns one off):

    - ``max_doc_chars`` (default 10,000,000): a longer document is cut to its first
      ``max_doc_chars`` characters, with one TopicmfWarning naming the documents cut. Cut, not
      skipped: the start of a document still says what it is about, and the corpus keeps its
      documents, ids and labels. A long line is read in chunks, never held whole. A csv row or
      jsonl line, which must be parsed whole, may be 8 times as long plus 64 Ki characters
      (room for JSON escapes and other columns); a longer one is a CorpusError.
    - ``max_unpacked_ratio`` (default 200): a .jsonl.gz file that unpacks to more than that many
      times its size, and to more than 100 MB, is a CorpusError (a "gzip bomb").

    Symbolic links to folders are not followed, nor are files that are not regular files
    (FIFOs, devices) read; files skipped for the same reason share one warning.
    """
    stream = stream_corpus(path, text_column=text_column, id_column=id_column,
                           label_column=label_column, date_column=date_column, lines=lines, encoding=encoding,
                           limit=limit, progress=progress, max_doc_chars=max_doc_chars,
                           max_unpacked_ratio=max_unpacked_ratio, owner="load_corpus")
    ids, texts, labels, written = [], [], [], []
    try:
        for doc in stream:
            ids.append(doc.doc_id)
            texts.append(doc.text)
            labels.append(doc.label)
            written.append(doc.date)
        if progress is not None and stream.kind != "folder":
            progress(1, 1)
        dates = _read_dates(written, ids, stream) if stream.has_dates else None
    finally:
        # Emitted here so that they point at the caller, also when an error follows.
        for message in stream.warnings:
            warnings.warn(message, TopicmfWarning, stacklevel=2)
    return Corpus(ids=ids, texts=texts, labels=stream.final_labels(labels), name=stream.name,
                  source=stream.source, skipped=stream.skipped, dates=dates)


def _read_dates(written: list[str | None], ids: list[str], stream: "CorpusStream") -> list:
    """The documents' dates from their text; those that are no date are left None and named
    in one warning for the caller to emit."""
    reader = DateReader()
    dates = [reader.read(doc_id, text) for doc_id, text in zip(ids, written)]
    reader.add_warning(stream)
    return dates


class DateReader:
    """Reads documents' dates as written (``SourceDocument.date``), one at a time, as
    :func:`load_corpus` does: a date in no form read, or not a real day, is None, and those
    are counted (the first few kept by name) for one warning."""

    def __init__(self):
        self.n_unread = 0
        self.first: list[str] = []  # one more than shown, so the warning knows to add "..."

    def read(self, doc_id: str, written: str | None):
        """The ``datetime.date`` that ``written`` holds, or None."""
        text = written.strip() if written else ""
        if not text:
            return None
        date = parse_date(text)
        if date is None:
            self.n_unread += 1
            if len(self.first) <= _SHOWN:
                self.first.append(f"{doc_id} {text[:40]!r}")
        return date

    def add_warning(self, stream: "CorpusStream") -> None:
        """Add the warning about the dates not read, if any, to ``stream.warnings``."""
        if self.n_unread:
            stream.warnings.append(
                f"{stream.source}: {_count(self.n_unread, 'document')} left undated, their date "
                f"in no form read (YYYY-MM-DD, YYYYMMDD, YYYY/MM/DD, YYYY-MM) or not a real "
                f"day: {_first_few(self.first)}")


def stream_corpus(path, *, text_column="text", id_column=None, label_column=None,
                  date_column=None, lines=False, encoding=None, limit=None, progress=None,
                  max_doc_chars=MAX_DOC_CHARS, max_unpacked_ratio=MAX_UNPACKED_RATIO,
                  owner="stream_corpus") -> "CorpusStream":
    """The documents at ``path`` one at a time, as :func:`load_corpus` reads them (with the
    same parameters and limits).

    Iterating the result yields :class:`SourceDocument` tuples ``(doc_id, text, label, file,
    line, date)`` with the ids, texts and labels ``load_corpus`` gives (``date`` as written,
    not yet read), without holding more than
    one document (cut to ``max_doc_chars``) or one csv row or jsonl line at a time. A csv, jsonl or
    ``lines`` file is read twice: once to check its encoding, columns and ids, so that every
    error ``load_corpus`` raises comes before the first document, then for the documents.
    """
    for value, name, optional in ((text_column, "text_column", False),
                                  (id_column, "id_column", True),
                                  (label_column, "label_column", True),
                                  (date_column, "date_column", True)):
        _check_column_name(value, name, optional, owner)
    if not isinstance(lines, bool):
        raise InvalidParameterError(
            f"The 'lines' parameter of {owner} must be a bool. Got {lines!r} instead.")
    _check_encoding(encoding, owner)
    limit = check_int(limit, "limit", low=1, owner=owner, allow_none=True)
    max_doc_chars = check_int(max_doc_chars, "max_doc_chars", low=1, owner=owner,
                              allow_none=True)
    max_unpacked_ratio = check_float(max_unpacked_ratio, "max_unpacked_ratio", low=1,
                                     owner=owner, allow_none=True)
    source = str(path)
    path = Path(path)
    if not path.exists():
        raise CorpusError(f"{source} does not exist")
    kind = "folder" if path.is_dir() else _file_kind(path, source)
    return CorpusStream(path, source, kind, text_column=text_column, id_column=id_column,
                        label_column=label_column, date_column=date_column, lines=lines, encoding=encoding, limit=limit,
                        progress=progress, max_doc_chars=max_doc_chars,
                        max_unpacked_ratio=max_unpacked_ratio)


class CorpusStream:
    """An iterable over the documents of a corpus (see :func:`stream_corpus`).

    After (or during) an iteration: ``files`` lists the files (paths relative to a folder, or
    the one file's name), ``skipped`` what was left out and ``warnings`` the messages about it
    (for the caller to emit), ``has_labels`` whether the corpus has labels (then a document's
    missing label is ""), ``has_dates`` whether it has dates (a column of them, or a file
    name holding one), and ``expected`` how many documents to expect (None when only
    reading can tell). Each iteration reads the files again.
    """

    def __init__(self, path: Path, source: str, kind: str, *, text_column: str,
                 id_column: str | None, label_column: str | None, lines: bool,
                 encoding: str | None, limit: int | None, progress=None,
                 date_column: str | None = None,
                 max_doc_chars: int | None = MAX_DOC_CHARS,
                 max_unpacked_ratio: float | None = MAX_UNPACKED_RATIO):
        self.path, self.source, self.kind = path, source, kind
        self.name = path.resolve().name if kind == "folder" else path.name[: -len(kind)]
        self.text_column, self.id_column, self.label_column = text_column, id_column, label_column
        self.date_column = date_column
        self.lines, self.encoding, self.limit = lines, encoding, limit
        self.progress = progress
        self.max_doc_chars, self.max_unpacked_ratio = max_doc_chars, max_unpacked_ratio
        self.files: list[str] = [] if kind == "folder" else [path.name]
        self.skipped: list[tuple[str, str]] = []
        self.warnings: list[str] = []
        self.expected: int | None = None
        self.has_labels = self.has_dates = False
        self._cut: list[str] = []                      # documents cut to max_doc_chars
        self._skipped_files: dict[str, list[str]] = {}  # reason -> files of a folder

    def __iter__(self) -> Iterator[SourceDocument]:
        self.skipped, self.warnings, self.has_labels, self.has_dates = [], [], False, False
        self._cut, self._skipped_files = [], {}
        if self.kind == "folder":
            documents = self._folder()
        elif self.kind == ".txt":
            documents = self._txt_file()
        else:
            documents = self._records()
        return self._summarized(documents)

    def _summarized(self, documents: Iterator[SourceDocument]) -> Iterator[SourceDocument]:
        """``documents``, then one warning for each reason files were skipped and one for the
        documents cut, however the reading ends: a folder of 20,000 empty files warns once."""
        try:
            yield from documents
        finally:
            for reason, items in self._skipped_files.items():
                if len(items) == 1:
                    self.warnings.append(f"skipped {Path(self.source) / items[0]}: {reason}")
                else:
                    self.warnings.append(f"{self.source}: skipped {_count(len(items), 'file')} "
                                         f"({reason}): {_first_few(items)}")
            if self._cut:
                self.warnings.append(
                    f"{self.source}: {_count(len(self._cut), 'document')} longer than "
                    f"{self.max_doc_chars:,} characters cut to that length "
                    f"({_first_few(self._cut)}); raise 'max_doc_chars' to keep more")

    def final_labels(self, labels: list[str | None]) -> list[str] | None:
        """The corpus's labels from the documents' ``label`` fields, as load_corpus gives them."""
        if not self.has_labels:
            return None
        return ["" if label is None else label for label in labels]

    def read_at(self, places) -> dict[tuple[str, int], SourceDocument]:
        """Read again only the documents at ``places``, pairs (file as in ``files``, line)."""
        wanted = {(str(file), int(line)) for file, line in places}
        found = {}
        if self.kind != "folder":
            for doc in self:
                place = (self.files[doc.file], doc.line)
                if place in wanted:
                    found[place] = doc
                    if len(found) == len(wanted):
                        break
            return found
        for file in sorted({file for file, _ in wanted}):
            rel = Path(file)
            label = rel.parts[0] if len(rel.parts) > 1 else None
            shown = str(Path(self.source) / rel)
            lines = {line for f, line in wanted if f == file}
            for doc in self._folder_file(rel, shown, label, 0):
                if doc.line in lines:
                    found[(file, doc.line)] = doc
        return found

    # -- folders and .txt files --------------------------------------------------------------

    def _full(self, count: int) -> bool:
        return self.limit is not None and count >= self.limit

    def _skip(self, item: str, reason: str, message: str | None = None) -> None:
        self.skipped.append((item, reason))
        if message:
            self.warnings.append(message)

    def _skip_file(self, item: str, reason: str) -> None:
        """Skip a file of a folder; the warning comes with the others of its reason."""
        self.skipped.append((item, reason))
        self._skipped_files.setdefault(reason, []).append(item)

    def _folder(self) -> Iterator[SourceDocument]:
        def unreadable(error: OSError) -> None:
            item = Path(error.filename or self.path).relative_to(self.path).as_posix()
            reason = error.strerror or type(error).__name__
            self._skip(item, reason, f"skipped the folder {error.filename}: {reason}")

        files = _txt_files(self.path, unreadable,
                           lambda rel: self._skip_file(rel.as_posix(), "link to a folder"))
        self.files = [rel.as_posix() for rel in files]
        if not files:
            raise CorpusError(
                f"{self.source} has no .txt files; expected .txt files (one document each, in "
                f"one subfolder per label), or pass a .csv/.jsonl file")
        self.expected = None if self.lines else len(files)
        count = 0
        for index, rel in enumerate(files):
            if self.progress is not None and index % 100 == 0:
                self.progress(index, len(files))
            if self._full(count):
                break
            item, shown = rel.as_posix(), str(Path(self.source) / rel)
            label = rel.parts[0] if len(rel.parts) > 1 else None
            before = count
            try:
                for doc in self._folder_file(rel, shown, label, index):
                    self.has_labels = self.has_labels or label is not None
                    yield doc
                    count += 1
                    if self._full(count):
                        break
            except FileProblem as problem:
                self._skip_file(item, problem.reason)
                continue
            if count == before:
                self._skip_file(item, "empty")
        if self.progress is not None:
            self.progress(len(files), len(files))
        if count == 0:
            raise CorpusError(
                f"{self.source}: no readable documents ({_count(len(self.skipped), 'file')} "
                f"skipped: {_first_few([f'{i} {r}' for i, r in self.skipped])}); expected "
                f"non-empty UTF-8, GB18030 or Big5 .txt files")

    def _folder_file(self, rel: Path, shown: str, label: str | None,
                     index: int) -> Iterator[SourceDocument]:
        """The documents of one file of a folder; FileProblem before the first if unusable."""
        path, item = self.path / rel, rel.as_posix()
        date = date_in_name(rel.name)
        self.has_dates = self.has_dates or date is not None
        if self.lines:
            source = TextFile(path, shown, self.encoding, max_line=self.max_doc_chars)
            source.check()
            yield from _line_documents(source, item, label, index, self._cut, date)
            return
        text, cut = read_text(path, shown, self.encoding, self.max_doc_chars)
        if text.strip():
            if cut:
                self._cut.append(item)
            yield SourceDocument(item, text, label, index, 1, date)

    def _txt_file(self) -> Iterator[SourceDocument]:
        found = False
        if self.lines:
            source = TextFile(self.path, self.source, self.encoding, max_line=self.max_doc_chars)
            self.expected = self._check_file(source, _count_lines(self.limit))
            documents = _line_documents(source, self.path.name, None, 0, self._cut)
            for count, doc in enumerate(documents, 1):
                found = True
                yield doc
                if self._full(count):
                    break
        else:
            try:
                text, cut = read_text(self.path, self.source, self.encoding, self.max_doc_chars)
            except FileProblem as problem:
                if problem.reason == "binary":
                    raise self._binary() from None
                raise
            if text.strip():
                self.expected = 1
                found = True
                if cut:
                    self._cut.append(self.path.name)
                yield SourceDocument(self.path.name, text, None, 0, 1)
        if not found:
            raise CorpusError(f"{self.source} is empty; it needs some text")

    def _check_file(self, source: TextFile, scan):
        """``source.check(scan)`` for a corpus that is that one file."""
        try:
            return source.check(scan)
        except FileProblem as problem:
            if problem.reason != "binary":
                raise
            raise self._binary() from None

    def _binary(self) -> CorpusError:
        return CorpusError(f"{self.source} is a binary file, not text; pass {_KINDS}")

    # -- csv and jsonl ------------------------------------------------------------------------

    def _records(self) -> Iterator[SourceDocument]:
        source = TextFile(self.path, self.source, self.encoding, gz=self.kind == ".jsonl.gz",
                          max_line=_record_chars(self.max_doc_chars),
                          max_unpacked_ratio=self.max_unpacked_ratio)
        csv_file = self.kind == ".csv"
        id_key, label_key = self.id_column or "id", self.label_column or "label"
        date_key = self.date_column or "date"
        scan = self._check_file(source, functools.partial(
            _scan_records, csv_file=csv_file, source=self.source, text_column=self.text_column,
            id_key=id_key, limit=self.limit, max_record=source.max_line))
        columns = (self.text_column, self.id_column, self.label_column, self.date_column)
        if scan.problem is not None:
            raise scan.problem
        if csv_file:
            if scan.header is None:
                raise CorpusError(f"{self.source} is empty; expected a header row naming the "
                                  f"columns")
            _check_columns(scan.columns, self.source, *columns)
        if scan.rows == 0:
            raise CorpusError(f"{self.source} has no data rows")
        _check_columns(scan.columns, self.source, *columns)
        use_ids = id_key in scan.columns
        self.has_labels = label_key in scan.columns
        self.has_dates = date_key in scan.columns
        if scan.empty:
            names = [doc_id if use_ids and doc_id else f"row-{row}" for row, doc_id in scan.empty]
            self.skipped.extend((name, "empty") for name in names)
            self.warnings.append(f"{self.source}: skipped {_count(len(names), 'document')} with "
                                 f"an empty '{self.text_column}' ({_first_few(names)})")
        if scan.texts == 0:
            raise CorpusError(f"{self.source}: all {_count(scan.rows, 'document')} have an empty "
                              f"'{self.text_column}'; choose the column holding the text with "
                              f"'text_column'")
        if use_ids and scan.missing_id is not None:
            _row_id(scan.missing_id, None, True, id_key, self.source)
        if use_ids and scan.repeated_id is not None:
            raise CorpusError(f"{self.source} has the id '{scan.repeated_id}' more than once in "
                              f"column '{id_key}'; ids must be unique (or choose another 'id_column')")
        self.expected = scan.texts

        rows, count = 0, 0
        for line, record in _parse_records(source.lines(), csv_file, self.source,
                                           source.max_line):
            rows += 1
            text = _cell_text(record.get(self.text_column))
            if not text.strip():
                continue
            label = _cell_text(record.get(label_key)) if self.has_labels else None
            date = _cell_text(record.get(date_key)) if self.has_dates else None
            doc_id = _row_id(rows, record.get(id_key), use_ids, id_key, self.source)
            if self.max_doc_chars is not None and len(text) > self.max_doc_chars:
                text, rest = text[: self.max_doc_chars], text[self.max_doc_chars:]
                if rest.strip():
                    self._cut.append(f"{doc_id} (line {line})")
            yield SourceDocument(doc_id, text, label, 0, line, date)
            count += 1
            if self._full(count):
                break


def _first_few(items: list[str]) -> str:
    return ", ".join(items[:_SHOWN]) + (", ..." if len(items) > _SHOWN else "")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _txt_files(root: Path, unreadable, linked) -> list[Path]:
    """Relative paths of the visible .txt files below ``root``, in a fixed order.

    Links to folders are not followed (a link to a parent would loop); ``linked(rel)`` is
    called for each, in the same order."""
    found, links = [], []
    for folder, subfolders, files in os.walk(root, onerror=unreadable, followlinks=False):
        base = Path(folder).relative_to(root)
        visible = [name for name in subfolders if not name.startswith(".")]
        subfolders[:] = []
        for name in visible:
            if os.path.islink(os.path.join(folder, name)):
                links.append(base / name)
            else:
                subfolders.append(name)
        found.extend(base / name for name in files
                     if not name.startswith(".") and name.lower().endswith(".txt"))
    for rel in sorted(links, key=lambda rel: rel.parts):
        linked(rel)
    return sorted(found, key=lambda rel: rel.parts)


def _line_documents(source: "TextFile", item: str, label: str | None, index: int,
                    cut_ids: list[str], date: str | None = None) -> Iterator[SourceDocument]:
    """The non-blank lines of ``source`` as documents (each with the file's ``date``); the ids
    of those cut (lines longer than ``source.max_line``) are added to ``cut_ids``."""
    for number, (line, cut) in enumerate(source.lines(), 1):
        if line.strip():
            doc_id = f"{item}:{number}"
            if cut:
                cut_ids.append(doc_id)
            yield SourceDocument(doc_id, line.strip(), label, index, number, date)


def _count_lines(limit: int | None):
    """A scan for TextFile.check: how many documents a ``lines`` file holds."""
    def scan(lines) -> int:
        count = 0
        for line, _ in lines:
            if line.strip():
                count += 1
                if limit is not None and count >= limit:
                    break
        return count
    return scan


# ---------------------------------------------------------------------------- csv and jsonl

@dataclass
class _RecordScan:
    """What the first reading of a csv or jsonl file found (up to ``limit`` documents)."""

    columns: dict = field(default_factory=dict)  # column names in order of first appearance
    header: list[str] | None = None
    rows: int = 0
    texts: int = 0                 # rows with a non-empty text
    empty: list[tuple[int, str]] = field(default_factory=list)  # rows without text, their ids
    missing_id: int | None = None  # first row with a text and no id
    repeated_id: str | None = None
    problem: CorpusError | None = None  # raised only once the whole file has decoded


def _scan_records(lines, *, csv_file: bool, source: str, text_column: str, id_key: str,
                  limit: int | None, max_record: int | None) -> _RecordScan:
    scan = _RecordScan()
    ids = set()
    done = False
    try:
        for _, record in _parse_records(lines, csv_file, source, max_record, scan):
            if done:
                continue  # the rest of a csv file is still parsed: its errors count
            if not csv_file:
                scan.columns.update(dict.fromkeys(record))
            scan.rows += 1
            doc_id = _cell_text(record.get(id_key)).strip()
            if not _cell_text(record.get(text_column)).strip():
                scan.empty.append((scan.rows, doc_id))
                continue
            scan.texts += 1
            if not doc_id:
                if scan.missing_id is None:
                    scan.missing_id = scan.rows
            elif doc_id in ids:
                if scan.repeated_id is None:
                    scan.repeated_id = doc_id
            else:
                ids.add(doc_id)
            if limit is not None and scan.texts >= limit:
                if not csv_file:
                    break
                done = True
    except CorpusError as problem:
        scan.problem = problem
    return scan


def _record_chars(max_doc_chars: int | None) -> int | None:
    """The longest csv row or jsonl line read: room for a document of ``max_doc_chars`` written
    with JSON escapes (6 characters for one), and for the other columns."""
    return None if max_doc_chars is None else _RECORD_FACTOR * max_doc_chars + _RECORD_ROOM


def _record_too_long(source: str, number: int, max_record: int) -> CorpusError:
    return CorpusError(f"{source} line {number} is in a record longer than {max_record:,} "
                       f"characters ({_RECORD_FACTOR} times 'max_doc_chars' and some room); if "
                       f"the record is genuine, raise 'max_doc_chars'")


class _BoundedRows:
    """The lines of a csv file for csv.reader, stopped with a CorpusError once the row being
    read (a quoted cell may span lines) is longer than ``max_record`` characters; whoever reads
    the rows sets ``chars`` to 0 after each."""

    def __init__(self, lines, source: str, max_record: int | None):
        self.lines, self.source, self.max_record = lines, source, max_record
        self.chars = 0

    def __iter__(self) -> Iterator[str]:
        for number, (line, cut) in enumerate(self.lines, 1):
            self.chars += len(line)
            if self.max_record is not None and (cut or self.chars > self.max_record):
                raise _record_too_long(self.source, number, self.max_record)
            yield line


def _parse_records(lines, csv_file: bool, source: str, max_record: int | None,
                   scan: _RecordScan | None = None):
    """Yield (line, record) for each non-blank data row (csv) or line (jsonl) of a file.

    ``lines`` as TextFile.lines yields them, cut to ``max_record`` characters (None: not cut);
    a record that was cut or is longer is a CorpusError."""
    if not csv_file:
        # Lines end at "\n" only: raw U+2028 and friends are legal inside JSON strings.
        for number, (line, cut) in enumerate(lines, 1):
            if cut:
                raise _record_too_long(source, number, max_record)
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
            yield number, record
        return
    rows = _BoundedRows(lines, source, max_record)
    reader = csv.reader(rows)
    old_limit = csv.field_size_limit()
    # Whole documents in one cell easily exceed the csv module's 128 KiB default; rows are
    # bounded by _BoundedRows instead.
    csv.field_size_limit(max(old_limit, 2**31 - 1))
    try:
        header = next(reader, None)
        if not header:
            # Errors in the rows still come first, as when the whole file was parsed at once.
            for _ in reader:
                pass
            return
        rows.chars = 0
        columns = [name.strip() for name in header]
        if scan is not None:
            scan.header = columns
            scan.columns.update(dict.fromkeys(columns))
        start = reader.line_num + 1
        for row in reader:
            rows.chars = 0
            if row:
                yield start, dict(zip(columns, row))
            start = reader.line_num + 1
    except csv.Error as error:
        raise CorpusError(f"{source} line {reader.line_num} is not valid csv ({error})") from None
    finally:
        csv.field_size_limit(old_limit)


def _check_columns(seen, source: str, text_column: str, id_column: str | None,
                   label_column: str | None, date_column: str | None = None) -> None:
    for column, option in ((text_column, "'text_column'"), (id_column, "'id_column'"),
                           (label_column, "'label_column'"), (date_column, "'date_column'")):
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
                          f"another 'id_column'")
    return doc_id


# ---------------------------------------------------------------------------- files and bytes

def _check_column_name(value, name: str, optional: bool, owner: str) -> None:
    if (value is None and optional) or (isinstance(value, str) and value.strip()):
        return
    raise InvalidParameterError(
        f"The '{name}' parameter of {owner} must be a column name (a non-empty str)"
        f"{' or None' if optional else ''}. Got {value!r} instead.")


def _check_encoding(encoding, owner: str) -> None:
    if encoding is None:
        return
    if isinstance(encoding, str):
        try:
            b"a".decode(encoding)  # LookupError for unknown names and bytes-to-bytes codecs
            return
        except UnicodeDecodeError:
            return
        except (LookupError, ValueError):  # ValueError: a name with a NUL in it
            pass
    raise InvalidParameterError(
        f"The 'encoding' parameter of {owner} must be the name of a text encoding, such "
        f"as 'utf-8', 'gb18030' or 'big5', or None. Got {encoding!r} instead.")


def _file_kind(path: Path, source: str) -> str:
    lower = path.name.lower()
    for kind in (".jsonl.gz", ".jsonl", ".csv", ".txt"):
        if lower.endswith(kind):
            return kind
    raise CorpusError(f"{source} is not a supported kind of input; pass {_KINDS}")


