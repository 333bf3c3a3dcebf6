import json

import pytest

from topicmf.errors import CorpusError, InvalidParameterError
from topicmf.tokenize import Tokenizer, read_word_file


@pytest.fixture(scope="module")
def tok():
    return Tokenizer()


# -- Chinese segmentation -----------------------------------------------------------------------

def test_traditional_segments_like_simplified_and_keeps_its_characters(tok):
    tokens = tok("候選人紛紛表態")
    assert tokens == ["候選人", "紛紛", "表態"]
    assert "候選人紛" not in tokens


def test_stock_sentence_in_both_scripts(tok):
    traditional = tok("台積電股價上漲")
    simplified = tok("台积电股价上涨")
    assert "上漲" in traditional and "股價" in traditional
    assert "上涨" in simplified and "股价" in simplified
    assert len(traditional) == len(simplified)


def test_news_words_come_out_clean(tok):
    tokens = tok("總統選舉前，立委呼籲政府擴大投資；他們也決定投資股票。")
    for word in ["投資", "股票", "總統", "選舉", "立委"]:
        assert word in tokens
    assert all(len(t) <= 4 for t in tokens)


def test_traditional_userdict_word_becomes_one_token(tok):
    assert "量子雲平台" not in tok("新創公司推出量子雲平台")
    custom = Tokenizer(userdict=["量子雲平台 5 n"])
    assert custom("新創公司推出量子雲平台") == ["新創", "公司", "推出", "量子雲平台"]
    # A Simplified user word also catches the Traditional spelling, and vice versa.
    assert "量子雲平台" in Tokenizer(userdict=["量子云平台"])("推出量子雲平台")
    assert "量子云平台" in Tokenizer(userdict=["量子雲平台"])("推出量子云平台")


def test_single_meaningful_character_kept_particle_dropped(tok):
    assert tok("油價跌了") == ["油價", "跌"]
    assert tok("股價漲") == ["股價", "漲"]


def test_chinese_stopwords_in_both_scripts(tok):
    assert tok("這個，那個。我們的、他們與你們為了對於從還") == []
    assert tok("这个，那个。我们的、他们与你们为了对于从还") == []


def test_chinese_numbers_and_punctuation_dropped(tok):
    assert tok("二〇二四年三個月，第一次「」『』（）《》…—！？") == []
    assert "二十" in Tokenizer(keep_numbers=True)("二十")


def test_user_stopword_in_one_script_covers_the_other():
    custom = Tokenizer(stopwords=["股價", "Market"])
    assert custom("台积电股价上涨 market") == ["台积电", "上涨"]


# -- English --------------------------------------------------------------------------------------

def test_english_rules(tok):
    text = "The Company's CEO said: don’t buy E-mail COVID-19 stocks in 2024, or 3.5% ＡＢＣ x!"
    assert tok(text) == ["company", "ceo", "said", "buy", "e-mail", "covid-19", "stocks", "abc"]


def test_min_length_and_keep_numbers():
    assert Tokenizer(min_length=4)("tax rates rose") == ["rates", "rose"]
    assert Tokenizer(keep_numbers=True)("rates rose 2024 or 3.5") == ["rates", "rose", "2024",
                                                                       "3.5"]


def test_user_stopwords_are_normalized():
    assert Tokenizer(stopwords=["ＳＴＯＣＫＳ", "Bonds"])("stocks bonds gold") == ["gold"]


# -- mixed text and languages ---------------------------------------------------------------------

def test_mixed_document_gives_both_kinds(tok):
    tokens = tok("台積電 TSMC 股價上漲")
    assert "tsmc" in tokens and "上漲" in tokens


def test_lang_en_ignores_han_text():
    assert Tokenizer("en")("台積電 TSMC shares rise 上漲") == ["tsmc", "shares", "rise"]


def test_detect_language(tok):
    assert tok.detect_language("台積電股價上漲") == "zh"
    assert tok.detect_language("TSMC shares rose today 台積電") == "en"
    assert tok.detect_language("台積電 TSMC 股價上漲") == "zh"
    assert tok.detect_language("123 !!! ，。") == ""


# -- configuration and batch API ----------------------------------------------------------------

def test_config_round_trip_gives_identical_tokens():
    original = Tokenizer("zh", stopwords=["公司"], userdict=["量子雲平台"], min_length=3,
                         keep_numbers=True)
    config = json.loads(json.dumps(original.get_config()))
    assert config["userdict"] == ["量子雲平台"] and config["stopwords"] == ["公司"]
    copy = Tokenizer.from_config(config)
    text = "新創公司推出量子雲平台 in 2024, the AI era"
    assert copy(text) == original(text) == ["新創", "推出", "量子雲平台", "2024", "era"]


def test_invalid_parameters():
    with pytest.raises(InvalidParameterError, match="'lang'"):
        Tokenizer("fr")
    with pytest.raises(InvalidParameterError, match="'min_length'"):
        Tokenizer(min_length=0)
    with pytest.raises(InvalidParameterError, match="'stopwords'"):
        Tokenizer(stopwords="the")
    with pytest.raises(InvalidParameterError, match="keys"):
        Tokenizer.from_config({"lang": "en", "colour": "red"})
    with pytest.raises(InvalidParameterError, match="str"):
        Tokenizer("en")(None)


def test_tokenize_many_reports_progress(tok):
    calls = []
    result = tok.tokenize_many(["股價漲"] * 250, progress=calls.append)
    assert calls == [100, 200, 250]
    assert result == [["股價", "漲"]] * 250


