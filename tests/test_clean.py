"""Cleaning what reaches the model: mail and news posts, repeated lines, phrases."""

import collections
import random

import pytest

from topicmf.clean import (Cleaner, drop_lines, join_phrases, learn_phrases, line_hash,
                           line_key, phrase_term, repeated_lines, strip_mail)
from topicmf.errors import InvalidParameterError

REPLY = """From: pat@example.org (Pat Rivers)
Subject: Re: Re: Best tyres for winter driving?
Organization: Example University, Dept. of Physics
Lines: 14
Message-ID: <1234@example.org>
NNTP-Posting-Host: wiki.example.org

In article <5678@other.example.com> lee@other.example.com (Lee
Morgan) writes:
> Has anyone tried studded tyres on a front wheel drive car?
>> I only drive in the city.
|> an older quotation marker
: and another one

Studded tyres grip well on ice but wear quickly on dry roads.
My hatchback does fine with a good set of winter tyres.

--
Pat Rivers, Example University   "Drive slowly"
pat@example.org
"""


HEADER = ("From:", "Organization", "Dept. of Physics", "Message-ID", "Lines", "NNTP")
QUOTES = ("writes", "Morgan", "front wheel", "city", "older quotation", "another one")
SIGNATURE = ("Drive slowly", "pat@example.org")


def test_a_reply_loses_its_header_and_keeps_its_quotes_and_signature():
    cleaned = strip_mail(REPLY)
    assert cleaned.startswith("Best tyres for winter driving?\n\nIn article <5678@")  # no Re:
    assert "Studded tyres grip well on ice" in cleaned and "winter tyres." in cleaned
    for gone in HEADER:
        assert gone not in cleaned, gone
    for kept in QUOTES + SIGNATURE:
        assert kept in cleaned, kept


def test_quotes_with_their_attribution_and_signatures_are_dropped_when_asked():
    cleaned = strip_mail(REPLY, quotes=True, signature=True)
    assert cleaned.startswith("Best tyres for winter driving?\n\nStudded tyres grip well")
    assert cleaned.endswith("My hatchback does fine with a good set of winter tyres.")
    for gone in HEADER + QUOTES + SIGNATURE:
        assert gone not in cleaned, gone
    quotes_only = strip_mail(REPLY, quotes=True)
    assert not any(q in quotes_only for q in QUOTES) and "Drive slowly" in quotes_only
    signature_only = strip_mail(REPLY, signature=True)
    assert "front wheel" in signature_only and "Drive slowly" not in signature_only


def test_a_post_with_a_cut_off_first_header_line_is_recognized():
    post = (" host1!host2!example.org!pat\nSubject: Selling a bicycle\n"
            "From: pat@example.org\nOrganization: Example\n\nA red touring bicycle, "
            "barely used.\n-- \nPat")
    assert strip_mail(post, signature=True) == \
        "Selling a bicycle\n\nA red touring bicycle, barely used."


def test_wrote_attribution_and_quotes_without_a_header():
    message = ("Sam Lee wrote:\n> Is the museum open on Mondays?\n\nYes, from ten until "
               "six.\n")
    assert strip_mail(message) is message  # no header: nothing to do without quotes
    assert strip_mail(message, quotes=True) == "Yes, from ten until six."
    assert strip_mail(message, signature=True) is message


def test_plain_text_comes_out_unchanged():
    texts = [
        "Note: the central bank raised rates.\nSummary: markets fell.\n\nShares dropped.",
        "Stocks rallied on Tuesday.\n-- \nThe dash line above is part of this text.",
        "> not a quote: the arrow starts a plain line\nand no one wrote anything.",
        "Re: the minutes of the meeting\nwere approved.",
        "央行宣布降息。\n\n分析师表示：股市将上涨。\n--\n記者 王小明",
        "新华社北京10月30日电（记者 李明）\n  外交部发言人表示，中方欢迎各方参与。",
        "",
    ]
    for text in texts:
        assert strip_mail(text, quotes=True, signature=True) is text


def test_a_header_needs_two_mail_keys():
    assert strip_mail("Subject: rates\n\nThe bank raised rates.").startswith("Subject:")
    assert strip_mail("From: a@b.org\nSubject: rates\n\nThe bank raised rates.") == \
        "rates\n\nThe bank raised rates."


# -- repeated lines ---------------------------------------------------------------------------

def _corpus_with_boilerplate(n=300, seed=3):
    rng = random.Random(seed)
    words = "rates bank market election vote team match film music school".split()
    texts = []
    for i in range(n):
        body = [" ".join(rng.choices(words, k=8)) + f" item {i}" for _ in range(3)]
        if i % 10 == 0:  # 10 % of the documents
            body.append("Copyright   Example Wire Service, all rights reserved.")
        if i % 50 == 0:  # 2 %
            body.insert(0, "Click here to subscribe to our newsletter")
        if i < 3:  # three documents: below min_docs
            body.append("A line shared by just three documents")
        texts.append("\n".join(body))
    return texts


