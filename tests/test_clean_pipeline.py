"""Cleaning in the pipeline: analyze, compare, sweep, saved runs, search, build-matrix and
the command line."""

import json
import random

import numpy as np
import pytest

from test_clean import _phrase_corpus
from topicmf.clean import Cleaner
from topicmf.errors import InvalidParameterError
from topicmf.tokenize import Tokenizer

FINANCE = "stocks shares investors earnings dividend bonds yields market rally fund".split()
POLITICS = "election voters candidate senate ballot campaign president governor poll".split()
FOOTER = "Copyright Example Wire Service, all rights reserved."
HEADER_WORDS = {"poster0", "consortium", "org0"}
QUOTE_WORDS = {"article", "writes"}  # the attribution line goes with the quote
SIGNATURE_WORDS = {"signer0", "extension"}


def _post(i: int, words: list[str], quoted: list[str], rng) -> str:
    """A reply in the form of a news post: a header, an attribution, a quote of the other
    topic, a body of its own topic, every fourth post a footer line, and a signature."""
    footer = f"\n{FOOTER}" if i % 4 == 0 else ""
    return (f"From: user{i % 5}@host.example.org (Poster{i % 5})\n"
            f"Subject: Re: {' '.join(rng.sample(words, 3))}\n"
            f"Organization: Org{i % 3} Consortium\nLines: 12\n\n"
            f"In article <{i}@example.org> someone@example.org writes:\n"
            f"> {' '.join(rng.sample(quoted, 5))}\n\n{' '.join(rng.sample(words, 7))}{footer}\n"
            f"-- \nSigner{i % 5}, extension 55{i % 5}\n")


@pytest.fixture(scope="module")
def posts():
    from topicmf.corpus import Corpus

    rng = random.Random(2)
    texts, labels = [], []
    for i in range(40):
        topic, other = (FINANCE, POLITICS) if i % 2 else (POLITICS, FINANCE)
        texts.append(_post(i, topic, other, rng))
        labels.append("finance" if i % 2 else "politics")
    return Corpus(ids=[f"p{i}" for i in range(40)], texts=texts, labels=labels, name="posts",
                  source="memory")


EVERYTHING = dict(mail=True, quotes=True, signatures=True, boilerplate=True)


def test_analyze_cleans_only_when_asked(posts):
    from topicmf.pipeline import DEFAULTS, analyze

    assert DEFAULTS["clean"] is False
    raw = analyze(posts, 2, min_df=1, max_df=1.0)
    assert HEADER_WORDS <= set(raw.dtm.terms)
    info = raw.analysis.info["cleaning"]
    assert not any(info[step] for step in ("mail", "boilerplate", "phrases", "news_stopwords"))
    assert info["n_posts"] == 0
    cleaned = analyze(posts, 2, min_df=1, max_df=1.0, clean=True)
    terms = set(cleaned.dtm.terms)
    assert not HEADER_WORDS & terms and {"stocks", "election"} <= terms
    assert QUOTE_WORDS | SIGNATURE_WORDS <= terms  # clean=True keeps quotes and signatures
    info = cleaned.analysis.info["cleaning"]
    assert info["mail"] and not info["quotes"] and info["n_posts"] == 40
    full = analyze(posts, 2, min_df=1, max_df=1.0, clean=Cleaner(**EVERYTHING))
    assert not (HEADER_WORDS | QUOTE_WORDS | SIGNATURE_WORDS | {"copyright"}) & \
        set(full.dtm.terms)
    assert full.analysis.info["cleaning"]["n_repeated_lines"] == 1  # the footer
    dominant = full.dominant_topics
    finance, politics = set(dominant[1::2]), set(dominant[::2])
    assert len(finance) == len(politics) == 1 and finance != politics
    with pytest.raises(InvalidParameterError, match="'clean'"):
        analyze(posts, 2, clean="yes")


