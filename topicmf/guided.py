"""Guided topics: seed words from a file or a dict, matched to a fitted vocabulary.

A seed file has one topic a line, ``name: word word word`` (Chinese in either script; UTF-8,
GB18030 or Big5); blank lines and lines starting with ``#`` are skipped::

    finance: 银行 金融 利率
    stocks: 股票 股市 投資
    politics: 政府 总理 外交

The seeded topics are the first topics of the fit, in the file's order, and keep their names
in every output; the model pulls them towards their words (NMF and PLSA, see
:mod:`topicmf.models._seeds`).
"""

from __future__ import annotations

import warnings
from pathlib import Path

from .errors import CorpusError, InvalidParameterError, TopicmfWarning

__all__ = ["read_seed_file", "check_seed_words", "seed_terms"]

MAX_NAME = 60


def read_seed_file(path) -> dict[str, list[str]]:
    """The seed topics of the file at ``path``, in its order: {name: [word, ...]}."""
    from ._decode import decode_bytes
    shown = str(path)
    try:
        data = Path(path).read_bytes()
    except (FileNotFoundError, NotADirectoryError, ValueError):
        raise CorpusError(f"Seed word file '{shown}' does not exist; check the path.") from None
    except IsADirectoryError:
        raise CorpusError(f"Seed word file '{shown}' is a folder; give a text file with "
                          f"one 'name: word word' line per topic.") from None
    except OSError as exc:
        raise CorpusError(f"Cannot read seed word file '{shown}': {exc.strerror or exc}; "
                          f"check the path and its permissions.") from None
    text = decode_bytes(data, name=shown)
    topics: dict[str, list[str]] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, colon, words = line.partition(":")
        if not colon:
            name, colon, words = line.partition("：")  # a full-width colon
        where = f"line {number} of seed word file '{shown}'"
        if not colon or not name.strip():
            raise CorpusError(f"{where} has no 'name:' before its words; write one topic a "
                              f"line as 'name: word word word'.")
        name = name.strip()
        if name in topics:
            raise CorpusError(f"{where} repeats the topic name {name!r}; give each topic one "
                              f"line and its own name.")
        topics[name] = words.split()
        if not topics[name]:
            raise CorpusError(f"{where} gives topic {name!r} no words; list its seed words "
                              f"after the colon, separated by spaces.")
    if not topics:
        raise CorpusError(f"Seed word file '{shown}' has no topics; write one topic a line as "
                          f"'name: word word word'.")
    return check_seed_words(topics)


def check_seed_words(seed_words, n_topics: int | None = None) -> dict[str, list[str]]:
    """``seed_words`` ({name: [word, ...]}) checked: names are non-empty strings, each topic
    has at least one word, every word a string, and (given ``n_topics``) there are no more
    seeded topics than topics."""
    if not isinstance(seed_words, dict) or not seed_words:
        raise InvalidParameterError(
            "'seed_words' must be a non-empty dict of topic name to a list of words, e.g. "
            "{'finance': ['股票', '投資']}; got " + _short(seed_words) + ".")
    checked: dict[str, list[str]] = {}
    for name, words in seed_words.items():
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
            raise InvalidParameterError(
                f"Seed topic names must be non-empty strings of at most {MAX_NAME} "
                f"characters; got {_short(name)}.")
        if isinstance(words, str):
            words = words.split()
        try:
            words = list(words)
        except TypeError:
            words = None
        if not words or not all(isinstance(w, str) and w.strip() for w in words):
            raise InvalidParameterError(
                f"Seed topic {name.strip()!r} needs a list of words (non-empty strings); got "
                f"{_short(seed_words[name])}.")
        checked[name.strip()] = [w.strip() for w in words]
    if n_topics is not None and len(checked) > n_topics:
        raise InvalidParameterError(
            f"{len(checked)} seeded topics but only {n_topics} topics asked for; ask for "
            f"at least {len(checked)} topics or seed fewer.")
    return checked


def seed_terms(seed_words: dict[str, list[str]], tokenizer, terms, n_topics: int,
               stacklevel: int = 3) -> tuple[list[str], list[list[int]]]:
    """(names, term indices per seeded topic) for a vocabulary ``terms``: each seed word is
    tokenized as documents are and its tokens in the vocabulary are the topic's terms, in
    either Chinese script (a seed 台湾 finds the term 台灣, and the other way round). A word
    with none is a TopicmfWarning naming it; a topic with none, or more seeded topics than
    ``n_topics``, an error."""
    seed_words = check_seed_words(seed_words, n_topics)
    terms = [str(term) for term in terms]
    index: dict[str, list[int]] = {}
    for i, key in enumerate(tokenizer.simplified(terms)):
        index.setdefault(key, []).append(i)
    names, topics, missing = [], [], []
    for name, words in seed_words.items():
        found: list[int] = []
        for word in words:
            tokens = tokenizer(word)
            hits = [i for key in tokenizer.simplified(tokens) for i in index.get(key, ())]
            if not hits:
                missing.append(f"{word!r} ({name})")
            found += [h for h in hits if h not in found]
        if not found:
            raise InvalidParameterError(
                f"None of the seed words of topic {name!r} ({' '.join(words)}) is in the "
                f"vocabulary; give words the corpus uses, or lower min_df.")
        names.append(name)
        topics.append(found)
    if missing:
        warnings.warn(f"{len(missing)} seed word(s) not in the vocabulary (stopwords, too rare "
                      f"or too common for min_df/max_df) are left out: {', '.join(missing)}",
                      TopicmfWarning, stacklevel=stacklevel)
    return names, topics


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
