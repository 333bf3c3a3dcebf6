"""Cleaning what reaches the model: the apparatus of mail and news posts, lines repeated across a
corpus, and collocations joined into one term.

    strip_mail(text)                       # a post without its headers and "x writes:"
    strip_mail(text, quotes=True, signature=True)   # ... and without quotes and signature
    lines = repeated_lines(texts)          # hashes of the lines in many documents
    drop_lines(text, lines)                # the document without them
    phrases = learn_phrases(token_lists)   # {("new", "york"): "new_york", ...} (gensim Phrases)
    join_phrases(tokens, phrases)          # ["new_york", "stock", ...]

:class:`Cleaner` holds the settings and what was learned from a corpus, applies both to new
texts the same way, and is saved with a run (:meth:`Cleaner.get_config`). News words that carry
no topic (said, told, 表示, 记者) are a stopword list of the tokenizer
(``Tokenizer(news_stopwords=True)``). Which of these steps are on by default, and why, is in
the README ("Cleaning the text"), measured by ``benchmarks/cleanup.py``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence

import numpy as np

from .errors import InvalidParameterError

__all__ = ["Cleaner", "as_cleaner", "strip_mail", "repeated_lines", "drop_lines",
           "learn_phrases", "join_phrases"]

# -- mail and news posts ----------------------------------------------------------------------

# Header keys of mail and Usenet posts. A block of "Key: value" lines at the start of a text is
# a header only when at least two of its keys are among these, so a text that starts with
# "Note: ..." or "Title: ..." is left alone.
_MAIL_KEYS = frozenset(
    "from subject newsgroups organization lines message-id path date reply-to sender "
    "nntp-posting-host distribution references keywords summary article-i.d. xref to cc "
    "x-newsreader x-mailer followup-to in-reply-to mime-version content-type originator "
    "expires approved news-software".split())
_MIN_MAIL_KEYS = 2
_HEADER_LINE = re.compile(r"([A-Za-z][\w.-]*):(?:[ \t]+(.*)|$)")
_REPLY_PREFIX = re.compile(r"^(?:\s*(?:re|fwd?|aw)(?:\^\d+|\[\d+\])?\s*:)+\s*", re.IGNORECASE)
# ">", "|>" and ": " (with anything before them on the line only spaces) mark quoted lines.
_QUOTED = re.compile(r"\s*(?:>|\|>|:(?:\s|$))")
# "In article <id@host>, someone@host (Name) writes:" and "Someone wrote:", the lines that
# introduce a quotation. The first can be wrapped over two lines.
_ATTRIBUTION_START = re.compile(r"\s*In (?:article|message) <", re.IGNORECASE)
_ATTRIBUTION_END = re.compile(r".*\b(?:writes|wrote|said|says):\s*$", re.IGNORECASE)
_MAX_ATTRIBUTION_CHARS = 200
_SIGNATURE = ("--", "-- ")


def strip_mail(text: str, *, quotes: bool = False, signature: bool = False) -> str:
    """``text`` without the apparatus of a mail or news post: the header block at its start
    (all but the Subject's text, without "Re:"); with ``quotes`` also the quoted lines
    (``>``, ``|>``, ``:``) and the lines that introduce them ("In article <...> x writes:",
    "x wrote:"); with ``signature`` the signature after a line "-- ". A text is a post when
    it starts with a header (two or more mail keys such as From, Subject, Newsgroups,
    Organization, Lines, Message-ID) or, for ``quotes``, has an attribution line followed by
    quoted lines; any other text is returned as it is (the same object).

    Quotes and signatures are kept by default: on 20 Newsgroups dropping them lowered the
    agreement of the topics with the groups (``benchmarks/cleanup.py``)."""
    lines = text.split("\n")
    subject, body_start = _header(lines)
    if body_start == 0 and not (quotes and _has_attributed_quote(lines)):
        return text
    kept = [] if subject is None else [subject, ""]
    index = body_start
    while index < len(lines):
        line = lines[index]
        bare = line.rstrip("\r")
        if signature and bare in _SIGNATURE:
            break
        if quotes and _QUOTED.match(bare):
            index += 1
            continue
        attribution = _attribution_length(lines, index) if quotes else 0
        if attribution:
            index += attribution
            continue
        if bare.strip() or (kept and kept[-1].strip()):  # one blank line where lines went
            kept.append(line)
        index += 1
    return "\n".join(kept).strip("\n")


def _header(lines: list[str]) -> tuple[str | None, int]:
    """(the Subject's text or None, where the body starts: 0 when there is no header)."""
    index = 0
    while index < len(lines) and not lines[index].strip():
        index += 1
    keys, subject = set(), None
    while index < len(lines):
        line = lines[index].rstrip("\r")
        match = _HEADER_LINE.fullmatch(line)
        if match:
            key = match.group(1).lower()
            keys.add(key)
            if key == "subject" and subject is None:
                subject = _REPLY_PREFIX.sub("", match.group(2) or "").strip()
        elif not (line[:1] in (" ", "\t") and line.strip()):  # not a continuation
            break  # (one before the first key is the end of a header line cut off)
        index += 1
    if len(keys & _MAIL_KEYS) < _MIN_MAIL_KEYS:
        return None, 0
    return subject or None, index


def _attribution_length(lines: list[str], index: int) -> int:
    """How many lines from ``index`` introduce a quotation: 0, 1 or 2 (a wrapped one)."""
    line = lines[index]
    if len(line) > _MAX_ATTRIBUTION_CHARS:
        return 0
    if _ATTRIBUTION_END.match(line):
        return 1
    if _ATTRIBUTION_START.match(line) and index + 1 < len(lines) \
            and len(lines[index + 1]) <= _MAX_ATTRIBUTION_CHARS \
            and _ATTRIBUTION_END.match(lines[index + 1]):
        return 2
    return 1 if _ATTRIBUTION_START.match(line) else 0


def _has_attributed_quote(lines: list[str]) -> bool:
    """Whether some attribution line is followed, within two lines, by a quoted line."""
    for index, line in enumerate(lines):
        length = _attribution_length(lines, index) if ":" in line or "<" in line else 0
        if length and any(_QUOTED.match(following)
                          for following in lines[index + length:index + length + 2]):
            return True
    return False


# -- lines repeated across a corpus -----------------------------------------------------------

#: A line counts when it has at least this many characters, spaces folded: shorter ones
#: ("Thanks," "Reuter") are words, for the stopwords to judge.
MIN_LINE_CHARS = 10
_SKETCH_WIDTH = 1 << 21  # counters in each of the sketch's two rows: 16 MB in all


def line_key(line: str) -> str | None:
    """The line with its spaces folded, or None when it is too short to count."""
    folded = " ".join(line.split())
    return folded if len(folded) >= MIN_LINE_CHARS else None


def line_hash(key: str) -> int:
    """A 64-bit hash of a line, the same in every process (unlike Python's ``hash``)."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little")


def _document_hashes(text: str) -> set[int]:
    return {line_hash(key) for key in map(line_key, text.split("\n")) if key is not None}


def repeated_lines(texts: Sequence[str], *, min_docs: int = 5,
                   min_share: float = 0.01) -> frozenset[int]:
    """Hashes (:func:`line_hash`) of the lines that are in at least ``max(min_docs, min_share
    x documents)`` of ``texts``: headers, bylines, disclaimers, page scripts. A line counts
    once a document, after its spaces are folded, if it has at least 10 characters.

    Memory stays bounded whatever the corpus: a first pass adds each document's lines into a
    count sketch of fixed size (two rows of 2 M counters, each line in one counter of each
    row), which can only over-count; a second pass counts exactly the lines whose counters
    both reach the threshold.
    """
    threshold = max(int(min_docs), int(np.ceil(min_share * len(texts))))
    sketch = np.zeros((2, _SKETCH_WIDTH), dtype=np.uint32)
    for chunk in _chunks(texts):
        hashes = np.fromiter((h for text in chunk for h in _document_hashes(text)),
                             dtype=np.uint64)
        rows = _sketch_columns(hashes)
        for row in range(2):
            np.add.at(sketch[row], rows[row], 1)
    exact: dict[int, int] = {}
    for chunk in _chunks(texts):
        for text in chunk:
            hashes = _document_hashes(text)
            if not hashes:
                continue
            values = np.fromiter(hashes, dtype=np.uint64, count=len(hashes))
            rows = _sketch_columns(values)
            heavy = (sketch[0][rows[0]] >= threshold) & (sketch[1][rows[1]] >= threshold)
            for value in values[heavy].tolist():
                exact[value] = exact.get(value, 0) + 1
    return frozenset(h for h, n in exact.items() if n >= threshold)


def _sketch_columns(hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each hash's counter in the two rows: from its low and its high 32 bits."""
    low = (hashes & np.uint64(0xFFFFFFFF)) % np.uint64(_SKETCH_WIDTH)
    high = (hashes >> np.uint64(32)) % np.uint64(_SKETCH_WIDTH)
    return low.astype(np.intp), high.astype(np.intp)


def _chunks(texts: Sequence[str], size: int = 2000):
    for start in range(0, len(texts), size):
        yield texts[start:start + size]


def drop_lines(text: str, hashes: frozenset[int] | set[int]) -> str:
    """``text`` without its lines whose hash is in ``hashes`` (the same object when none
    is)."""
    if not hashes:
        return text
    lines = text.split("\n")
    kept = [line for line in lines
            if (key := line_key(line)) is None or line_hash(key) not in hashes]
    return text if len(kept) == len(lines) else "\n".join(kept)


# -- phrases ------------------------------------------------------------------------------------

_HAN = re.compile("[\u3007\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")


def phrase_term(first: str, second: str) -> str:
    """The term of a two-word phrase: Chinese words written together (中央银行), others joined
    by "_" (new_york)."""
    joined = _HAN.match(first[-1:]) and _HAN.match(second[:1])
    return f"{first}{second}" if joined else f"{first}_{second}"


def learn_phrases(token_lists: Iterable[list[str]], *, min_count: int = 5,
                  threshold: float = 10.0) -> dict[tuple[str, str], str]:
    """The two-word collocations of a tokenized corpus, found by gensim's ``Phrases``
    (Mikolov et al.'s score: (count(a b) - min_count) / (count(a) count(b)) x vocabulary size,
    above ``threshold``), as {(first, second): term} (see :func:`phrase_term`)."""
    import logging

    from gensim.models.phrases import Phrases

    logger = logging.getLogger("gensim.models.phrases")
    level = logger.level
    logger.setLevel(logging.WARNING)  # gensim logs its progress at INFO
    try:
        # Tokens never hold a space, so it separates the words of a phrase unambiguously.
        model = Phrases(token_lists, min_count=min_count, threshold=threshold, delimiter=" ")
    finally:
        logger.setLevel(level)
    pairs = (tuple(phrase.split(" ")) for phrase in model.export_phrases())
    return {(a, b): phrase_term(a, b) for a, b in sorted(pairs)}


def join_phrases(tokens: list[str], phrases: dict[tuple[str, str], str]) -> list[str]:
    """``tokens`` with each phrase of ``phrases`` made one term, left to right: in "new york
    york", ("new", "york") takes the first two tokens. The same tokens as gensim's
    ``Phrases(...)[tokens]`` gives for the model the phrases came from."""
    if not phrases or len(tokens) < 2:
        return tokens
    joined, index, last = [], 0, len(tokens) - 1
    while index < last:
        term = phrases.get((tokens[index], tokens[index + 1]))
        if term is None:
            joined.append(tokens[index])
            index += 1
        else:
            joined.append(term)
            index += 2
    if index == last:
        joined.append(tokens[last])
    return joined


# -- settings and what was learned --------------------------------------------------------------

_STEPS = ("mail", "quotes", "signatures", "boilerplate", "phrases")
_LEARNED = ("repeated_lines", "phrase_pairs")
#: The steps that learn from the whole corpus before a document is tokenized.
CORPUS_STEPS = ("boilerplate", "phrases")


class Cleaner:
    """Which cleaning steps run, and what they learned from the corpus they were fitted on.

    Parameters
    ----------
    mail : bool
        Strip the headers (all but the subject) and the attribution lines ("x writes:") of
        mail and news posts (:func:`strip_mail`); other texts pass unchanged.
    quotes, signatures : bool
        With ``mail``, also drop the quoted lines, or the signature after "-- ".
    boilerplate : bool
        Drop the lines that are in at least 1 % (and at least 5) of the documents
        (:func:`repeated_lines`). The lines found are kept (as hashes) and dropped from new
        texts too.
    phrases : bool
        Join two-word collocations into one term (:func:`learn_phrases`); the phrases found
        are kept and joined in new texts too.
    """

    def __init__(self, *, mail: bool = False, quotes: bool = False, signatures: bool = False,
                 boilerplate: bool = False, phrases: bool = False):
        settings = {"mail": mail, "quotes": quotes, "signatures": signatures,
                    "boilerplate": boilerplate, "phrases": phrases}
        for name, value in settings.items():
            if not isinstance(value, bool):
                raise InvalidParameterError(f"The '{name}' parameter of Cleaner must be True or "
                                            f"False. Got {value!r} instead.")
        if (quotes or signatures) and not mail:
            raise InvalidParameterError("'quotes' and 'signatures' strip more of a mail post: "
                                        "they go with 'mail' on; turn it on or leave them off.")
        self.mail, self.quotes, self.signatures = mail, quotes, signatures
        self.boilerplate, self.phrases = boilerplate, phrases
        self.repeated_lines_: frozenset[int] = frozenset()
        self.phrases_: dict[tuple[str, str], str] = {}
        self.n_posts_ = 0  # documents of the fitted corpus cleaned as posts

    @property
    def active(self) -> bool:
        return self.mail or self.boilerplate or self.phrases

    def settings(self) -> dict:
        """{step: on or off} for every step."""
        return {name: getattr(self, name) for name in _STEPS}

    def fit_texts(self, texts: Sequence[str]) -> list[str]:
        """The texts cleaned, learning the corpus's repeated lines on the way."""
        cleaned = self._strip(texts)
        self.n_posts_ = sum(a is not b for a, b in zip(cleaned, texts))
        if self.boilerplate:
            self.repeated_lines_ = repeated_lines(cleaned)
            cleaned = [drop_lines(text, self.repeated_lines_) for text in cleaned]
        return cleaned

    def fit_tokens(self, token_lists: list[list[str]]) -> list[list[str]]:
        """The token lists with their phrases joined, learning the phrases on the way."""
        if not self.phrases:
            return token_lists
        self.phrases_ = learn_phrases(token_lists)
        return self.tokens(token_lists)

    def texts(self, texts: Iterable[str]) -> list[str]:
        """New texts cleaned as the fitted ones were."""
        cleaned = self._strip(texts)
        if self.repeated_lines_:
            cleaned = [drop_lines(text, self.repeated_lines_) for text in cleaned]
        return cleaned

    def tokens(self, token_lists: Iterable[list[str]]) -> list[list[str]]:
        """New token lists with the learned phrases joined."""
        if not self.phrases_:
            return list(token_lists)
        return [join_phrases(tokens, self.phrases_) for tokens in token_lists]

    def tokenize(self, tokenizer, texts: Iterable[str]) -> list[list[str]]:
        """New texts cleaned, tokenized by ``tokenizer`` (a :class:`topicmf.Tokenizer`) and
        with their phrases joined: what the fitted documents went through."""
        return self.tokens(tokenizer.tokenize_many(self.texts(texts)))

    def _strip(self, texts: Iterable[str]) -> list[str]:
        if not self.mail:
            return list(texts)
        return [strip_mail(text, quotes=self.quotes, signature=self.signatures)
                for text in texts]

    def get_config(self) -> dict:
        """The settings and what was learned, as JSON (see :meth:`from_config`)."""
        return {**self.settings(),
                "repeated_lines": [f"{h:016x}" for h in sorted(self.repeated_lines_)],
                "phrase_pairs": [[a, b] for a, b in self.phrases_]}

    @classmethod
    def from_config(cls, config: dict | None) -> Cleaner:
        """The Cleaner that gave ``config``; None (a run saved before cleaning was recorded)
        gives one that changes nothing."""
        if config is None:
            return cls()
        if not isinstance(config, dict) or set(config) - set(_STEPS + _LEARNED):
            raise InvalidParameterError(f"A Cleaner config must be a dict with keys among "
                                        f"{list(_STEPS + _LEARNED)}; got {config!r:.200}.")
        cleaner = cls(**{name: config[name] for name in _STEPS if name in config})
        cleaner.repeated_lines_ = frozenset(int(h, 16) for h in config.get("repeated_lines", []))
        cleaner.phrases_ = {(a, b): phrase_term(a, b) for a, b in config.get("phrase_pairs", [])}
        return cleaner

    def __repr__(self) -> str:
        steps = ", ".join(f"{name}={value}" for name, value in self.settings().items())
        return (f"Cleaner({steps}; {len(self.repeated_lines_)} repeated lines, "
                f"{len(self.phrases_)} phrases)")


def as_cleaner(clean, owner: str = "analyze") -> Cleaner:
    """A new, unfitted Cleaner from the pipeline's ``clean``: True strips mail and news posts
    of their headers (``Cleaner(mail=True)``), False cleans nothing, a :class:`Cleaner` runs
    its own steps."""
    if clean is True:
        return Cleaner(mail=True)
    if clean is False:
        return Cleaner()
    if isinstance(clean, Cleaner):
        return Cleaner(**clean.settings())
    raise InvalidParameterError(f"The 'clean' parameter of {owner} must be True, False or a "
                                f"topicmf.clean.Cleaner. Got {clean!r} instead.")
