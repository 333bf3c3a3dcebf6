"""A run's topics for other tools: gensim, pyLDAvis, pandas and Parquet.

    from topicmf.interop import to_gensim, to_pyldavis, export_run
    g = to_gensim(result)          # dictionary, corpus, topics, texts for gensim's CoherenceModel
    args = to_pyldavis(result)     # pyLDAvis.prepare(**args)
    export_run("reports/news", "parquet")   # a saved run folder -> reports/news/export-parquet/

gensim is a dependency of topicmf; pandas (``topicmf[pandas]``), pyarrow (``topicmf[parquet]``)
and pyLDAvis (``topicmf[pyldavis]``) are optional and imported only by the functions that need
them. The counts are read from the sparse matrix, never made dense.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._optional import require
from ._validation import check_choice, check_int
from .errors import InvalidParameterError, TopicmfError, TopicmfWarning
from .io import staged_output
from .runs import load_run, run_folders

__all__ = ["GensimCorpus", "to_gensim", "to_pyldavis", "topics_frame", "doc_topics_frame",
           "export_run", "EXPORTS"]

#: What :func:`export_run` writes a run to.
EXPORTS = ("gensim", "pyldavis", "parquet")


@dataclass
class GensimCorpus:
    """A run in gensim's terms (see :func:`to_gensim`)."""

    dictionary: object               # gensim.corpora.Dictionary, ids = our term columns
    corpus: list[list[tuple[int, int]]]  # bag of words of each fitted document
    topics: list[list[str]]          # top terms of each topic, best first
    texts: list[list[str]]           # tokens of each fitted document, on the vocabulary


def to_gensim(result, *, topn: int | None = None, texts: str = "tokens") -> GensimCorpus:
    """``result`` (a TopicResult) as gensim objects, ready for gensim's ``CoherenceModel``.

    ``dictionary`` is a ``gensim.corpora.Dictionary`` whose ids are the columns of our
    vocabulary (document frequencies and counts filled in), ``corpus`` the bag of words
    ``[(term id, count), ...]`` of each fitted document, from the sparse counts, and ``topics``
    the top ``topn`` terms of each topic (default: the result's ``top_n``).

    ``texts`` are what sliding-window measures (``c_v``, ``c_npmi``) count over. With
    ``texts="tokens"`` the documents are tokenized again and kept to the vocabulary, in their
    order: the texts topicmf's own coherence (:class:`topicmf.evaluate.Coherence`) counts. A
    result whose texts cannot be read again (a shard folder written from a matrix), or whose
    texts no longer give the counts it was fitted on, raises TopicmfError. ``texts="counts"``
    needs no text: each document's terms repeated by their counts, in vocabulary order. The
    document measure ``u_mass`` is the same either way; window measures then count bags of
    words, not running text.
    """
    check_choice(texts, "texts", ("tokens", "counts"), owner="to_gensim")
    topn = result.top_n if topn is None else check_int(topn, "topn", low=1, owner="to_gensim")
    counts = result.fitted_counts()
    terms = [str(term) for term in result.analysis.vocabulary.terms]
    topics = [[str(term) for term, _ in topic] for topic in result.analysis.topics(topn)]
    if texts == "counts":
        token_lists = [[terms[i] for i, n in bag for _ in range(n)] for bag in _bags(counts)]
    else:
        token_lists = _tokens(result, terms, counts)
    return GensimCorpus(dictionary=_dictionary(terms, counts), corpus=list(_bags(counts)),
                        topics=topics, texts=token_lists)


def to_pyldavis(result) -> dict:
    """The keyword arguments of ``pyLDAvis.prepare`` for ``result`` (a TopicResult):
    ``topic_term_dists`` (K x V, each row the topic's weights scaled to sum to 1),
    ``doc_topic_dists`` (fitted documents x K, rows summing to 1), ``doc_lengths`` and
    ``term_frequency`` (token counts per document and per term, from the sparse counts),
    ``vocab``, and ``sort_topics=False`` so that pyLDAvis keeps our topic order (it numbers
    them from 1: its topic k + 1 is our topic k).

    pyLDAvis shows probability distributions, so the model must give topic mixtures (its
    ``doc_weights_kind`` is ``"mixture"``: NMF, PLSA, LDA). LSA's signed coordinates are no
    distribution and are refused (InvalidParameterError) rather than bent into one. A fitted
    document whose weights are all 0 (NMF can leave one so) gets the uniform mixture 1/K.
    Probabilities are kept as fitted: PLSA and NMF give some terms exactly 0 in a topic, for
    which pyLDAvis takes log 0 (numpy's "divide by zero" RuntimeWarning; the page is right).
    """
    model = result.model
    if model.doc_weights_kind != "mixture":
        raise InvalidParameterError(
            f"to_pyldavis needs topic mixtures, but {result.analysis.model_name} gives "
            f"{model.doc_weights_kind} (signed weights, not distributions); fit nmf, plsa or "
            f"lda for pyLDAvis.")
    from .report.data import _topic_term_distributions

    doc_topic = np.array(result.doc_weights, dtype=np.float64)
    doc_topic[doc_topic.sum(axis=1) <= 0] = 1.0 / doc_topic.shape[1]
    counts = result.fitted_counts()
    return {
        "topic_term_dists": _topic_term_distributions(model.components_),
        "doc_topic_dists": doc_topic,
        "doc_lengths": np.asarray(counts.sum(axis=1), dtype=np.int64).ravel(),
        "vocab": [str(term) for term in result.analysis.vocabulary.terms],
        "term_frequency": np.asarray(counts.sum(axis=0), dtype=np.int64).ravel(),
        "sort_topics": False,
    }


