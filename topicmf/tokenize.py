"""Turn English and Chinese (Simplified or Traditional) text into lists of tokens.

A document is NFKC-normalized and lowercased, then cut into runs of Han characters and the rest.
Han runs are converted to Simplified Chinese, segmented with jieba's dictionary and method, and
the words are mapped back onto the original characters, so Traditional text segments as well as
Simplified text and still yields Traditional words. Large inputs are segmented by a compiled copy
of jieba's algorithm (``topicmf._segment``), which gives jieba's words about 12 times faster
once loaded (about a second); ``engine="jieba"`` calls jieba itself. Everything else goes through a small regex
for Latin-script words and numbers. Stopwords, punctuation and (by default) numbers are dropped.
"""

from __future__ import annotations

import bisect
import functools
import logging
import math
import os
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable
from importlib import resources
from os import PathLike

from ._validation import check_choice, check_int
from .errors import CorpusError, InvalidParameterError

__all__ = ["Tokenizer", "read_word_file"]

_LANGS = ("auto", "en", "zh")
_ENGINES = ("auto", "compiled", "jieba")
# Loading the compiled segmenter takes about a second; jieba does 0.35 M characters a second.
_COMPILED_MIN_CHARS = 500_000
_CONFIG_KEYS = ("lang", "stopwords", "userdict", "min_length", "keep_numbers", "news_stopwords")
_PROGRESS_EVERY = 100
# Worker processes each load jieba's dictionary (about a second) and the texts travel between
# processes, so fanning out only pays on corpora of a few million characters.
_PARALLEL_MIN_CHARS = 2_000_000
_CHUNKS_PER_JOB = 8
_MAX_CHUNK_DOCS = 500

# CJK Unified Ideographs (basic, extension A, compatibility, extensions B and later) and 〇.
_HAN = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_HAN_RUN = re.compile(f"([{_HAN}]+)")
_HAN_CHAR = re.compile(f"[{_HAN}]")
_LETTER = re.compile(r"[^\W\d_]")
_WORD_CHAR = re.compile(r"[^\W_]")  # a letter or digit: a piece that may hold a token
# A word starts with a letter; digits may follow ("mp3", "covid-19"); apostrophes and hyphens
# are kept only between characters, so quotes and dashes around a word fall away.
_WORD_OR_NUMBER = re.compile(
    r"(?P<word>[^\W\d_][^\W_]*(?:['-][^\W_]+)*)|(?P<number>\d+(?:[.,]\d+)*)")
# Web and mail addresses and host names say where a text came from, not what it is about:
# left in, "cs.cmu.edu" becomes the terms cs / cmu / edu and forms topics of its own.
_ADDRESS = re.compile(
    r"(?:https?|ftp)://\S+|www\.\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|\b[a-z0-9-]+(?:\.[a-z0-9-]+){2,}\b"
    r"|\b[a-z0-9-]+\.(?:com|org|net|edu|gov|mil|int|io|uk|de|fr|ca|au|jp|cn|tw|hk)\b")
# Numerals alone, or with an ordinal prefix and one counter ("三", "二十", "第一", "三个", "四年").
_NUMERALS = "〇零一二三四五六七八九十百千万萬亿億两兩壹贰貳叁參肆伍陆陸柒捌玖拾佰仟廿卅"
_COUNTERS = "个個年月日号號天次位名种種岁歲"
_HAN_NUMBER = re.compile(f"第?[{_NUMERALS}]+[{_COUNTERS}]?")
# NFKC leaves typographic apostrophes and hyphens alone; fold them so "don’t" == "don't".
_PUNCT_FOLD = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\uff07": "'",
                             "\u2010": "-", "\u2011": "-"})
# The characters a numeral word (_HAN_NUMBER) can start with: a cheap test before the regex.
_NUMERAL_FIRST = frozenset("第" + _NUMERALS)
_USERDICT_ENTRY = re.compile(r"^(.+?)(?:\s+(\d+))?(?:\s+([A-Za-z]+))?$")


def read_word_file(path: str | PathLike) -> list[str]:
    """Read a stopword or user-dictionary file: one entry per non-blank line.

    The file is UTF-8 (a byte-order mark is fine). Text from a ``#`` at the start of a line, or
    after whitespace, is a comment, so entries such as ``c#`` survive. Raises CorpusError naming
    the file if it is missing, unreadable or not UTF-8 text.
    """
    try:
        with open(path, encoding="utf-8-sig") as handle:
            lines = handle.read().splitlines()
    except (FileNotFoundError, ValueError):  # ValueError: a path with a NUL in it
        raise CorpusError(f"Word list file '{path}' does not exist; check the path.") from None
    except UnicodeDecodeError:
        raise CorpusError(f"Word list file '{path}' is not UTF-8 text; save it as UTF-8.") from None
    except OSError as exc:
        raise CorpusError(f"Cannot read word list file '{path}': {exc.strerror or exc}; "
                          "check the path and its permissions.") from None
    entries = []
    for line in lines:
        entry = re.sub(r"(^|\s)#.*", "", line).strip()
        if entry:
            entries.append(entry)
    return entries


