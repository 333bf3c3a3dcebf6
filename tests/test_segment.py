"""The compiled segmenter against jieba itself: the same words, not similar ones."""

import random

import jieba
import pytest
from jieba import finalseg

from topicmf._segment import CompiledSegmenter
from topicmf.tokenize import Tokenizer

_NEWS = [
    "台积电今天公布第三季财报营收与获利双双创下历史新高",
    "总统在记者会上表示政府将持续推动产业升级",
    "立委批评预算编列不够透明",
    "分析师认为股票市场可望延续涨势投资人宜审慎",
    "我们上涨了",
    "台积电股价",
    "掏心掏肺鮟鱇爱学以点用美来",
    "他来到了网易杭研大厦",
    "小明硕士毕业于中国科学院计算所后在日本京都大学深造",
]


@pytest.fixture(scope="module", autouse=True)
def _restore_force_split_words():
    """add_word(word, 0) adds to a set jieba keeps for the whole process; undo that here."""
    saved = set(finalseg.Force_Split_Words)
    yield
    finalseg.Force_Split_Words.clear()
    finalseg.Force_Split_Words.update(saved)


@pytest.fixture(scope="module")
def jieba_pair():
    """A jieba instance with added words (one to join, two to keep apart), and its copy."""
    segmenter = jieba.Tokenizer()
    segmenter.initialize()
    segmenter.add_word("网易杭研")
    segmenter.add_word("台积电", 0)
    segmenter.add_word("上涨", 0)
    segmenter.add_word("量子云平台", 5)
    return segmenter, CompiledSegmenter(segmenter)


def _jieba_words(segmenter, runs):
    return [word for run in runs for word in segmenter.cut(run, HMM=True)]


def test_news_sentences_give_jieba_words(jieba_pair):
    segmenter, compiled = jieba_pair
    assert compiled.cut("\n".join(_NEWS)) == _jieba_words(segmenter, _NEWS)
    # Added words: joined, or kept apart (frequency 0), as jieba does.
    assert "网易杭研" in compiled.cut("他来到了网易杭研大厦")
    assert compiled.cut("我们上涨了") == ["我们", "上", "涨", "了"]


def test_characters_jieba_does_not_treat_as_han_are_words_of_their_own(jieba_pair):
    segmenter, compiled = jieba_pair
    # 〇 (U+3007), an extension A character, U+9FD6 and later, an extension B character.
    runs = ["二〇二四年", "㐀中国", "股市\u9fd6\u9fe0上涨", "𠀀𠀁台湾", "〇", "中"]
    assert compiled.cut("\n".join(runs)) == _jieba_words(segmenter, runs)
    assert compiled.cut("") == []


def test_random_text_gives_jieba_words(jieba_pair):
    """Random strings: long runs of characters that are not words exercise the HMM, and
    characters it has never seen make ties that jieba breaks by state letter."""
    segmenter, compiled = jieba_pair
    rng = random.Random(0)
    common = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也"
    rare = "鮟鱇龘靐齉爩鱻麤"  # few or none in the HMM's emission table
    runs = ["".join(rng.choice(common + rare + "台积电上涨网易杭研")
                    for _ in range(rng.randint(1, 40))) for _ in range(400)]
    assert compiled.cut("\n".join(runs)) == _jieba_words(segmenter, runs)


def test_force_split_words_of_other_instances_are_honoured(jieba_pair):
    """jieba keeps its force-split words in one global set, shared by every instance."""
    assert "上涨" in finalseg.Force_Split_Words
    segmenter = jieba.Tokenizer()
    segmenter.initialize()
    text = "我们上涨了\n股价上涨"
    assert CompiledSegmenter(segmenter).cut(text) == _jieba_words(segmenter, text.split("\n"))


def test_tokenizer_engines_give_the_same_tokens():
    docs = ["台積電 TSMC 股價上漲 3%，總統選舉前立委表示：投資人審慎。",
            "Mixed text: 新創公司推出量子雲平台 in 2024, the AI era; 二十個 三個 第一",
            "only english words here", "。，、", "", "鮟鱇掏心掏肺 abc 〇〇 𠀀"]
    settings = dict(userdict=["量子雲平台 5 n", "上漲 0"], stopwords=["審慎"])
    compiled = Tokenizer(**settings, engine="compiled")
    fast = compiled.tokenize_many(docs, n_jobs=1)
    assert compiled._segmenter is not None
    reference = Tokenizer(**settings, engine="jieba").tokenize_many(docs, n_jobs=1)
    assert fast == reference
    assert fast[0][:3] == ["台積電", "tsmc", "股價"]  # Latin tokens stay in document order
    assert "量子雲平台" in fast[1] and "審慎" not in fast[0]


def test_auto_engine_loads_the_compiled_copy_only_for_large_inputs(monkeypatch):
    """Loading it takes about a second, more than jieba needs for a small corpus."""
    tok = Tokenizer()
    small = tok.tokenize_many(["股價上漲", "總統選舉"], n_jobs=1)
    assert tok._segmenter is None
    monkeypatch.setattr("topicmf.tokenize._COMPILED_MIN_CHARS", 5)
    assert tok.tokenize_many(["股價上漲", "總統選舉"], n_jobs=1) == small
    assert tok._segmenter is not None


def test_tokenizer_engine_is_checked_and_not_part_of_the_config():
    with pytest.raises(Exception, match="'engine'"):
        Tokenizer(engine="rust")
    assert "engine" not in Tokenizer(engine="jieba").get_config()


def test_dropping_matches_the_tokenizer_rules(jieba_pair):
    """drop=True leaves out the dropped words and exactly what _HAN_NUMBER matches."""
    from topicmf.tokenize import _COUNTERS, _HAN_NUMBER, _NUMERALS

    segmenter, _ = jieba_pair
    compiled = CompiledSegmenter(segmenter, dropped=["我们", "鮟鱇"], numerals=_NUMERALS,
                                 counters=_COUNTERS, ordinal="第")
    rng = random.Random(1)
    alphabet = "第" + _NUMERALS[:6] + _COUNTERS[:4] + "股市"
    words = {"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 5))) for _ in range(3000)}
    words |= {"第", "第一", "第一个", "一个", "个", "二十", "三个月", "第第一", "一一", "年"}
    for word in sorted(words):
        # Each word on its own line; the words jieba makes of it, then the ones kept.
        kept = compiled.cut(word, drop=True)
        expected = [w for w in compiled.cut(word) if not _HAN_NUMBER.fullmatch(w)]
        assert kept == expected, word
    text = "我们看到鮟鱇和第三名"
    assert compiled.cut(text, drop=True) == [w for w in compiled.cut(text)
                                             if w not in ("我们", "鮟鱇", "第三名")]
    assert "第三名" in compiled.cut(text)
