"""Guided topics: seed files, seed words matched to the vocabulary, seeded fits, named outputs."""

from __future__ import annotations

import csv
import json
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from topicmf import analyze, load_corpus
from topicmf.errors import CorpusError, InvalidParameterError, TopicmfWarning
from topicmf.guided import read_seed_file, seed_terms
from topicmf.models import LSA, NMF, PLSA
from topicmf.tokenize import Tokenizer



from conftest import ROOT

EN = str(ROOT / "corpora" / "finance-politics-en")
ZH = str(ROOT / "corpora" / "finance-politics-zh")


# ------------------------------------------------------------------- seed files
def test_a_seed_file_gives_its_topics_in_order(tmp_path):
    path = tmp_path / "seeds.txt"
    path.write_text("# what we look for\n\nfinance: bank  market\n政治：選舉 总统\n",
                    encoding="utf-8")
    assert read_seed_file(path) == {"finance": ["bank", "market"], "政治": ["選舉", "总统"]}


@pytest.mark.parametrize("encoding", ["gb18030", "big5"])
def test_a_seed_file_in_a_chinese_encoding_is_read(tmp_path, encoding):
    path = tmp_path / "seeds.txt"
    path.write_bytes("財經: 股票 投資 銀行\n政治: 選舉 總統 立法院\n".encode(encoding))
    assert read_seed_file(path)["財經"] == ["股票", "投資", "銀行"]