def _builtin_stopwords(lang: str) -> list[str]:
    return _builtin_words(lang)


def _builtin_words(name: str) -> list[str]:
    """A word list shipped in topicmf/stopwords/ (one entry a line, '#' comments)."""
    text = resources.files("topicmf").joinpath("stopwords", f"{name}.txt").read_text("utf-8")
    return [line.strip() for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def _normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    for char, folded in _PUNCT_FOLD.items():  # str.replace is much faster than translate
        text = text.replace(chr(char), folded)
    return text.lower()


def _string_tuple(values, name: str) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise InvalidParameterError(
            f"The '{name}' parameter of Tokenizer must be a list of strings, not "
            f"{type(values).__name__}; wrap a single entry in a list.")
    values = tuple(values)
    for value in values:
        if not isinstance(value, str):
            raise InvalidParameterError(
                f"The '{name}' parameter of Tokenizer must contain only strings. "
                f"Got {value!r} instead.")
    return values


def _parse_userdict(entries: tuple[str, ...]) -> list[tuple[str, int | None, str | None]]:
    """Split ``word [freq] [tag]`` entries (jieba's user-dictionary line format)."""
    parsed = []
    for entry in entries:
        match = _USERDICT_ENTRY.match(_normalize(entry).strip())
        if match:
            word, freq, tag = match.groups()
            parsed.append((word, int(freq) if freq else None, tag))
    return parsed


class Tokenizer:
    """Split English and Chinese documents into tokens.

    Parameters
    ----------
    lang : {"auto", "en", "zh"}
        "en" ignores Han characters; "zh" and "auto" tokenize both Chinese and Latin-script text,
        since mixed documents ("台積電 TSMC 股價上漲") are common.
    stopwords : iterable of str
        Extra stopwords, added to the built-in English and Chinese lists. A Chinese entry in
        either script also removes the word in the other script.
    userdict : iterable of str
        Extra Chinese words, each ``"word"``, ``"word freq"`` or ``"word freq tag"``. Simplified
        and Traditional words both work. Only Han characters go through the dictionary, so
        words mixing Han and Latin characters have no effect.
    min_length : int
        Shortest Latin-script word (or number, with ``keep_numbers``) to keep. Chinese words of
        one character are kept unless they are stopwords.
    keep_numbers : bool
        Keep numbers, including Chinese numerals such as 二十 or 三个, as tokens.
    news_stopwords : bool
        Also drop the news words that carry no topic (said, told, reuter, 表示, 记者, 日电,
        ...: ``topicmf/stopwords/news.txt``).
    engine : {"auto", "compiled", "jieba"}
        How Chinese is segmented; all give the same words. "compiled" runs a compiled copy of
        jieba's segmentation on jieba's dictionary (numba; jieba itself when numba is missing),
        "jieba" calls jieba, "auto" the compiled copy for ``tokenize_many`` on over 0.5 M
        characters (it takes about a second to load) and jieba otherwise. Not part of
        :meth:`get_config`, since it does not change the tokens.
    """

    def __init__(self, lang: str = "auto", *, stopwords: Iterable[str] = (),
                 userdict: Iterable[str] = (), min_length: int = 2,
                 keep_numbers: bool = False, news_stopwords: bool = False,
                 engine: str = "auto"):
        self.lang = check_choice(lang, "lang", _LANGS, owner="Tokenizer")
        self.stopwords = _string_tuple(stopwords, "stopwords")
        self.userdict = _string_tuple(userdict, "userdict")
        self.min_length = check_int(min_length, "min_length", low=1, high=1000, owner="Tokenizer")
        if not isinstance(keep_numbers, bool):
            raise InvalidParameterError(
                "The 'keep_numbers' parameter of Tokenizer must be True or False. "
                f"Got {keep_numbers!r} instead.")
        self.keep_numbers = keep_numbers
        if not isinstance(news_stopwords, bool):
            raise InvalidParameterError(
                "The 'news_stopwords' parameter of Tokenizer must be True or False. "
                f"Got {news_stopwords!r} instead.")
        self.news_stopwords = news_stopwords
        self.engine = check_choice(engine, "engine", _ENGINES, owner="Tokenizer")
        # Built on first use: loading jieba's dictionary takes about a second.
        self._jieba = None  # built on the first Han text: an English corpus never loads jieba
        self._segmenter = None
        self._compiled_wanted = False
        self._converter = None
        self._stopword_set = None

    # -- public API ---------------------------------------------------------------------------

    def __call__(self, text: str) -> list[str]:
        """Return the tokens of one document, in order."""
        if not isinstance(text, str):
            raise InvalidParameterError(
                f"A document must be a str. Got {type(text).__name__} instead.")
        self._ensure_ready()
        tokens: list[str] = []
        # With a capturing split, odd pieces are Han runs and even pieces are everything else.
        pieces = _HAN_RUN.split(_normalize(text))
        if self.lang == "en" or len(pieces) == 1:
            for piece in pieces[::2]:
                if piece:
                    self._add_latin(piece, tokens)
            return tokens
        # All Han runs of the document are segmented at once, joined by line breaks (no word
        # spans one). Latin-script tokens go in between, before the first word after them.
        self._ensure_chinese()
        original = "\n".join(pieces[1::2])
        simplified = self._to_simplified(original)
        if simplified == original:  # compared once here; _add_chinese then tests identity
            simplified = original
        starts, ends = self._word_bounds(simplified)
        offset = 0  # where the next Han run starts in original
        done = 0  # words placed so far
        for index in range(0, len(pieces), 2):
            piece = pieces[index]
            if piece and _WORD_CHAR.search(piece):
                latin: list[str] = []
                self._add_latin(piece, latin)
                if latin:
                    at = bisect.bisect_left(starts, offset, lo=done)
                    self._add_chinese(original, simplified, starts[done:at], ends[done:at],
                                      tokens)
                    tokens += latin
                    done = at
            if index + 1 < len(pieces):
                offset += len(pieces[index + 1]) + 1
        self._add_chinese(original, simplified, starts[done:], ends[done:], tokens)
        return tokens

    def simplified(self, words: Iterable[str]) -> list[str]:
        """Each of ``words`` (tokens) with its Han characters in Simplified script, the way
        the tokenizer matches stopwords: to compare tokens across scripts (台灣 / 台湾)."""
        words = list(words)
        if not words:
            return []
        self._ensure_ready()
        return self._converter.convert("\n".join(words)).split("\n")

    def tokenize_many(self, texts: Iterable[str], *,
                      progress: Callable[[int], object] | None = None,
                      n_jobs: int | None = None) -> list[list[str]]:
        """Tokenize every document, returning the token lists in input order.

        ``n_jobs`` worker processes share the work; the result is the same as with one. The
        default (None) uses every CPU when the corpus has over 2 M characters (worker start-up
        costs a second or two) and this process otherwise; ``n_jobs=1`` always stays here.
        ``progress(n_done)`` is called every 100 documents (after each chunk of up to 500 when
        parallel) and at the end.
        """
        texts = list(texts)
        for text in texts:
            if not isinstance(text, str):
                raise InvalidParameterError(
                    f"A document must be a str. Got {type(text).__name__} instead.")
        n_jobs = self._resolve_jobs(check_int(n_jobs, "n_jobs", low=1, high=1024,
                                              owner="tokenize_many", allow_none=True), texts)
        if n_jobs > 1:
            return self._tokenize_parallel(texts, n_jobs, progress)
        if sum(map(len, texts)) > _COMPILED_MIN_CHARS:
            self._start_compiled()
        result = []
        reported = None
        for text in texts:
            result.append(self(text))
            if progress is not None and len(result) % _PROGRESS_EVERY == 0:
                reported = len(result)
                progress(reported)
        if progress is not None and reported != len(result):
            progress(len(result))
        return result

    def detect_language(self, text: str) -> str:
        """Return "zh" if over 30% of the letters are Han characters, "en" if not, "" if none."""
        letters = len(_LETTER.findall(text))
        if not letters:
            return ""
        return "zh" if len(_HAN_CHAR.findall(text)) / letters > 0.3 else "en"

    def get_config(self) -> dict:
        """Return the settings as a JSON-serializable dict (see :meth:`from_config`)."""
        return {"lang": self.lang, "stopwords": list(self.stopwords),
                "userdict": list(self.userdict), "min_length": self.min_length,
                "keep_numbers": self.keep_numbers, "news_stopwords": self.news_stopwords}

    @classmethod
    def from_config(cls, config: dict) -> Tokenizer:
        """Rebuild a Tokenizer that tokenizes exactly like the one that gave ``config``."""
        if not isinstance(config, dict):
            raise InvalidParameterError(
                f"A Tokenizer config must be a dict. Got {type(config).__name__} instead.")
        unknown = sorted(set(config) - set(_CONFIG_KEYS))
        if unknown:
            raise InvalidParameterError(
                f"Unknown Tokenizer config keys {unknown}; expected some of {list(_CONFIG_KEYS)}.")
        return cls(config.get("lang", "auto"), **{k: config[k] for k in _CONFIG_KEYS[1:]
                                                   if k in config})

    def __repr__(self) -> str:
        return (f"Tokenizer(lang={self.lang!r}, {len(self.stopwords)} extra stopwords, "
                f"{len(self.userdict)} user words, min_length={self.min_length}, "
                f"keep_numbers={self.keep_numbers}, news_stopwords={self.news_stopwords}, "
                f"engine={self.engine!r})")

    # -- internals ----------------------------------------------------------------------------

    @staticmethod
    def _resolve_jobs(n_jobs: int | None, texts: list[str]) -> int:
        """Number of processes to use: explicit, or automatic for large corpora."""
        if n_jobs is None:
            if sum(map(len, texts)) <= _PARALLEL_MIN_CHARS:
                return 1
            n_jobs = _available_cpus()
        return max(1, min(n_jobs, len(texts)))

    def _tokenize_parallel(self, texts: list[str], n_jobs: int,
                           progress: Callable[[int], object] | None) -> list[list[str]]:
        from concurrent.futures import ProcessPoolExecutor

        size = max(1, min(_MAX_CHUNK_DOCS, math.ceil(len(texts) / (n_jobs * _CHUNKS_PER_JOB))))
        chunks = [texts[i:i + size] for i in range(0, len(texts), size)]
        result: list[list[str]] = []
        pool = ProcessPoolExecutor(n_jobs, mp_context=_process_context(),
                                   initializer=_init_worker,
                                   initargs=(self.get_config(), self.engine))
        try:
            # map yields chunks in input order, so the output matches the serial path exactly.
            for tokens in pool.map(_tokenize_chunk, chunks):
                result.extend(tokens)
                if progress is not None:
                    progress(len(result))
        except BaseException:
            # On an error or Ctrl-C, do not wait for the chunks still queued.
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown()
        return result

    def _ensure_ready(self) -> None:
        if self._stopword_set is not None:
            return
        import opencc  # imported here so that importing topicmf stays fast

        self._converter = opencc.OpenCC("t2s")
        words = _builtin_stopwords("en") + [_normalize(w).strip() for w in self.stopwords]
        if self.news_stopwords:
            words += _builtin_words("news")
        if self.lang != "en":
            words += _builtin_stopwords("zh")
        # Add the Simplified form of every entry so one script's entry covers the other.
        simplified = self._converter.convert("\n".join(words)).split("\n")
        self._stopword_set = frozenset(words) | frozenset(simplified)
        if self.engine == "compiled":
            self._start_compiled()

    def _start_compiled(self) -> None:
        """Segment with the compiled copy of jieba from now on (unless engine is "jieba")."""
        self._ensure_ready()
        self._compiled_wanted = True
        if self._segmenter is None and self._jieba is not None:
            self._segmenter = self._build_segmenter()

    def _ensure_chinese(self) -> None:
        """Load jieba (and its compiled copy, when wanted) before the first Han text."""
        if self._jieba is None:
            self._jieba = self._build_jieba()
            if self._compiled_wanted:
                self._segmenter = self._build_segmenter()

    def _build_jieba(self):
        return _shared_jieba(self.userdict)

    def _build_segmenter(self):
        """The compiled copy of the jieba instance's segmentation, or None for jieba itself."""
        if self.engine == "jieba":
            return None
        try:
            from ._segment import CompiledSegmenter
        except ImportError:  # numba is missing: jieba itself gives the same words
            return None
        # It leaves out the stopwords and, unless they are kept, the numerals (_HAN_NUMBER).
        numbers = ("", "", "") if self.keep_numbers else (_NUMERALS, _COUNTERS, "第")
        return _shared_segmenter(self._jieba, self._stopword_set, numbers)

    def _to_simplified(self, runs: str) -> str:
        """Han runs, joined by line breaks, in Simplified characters, each run keeping its
        length so that offsets map words back onto the original characters."""
        simplified = self._converter.convert(runs)
        if len(simplified) == len(runs):
            pieces = simplified.split("\n")
            if list(map(len, pieces)) == list(map(len, runs.split("\n"))):
                return simplified
        # A phrase rule changed a length; convert those runs one character at a time.
        return "\n".join(self._to_simplified_run(run) for run in runs.split("\n"))

    def _to_simplified_run(self, run: str) -> str:
        simplified = self._converter.convert(run)
        if len(simplified) == len(run):
            return simplified
        chars = (self._converter.convert(char) for char in run)
        return "".join(s if len(s) == 1 else c for s, c in zip(chars, run))

    def _word_bounds(self, runs: str) -> tuple[list[int], list[int]]:
        """Start and end offsets of the words of Han runs joined by line breaks. The compiled
        segmenter has already left out the stopwords and numerals."""
        if self._segmenter is not None:
            starts, ends = self._segmenter.bounds(runs, drop=True)
            return starts.tolist(), ends.tolist()
        starts, ends = [], []
        offset = 0
        for run in runs.split("\n"):
            for word in self._jieba.cut(run, HMM=True):
                starts.append(offset)
                offset += len(word)
                ends.append(offset)
            offset += 1
        return starts, ends

    def _add_chinese(self, original: str, simplified: str, starts: list[int],
                     ends: list[int], tokens: list[str]) -> None:
        """Append the original characters of each word that is not a stopword (in either
        script) or, unless numbers are kept, a numeral."""
        stop = self._stopword_set
        if self._segmenter is not None:  # it has dropped the words whose simplified form is
            tokens += (  # a stopword or a numeral; what is left is the original's stopwords
                [original[a:b] for a, b in zip(starts, ends)] if original is simplified else
                [t for t in (original[a:b] for a, b in zip(starts, ends)) if t not in stop])
            return
        words = [(original[a:b], simplified[a:b]) for a, b in zip(starts, ends)]
        if self.keep_numbers:
            tokens += [t for t, w in words if t not in stop and w not in stop]
        else:
            tokens += [t for t, w in words if t not in stop and w not in stop
                       and not (w[0] in _NUMERAL_FIRST and _HAN_NUMBER.fullmatch(w))]

    def _add_latin(self, text: str, tokens: list[str]) -> None:
        stop = self._stopword_set
        if "." in text or "@" in text or "://" in text:  # every address has one of them
            text = _ADDRESS.sub(" ", text)
        for match in _WORD_OR_NUMBER.finditer(text):
            token = match.group()
            if match.lastgroup == "number" and not self.keep_numbers:
                continue
            if token in stop:
                continue
            if token.endswith("'s"):  # possessive: "company's" counts as "company"
                token = token[:-2]
                if token in stop:
                    continue
            if len(token) >= self.min_length:
                tokens.append(token)


# -- worker processes ---------------------------------------------------------------------------

_worker_tokenizer: Tokenizer | None = None


def _available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not available on macOS and Windows
        return os.cpu_count() or 1


def _process_context():
    import multiprocessing

    # On Linux, forked workers start at once, with topicmf already imported. From Python 3.12
    # forking a process that has threads (BLAS starts some at import) is deprecated, so there
    # the fork server is used; elsewhere fork is unsafe or missing: the platform's default.
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork" if sys.version_info < (3, 12) else "forkserver")
    return multiprocessing.get_context()


def _init_worker(config: dict, engine: str = "auto") -> None:
    global _worker_tokenizer
    _worker_tokenizer = Tokenizer.from_config(config)
    _worker_tokenizer.engine = engine
    _worker_tokenizer._start_compiled()  # workers only run for corpora of millions of characters


def _tokenize_chunk(texts: list[str]) -> list[list[str]]:
    return [_worker_tokenizer(text) for text in texts]


# Loading jieba's dictionary takes 0.75 s and its compiled copy about as long again: tokenizers
# with the same user words (and stopwords) share them, so a program that makes a Tokenizer per
# run pays once. Neither is changed after it is built.
@functools.lru_cache(maxsize=4)
def _shared_jieba(userdict: tuple):
    import jieba
    import opencc

    segmenter = jieba.Tokenizer()
    # jieba announces its dictionary loading on stderr; keep the command line quiet.
    logger = logging.getLogger("jieba")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        segmenter.initialize()
    finally:
        logger.setLevel(level)
    converter = opencc.OpenCC("t2s")
    for word, freq, tag in _parse_userdict((*_builtin_words("zh_words"), *userdict)):
        segmenter.add_word(converter.convert(word), freq, tag)
    return segmenter


@functools.lru_cache(maxsize=4)
def _shared_segmenter(jieba_tokenizer, dropped: frozenset, numbers: tuple):
    from ._segment import CompiledSegmenter

    return CompiledSegmenter(jieba_tokenizer, dropped=dropped, numerals=numbers[0],
                             counters=numbers[1], ordinal=numbers[2])
