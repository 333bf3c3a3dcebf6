"""Bytes to text: the encoding guess for UTF-8, GB18030 and Big5 files, whole or streamed.

:func:`decode_bytes` decodes a file held in memory; :class:`TextFile` reads a file (plain or
gzip-compressed) line by line and decodes it exactly as ``decode_bytes`` would decode the whole.
Reading is bounded: lines are cut to a length, whole files to a number of characters, and a
gzip file stops once it unpacks to many times its size, so no input holds memory it is not
allowed.
"""

from __future__ import annotations

import codecs
import collections
import contextlib
import functools
import gzip
import io
import itertools
import math
import os
import re
import stat
import unicodedata
import zlib
from collections.abc import Iterator
from pathlib import Path

from .errors import CorpusError

__all__ = ["decode_bytes"]

_BINARY_PROBE = 8192


class FileProblem(CorpusError):
    """A file that cannot be used; ``reason`` is the short form listed in ``Corpus.skipped``."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


def decode_bytes(data: bytes, *, name: str, encoding: str | None = None) -> str:
    """Decode the bytes of a text file named ``name``; newlines become ``\\n``, no BOM.

    Without ``encoding``: UTF-8 (with or without BOM), UTF-16 with a BOM, else GB18030 or
    Big5-HKSCS, whichever gives more plausible Chinese. Raises CorpusError if nothing fits.
    """
    if encoding is not None:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as error:
            raise FileProblem(
                f"{name} is not valid {encoding} text (bad bytes at offset {error.start}); "
                f"pass the right 'encoding' or leave it out to detect it",
                f"not {encoding}") from None
    else:
        text = _detect_and_decode(data, name)
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def looks_binary(data: bytes) -> bool:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False  # UTF-16 text is full of NUL bytes
    return b"\0" in data[:_BINARY_PROBE]


_CHUNK = 1 << 20           # bytes (or characters) read at a time when a file is streamed
_WHOLE = 4 << 20           # a whole-document file up to this size is read at once
UNPACKED_FLOOR = 100 << 20  # a gzip file may always unpack to this many bytes


def open_file(path: Path, shown: str):
    """``path`` opened for reading bytes. FileProblem if it cannot be opened or is not a
    regular file: a FIFO would block and a device such as /dev/zero never end."""
    nonblocking = getattr(os, "O_NONBLOCK", 0)  # opening a FIFO must not wait for a writer
    try:
        fd = os.open(path, os.O_RDONLY | nonblocking)
    except OSError as error:
        raise _unreadable(error, shown) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise FileProblem(f"{shown} is not a regular file; pass a file or a folder of files",
                              "not a regular file")
        if nonblocking:
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _unreadable(error: OSError, shown: str) -> FileProblem:
    if isinstance(error, PermissionError):
        return FileProblem(f"{shown} cannot be read (permission denied); check its permissions",
                           "permission denied")
    reason = error.strerror or type(error).__name__
    return FileProblem(f"{shown} cannot be read ({reason})", reason)


def read_text(path: Path, shown: str, encoding: str | None,
              max_chars: int | None) -> tuple[str, bool]:
    """The text of a whole file as decode_bytes decodes it, cut to its first ``max_chars``
    characters: (text, whether non-blank text was cut off). A small file is read at once, a
    larger one streamed, so that memory holds at most about ``max_chars`` characters."""
    with open_file(path, shown) as raw:
        try:
            data = raw.read(_WHOLE + 1)
        except OSError as error:
            raise _unreadable(error, shown) from None
    if len(data) > _WHOLE:
        source = TextFile(path, shown, encoding)
        source.check()
        return source.read(max_chars)
    if looks_binary(data):
        raise FileProblem(shown, "binary")
    text = decode_bytes(data, name=shown, encoding=encoding)
    if max_chars is None or len(text) <= max_chars:
        return text, False
    return text[:max_chars], bool(text[max_chars:].strip())


class TextFile:
    """A text file (gzip-compressed or not) read line by line, decoded as decode_bytes would
    decode the whole of it: same encoding guess, newlines as ``\\n``, no BOM, same errors.

    ``max_line``: a longer line is cut to that many characters, the rest read and dropped in
    chunks. ``max_unpacked_ratio``: a gzip file stops with a CorpusError once it has unpacked
    to more than that many times its size and more than UNPACKED_FLOOR bytes.
    """

    def __init__(self, path: Path, shown: str, encoding: str | None, gz: bool = False, *,
                 max_line: int | None = None, max_unpacked_ratio: float | None = None):
        self.path, self.shown, self.encoding, self.gz = path, shown, encoding, gz
        self.max_line, self.max_unpacked_ratio = max_line, max_unpacked_ratio
        self.codec: str | None = None

    def check(self, scan=None):
        """Read the whole file once to choose its codec; return ``scan(lines)`` of that reading,
        ``lines`` as :meth:`lines` yields them.

        ``scan`` may stop early; the rest of the file is still decoded, since a bad byte
        anywhere makes the file unusable. Raises FileProblem for an unreadable, binary or
        undecodable file.
        """
        head = self._head()
        if looks_binary(head):
            raise FileProblem(self.shown, "binary")
        if self.encoding is not None:
            found, result = self._scan(self.encoding, scan)
            if not found:
                raise FileProblem(
                    f"{self.shown} is not valid {self.encoding} text (bad bytes at offset "
                    f"{self._bad_offset(self.encoding)}); pass the right 'encoding' or leave it "
                    f"out to detect it", f"not {self.encoding}")
            self.codec = self.encoding
            return result
        utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        for codec in ("utf-16", "utf-8") if utf16 else ("utf-8",):
            found, result = self._scan(codec, scan)
            if found:
                self.codec = codec
                return result
        samples = self._chinese_samples()
        if not samples:
            raise FileProblem(f"{self.shown} is not UTF-8, GB18030 or Big5 text; convert it to "
                               f"UTF-8 or pass 'encoding'", "not UTF-8, GB18030 or Big5")
        # Each codec accepts much of the other's bytes, so pick the text that reads best.
        self.codec = max(samples, key=lambda codec: _plausibility(samples[codec]))
        if scan is None:
            return None  # the samples come from codecs that decoded the whole file
        found, result = self._scan(self.codec, scan)
        if not found:
            raise CorpusError(f"{self.shown} changed while it was being read; read it again")
        return result

    def lines(self) -> Iterator[tuple[str, bool]]:
        """(line, cut) for each line (after :meth:`check`): the line ending in "\\n" but maybe
        the last, with no BOM, and whether non-blank text past ``max_line`` was cut off."""
        with self._text() as text, self._read_errors():
            yield from _bounded_lines(text, self.max_line)

    def read(self, max_chars: int | None) -> tuple[str, bool]:
        """The whole text (after :meth:`check`) cut to its first ``max_chars`` characters, and
        whether non-blank text was cut off; the rest is read in chunks and dropped."""
        with self._text() as text, self._read_errors():
            kept = text.read(max_chars)
            if kept.startswith("\ufeff"):
                kept = kept[1:] + (text.read(1) if max_chars is not None else "")
            if max_chars is None:
                return kept, False
            for rest in iter(lambda: text.read(_CHUNK), ""):
                if rest.strip():
                    return kept, True
            return kept, False

    def _scan(self, codec: str, scan) -> tuple[bool, object]:
        """(whether the whole file decodes with ``codec``, what ``scan`` returned)."""
        self.codec = codec
        if scan is None:
            return self._first_bad_byte(codec) is None, None
        lines = self.lines()
        try:
            result = scan(lines)
            collections.deque(lines, maxlen=0)
        except UnicodeDecodeError:
            return False, None
        finally:
            lines.close()
        return True, result

    def _open(self):
        raw = open_file(self.path, self.shown)
        if not self.gz:
            return raw
        return io.BufferedReader(_Unpacking(raw, self.shown, self.max_unpacked_ratio), _CHUNK)

    def _text(self):
        return io.TextIOWrapper(self._open(), encoding=self.codec, errors="strict",
                                newline=None)

    @contextlib.contextmanager
    def _read_errors(self):
        """Turn the errors of reading into CorpusError."""
        try:
            yield
        except (OSError, EOFError, zlib.error) as error:
            if self.gz:
                raise CorpusError(f"{self.shown} is not a valid gzip file ({error}); compress it "
                                  f"again or pass the uncompressed .jsonl") from None
            raise _unreadable(error, self.shown) from None

    def _chunks(self) -> Iterator[bytes]:
        with self._open() as raw, self._read_errors():
            yield from iter(lambda: raw.read(_CHUNK), b"")

    def _head(self) -> bytes:
        chunks = self._chunks()
        try:
            return next(chunks, b"")[:_BINARY_PROBE]
        finally:
            chunks.close()

    def _first_bad_byte(self, codec: str) -> int | None:
        """Offset in the file of the first byte that ``codec`` cannot decode; None if none."""
        decoder = codecs.getincrementaldecoder(codec)()
        fed = 0
        for chunk in itertools.chain(self._chunks(), [b""]):
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as error:
                return fed - pending + error.start
            fed += len(chunk)
        return None

    def _bad_offset(self, codec: str) -> int:
        offset = self._first_bad_byte(codec)
        if offset is None:
            raise CorpusError(f"{self.shown} changed while it was being read; read it again")
        return offset

    def _chinese_samples(self) -> dict[str, str]:
        """For each Chinese codec that decodes the whole file, the text _plausibility scores:
        up to _SAMPLE characters from the first non-ASCII one."""
        decoders = {codec: codecs.getincrementaldecoder(codec)() for codec in _CHINESE_CODECS}
        samples = {codec: [] for codec in _CHINESE_CODECS}
        wanted = dict.fromkeys(_CHINESE_CODECS, _SAMPLE)
        for chunk in itertools.chain(self._chunks(), [b""]):
            for codec, decoder in list(decoders.items()):
                try:
                    text = decoder.decode(chunk, final=not chunk)
                except UnicodeDecodeError:
                    del decoders[codec]
                    continue
                if wanted[codec] and not samples[codec]:
                    start = _NOT_ASCII.search(text)
                    text = text[start.start():] if start else ""
                if wanted[codec] and text:
                    samples[codec].append(text[: wanted[codec]])
                    wanted[codec] -= len(samples[codec][-1])
            if not decoders:
                break
        return {codec: "".join(samples[codec]) for codec in decoders}


def _bounded_lines(text, limit: int | None) -> Iterator[tuple[str, bool]]:
    """(line, cut) from the text stream ``text``, no line longer than ``limit`` characters."""
    if limit is None:
        for number, line in enumerate(text):
            yield (line[1:] if number == 0 and line.startswith("\ufeff") else line), False
        return
    first = True
    while True:
        line = text.readline(limit)
        if first:
            first = False
            if line.startswith("\ufeff"):
                line = line[1:]
                if len(line) == limit - 1 and not line.endswith("\n"):
                    line += text.readline(1)
        if not line:
            return
        if len(line) < limit or line.endswith("\n"):
            yield line, False
            continue
        # ``limit`` characters and no newline yet: drop what follows, up to the newline.
        cut = ended = False
        for rest in iter(lambda: text.readline(_CHUNK), ""):
            ended = rest.endswith("\n")
            cut = cut or bool(rest.strip())
            if ended:
                break
        yield (line + "\n" if ended else line), cut


class _Unpacking(io.RawIOBase):
    """The uncompressed bytes of an open gzip file, stopped with a CorpusError once they pass
    ``ratio`` times the file's size (and UNPACKED_FLOOR): a small file that unpacks to
    gigabytes is a mistake or an attack, and reading it would take every byte of memory."""

    def __init__(self, compressed, shown: str, ratio: float | None):
        super().__init__()
        self._compressed, self._shown, self._ratio = compressed, shown, ratio
        self._gzip = gzip.GzipFile(fileobj=compressed, mode="rb")
        self._size = os.fstat(compressed.fileno()).st_size
        self._limit = None if ratio is None else max(UNPACKED_FLOOR, ratio * self._size)
        self._unpacked = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self._gzip.readinto(buffer)
        self._unpacked += count
        if self._limit is not None and self._unpacked > self._limit:
            raise CorpusError(
                f"{self._shown} unpacks to more than {_megabytes(self._limit)} from "
                f"{_megabytes(self._size)}, over {self._ratio:g} times its size; if the file "
                f"is genuine, raise 'max_unpacked_ratio'")
        return count

    def close(self) -> None:
        if not self.closed:
            try:
                self._gzip.close()
            finally:
                self._compressed.close()
        super().close()


def _megabytes(size: float) -> str:
    return f"{size / 1e6:,.1f} MB" if size >= 1e5 else f"{size / 1e3:,.1f} kB"


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
        raise FileProblem(f"{name} is not UTF-8, GB18030 or Big5 text; convert it to UTF-8 "
                           f"or pass 'encoding'", "not UTF-8, GB18030 or Big5")
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