@pytest.mark.parametrize("text, message", [
    ("finance bank market\n", "line 1 .* no 'name:'"),
    ("a: x\n\na: y\n", "line 3 .* repeats the topic name 'a'"),
    ("a:\n", "line 1 .* gives topic 'a' no words"),
    ("# nothing\n", "has no topics"),
])
def test_a_bad_seed_file_is_one_line_naming_file_and_line(tmp_path, text, message):
    path = tmp_path / "seeds.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CorpusError, match=message) as info:
        read_seed_file(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_a_missing_seed_file_or_a_folder_is_an_error(tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        read_seed_file(tmp_path / "nope.txt")
    with pytest.raises(CorpusError, match="is a folder"):
        read_seed_file(tmp_path)


# ------------------------------------------------------------- words to terms
def test_seed_words_match_terms_in_either_script_and_unknown_words_are_named():
    tokenizer = Tokenizer()
    terms = ["股票", "投資", "銀行", "選舉", "总统", "bank"]
    with pytest.warns(TopicmfWarning, match=r"1 seed word.*'zzzqqq' \(a\)"):
        names, topics = seed_terms({"a": ["股票", "投资", "银行", "zzzqqq"],
                                    "b": ["选举", "總統", "Bank"]}, tokenizer, terms, 3)
    assert names == ["a", "b"]
    assert topics == [[0, 1, 2], [3, 4, 5]]


def test_a_topic_with_no_known_word_and_too_many_topics_are_errors():
    tokenizer = Tokenizer()
    with pytest.raises(InvalidParameterError, match="None of the seed words of topic 'a'"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            seed_terms({"a": ["zzzqqq"]}, tokenizer, ["bank"], 2)
    with pytest.raises(InvalidParameterError, match="3 seeded topics but only 2 topics"):
        seed_terms({"a": ["bank"], "b": ["bank"], "c": ["bank"]}, tokenizer, ["bank"], 2)
    with pytest.raises(InvalidParameterError, match="non-empty dict"):
        seed_terms({}, tokenizer, ["bank"], 2)
    with pytest.raises(InvalidParameterError, match="needs a list of words"):
        seed_terms({"a": [1, 2]}, tokenizer, ["bank"], 2)


# --------------------------------------------------------------------- models
def _planted(seed=0, n_docs=300, n_terms=60):
    """Three themes of 20 terms; theme 2's documents also use theme 1's first terms, so an
    unseeded fit is free to mix them."""
    rng = np.random.RandomState(seed)
    rows = []
    for d in range(n_docs):
        theme = d % 3
        weights = np.full(n_terms, 0.02)
        weights[theme * 20:(theme + 1) * 20] = 1.0
        rows.append(rng.poisson(weights * 0.6))
    return sp.csr_array(np.asarray(rows, dtype=np.float64))


SEEDED = {
    "nmf": lambda **kw: NMF(3, random_state=0, max_iter=300, **kw),
    "nmf-kl": lambda **kw: NMF(3, beta_loss="kullback-leibler", random_state=0, max_iter=300,
                               **kw),
    "plsa": lambda **kw: PLSA(3, random_state=0, max_iter=300, background=0.2, **kw),
}


@pytest.mark.filterwarnings("ignore::topicmf.errors.ConvergenceWarning")
@pytest.mark.parametrize("name", sorted(SEEDED))
def test_a_seeded_topic_takes_its_words_and_its_documents(name):
    X = _planted()
    seeds = [[45, 47, 52]]  # three words of theme 2, seeding topic 0
    model = SEEDED[name](seed_topics=seeds).fit(X)
    H = model.components_
    # The seed words rank high in topic 0, higher than in the unseeded fit's topic 0...
    rank = np.argsort(np.argsort(-H[0]))
    assert rank[seeds[0]].max() < 20
    # ...and topic 0 is theme 2: most of its weight is on theme 2's terms, and theme 2's
    # documents have it as their dominant topic.
    assert H[0, 40:60].sum() > 0.6 * H[0].sum()
    dominant = model.doc_topic_.argmax(axis=1)
    assert np.mean(dominant[2::3] == 0) > 0.8
    # The objective (with the seeds' part) moves one way only.
    history = np.asarray(model.history_)
    steps = np.diff(history) * (1 if model.maximize_objective else -1)
    assert (steps >= -1e-9 * np.abs(history).max()).all()


@pytest.mark.filterwarnings("ignore::topicmf.errors.ConvergenceWarning")
@pytest.mark.parametrize("name", sorted(SEEDED))
def test_a_seeded_fit_is_deterministic_and_saves_its_seeds(name):
    X = _planted(seed=1)
    a = SEEDED[name](seed_topics=[[45, 47]], seed_strength=0.5).fit(X)
    b = SEEDED[name](seed_topics=[[45, 47]], seed_strength=0.5).fit(X)
    np.testing.assert_array_equal(a.components_, b.components_)
    params, arrays = a.get_state()
    assert params["params"]["seed_topics"] == [[45, 47]]
    back = type(a).from_state(json.loads(json.dumps(params)), arrays)
    assert back.seed_strength == 0.5
    np.testing.assert_array_equal(back.transform(X[:5]), a.transform(X[:5]))


@pytest.mark.filterwarnings("ignore::topicmf.errors.ConvergenceWarning")
@pytest.mark.parametrize("beta_loss", ["frobenius", "kullback-leibler"])
def test_a_stronger_seed_pulls_its_words_further(beta_loss):
    X = _planted(seed=2)
    weights = [NMF(3, beta_loss=beta_loss, random_state=0, max_iter=200, seed_topics=[[45]],
                   seed_strength=s).fit(X).components_[0] for s in (0.0, 0.3, 3.0)]
    shares = [w[45] / w.sum() for w in weights]
    assert shares[0] < shares[1] < shares[2]


def test_the_kl_seed_penalty_holds_when_a_topic_is_scaled():
    """Scaling a topic up (and its documents' weights down) leaves W H as it is: the penalty
    must not change either, or the fit could void it that way."""
    from topicmf.models._seeds import Seeds

    seeds = Seeds([np.array([1, 3])], mass=2.0, weight=5.0)
    HT = np.random.RandomState(0).uniform(0.1, 1.0, size=(6, 2))
    scaled = HT.copy()
    scaled[:, 0] *= 40.0
    assert seeds.kl_penalty(HT) > 0
    assert seeds.kl_penalty(scaled) == pytest.approx(seeds.kl_penalty(HT))
    only_seeds = np.zeros((6, 2))
    only_seeds[[1, 3], 0] = 1.0  # topic 0 is its seed words, in equal parts: no penalty
    assert seeds.kl_penalty(only_seeds + 1e-300) == pytest.approx(0.0, abs=1e-9)


def test_seed_parameters_are_checked():
    X = _planted()
    with pytest.raises(InvalidParameterError, match="2 seeded topics for n_topics=1"):
        NMF(1, seed_topics=[[1], [2]]).fit(X)
    with pytest.raises(InvalidParameterError, match="outside the vocabulary of 60 terms"):
        PLSA(3, seed_topics=[[1, 60]]).fit(X)
    with pytest.raises(InvalidParameterError, match="seed_strength"):
        NMF(3, seed_topics=[[1]], seed_strength=-1).fit(X)
    with pytest.raises(InvalidParameterError, match="no seed term"):
        NMF(3, seed_topics=[[]]).fit(X)
    assert not LSA.seedable and NMF.seedable and PLSA.seedable


# ------------------------------------------------------------------ pipeline
def test_analyze_names_the_seeded_topics_everywhere(tmp_path):
    from topicmf.display import format_analysis
    from topicmf.export import write_outputs

    corpus = load_corpus(ZH)
    # PLSA: on these 80 documents at K = 3, KL-NMF gives the free topic words every story
    # uses (表示, 今天) and half the documents of both classes.
    result = analyze(corpus, 3, model="plsa", seed_words={"财经": ["股票", "投資", "银行"],
                                                          "政治": ["选举", "總統"]})
    assert result.analysis.topic_names == ["财经", "政治", None]
    labels = result.analysis.topic_labels()
    assert labels[:2] == ["财经", "政治"] and " / " in labels[2]
    assert result.analysis.info["model"]["seed_words"] == {"财经": ["股票", "投資", "銀行"],
                                                          "政治": ["選舉", "總統"]}
    # The finance seed pulls the finance documents: its topic holds most of them.
    finance = np.asarray(result.fitted_labels) == "finance"
    assert np.mean(result.dominant_topics[finance] == 0) > 0.7
    write_outputs(result, tmp_path / "run")
    topics = json.loads((tmp_path / "run" / "topics.json").read_text(encoding="utf-8"))
    assert [t["name"] for t in topics["topics"]] == ["财经", "政治", None]
    with (tmp_path / "run" / "topics.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["name"] for r in rows if r["topic"] == "1"} == {"政治"}
    page = (tmp_path / "run" / "index.html").read_text(encoding="utf-8")
    assert 'topic-label">财经<' in page and "seed words: 股票 投資 銀行" in page
    assert "Topic 0  (" in format_analysis(result, tmp_path) and ": 财经" in \
        format_analysis(result, tmp_path)
    # Reloaded, the names stay; merged, they join.
    from topicmf.io import load_analysis
    assert load_analysis(tmp_path / "run" / "model").topic_names == ["财经", "政治", None]
    assert result.merge_topics([1, 2]).analysis.topic_names == ["财经", "政治"]
    assert result.merge_topics([0, 1]).analysis.topic_names == ["财经 + 政治", None]


def test_analyze_refuses_seeds_for_a_model_without_them_before_reading():
    corpus = load_corpus(EN)
    with pytest.raises(InvalidParameterError, match="model 'lsa' cannot take them"):
        analyze(corpus, 3, model="lsa", seed_words={"a": ["bank"]})
    with pytest.raises(InvalidParameterError, match="2 seeded topics but only 1"):
        analyze(corpus, 1, seed_words={"a": ["bank"], "b": ["vote"]})


@pytest.mark.filterwarnings("ignore::topicmf.errors.ConvergenceWarning")
def test_seeds_from_shards_fit_what_they_fit_in_memory(tmp_path):
    from topicmf.build import build_matrix
    from topicmf.pipeline_shards import analyze_shards

    build_matrix(EN, tmp_path / "shards", shard_docs=30)
    seeds = {"money": ["bank", "market"], "vote": ["election"]}
    [result] = analyze_shards(tmp_path / "shards", 3, seed_words=seeds, engine="memory")
    assert result.analysis.topic_names == ["money", "vote", None]
    top = [t for t, _ in result.topics[0]]
    assert "bank" in top or "market" in top


# ---------------------------------------------------------------------- CLI
def test_cli_seed_words(tmp_path, capsys):
    from topicmf.cli import main

    seeds = tmp_path / "seeds.txt"
    seeds.write_text("money: bank market zzzqqq\nvote: election\n", encoding="utf-8")
    out = tmp_path / "out"
    code = main(["analyze", EN, "--topics", "3", "--seed-words", str(seeds),
                 "--out", str(out), "--no-report", "--quiet"])
    assert code == 0
    assert "warning: 1 seed word(s) not in the vocabulary" in capsys.readouterr().err
    topics = json.loads((out / "topics.json").read_text(encoding="utf-8"))["topics"]
    assert [t["name"] for t in topics] == ["money", "vote", None]
    for argv, message in (
            (["--topics", "1", "--seed-words", str(seeds)], "2 seeded topics but only 1"),
            (["--topics", "3", "--model", "lsa", "--seed-words", str(seeds)], "'lsa' cannot"),
            (["--topics", "3", "--seed-strength", "0.5"], "--seed-strength goes with"),
            (["--topics", "3", "--seed-words", str(seeds), "--seed-strength", "-1"],
             "--seed-strength must be 0 or more"),
            (["--topics", "3", "--seed-words", str(tmp_path / "no.txt")], "does not exist")):
        capsys.readouterr()
        assert main(["analyze", EN, *argv, "--out", str(tmp_path / "bad")]) == 1
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1 and "Traceback" not in err
        assert not (tmp_path / "bad").exists()
