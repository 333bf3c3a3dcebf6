"""Tests for topicmf.corpus: reading folders, .txt, .csv, .jsonl(.gz) and guessing encodings."""

import gzip
import json
import os
from pathlib import Path

import opencc
import pytest

from topicmf.corpus import Corpus, decode_bytes, load_corpus, stream_corpus
from topicmf.errors import CorpusError, InvalidParameterError, TopicmfWarning

from conftest import SHARED_CORPORA

TRADITIONAL_NEWS = "台積電股價上漲，投資人看好。總統選舉將至，立委候選人紛紛表態。"
SIMPLIFIED_NEWS = "央行宣布降息，股市应声上涨，投资者信心明显回升。"
SIMPLIFIED_PARAGRAPH = (
    "近年来，随着人工智能技术的快速发展，越来越多的企业开始将机器学习应用于实际业务。"
    "在金融领域，银行利用算法评估贷款风险，证券公司借助模型预测市场走势。与此同时，"
    "监管部门也在加强对数据安全和个人隐私的保护，要求企业在使用用户数据时必须遵守相关法律法规。"
    "专家认为，未来几年人工智能将继续深刻改变经济结构和社会生活。"
)
TRADITIONAL_PARAGRAPH = (
    "近年來，隨著人工智慧技術的快速發展，越來越多的企業開始將機器學習應用於實際業務。"
    "在金融領域，銀行利用演算法評估貸款風險，證券公司藉助模型預測市場走勢。與此同時，"
    "監管機關也在加強對資料安全和個人隱私的保護，要求企業在使用用戶資料時必須遵守相關法規。"
)
TEN_TRADITIONAL = "今天天氣很好適合散步"
TEN_SIMPLIFIED = "今天天气很好适合散步"


