"""A compiled copy of jieba's default segmentation (``jieba.Tokenizer.cut(text, HMM=True)``).

jieba finds the most probable path through the dictionary words of a sentence and runs a
hidden Markov model over the stretches of single characters that are not themselves a word.
Its loops are Python, about 0.4 M characters a second. This module runs the same steps,
compiled with numba, on the same data: the prefix dictionary (``FREQ``) and ``total`` of a
given, initialized jieba Tokenizer (so its dictionary, and every ``add_word`` made on it, are
used), the HMM tables of ``jieba.finalseg`` and its force-split words. It is meant to give
the same words, not similar ones:

- the log-probabilities are computed in Python with ``math.log`` exactly as jieba writes them,
  and added in jieba's order, with no fast-math reordering;
- ties are broken as jieba's ``max`` over tuples breaks them (the longer word in the dictionary
  path; the later state letter in the Viterbi search);
- the characters jieba treats as Han (U+4E00 to U+9FD5) are segmented, every other character
  is a word of its own, as in ``jieba.cut``.

Only what the tokenizer gives it is handled: runs of Han characters, without spaces, Latin
letters or digits (jieba treats those differently and they never reach it from
``topicmf.tokenize``). The tests and ``benchmarks/tokenize_speed.py`` compare the words with
jieba's.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["CompiledSegmenter"]

_HAN_FIRST, _HAN_LAST = 0x4E00, 0x9FD5  # jieba's re_han_default / finalseg.re_han range
_MIN_FLOAT = -3.14e100  # jieba.finalseg.MIN_FLOAT
_SEPARATOR = 10  # "\n" between runs
_STATES = "BEMS"  # sorted, so that a larger index is a larger letter, as in jieba's ties
# jieba.finalseg.PrevStatus, as state indices
_NUMERAL, _COUNTER, _PREFIX = 1, 2, 3  # character classes of numeral words
_PREV = np.array([[_STATES.index(c) for c in prev] for prev in ("ES", "BM", "MB", "SE")],
                 dtype=np.int64)


_GOLDEN = -7046029254386353131  # 0x9E3779B97F4A7C15 as int64: Fibonacci hashing


@njit(cache=True, inline="always")
def _slot(key, bits):
    return ((key * _GOLDEN) >> (64 - bits)) & ((1 << bits) - 1)


@njit(cache=True)
def _build_trie(codes, lengths, bits, max_char):
    """A trie of the words given as concatenated code points: the root's children in a table
    indexed by character, every other edge (node, character) -> child in a hash table of
    2 ** bits slots (open addressing, linear probing). Returns (node of each word, node count,
    (keys, children, root children, bits)), or a node count of -1 if the table would be over
    three quarters full."""
    size = 1 << bits
    keys = np.full(size, -1, np.int64)
    kids = np.empty(size, np.int64)
    root_child = np.full(max_char + 1, -1, np.int64)
    n_words = lengths.shape[0]
    word_node = np.empty(n_words, np.int64)
    n_nodes = 1
    pos = 0
    for w in range(n_words):
        node = 0
        for j in range(pos, pos + lengths[w]):
            char = codes[j]
            if node == 0:
                child = root_child[char]
                if child < 0:
                    child = n_nodes
                    n_nodes += 1
                    root_child[char] = child
            else:
                key = node * 2097152 + char
                i = _slot(key, bits)
                while keys[i] >= 0 and keys[i] != key:
                    i = (i + 1) & (size - 1)
                if keys[i] == key:
                    child = kids[i]
                else:
                    if 4 * n_nodes > 3 * size:
                        return word_node, -1, (keys, kids, root_child, bits)
                    child = n_nodes
                    n_nodes += 1
                    keys[i] = key
                    kids[i] = child
            node = child
        word_node[w] = node
        pos += lengths[w]
    return word_node, n_nodes, (keys, kids, root_child, bits)


@njit(cache=True, inline="always")
def _child(node, char, trie):
    """The child of node along char, or -1."""
    keys, kids, root_child, bits = trie
    if node == 0:
        return root_child[char] if char < root_child.shape[0] else -1
    key = node * 2097152 + char
    i = _slot(key, bits)
    mask = (1 << bits) - 1
    while True:
        k = keys[i]
        if k == key:
            return kids[i]
        if k < 0:
            return -1
        i = (i + 1) & mask


@njit(cache=True)
def _lookup(codes, start, end, trie):
    """The node of codes[start:end], or -1."""
    node = 0
    for i in range(start, end):
        node = _child(node, codes[i], trie)
        if node < 0:
            return -1
    return node


@njit(cache=True, inline="always")
def _class(char, char_class):
    return char_class[char] if char < char_class.shape[0] else 0


@njit(cache=True)
def _is_numeral(codes, start, end, char_class):
    """Whether codes[start:end] is an optional ordinal prefix, one or more numerals and at
    most one counter (char_class 3, 1 and 2): the words ``drop`` leaves out as numbers."""
    i = start
    if _class(codes[i], char_class) == _PREFIX and end - start > 1:
        i += 1
    j = i
    while j < end and _class(codes[j], char_class) == _NUMERAL:
        j += 1
    if j == i:
        return False
    return j == end or (j == end - 1 and _class(codes[j], char_class) == _COUNTER)


@njit(cache=True)
def _put(codes, start, end, out, n_out, trie, flags, char_class, drop):
    """Record the word codes[start:end], unless drop and it is a marked word or a numeral."""
    if drop:
        node = _lookup(codes, start, end, trie)
        if node >= 0 and flags[node] & 4:
            return n_out
        if _is_numeral(codes, start, end, char_class):
            return n_out
    out[n_out, 0] = start
    out[n_out, 1] = end
    return n_out + 1


@njit(cache=True)
def _hmm(codes, start, end, out, n_out, trie, flags, char_class, drop, hmm):
    """jieba.finalseg.cut on codes[start:end] (all in the Han range): Viterbi over B, E, M, S,
    then the words, each split into characters if it is a force-split word."""
    emit, start_p, trans, prev = hmm
    n = end - start
    score = np.empty((n, 4))
    back = np.zeros((n, 4), np.int64)
    c = codes[start] - _HAN_FIRST
    for y in range(4):
        score[0, y] = start_p[y] + emit[c, y]
    for t in range(1, n):
        c = codes[start + t] - _HAN_FIRST
        for y in range(4):
            em = emit[c, y]
            best_state = prev[y, 0]
            best = score[t - 1, best_state] + trans[best_state, y] + em
            other = prev[y, 1]
            p = score[t - 1, other] + trans[other, y] + em
            if p > best or (p == best and other > best_state):
                best = p
                best_state = other
            score[t, y] = best
            back[t, y] = best_state
    # The last state is E or S (indices 1 and 3); on a tie S, the larger letter.
    state = 3 if score[n - 1, 3] >= score[n - 1, 1] else 1
    states = np.empty(n, np.int64)
    for t in range(n - 1, -1, -1):
        states[t] = state
        state = back[t, state]
    begin = 0
    next_i = 0
    for i in range(n):
        s = states[i]
        if s == 0:  # B
            begin = i
        elif s == 1 or s == 3:  # E ends the word begun at B; S is a word of one character
            first = begin if s == 1 else i
            n_out = _hmm_word(codes, start + first, start + i + 1, out, n_out, trie, flags,
                              char_class, drop)
            next_i = i + 1
    if next_i < n:
        n_out = _hmm_word(codes, start + next_i, end, out, n_out, trie, flags, char_class, drop)
    return n_out


@njit(cache=True)
def _hmm_word(codes, start, end, out, n_out, trie, flags, char_class, drop):
    """Record an HMM word, or its characters if it is one of the force-split words."""
    node = _lookup(codes, start, end, trie) if end - start > 1 else -1
    if node >= 0 and flags[node] & 2:
        for i in range(start, end):
            n_out = _put(codes, i, i + 1, out, n_out, trie, flags, char_class, drop)
        return n_out
    return _put(codes, start, end, out, n_out, trie, flags, char_class, drop)


@njit(cache=True)
def _flush(codes, start, end, out, n_out, trie, flags, char_class, drop, freq_positive, hmm):
    """jieba's handling of a buffer of single characters codes[start:end]."""
    if end - start == 1:
        return _put(codes, start, end, out, n_out, trie, flags, char_class, drop)
    node = _lookup(codes, start, end, trie)
    if node >= 0 and (flags[node] & 1) and freq_positive[node]:
        for i in range(start, end):
            n_out = _put(codes, i, i + 1, out, n_out, trie, flags, char_class, drop)
        return n_out
    return _hmm(codes, start, end, out, n_out, trie, flags, char_class, drop, hmm)