def topics_frame(result):
    """See :meth:`topicmf.pipeline.TopicResult.topics_frame`."""
    pd = require("pandas", "topics_frame()", "pandas")
    names = result.analysis.topic_names
    rows = [(k, rank, str(term), float(weight), names[k] or "")
            for k, terms in enumerate(result.topics)
            for rank, (term, weight) in enumerate(terms, start=1)]
    frame = pd.DataFrame(rows, columns=["topic", "rank", "term", "weight", "name"])
    return frame.astype({"topic": "int64", "rank": "int64", "weight": "float64"})


def doc_topics_frame(result):
    """See :meth:`topicmf.pipeline.TopicResult.doc_topics_frame`."""
    pd = require("pandas", "doc_topics_frame()", "pandas")
    ids, labels, weights = [], [], []
    n_topics = result.analysis.n_topics
    missing = np.full(n_topics, np.nan)
    for doc_id, label, row in result.doc_topic_rows():
        ids.append(doc_id)
        labels.append(label)
        weights.append(missing if row is None else row)
    columns = [f"topic_{k}" for k in range(n_topics)]
    frame = pd.DataFrame(np.array(weights, dtype=np.float64).reshape(len(ids), n_topics),
                         index=pd.Index(ids, name="doc_id"), columns=columns)
    if (result.analysis.info.get("corpus") or {}).get("labels"):  # the corpus has labels
        frame.insert(0, "label", labels)
    return frame


def export_run(run_dir, to: str, out=None) -> list[Path]:
    """Export a run folder saved by ``topicmf analyze`` (or :func:`topicmf.export.write_outputs`)
    for another tool; return the paths written in ``out`` (default ``run_dir/export-{to}``).

    ``to`` is one of :data:`EXPORTS`:

    - ``"gensim"``: ``dictionary.txt`` (gensim's ``Dictionary.save_as_text``; load it with
      ``Dictionary.load_from_text``), ``corpus.mm`` (the fitted documents' bags of words in
      Matrix Market format; ``gensim.corpora.MmCorpus("corpus.mm")``), ``topics.json`` (each
      topic's top terms and weights). gensim's own ``MmCorpus.serialize`` would also write a
      pickled index; that is left out: MmCorpus reads the file without it.
    - ``"pyldavis"``: the arguments of :func:`to_pyldavis`, the arrays as ``.npy`` (read with
      ``numpy.load``, no pickle), ``vocab`` and the other options in ``prepare.json``; and,
      when pyLDAvis is installed, ``pyldavis.html``, the page of ``pyLDAvis.save_html``. That
      page loads pyLDAvis's scripts and styles (and d3) from a CDN, so it needs the network to
      show, unlike topicmf's own report. Without pyLDAvis a TopicmfWarning says the page was
      left out.
    - ``"parquet"``: ``topics.parquet`` and ``doc_topics.parquet``, the tables of
      :meth:`~topicmf.pipeline.TopicResult.topics_frame` and ``doc_topics_frame`` (``doc_id`` a
      column). Needs pandas and pyarrow (``topicmf[parquet]``).

    A run of several models gets a subfolder per model in ``out``, as in ``run_dir``. The
    gensim and pyLDAvis exports need the documents' counts: ``model/counts.npz`` in each run
    folder, or for a run on a shard folder, that folder (found where the run read it). A run
    folder written before topicmf saved the counts is a ModelFileError saying to re-run
    ``topicmf analyze``. Everything is written into a staging folder and moved into place at
    the end, so a failure leaves ``out`` as it was.
    """
    check_choice(to, "to", EXPORTS, owner="export_run")
    run_dir = Path(run_dir)
    folders = run_folders(run_dir)
    out = run_dir / f"export-{to}" if out is None else Path(out)
    if to == "parquet":
        require("pandas", "export_run(to='parquet')", "parquet")
        require("pyarrow", "export_run(to='parquet')", "parquet")
    with staged_output(out) as staging:
        for name, folder in folders:
            target = staging / name if name else staging
            target.mkdir(exist_ok=True)
            _WRITERS[to](load_run(folder, f"export to {to}"), target)
        names = sorted(p.name for p in staging.iterdir())
    return [out / name for name in names]