def write(path: Path, content, encoding="utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode(encoding)
    path.write_bytes(content)
    return path


def write_jsonl(path: Path, records) -> Path:
    text = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    if path.name.endswith(".gz"):
        return write(path, gzip.compress(text.encode("utf-8")))
    return write(path, text)


# ---------------------------------------------------------------------------- folders

def test_folder_labels_come_from_top_level_subfolders(tmp_path):
    root = tmp_path / "news"
    write(root / "finance" / "001.txt", "Stocks rose today.")
    write(root / "finance" / "002.txt", "Bonds fell.")
    write(root / "politics" / "001.txt", "The election is near.")

    corpus = load_corpus(root)

    assert isinstance(corpus, Corpus)
    assert corpus.ids == ["finance/001.txt", "finance/002.txt", "politics/001.txt"]
    assert corpus.texts == ["Stocks rose today.", "Bonds fell.", "The election is near."]
    assert corpus.labels == ["finance", "finance", "politics"]
    assert corpus.name == "news"
    assert corpus.source == str(root)
    assert corpus.skipped == []
    assert len(corpus) == 3


def test_nested_folders_hidden_files_and_root_files(tmp_path):
    root = tmp_path / "c"
    write(root / "finance" / "2020" / "q1" / "a.txt", "deep file")
    write(root / "finance" / "b.txt", "shallow file")
    write(root / "top.txt", "no label here")
    write(root / ".hidden.txt", "ignored")
    write(root / ".git" / "x.txt", "ignored")
    write(root / "finance" / "notes.md", "not a txt")

    corpus = load_corpus(str(root))

    assert corpus.ids == ["finance/2020/q1/a.txt", "finance/b.txt", "top.txt"]
    assert corpus.labels == ["finance", "finance", ""]


def test_folder_without_subfolders_has_no_labels(tmp_path):
    write(tmp_path / "b.txt", "second")
    write(tmp_path / "a.txt", "first")

    corpus = load_corpus(tmp_path)

    assert corpus.ids == ["a.txt", "b.txt"]
    assert corpus.texts == ["first", "second"]
    assert corpus.labels is None


def test_folder_lines_mode_makes_one_document_per_non_blank_line(tmp_path):
    write(tmp_path / "sport" / "a.txt", "first line\n\n  second line  \r\nthird\n")

    corpus = load_corpus(tmp_path, lines=True)

    assert corpus.ids == ["sport/a.txt:1", "sport/a.txt:3", "sport/a.txt:4"]
    assert corpus.texts == ["first line", "second line", "third"]
    assert corpus.labels == ["sport"] * 3


def test_binary_and_empty_files_are_skipped_with_warnings(tmp_path):
    write(tmp_path / "good.txt", "real text")
    write(tmp_path / "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    write(tmp_path / "empty.txt", "")
    write(tmp_path / "blank.txt", "  \n\t\n")

    with pytest.warns(TopicmfWarning) as record:
        corpus = load_corpus(tmp_path)

    assert corpus.ids == ["good.txt"]
    assert corpus.skipped == [("blank.txt", "empty"), ("empty.txt", "empty"),
                              ("image.txt", "binary")]
    messages = [str(w.message) for w in record]
    assert any("image.txt" in m and "binary" in m for m in messages)
    assert any("empty.txt" in m and "empty" in m for m in messages)


def test_undecodable_file_in_folder_is_skipped(tmp_path):
    write(tmp_path / "good.txt", "fine")
    write(tmp_path / "bad.txt", b"abc\x80def")

    with pytest.warns(TopicmfWarning, match="bad.txt"):
        corpus = load_corpus(tmp_path)

    assert corpus.ids == ["good.txt"]
    assert corpus.skipped == [("bad.txt", "not UTF-8, GB18030 or Big5")]


def test_unreadable_file_is_skipped(tmp_path, monkeypatch):
    write(tmp_path / "ok.txt", "fine")
    locked = write(tmp_path / "locked.txt", "secret")
    real_open = os.open

    def open_file(path, flags, *args, **kwargs):
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_file)
    with pytest.warns(TopicmfWarning, match="locked.txt"):
        corpus = load_corpus(tmp_path)

    assert corpus.ids == ["ok.txt"]
    assert corpus.skipped == [("locked.txt", "permission denied")]


def test_unreadable_subfolder_is_skipped(tmp_path, monkeypatch):
    write(tmp_path / "open" / "a.txt", "fine")
    write(tmp_path / "locked" / "b.txt", "hidden")
    real_scandir = os.scandir

    def scandir(path):
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.warns(TopicmfWarning, match="locked"):
        corpus = load_corpus(tmp_path)
    assert corpus.ids == ["open/a.txt"]
    assert corpus.skipped == [("locked", "Permission denied")]

def test_folder_with_only_bad_files_is_an_error(tmp_path):
    root = tmp_path / "x"
    write(root / "a.txt", b"\x00\x01\x02")
    write(root / "b.txt", "")
    write(root / "c.txt", b"\x80\x80")

    with pytest.warns(TopicmfWarning), pytest.raises(CorpusError) as error:
        load_corpus(root)

    message = str(error.value)
    assert message.startswith(f"{root}: no readable documents (3 files skipped: a.txt binary, "
                              f"b.txt empty, c.txt not UTF-8, GB18030 or Big5)")
    assert "\n" not in message


def test_empty_folder_and_folder_without_txt_files(tmp_path):
    with pytest.raises(CorpusError, match=r"no \.txt files.*pass a \.csv/\.jsonl file"):
        load_corpus(tmp_path)
    write(tmp_path / "readme.md", "hello")
    with pytest.raises(CorpusError, match="has no .txt files"):
        load_corpus(tmp_path)


def test_missing_path(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(CorpusError, match="does not exist") as error:
        load_corpus(missing)
    assert str(error.value) == f"{missing} does not exist"


def test_unsupported_file_type(tmp_path):
    path = write(tmp_path / "report.docx", "whatever")
    with pytest.raises(CorpusError, match=r"report\.docx.*\.txt, \.csv, \.jsonl or \.jsonl\.gz"):
        load_corpus(path)


# ---------------------------------------------------------------------------- single .txt files

def test_single_txt_is_one_document(tmp_path):
    path = write(tmp_path / "speech.txt", "Line one.\r\nLine two.\r\n")
    corpus = load_corpus(path)
    assert corpus.ids == ["speech.txt"]
    assert corpus.texts == ["Line one.\nLine two.\n"]
    assert corpus.labels is None
    assert corpus.name == "speech"


def test_single_txt_lines_mode(tmp_path):
    path = write(tmp_path / "titles.txt", "first\n\nsecond\n   \nthird")
    corpus = load_corpus(path, lines=True)
    assert corpus.ids == ["titles.txt:1", "titles.txt:3", "titles.txt:5"]
    assert corpus.texts == ["first", "second", "third"]


def test_single_bad_txt_files_are_errors(tmp_path):
    with pytest.raises(CorpusError, match="empty"):
        load_corpus(write(tmp_path / "empty.txt", " \n"))
    with pytest.raises(CorpusError, match="binary"):
        load_corpus(write(tmp_path / "bin.txt", b"ab\x00cd"))
    bad = write(tmp_path / "bad.txt", b"abc\x80def")
    with pytest.raises(CorpusError) as error:
        load_corpus(bad)
    assert str(error.value) == (f"{bad} is not UTF-8, GB18030 or Big5 text; convert it to "
                                f"UTF-8 or pass 'encoding'")


# ---------------------------------------------------------------------------- csv

def test_csv_with_id_and_label_columns(tmp_path):
    path = write(tmp_path / "news.csv",
                 'doc,body,topic\nd1,"Stocks, bonds\nand funds",finance\nd2,Election,politics\n')
    corpus = load_corpus(path, text_column="body", id_column="doc", label_column="topic")
    assert corpus.ids == ["d1", "d2"]
    assert corpus.texts == ["Stocks, bonds\nand funds", "Election"]
    assert corpus.labels == ["finance", "politics"]
    assert corpus.name == "news"


def test_csv_without_id_or_label(tmp_path):
    path = write(tmp_path / "plain.csv", "text\nalpha\n\nbeta\n")
    corpus = load_corpus(path)
    assert corpus.ids == ["row-1", "row-2"]
    assert corpus.texts == ["alpha", "beta"]
    assert corpus.labels is None


def test_csv_uses_columns_named_id_and_label(tmp_path):
    path = write(tmp_path / "c.csv", "id,label,text\n7,sport,goal\n9,,match\n")
    corpus = load_corpus(path)
    assert corpus.ids == ["7", "9"]
    assert corpus.labels == ["sport", ""]


def test_csv_missing_column_names_the_columns(tmp_path):
    path = write(tmp_path / "corpus.csv", "title,body\nA,B\n")
    with pytest.raises(CorpusError) as error:
        load_corpus(path)
    assert str(error.value) == (f"{path} has no column 'text' (columns: title, body); "
                                f"choose one with 'text_column'")
    with pytest.raises(CorpusError, match="no column 'topic'.*'label_column'"):
        load_corpus(path, text_column="body", label_column="topic")


def test_csv_cell_larger_than_the_csv_default_limit(tmp_path):
    long_text = "word " * 40_000
    path = write(tmp_path / "long.csv", f'text\n"{long_text}"\n')
    assert load_corpus(path).texts == [long_text]


def test_csv_empty_texts_are_skipped_with_one_warning(tmp_path):
    path = write(tmp_path / "e.csv", "id,text\na,\nb,hello\nc,  \n")
    with pytest.warns(TopicmfWarning, match=r"skipped 2 documents .*\(a, c\)") as record:
        corpus = load_corpus(path)
    assert len(record) == 1
    assert corpus.ids == ["b"]
    assert corpus.skipped == [("a", "empty"), ("c", "empty")]


def test_csv_with_only_empty_texts_is_an_error(tmp_path):
    path = write(tmp_path / "e.csv", "text,other\n,x\n,y\n")
    with pytest.warns(TopicmfWarning), pytest.raises(CorpusError, match="empty 'text'"):
        load_corpus(path)


def test_duplicate_ids_are_an_error(tmp_path):
    path = write(tmp_path / "d.csv", "id,text\n1,a\n2,b\n1,c\n")
    with pytest.raises(CorpusError, match="id '1' more than once"):
        load_corpus(path)
    path = write_jsonl(tmp_path / "d.jsonl", [{"key": "x", "text": "a"},
                                              {"key": "x", "text": "b"}])
    with pytest.raises(CorpusError, match="id 'x' more than once"):
        load_corpus(path, id_column="key")


def test_missing_id_value_is_an_error(tmp_path):
    path = write(tmp_path / "m.csv", "id,text\n1,a\n,b\n")
    with pytest.raises(CorpusError, match="row 2 has no 'id'"):
        load_corpus(path)


# ---------------------------------------------------------------------------- jsonl

def test_jsonl_keys_and_value_types(tmp_path):
    path = write_jsonl(tmp_path / "docs.jsonl", [
        {"id": "a", "text": "hello", "label": "x"},
        {"id": "b", "text": 42},
        {"id": "c", "text": None},
        {"id": "d"},
    ])
    with pytest.warns(TopicmfWarning, match=r"skipped 2 documents.*\(c, d\)"):
        corpus = load_corpus(path)
    assert corpus.ids == ["a", "b"]
    assert corpus.texts == ["hello", "42"]
    assert corpus.labels == ["x", ""]


def test_jsonl_gz_with_named_columns(tmp_path):
    path = write_jsonl(tmp_path / "corpus.jsonl.gz", [
        {"filename": "f1", "content": "first", "group": 1},
        {"filename": "f2", "content": "second", "group": 2},
    ])
    corpus = load_corpus(path, text_column="content", id_column="filename",
                         label_column="group")
    assert corpus.name == "corpus"
    assert corpus.ids == ["f1", "f2"]
    assert corpus.texts == ["first", "second"]
    assert corpus.labels == ["1", "2"]


def test_jsonl_missing_key_lists_the_keys(tmp_path):
    path = write_jsonl(tmp_path / "k.jsonl", [{"title": "a", "body": "b"}])
    with pytest.raises(CorpusError, match=r"no column 'text' \(columns: title, body\)"):
        load_corpus(path)


def test_bad_json_line_names_file_and_line(tmp_path):
    path = write(tmp_path / "bad.jsonl", '{"text": "ok"}\n\n{"text": oops}\n')
    with pytest.raises(CorpusError, match=r"bad\.jsonl line 3 is not valid JSON"):
        load_corpus(path)
    path = write(tmp_path / "list.jsonl", '["not", "an", "object"]\n')
    with pytest.raises(CorpusError, match="line 1 is a JSON list"):
        load_corpus(path)


def test_broken_gzip_is_an_error(tmp_path):
    path = write(tmp_path / "broken.jsonl.gz", b"this is not gzip")
    with pytest.raises(CorpusError, match="not a valid gzip file"):
        load_corpus(path)


def test_limit_stops_early(tmp_path):
    path = write_jsonl(tmp_path / "many.jsonl", [{"text": f"doc {i}"} for i in range(50)])
    assert load_corpus(path, limit=3).texts == ["doc 0", "doc 1", "doc 2"]
    for name in "abcde":
        write(tmp_path / "folder" / f"{name}.txt", name)
    assert load_corpus(tmp_path / "folder", limit=2).ids == ["a.txt", "b.txt"]
    lines = write(tmp_path / "lines.txt", "1\n2\n3\n4\n")
    assert load_corpus(lines, lines=True, limit=3).texts == ["1", "2", "3"]


@pytest.mark.parametrize("kwargs, parameter", [
    ({"limit": 0}, "limit"),
    ({"text_column": ""}, "text_column"),
    ({"id_column": 3}, "id_column"),
    ({"encoding": "no-such-codec"}, "encoding"),
    ({"encoding": "base64"}, "encoding"),
    ({"lines": "yes"}, "lines"),
])
def test_invalid_parameters(tmp_path, kwargs, parameter):
    path = write(tmp_path / "a.txt", "text")
    with pytest.raises(InvalidParameterError, match=f"'{parameter}' parameter of load_corpus"):
        load_corpus(path, **kwargs)


# ---------------------------------------------------------------------------- encodings

def test_utf8_bom_and_crlf_are_removed(tmp_path):
    path = write(tmp_path / "bom.txt", b"\xef\xbb\xbf" + "中文\r\nline".encode("utf-8"))
    assert load_corpus(path).texts == ["中文\nline"]
    csv_path = write(tmp_path / "bom.csv", b"\xef\xbb\xbftext\r\nhello\r\n")
    assert load_corpus(csv_path).texts == ["hello"]


def test_utf16_with_bom(tmp_path):
    path = write(tmp_path / "u16.txt", "\ufeff統計 text".encode("utf-16-le"))
    assert load_corpus(path).texts == ["統計 text"]


CHINESE_SAMPLES = {
    "traditional-news": TRADITIONAL_NEWS,
    "simplified-news": SIMPLIFIED_NEWS,
    "simplified-paragraph": SIMPLIFIED_PARAGRAPH,
    "traditional-paragraph": TRADITIONAL_PARAGRAPH,
    "ten-traditional": TEN_TRADITIONAL,
    "ten-simplified": TEN_SIMPLIFIED,
    "taipei-budget": "台北市政府今日公布新預算案。",
    "they-said": "他們說這個問題很重要。",
}


@pytest.mark.parametrize("codec", ["gb18030", "big5"])
@pytest.mark.parametrize("text", CHINESE_SAMPLES.values(), ids=CHINESE_SAMPLES.keys())
def test_gb18030_and_big5_are_detected(text, codec):
    try:
        data = text.encode(codec)
    except UnicodeEncodeError:
        # Big5 has no code for many Simplified characters; only GB18030 covers everything.
        assert codec == "big5" and text in (SIMPLIFIED_NEWS, SIMPLIFIED_PARAGRAPH, TEN_SIMPLIFIED)
        return
    assert decode_bytes(data, name="sample.txt") == text


def test_hong_kong_characters_in_big5_hkscs():
    cantonese = "佢哋今日去咗街市買餸，啲菜好平。"
    assert decode_bytes(cantonese.encode("big5hkscs"), name="hk.txt") == cantonese


def test_real_headlines_in_both_encodings():
    path = SHARED_CORPORA / "thucnews_titles_zh.jsonl.gz"
    titles = load_corpus(path, limit=300).texts
    to_traditional = opencc.OpenCC("s2tw").convert
    wrong = []
    for title in titles:
        traditional = to_traditional(title)
        cases = [(title, "gb18030"), (traditional, "gb18030"), (traditional, "big5hkscs")]
        for text, codec in cases:
            try:
                data = text.encode(codec)
            except UnicodeEncodeError:
                continue
            if decode_bytes(data, name="t.txt") != text:
                wrong.append((text, codec))
    assert wrong == []


def test_chinese_files_in_a_folder_decode_to_the_original(tmp_path):
    write(tmp_path / "tw" / "news.txt", TRADITIONAL_NEWS + "\r\n", encoding="big5")
    write(tmp_path / "tw" / "gb.txt", TRADITIONAL_NEWS, encoding="gb18030")
    write(tmp_path / "cn" / "news.txt", SIMPLIFIED_PARAGRAPH, encoding="gb18030")
    corpus = load_corpus(tmp_path)
    assert dict(zip(corpus.ids, corpus.texts)) == {
        "cn/news.txt": SIMPLIFIED_PARAGRAPH,
        "tw/gb.txt": TRADITIONAL_NEWS,
        "tw/news.txt": TRADITIONAL_NEWS + "\n",
    }


def test_big5_jsonl_is_decoded_before_parsing(tmp_path):
    line = json.dumps({"text": TRADITIONAL_PARAGRAPH, "label": "科技"}, ensure_ascii=False)
    path = write(tmp_path / "tw.jsonl", line + "\n", encoding="big5")
    corpus = load_corpus(path)
    assert corpus.texts == [TRADITIONAL_PARAGRAPH]
    assert corpus.labels == ["科技"]


def test_explicit_encoding_skips_detection(tmp_path):
    path = write(tmp_path / "gb.txt", SIMPLIFIED_NEWS, encoding="gb18030")
    assert load_corpus(path, encoding="gb18030").texts == [SIMPLIFIED_NEWS]
    with pytest.raises(CorpusError, match=r"gb\.txt is not valid utf-8 text"):
        load_corpus(path, encoding="utf-8")


def test_decode_bytes_plain_cases():
    assert decode_bytes(b"plain ascii\r\n", name="a") == "plain ascii\n"
    assert decode_bytes("é中".encode("utf-8"), name="a") == "é中"
    with pytest.raises(CorpusError, match="^x.txt is not UTF-8, GB18030 or Big5"):
        decode_bytes(b"\x80", name="x.txt")


# ---------------------------------------------------------------------------- a real corpus

def test_20newsgroups_loads_with_ids_and_labels():
    path = SHARED_CORPORA / "20newsgroups_bydate.jsonl.gz"
    corpus = load_corpus(path, label_column="label", id_column="filename")
    assert len(corpus) == 18_846
    assert len(set(corpus.labels)) == 20
    assert len(set(corpus.ids)) == len(corpus)
    assert corpus.name == "20newsgroups_bydate"
    assert corpus.skipped == []
    assert all(text.strip() for text in corpus.texts[:100])



def test_progress_is_reported_while_reading_a_folder(tmp_path):
    for i in range(150):
        (tmp_path / f"{i:03d}.txt").write_text(f"document {i}", encoding="utf-8")
    calls = []
    load_corpus(tmp_path, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(0, 150), (100, 150), (150, 150)]


# ---------------------------------------------------------------------------- streaming

def test_stream_gives_load_corpus_documents_and_where_they_start(tmp_path):
    path = write(tmp_path / "n.csv", 'id,text,label\na,"two\nlines",x\n\nb,one,y\nc,,z\nd,last,\n')
    stream = stream_corpus(path)
    docs = list(stream)
    with pytest.warns(TopicmfWarning, match="empty 'text'"):
        corpus = load_corpus(path)
    assert [d.doc_id for d in docs] == corpus.ids and [d.text for d in docs] == corpus.texts
    assert stream.final_labels([d.label for d in docs]) == corpus.labels == ["x", "y", ""]
    assert [(d.file, d.line) for d in docs] == [(0, 2), (0, 5), (0, 7)]
    assert stream.files == ["n.csv"] and stream.expected == 3
    assert stream.skipped == [("c", "empty")] and len(stream.warnings) == 1
    found = stream.read_at([("n.csv", 5)])
    assert found[("n.csv", 5)].text == "one"


def test_stream_of_a_folder_reads_files_again_one_by_one(tmp_path):
    write(tmp_path / "f" / "sport" / "a.txt", "first\n\nthird\n")
    write(tmp_path / "f" / "b.txt", "alone")
    stream = stream_corpus(tmp_path / "f", lines=True)
    docs = list(stream)
    assert [(d.doc_id, d.label, d.file, d.line) for d in docs] == [
        ("b.txt:1", None, 0, 1), ("sport/a.txt:1", "sport", 1, 1), ("sport/a.txt:3", "sport", 1, 3)]
    assert stream.has_labels and stream.files == ["b.txt", "sport/a.txt"]
    assert stream.read_at([("sport/a.txt", 3)])[("sport/a.txt", 3)].text == "third"