@njit(cache=True)
def _cut_block(codes, start, end, out, n_out, route_p, route_x, trie, flags, char_class, drop,
               freq_positive, word_logp, single_logp, hmm):
    """jieba's __cut_DAG on codes[start:end]: the most probable path through the dictionary,
    then the HMM on each stretch of single characters that is not a word."""
    n = end - start
    route_p[n] = 0.0
    for idx in range(n - 1, -1, -1):
        best = 0.0
        best_x = -1
        node = 0
        for i in range(idx, n):  # the dictionary words starting at idx (jieba's DAG)
            node = _child(node, codes[start + i], trie)
            if node < 0 or not (flags[node] & 1):
                break
            if freq_positive[node]:
                p = word_logp[node] + route_p[i + 1]
                if best_x < 0 or p >= best:  # on a tie the longer word, as jieba's max
                    best = p
                    best_x = i
        if best_x < 0:
            best = single_logp + route_p[idx + 1]
            best_x = idx
        route_p[idx] = best
        route_x[idx] = best_x
    x = 0
    buf = -1  # start of the buffered single characters
    while x < n:
        y = route_x[x] + 1
        if y - x == 1:
            if buf < 0:
                buf = x
        else:
            if buf >= 0:
                n_out = _flush(codes, start + buf, start + x, out, n_out, trie, flags,
                               char_class, drop, freq_positive, hmm)
                buf = -1
            n_out = _put(codes, start + x, start + y, out, n_out, trie, flags, char_class, drop)
        x = y
    if buf >= 0:
        n_out = _flush(codes, start + buf, start + n, out, n_out, trie, flags, char_class, drop,
                       freq_positive, hmm)
    return n_out