def test_new_texts_are_cleaned_as_the_corpus_was_also_after_a_reload(posts, tmp_path):

    from topicmf.io import load_analysis, save_analysis
    from topicmf.pipeline import analyze

    result = analyze(posts, 2, min_df=1, max_df=1.0, clean=Cleaner(**EVERYTHING, phrases=True))
    analysis = result.analysis
    assert analysis.cleaner.repeated_lines_ and analysis.cleaner.phrases
    rng = random.Random(9)
    # A finance post quoting a politics one, with the corpus's footer.
    new = [_post(100, FINANCE, POLITICS, rng), "voters and the senate\n" + FOOTER]
    tokens = analysis.tokenize(new)
    assert not (HEADER_WORDS | QUOTE_WORDS | SIGNATURE_WORDS | set(POLITICS)) & set(tokens[0])
    assert tokens[1] == ["voters", "senate"]
    save_analysis(analysis, tmp_path / "m")
    loaded = load_analysis(tmp_path / "m")
    assert loaded.tokenize(new) == tokens
    np.testing.assert_allclose(loaded.doc_vectors(new)[0], analysis.doc_vectors(new)[0])
    finance_topic = result.dominant_topics[1]
    assert loaded.doc_vectors(new)[0][0].argmax() == finance_topic  # the quote left out
    # A run saved before cleaning was recorded loads, and cleans nothing.
    header_path = tmp_path / "m" / "model.json"
    header = json.loads(header_path.read_text(encoding="utf-8"))
    del header["cleaning"]
    header_path.write_text(json.dumps(header), encoding="utf-8")
    old = load_analysis(tmp_path / "m")
    assert old.tokenize(new) == old.tokenizer.tokenize_many(new)


def test_phrases_reach_the_vocabulary_and_search():
    from topicmf.corpus import Corpus
    from topicmf.pipeline import analyze

    docs = [" ".join(doc) for doc in _phrase_corpus()]
    corpus = Corpus(ids=[str(i) for i in range(len(docs))], texts=docs, labels=None, name="p",
                    source="memory")
    result = analyze(corpus, 2, clean=Cleaner(phrases=True), max_df=1.0)
    assert "new_york" in set(result.dtm.terms) and "new" not in set(result.dtm.terms)
    assert result.analysis.info["cleaning"]["n_phrases"] >= 2
    assert result.search("flights to new york")  # the query's phrase is joined too
    assert "new_york" not in set(analyze(corpus, 2, max_df=1.0).dtm.terms)


def test_compare_and_sweep_clean_as_analyze_does(posts):
    from topicmf.compare import compare, sweep

    raw = compare(posts, 2, models=("nmf",), seeds=(0,), heldout=0, min_df=1, max_df=1.0)
    cleaned = compare(posts, 2, models=("nmf",), seeds=(0,), heldout=0, min_df=1, max_df=1.0,
                      clean=True)
    assert cleaned.settings["cleaning"]["mail"] and not raw.settings["cleaning"]["mail"]
    # poster0-4, org0-2, consortium and lines are the header's own words
    assert cleaned.settings["n_terms"] <= raw.settings["n_terms"] - 10
    assert not HEADER_WORDS & {t for topic in cleaned.topics["nmf"] for t, _ in topic}
    swept = sweep(posts, [2], seeds=(0,), min_df=1, max_df=1.0, clean=Cleaner(**EVERYTHING))
    assert swept.settings["cleaning"]["quotes"] and swept.settings["n_terms"] < \
        cleaned.settings["n_terms"]


def test_build_matrix_strips_posts_and_records_it(posts, tmp_path):

    from topicmf.build import build_matrix
    from topicmf.pipeline_shards import analyze_shards

    path = tmp_path / "posts.jsonl"
    path.write_text("".join(json.dumps({"text": t, "label": label}) + "\n"
                            for t, label in zip(posts.texts, posts.labels)), encoding="utf-8")
    shards = build_matrix(path, tmp_path / "shards", min_df=1, max_df=1.0,
                          clean=Cleaner(mail=True, signatures=True))
    terms = set(shards.terms)
    assert not (HEADER_WORDS | SIGNATURE_WORDS) & terms and {"stocks", "copyright"} <= terms
    assert shards.manifest["cleaning"]["signatures"] is True
    result = analyze_shards(tmp_path / "shards", 2)[0]
    assert result.analysis.cleaner.signatures and result.analysis.info["cleaning"]["mail"]
    assert not HEADER_WORDS & set(result.analysis.tokenize([posts.texts[0]])[0])
    headers = build_matrix(path, tmp_path / "headers", min_df=1, max_df=1.0, clean=True)
    assert not HEADER_WORDS & set(headers.terms) and SIGNATURE_WORDS <= set(headers.terms)
    raw = build_matrix(path, tmp_path / "raw", min_df=1, max_df=1.0)
    assert HEADER_WORDS <= set(raw.terms) and raw.manifest["cleaning"]["mail"] is False
    with pytest.raises(InvalidParameterError, match="boilerplate"):
        build_matrix(path, tmp_path / "no", clean=Cleaner(mail=True, boilerplate=True))