def test_repeated_lines_are_found_and_dropped():
    texts = _corpus_with_boilerplate()
    lines = repeated_lines(texts, min_docs=5, min_share=0.01)
    copyright = line_hash("Copyright Example Wire Service, all rights reserved.")
    subscribe = line_hash("Click here to subscribe to our newsletter")
    assert lines == {copyright, subscribe}
    cleaned = drop_lines(texts[0], lines)
    assert "Copyright" not in cleaned and "subscribe" not in cleaned
    assert "A line shared by just three documents" in cleaned
    assert cleaned.count("\n") == texts[0].count("\n") - 2
    assert drop_lines(texts[1], lines) is texts[1]  # nothing to drop: the same text
    # A higher share keeps the 2 % line.
    assert repeated_lines(texts, min_share=0.05) == {copyright}


def test_a_line_counts_once_per_document_and_short_lines_never():
    texts = ["Thanks\nsame long line here\nsame long line here\nsame long line here"] + \
        [f"document {i} says something" for i in range(9)]
    assert repeated_lines(texts, min_docs=2, min_share=0) == frozenset()
    texts += ["same long line here"]
    assert repeated_lines(texts, min_docs=2, min_share=0) == {line_hash("same long line here")}
    assert line_key("Thanks,") is None and line_key("  a   b  c d e f ") == "a b c d e f"


def test_the_sketch_count_equals_an_exact_count():
    rng = random.Random(0)
    pool = [f"line number {i} of the pool" for i in range(400)]
    texts = ["\n".join(rng.choices(pool, weights=[1 + (i % 40) ** 2 for i in range(400)], k=12))
             for _ in range(500)]
    exact = collections.Counter()
    for text in texts:
        exact.update(set(text.split("\n")))
    want = {line_hash(line) for line, n in exact.items() if n >= 25}
    assert want and repeated_lines(texts, min_docs=25, min_share=0.0) == want


# -- phrases ------------------------------------------------------------------------------------

def _phrase_corpus():
    rng = random.Random(5)
    filler = [f"word{i}" for i in range(3000)] + ["market", "rally"] * 300
    docs = []
    for _ in range(200):
        doc = rng.choices(filler, k=12)
        at = rng.randrange(11)
        doc[at:at] = ["new", "york"]
        if rng.random() < 0.5:
            doc += ["中央", "银行"]
        docs.append(doc)
    return docs


def test_phrases_are_learned_and_joined_like_gensim():
    from gensim.models.phrases import Phrases

    docs = _phrase_corpus()
    phrases = learn_phrases(docs, min_count=5, threshold=10.0)
    assert phrases[("new", "york")] == "new_york"
    assert phrases[("中央", "银行")] == "中央银行"
    assert ("market", "rally") not in phrases
    model = Phrases(docs, min_count=5, threshold=10.0, delimiter="_")
    for doc in docs[:50] + [["new", "york", "york"], ["york", "new", "york", "new"]]:
        ours = [t.replace("中央银行", "中央_银行") for t in join_phrases(doc, phrases)]
        assert ours == model[doc]


def test_join_phrases_goes_left_to_right():
    phrases = {("a", "b"): "a_b", ("b", "c"): "b_c"}
    assert join_phrases(["a", "b", "c"], phrases) == ["a_b", "c"]
    assert join_phrases(["b", "c", "a", "b"], phrases) == ["b_c", "a_b"]
    assert join_phrases(["c"], phrases) == ["c"]
    assert phrase_term("iphone", "手机") == "iphone_手机"


# -- the Cleaner --------------------------------------------------------------------------------

def test_cleaner_cleans_new_texts_as_it_cleaned_the_corpus():
    texts = _corpus_with_boilerplate()
    texts[7] = REPLY
    cleaner = Cleaner(mail=True, quotes=True, boilerplate=True)
    cleaned = cleaner.fit_texts(texts)
    assert "Organization" not in cleaned[7] and "Copyright" not in cleaned[10]
    assert cleaner.n_posts_ == 1
    again = Cleaner.from_config(cleaner.get_config())
    assert again.settings() == cleaner.settings()
    new = ["Copyright Example Wire Service, all rights reserved.\nrates rose", REPLY]
    assert again.texts(new) == cleaner.texts(new) == ["rates rose",
                                                      strip_mail(REPLY, quotes=True)]
    assert Cleaner().texts(new) == new
    assert Cleaner.from_config(None).texts(new) == new  # a run saved before cleaning


def test_cleaner_phrases_round_trip():
    cleaner = Cleaner(phrases=True)
    joined = cleaner.fit_tokens(_phrase_corpus())
    assert sum(doc.count("new_york") for doc in joined) == 200
    again = Cleaner.from_config(cleaner.get_config())
    assert again.tokens([["in", "new", "york", "中央", "银行"]]) == [["in", "new_york", "中央银行"]]
    assert Cleaner().fit_tokens([["new", "york"]]) == [["new", "york"]]


def test_cleaner_checks_its_settings():
    with pytest.raises(InvalidParameterError, match="'mail'"):
        Cleaner(mail="yes")
    with pytest.raises(InvalidParameterError, match="go with 'mail'"):
        Cleaner(quotes=True)
    with pytest.raises(InvalidParameterError, match="Cleaner config"):
        Cleaner.from_config({"mail": True, "unknown": 1})