@njit(cache=True)
def _cut(codes, trie, flags, char_class, drop, freq_positive, word_logp, single_logp, hmm):
    """The words of every run in codes, as rows (start, end) of offsets into codes; runs are
    separated by _SEPARATOR, which is never part of a word."""
    n = codes.shape[0]
    out = np.empty((n, 2), np.int64)
    route_p = np.empty(n + 1)
    route_x = np.empty(n + 1, np.int64)
    n_out = 0
    i = 0
    while i < n:
        c = codes[i]
        if c == _SEPARATOR:
            i += 1
        elif c < _HAN_FIRST or c > _HAN_LAST:  # not Han to jieba: a word of its own
            n_out = _put(codes, i, i + 1, out, n_out, trie, flags, char_class, drop)
            i += 1
        else:
            j = i + 1
            while j < n and _HAN_FIRST <= codes[j] <= _HAN_LAST:
                j += 1
            n_out = _cut_block(codes, i, j, out, n_out, route_p, route_x, trie, flags,
                               char_class, drop, freq_positive, word_logp, single_logp, hmm)
            i = j
    return out[:n_out]


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)


class CompiledSegmenter:
    """jieba's ``cut(text, HMM=True)`` for runs of Han characters, compiled.

    ``jieba_tokenizer`` is an initialized ``jieba.Tokenizer``; its dictionary as it is now
    (including words added with ``add_word``) and jieba's process-wide set of force-split
    words (``add_word(word, 0)`` on any instance) are copied, so later changes are not seen.

    ``bounds(text, drop=True)`` leaves out, after segmenting, the words in ``dropped`` and
    the numeral words: an optional ``ordinal`` character, one or more of ``numerals`` and at
    most one of ``counters`` (the pattern ``ordinal?[numerals]+[counters]?``).
    """

    def __init__(self, jieba_tokenizer, *, dropped=(), numerals: str = "", counters: str = "",
                 ordinal: str = ""):
        from jieba import finalseg

        freq = jieba_tokenizer.FREQ
        force = [w for w in finalseg.Force_Split_Words if w not in freq]
        dropped_set = set(dropped)
        dropped = [w for w in dropped_set if w and w not in freq]
        words = [*freq, *force, *dropped]
        codes = _code_points("".join(words))
        lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
        # Every prefix of a key of FREQ is a key, so the trie has at most this many edges;
        # the hash table is kept at most half full.
        max_edges = len(freq) + sum(map(len, force)) + sum(map(len, dropped)) + 1
        bits = max(4, (2 * max_edges - 1).bit_length())
        n_nodes = -1
        while n_nodes < 0:
            word_node, n_nodes, self._trie = _build_trie(codes, lengths, bits,
                                                         int(codes.max(initial=0)))
            bits += 1
        # Per node: flags (1: a key of FREQ, 2: a force-split word, 4: a dropped word),
        # FREQ > 0, and jieba's log(FREQ or 1) - log(total), computed in Python as jieba does.
        logtotal = math.log(jieba_tokenizer.total)
        n_keys = len(freq)
        keys = word_node[:n_keys]
        self._flags = np.zeros(n_nodes, np.int64)
        self._flags[keys] = 1
        self._freq_positive = np.zeros(n_nodes, np.bool_)
        self._word_logp = np.zeros(n_nodes)
        values = list(freq.values())
        self._freq_positive[keys] = np.array([bool(v) for v in values])
        self._word_logp[keys] = [math.log(v or 1) - logtotal for v in values]
        self._single_logp = math.log(1) - logtotal
        forced = np.fromiter((w in finalseg.Force_Split_Words for w in freq), dtype=np.bool_,
                             count=n_keys)
        self._flags[keys[forced]] |= 2
        self._flags[word_node[n_keys:n_keys + len(force)]] |= 2
        in_freq = np.fromiter((w in dropped_set for w in freq), dtype=np.bool_, count=n_keys)
        self._flags[keys[in_freq]] |= 4
        self._flags[word_node[n_keys + len(force):]] |= 4
        self._char_class = np.zeros(0x10000, np.int64)
        for chars_of, kind in ((numerals, _NUMERAL), (counters, _COUNTER), (ordinal, _PREFIX)):
            for char in chars_of:
                self._char_class[ord(char)] = kind
        # The HMM tables of jieba.finalseg, indexed by state letter in the order of _STATES.
        start_p = np.array([finalseg.start_P[s] for s in _STATES])
        trans = np.array([[finalseg.trans_P[a].get(b, _MIN_FLOAT) for b in _STATES]
                          for a in _STATES])
        emit = np.full((_HAN_LAST - _HAN_FIRST + 1, 4), _MIN_FLOAT)
        for y, state in enumerate(_STATES):
            for char, p in finalseg.emit_P[state].items():
                if _HAN_FIRST <= ord(char) <= _HAN_LAST:
                    emit[ord(char) - _HAN_FIRST, y] = p
        self._hmm = (emit, start_p, trans, _PREV)

    def bounds(self, text: str, drop: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The start and end offsets of the words jieba would give for each line of text
        (lines are runs of Han characters joined by "\\n"; a word never spans a line break).
        With drop, the dropped and numeral words are left out."""
        if not text:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        words = _cut(_code_points(text), self._trie, self._flags, self._char_class, drop,
                     self._freq_positive, self._word_logp, self._single_logp, self._hmm)
        return words[:, 0], words[:, 1]

    def cut(self, text: str, drop: bool = False) -> list[str]:
        """The words of text, as ``jieba_tokenizer.cut(text, HMM=True)`` for Han text."""
        starts, ends = self.bounds(text, drop)
        return [text[start:end] for start, end in zip(starts.tolist(), ends.tolist())]