def test_the_command_line_flags_reach_the_run(tmp_path, capsys):

    from topicmf.cli import main

    folder = tmp_path / "posts"
    rng = random.Random(4)
    for i in range(12):
        label, words, other = ("finance", FINANCE, POLITICS) if i % 2 else \
            ("politics", POLITICS, FINANCE)
        (folder / label).mkdir(parents=True, exist_ok=True)
        (folder / label / f"{i}.txt").write_text(_post(i, words, other, rng), encoding="utf-8")
    runs = {}
    for name, flags in (("raw", []), ("clean", ["--clean"]),
                        ("all", ["--drop-quotes", "--drop-signatures", "--boilerplate",
                                 "--news-stopwords", "--phrases"])):
        out = tmp_path / name
        assert main(["analyze", str(folder), "--topics", "2", "--min-df", "1", "--max-df", "1.0",
                     "--out", str(out), "--quiet", "--no-report", *flags]) == 0
        runs[name] = json.loads((out / "topics.json").read_text(encoding="utf-8"))["summary"]
    assert runs["clean"]["cleaning"]["mail"] and not runs["raw"]["cleaning"]["mail"]
    assert all(runs["all"]["cleaning"][step] for step in ("mail", "quotes", "signatures",
                                                          "boilerplate", "phrases",
                                                          "news_stopwords"))
    sizes = [runs[name]["vocabulary"]["n_terms"] for name in ("raw", "clean", "all")]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > sizes[1] > sizes[2]
    capsys.readouterr()


def test_the_parsers_cleaning_is_the_pipelines():
    from conftest import subcommand_parser
    from topicmf.cli import analyze as analyze_command, build as build_command
    from topicmf.cli._common import cleaning
    from topicmf.pipeline import DEFAULTS

    off = Cleaner().settings()
    args = subcommand_parser(analyze_command.add_parser).parse_args(
        ["analyze", "x", "--topics", "2"])
    assert cleaning(args).settings() == off and DEFAULTS["clean"] is False
    assert args.news_stopwords is Tokenizer().news_stopwords is False
    args = subcommand_parser(analyze_command.add_parser).parse_args(
        ["analyze", "x", "--topics", "2", "--drop-quotes", "--boilerplate"])
    assert cleaning(args).settings() == {**off, "mail": True, "quotes": True,
                                         "boilerplate": True}
    args = subcommand_parser(build_command.add_parser).parse_args(
        ["build-matrix", "x", "--out", "y", "--clean", "--drop-signatures"])
    assert cleaning(args).settings() == {**off, "mail": True, "signatures": True}
    assert not hasattr(args, "phrases") and not hasattr(args, "boilerplate")


def test_cleaning_flags_reach_build_matrix_and_cannot_change_its_shards(posts, tmp_path, capsys):
    from topicmf.cli import main

    path = tmp_path / "posts.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in posts.texts),
                    encoding="utf-8")
    shards = tmp_path / "shards"
    assert main(["build-matrix", str(path), "--out", str(shards), "--min-df", "1", "--max-df",
                 "1.0", "--clean", "--quiet"]) == 0
    manifest = json.loads((shards / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["cleaning"]["mail"] and not HEADER_WORDS & set(manifest["terms"])
    assert main(["analyze", str(shards), "--topics", "2", "--clean", "--quiet"]) == 1
    assert "--clean cannot change a shard folder's matrix" in capsys.readouterr().err