# ---------------------------------------------------------------------------- writers

def _write_gensim(result, folder: Path) -> None:
    from gensim.matutils import MmWriter

    counts = result.fitted_counts()
    terms = [str(term) for term in result.analysis.vocabulary.terms]
    odd = [term for term in terms if any(c in term for c in "\t\n\r")]
    if odd:
        raise TopicmfError(f"the term {odd[0]!r} holds a tab or line break, which gensim's "
                           f"dictionary text format cannot store; remove it from the user "
                           f"dictionary and re-run topicmf analyze.")
    _dictionary(terms, counts).save_as_text(str(folder / "dictionary.txt"))
    MmWriter.write_corpus(str(folder / "corpus.mm"), _bags(counts), num_terms=len(terms),
                          index=False, metadata=False)
    topics = [{"topic": k, "terms": [str(term) for term, _ in topic],
               "weights": [float(weight) for _, weight in topic]}
              for k, topic in enumerate(result.topics)]
    (folder / "topics.json").write_text(json.dumps(topics, ensure_ascii=False, indent=1),
                                        encoding="utf-8")


def _write_pyldavis(result, folder: Path) -> None:
    args = to_pyldavis(result)
    options = {}
    for name, value in args.items():
        if isinstance(value, np.ndarray):
            np.save(folder / f"{name}.npy", value, allow_pickle=False)
        else:
            options[name] = value
    (folder / "prepare.json").write_text(json.dumps(options, ensure_ascii=False),
                                         encoding="utf-8")
    try:
        pyldavis = require("pyLDAvis", "the pyLDAvis page", "pyldavis")
    except ImportError as exc:
        warnings.warn(f"{exc}; wrote the arrays of pyLDAvis.prepare without the page.",
                      TopicmfWarning, stacklevel=3)
        return
    with np.errstate(divide="ignore"):  # log 0 for the terms a topic gives probability 0
        prepared = pyldavis.prepare(**args)
    with (folder / "pyldavis.html").open("w", encoding="utf-8") as handle:
        # A fixed element id: the same run gives the same page.
        pyldavis.save_html(prepared, handle, visid="topicmf-pyldavis")


def _write_parquet(result, folder: Path) -> None:
    topics_frame(result).to_parquet(folder / "topics.parquet", index=False)
    doc_topics_frame(result).reset_index().to_parquet(folder / "doc_topics.parquet",
                                                      index=False)


_WRITERS = {"gensim": _write_gensim, "pyldavis": _write_pyldavis, "parquet": _write_parquet}


# ---------------------------------------------------------------------------- gensim pieces

def _bags(counts):
    """Each row of a CSR matrix as gensim's bag of words [(column, count), ...]."""
    indptr = counts.indptr.tolist()
    indices, data = counts.indices, counts.data
    for start, stop in zip(indptr[:-1], indptr[1:]):
        yield list(zip(indices[start:stop].tolist(), data[start:stop].astype(np.int64).tolist()))


def _dictionary(terms: list[str], counts):
    from gensim.corpora import Dictionary

    dictionary = Dictionary()
    dictionary.token2id = {term: i for i, term in enumerate(terms)}
    frequencies = np.bincount(counts.indices, minlength=len(terms))
    totals = np.asarray(counts.sum(axis=0), dtype=np.int64).ravel()
    dictionary.dfs = dict(enumerate(frequencies.tolist()))
    dictionary.cfs = dict(enumerate(totals.tolist()))
    dictionary.num_docs = counts.shape[0]
    dictionary.num_pos = int(totals.sum())
    dictionary.num_nnz = int(counts.nnz)
    return dictionary


def _tokens(result, terms: list[str], counts) -> list[list[str]]:
    known = set(terms)
    texts = result.fitted_texts(range(counts.shape[0]))
    token_lists = [[t for t in tokens if t in known]
                   for tokens in result.analysis.tokenize(texts)]
    lengths = np.fromiter(map(len, token_lists), dtype=np.int64, count=len(token_lists))
    if not np.array_equal(lengths, np.asarray(counts.sum(axis=1)).ravel()):
        raise TopicmfError("the documents' texts, tokenized again, do not give the counts the "
                           "model was fitted on (the texts are not available, or have changed); "
                           "pass texts='counts' to rebuild texts from the counts.")
    return token_lists


# ---------------------------------------------------------------------------- saved runs
