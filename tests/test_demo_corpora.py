"""Sanity checks on the demo corpora shipped in ``corpora/``."""

import csv
import itertools
import re
from pathlib import Path

import opencc
import pytest

CORPORA = Path(__file__).resolve().parents[1] / "corpora"
SECTIONS = ("finance", "politics")
MIN_DOCS = 35

# Standard Taiwan forms that OpenCC's s2tw still rewrites (台 -> 臺, 里 in 里長 -> 裡).
TAIWAN_SHARED_CHARS = frozenset("台里")

ZH_KEYWORDS = {
    "finance": ["投資", "股", "利率", "央行", "匯率", "新台幣", "基金", "債", "營收", "獲利",
                "指數", "成交", "ETF", "殖利率", "通膨", "外資", "金融", "銀行", "金價"],
    "politics": ["總統", "選", "立委", "立法院", "候選人", "政黨", "民進黨", "國民黨", "民眾黨",
                 "投票", "民調", "議員", "議會", "市長", "行政院", "法案", "質詢", "政見",
                 "罷免", "公投", "國會", "黨"],
}
# Word-prefix patterns, so "vote" also matches "voters" but "bill" does not match "billion".
EN_KEYWORDS = {
    "finance": r"stock|share|invest|earning|interest rate|central bank|bond|index|dividend|"
               r"inflation|yield|fund|currenc|profit|revenue|bank|market|price|lender",
    "politics": r"president|elect|legislat|lawmaker|parliament|campaign|vote|voting|poll|"
                r"bills?\b|senat|candidate|mayor|party|parties|referendum|congress|council|"
                r"governor|minister|opposition",
}


def _texts(lang, section):
    folder = CORPORA / f"finance-politics-{lang}" / section
    return [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))]


def _keyword_hits(lang, section, text):
    if lang == "zh":
        return sum(text.count(word) for word in ZH_KEYWORDS[section])
    return len(re.findall(rf"\b(?:{EN_KEYWORDS[section]})", text.lower()))


def _non_traditional_chars(text, converter):
    """Characters OpenCC would rewrite to Traditional, apart from shared Taiwan forms."""
    return {ch for ch in text if converter.convert(ch) != ch} - TAIWAN_SHARED_CHARS


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("section", SECTIONS)
def test_folder_has_enough_numbered_utf8_files(lang, section):
    folder = CORPORA / f"finance-politics-{lang}" / section
    paths = sorted(folder.glob("*.txt"))
    assert len(paths) >= MIN_DOCS
    assert [p.name for p in paths] == [f"{i:03d}.txt" for i in range(1, len(paths) + 1)]
    for path in paths:
        raw = path.read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf"), f"{path.name} has a BOM"
        assert raw.decode("utf-8").strip(), f"{path.name} is empty"


@pytest.mark.parametrize("section", SECTIONS)
def test_zh_items_are_short_news_with_fullwidth_punctuation(section):
    for text in _texts("zh", section):
        text = text.strip()
        assert 60 <= len(text) <= 150, text
        assert 2 <= text.count("。") <= 4, text
        assert text.endswith("。"), text
        assert not re.search(r"[,.;:!?()]", text), text


@pytest.mark.parametrize("section", SECTIONS)
def test_en_items_are_short_news(section):
    for text in _texts("en", section):
        sentences = re.findall(r"[.!?](?:\s|$)", text)
        assert 2 <= len(sentences) <= 4, text
        assert 20 <= len(text.split()) <= 80, text


def test_zh_corpus_is_traditional():
    s2tw = opencc.OpenCC("s2tw")
    for section in SECTIONS:
        for text in _texts("zh", section):
            assert not _non_traditional_chars(text, s2tw), text
    everything = "".join(_texts("zh", "finance") + _texts("zh", "politics"))
    for word in ("總統", "選舉", "投資", "經濟", "價"):
        assert word in everything
    simplified = opencc.OpenCC("t2s").convert(everything)
    changed = sum(a != b for a, b in zip(everything, simplified))
    assert changed / len(everything) > 0.15


def test_traditional_check_catches_simplified_text():
    found = _non_traditional_chars("经济与选举价格", opencc.OpenCC("s2tw"))
    assert found == set("经济与选举价")


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("section", SECTIONS)
def test_items_clearly_belong_to_their_section(lang, section):
    other = "politics" if section == "finance" else "finance"
    for text in _texts(lang, section):
        own_hits = _keyword_hits(lang, section, text)
        assert own_hits >= 1, text
        assert own_hits > _keyword_hits(lang, other, text), text


def _shingles(lang, text):
    if lang == "zh":
        return {text[i:i + 2] for i in range(len(text) - 1)}
    words = re.findall(r"\w+", text.lower())
    return set(zip(words, words[1:]))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_documents_are_distinct_not_templated(lang):
    texts = _texts(lang, "finance") + _texts(lang, "politics")
    assert len(set(texts)) == len(texts)
    openings = [t[:8] if lang == "zh" else " ".join(t.split()[:4]) for t in texts]
    assert len(set(openings)) == len(openings)
    shingles = [_shingles(lang, t) for t in texts]
    for a, b in itertools.combinations(shingles, 2):
        assert len(a & b) / len(a | b) < 0.3


def _read_csv(name):
    raw = (CORPORA / name).read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(raw.decode("utf-8").splitlines()))


def test_term_document_table():
    rows = _read_csv("term-document.csv")
    assert rows[0] == ["term", "Doc 1", "Doc 2", "Doc 3", "Doc 4"]
    table = {row[0]: [int(v) for v in row[1:]] for row in rows[1:]}
    assert list(table) == ["投資", "股票", "總統", "選舉", "立委"]
    assert table == {
        "投資": [5, 3, 0, 1],
        "股票": [4, 0, 0, 1],
        "總統": [1, 1, 0, 5],
        "選舉": [1, 0, 0, 4],
        "立委": [0, 1, 5, 4],
    }


def test_ratings_table_keeps_unknowns_blank():
    rows = _read_csv("ratings.csv")
    assert rows[0] == ["user", "Item 1", "Item 2", "Item 3", "Item 4"]
    table = {row[0]: [int(v) if v else None for v in row[1:]] for row in rows[1:]}
    assert list(table) == [f"User {i}" for i in range(1, 6)]
    assert table == {
        "User 1": [5, 3, None, 1],
        "User 2": [4, None, None, 1],
        "User 3": [1, 1, None, 5],
        "User 4": [1, None, None, 4],
        "User 5": [None, 1, 5, 4],
    }