def test_deterministic(tok):
    paragraph = ("台積電今天公布第三季財報，營收與獲利雙雙創下歷史新高。總統在記者會上表示，政府將持續"
                 "推動產業升級。立委批評預算編列不夠透明。分析師認為股票市場可望延續漲勢。") * 3
    docs = [paragraph[i % 50:] + paragraph[:i % 50] for i in range(1000)]
    first = tok.tokenize_many(docs)
    assert tok.tokenize_many(docs[:20]) == first[:20]
    assert Tokenizer().tokenize_many(docs[:20]) == first[:20]


# -- word files -----------------------------------------------------------------------------------

def test_read_word_file(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("\ufeff# a comment\n\n  台積電 10 nz \nc#\nfoo  # trailing note\n\n",
                    encoding="utf-8")
    assert read_word_file(path) == ["台積電 10 nz", "c#", "foo"]


def test_read_word_file_errors(tmp_path):
    missing = tmp_path / "nope.txt"
    with pytest.raises(CorpusError, match="nope.txt"):
        read_word_file(missing)
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(CorpusError, match="bin.txt"):
        read_word_file(binary)
    with pytest.raises(CorpusError, match=str(tmp_path.name)):
        read_word_file(tmp_path)


def test_builtin_taiwan_words_are_whole(tok):
    tokens = tok("台積電與聯電的殖利率吸引投資人，蔡英文與柯文哲也談到年改。")
    for word in ("台積電", "聯電", "殖利率", "蔡英文", "柯文哲", "年改"):
        assert word in tokens, (word, tokens)
    assert "台积电" in tok("台积电股价上涨")


def test_addresses_and_host_names_are_not_terms(tok):
    text = ("From: mathew@cs.cmu.edu (Mathew) wrote in news.cs.example.org, see "
            "https://www.example.com/page?id=3 or www.example.net and netcom.com; the "
            "U.S. economy and e.g. stocks")
    tokens = tok(text)
    for noise in ("cs", "cmu", "edu", "com", "org", "www", "example", "netcom", "https", "page"):
        assert noise not in tokens, (noise, tokens)
    assert {"mathew", "wrote", "economy", "stocks"} <= set(tokens)
    # A link whose dots became ideographic full stops still starts with a scheme.
    assert tok("网址：http://yz。 chsi。 com。 cn，教育网址") == ["网址", "chsi", "com", "cn", "教育",
                                                           "网址"]


# -- parallel tokenization ------------------------------------------------------------------------

_MIXED_DOCS = [
    "台積電今天公布第三季財報，營收創新高。TSMC shares rose 5% on Monday.",
    "新创公司推出量子云平台，投资人看好 quantum computing 的前景。",
    "The central bank's decision surprised markets; bond yields fell.",
    "",
    "總統選舉前，立委呼籲政府擴大投資；他們也決定投資股票。",
    "油价跌了 3 个月，analysts don’t expect a rebound.",
]


def test_parallel_output_equals_serial_and_reports_progress():
    tok = Tokenizer(userdict=["量子雲平台 5 n"], stopwords=["analysts"])
    docs = [doc + " " * (i % 3) for i in range(40) for doc in _MIXED_DOCS]
    calls = []
    parallel = tok.tokenize_many(iter(docs), n_jobs=2, progress=calls.append)
    assert parallel == tok.tokenize_many(docs, n_jobs=1)
    assert "量子云平台" in parallel[1] and "analysts" not in parallel[5]
    assert calls and calls[-1] == len(docs)
    assert calls == sorted(calls)


def test_parallel_only_for_large_corpora(monkeypatch):
    tok = Tokenizer()
    assert tok._resolve_jobs(None, ["短文"] * 10) == 1
    monkeypatch.setattr("topicmf.tokenize._available_cpus", lambda: 4)
    assert tok._resolve_jobs(None, ["字" * 500_000] * 8) == 4
    assert tok._resolve_jobs(1, ["字" * 500_000] * 8) == 1
    assert tok._resolve_jobs(8, ["a", "b"]) == 2


def test_tokenize_many_rejects_bad_input(tok):
    with pytest.raises(InvalidParameterError, match="n_jobs"):
        tok.tokenize_many(["a"], n_jobs=0)
    with pytest.raises(InvalidParameterError, match="must be a str"):
        tok.tokenize_many(["ok", 3], n_jobs=2)


# -- news stopwords -----------------------------------------------------------------------------

def test_news_stopwords_are_switched_on_in_both_languages_and_scripts():
    english = "Officials said on Tuesday the bank told Reuters it would cut rates."
    assert {"said", "told", "reuters", "tuesday"} <= set(Tokenizer()(english))
    tokens = Tokenizer(news_stopwords=True)(english)
    assert not {"said", "told", "reuters", "tuesday"} & set(tokens)
    assert {"bank", "cut", "rates", "officials"} <= set(tokens)
    chinese = "新华社北京电 记者表示，央行宣布降息。"
    assert {"表示", "记者", "新华社"} <= set(Tokenizer()(chinese))
    tokens = Tokenizer(news_stopwords=True)(chinese)
    assert not {"表示", "记者", "新华社"} & set(tokens) and "降息" in tokens
    assert "記者" not in Tokenizer(news_stopwords=True)("記者報導指出，央行宣布降息。")


def test_news_stopwords_round_trip_in_the_tokenizer_config():
    tokenizer = Tokenizer(news_stopwords=True)
    again = Tokenizer.from_config(tokenizer.get_config())
    assert again.news_stopwords and again("he said") == []
    old = {k: v for k, v in tokenizer.get_config().items() if k != "news_stopwords"}
    assert Tokenizer.from_config(old).news_stopwords is False  # a config from before it
    with pytest.raises(InvalidParameterError, match="news_stopwords"):
        Tokenizer(news_stopwords="yes")
