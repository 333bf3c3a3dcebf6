"""The main job: corpus in, topics out. Objects in, objects out; nothing here prints or exits.

    corpus = load_corpus("corpora/finance-politics-en")
    result = analyze(corpus, n_topics=2)
    result.topics            # [[(term, weight), ...], ...]
    result.dominant_topics   # one topic index per document
"""

from __future__ import annotations

import platform
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import __version__
from ._validation import check_choice, check_int
from .clean import Cleaner, as_cleaner
from .corpus import Corpus
from .errors import InvalidParameterError, TopicmfWarning, VocabularyError
from .models import MODELS, VARIANTS, make_model, model_class
from .tokenize import Tokenizer
from .vectorize import DocTermMatrix, Vocabulary, check_weighting, vectorize

__all__ = ["Analysis", "Prepared", "TopicResult", "analyze", "analyze_many", "fit_prepared",
           "prepare", "INPUT_KIND", "DEFAULTS"]

#: Which matrix each model is fitted on, as the model classes declare it (``input_kind``).
INPUT_KIND = {name: model_class(name).input_kind for name in VARIANTS}

# sublinear_tf (1 + log tf) is off by default. On 20 Newsgroups it raised NMF's NPMI (0.219 ->
# 0.254) but lowered agreement with the groups (NMI 0.525 -> 0.476), and by eye fewer topics were
# newsgroup subjects: the coherence gain came partly from mail-header topics (apr / gmt, newsreader
# names). On Chinese news it helped KL-NMF (purity 0.87 -> 0.93), NMF hardly (0.945 -> 0.949);
# THUCNews headlines unchanged (benchmarks/weighting.py, benchmarks/RESULTS.md).
#
# Cleaning is off by default (clean=False; benchmarks/cleanup.py, benchmarks/RESULTS.md, the
# README's "Cleaning the text"). No step helped on average over the four labelled corpora while
# costing under 0.01 NMI and NPMI on each: the headers of posts (20 Newsgroups only) lifted NMF
# (NMI +0.028) but cost KL-NMF 0.018 NMI and PLSA 0.016 NPMI; repeated lines cost up to 0.005
# and helped nowhere; news stopwords helped NPMI (+0.006 on average) but cost PLSA 0.016 NMI on
# THUCNews; phrases cost 0.04 NMI and 0.05 NPMI on average.
# weighting stays TF-IDF for topics; log-entropy (or sublinear tf) is the choice for LSA search
# and similarity, best or tied for neighbours on the four labelled corpora
# (benchmarks/similarity.py; the README's "Finding documents").
DEFAULTS = {"model": "nmf-kl", "min_df": 2, "max_df": 0.5, "max_terms": None,
            "sublinear_tf": False, "weighting": "tfidf", "clean": False, "seed": 0, "top_n": 10}

# progress(stage, done, total): stage is "tokenize" or "fit"; total may be None.
Progress = Callable[[str, int, "int | None"], None]


@dataclass
class Analysis:
    """A fitted analysis: what it takes to give topics to new documents.

    Saved and loaded by :mod:`topicmf.io` (arrays in .npz, the rest in JSON; no pickle).
    """

    tokenizer: Tokenizer
    vocabulary: Vocabulary
    model: object
    model_name: str
    info: dict = field(default_factory=dict)
    cleaner: Cleaner = field(default_factory=Cleaner)  # what the texts went through first

    @property
    def n_topics(self) -> int:
        return self.model.components_.shape[0]

    @property
    def topic_names(self) -> list[str | None]:
        """Each topic's given name (the seeded topics of a guided fit), else None."""
        names = list(self.info.get("model", {}).get("topic_names") or [])
        return (names + [None] * self.n_topics)[:self.n_topics]

    def topic_labels(self, n: int = 3) -> list[str]:
        """A short name for each topic: its given name, else its top ``n`` terms."""
        return [name if name else topic_label(terms, n)
                for name, terms in zip(self.topic_names, self.topics(n))]

    def topics(self, n: int = 10) -> list[list[tuple[str, float]]]:
        """The top ``n`` terms of each topic with their weights."""
        return self.model.top_terms(self.vocabulary.terms, n=n)

    def tokenize(self, texts) -> list[list[str]]:
        """New texts made into tokens as the fitted documents were: cleaned (see
        :class:`topicmf.clean.Cleaner`), tokenized, their phrases joined."""
        return self.cleaner.tokenize(self.tokenizer, texts)

    def doc_vectors(self, texts) -> tuple[np.ndarray, np.ndarray]:
        """Fold new documents into the model.

        Returns (vectors, known): one row of topic weights per document (see
        :func:`topic_weights`), and whether the document had any term of the vocabulary. A
        document with none gets a zero row and ``known`` False.
        """
        counts, tfidf = self.vocabulary.transform(self.tokenize(texts))
        matrix = counts if self.model.input_kind == "counts" else tfidf
        known = np.diff(matrix.indptr) > 0
        vectors = np.zeros((matrix.shape[0], self.n_topics))
        if known.any():
            vectors[known] = self.model.display_weights(self.model.transform(matrix[known]))
        return vectors, known

    def assign(self, texts, ids=None) -> list[dict]:
        """Give new documents their topics: one dict per document with ``doc_id`` (from
        ``ids``, else its position), ``topic`` (the dominant one), its ``weight``,
        ``topic_label`` (its name, or its top 3 terms) and every topic's ``weights``. A document
        with no term of the vocabulary gets topic None; a TopicmfWarning says how many."""
        texts = list(texts)
        ids = [str(i) for i in range(len(texts))] if ids is None else list(ids)
        if len(ids) != len(texts):
            raise InvalidParameterError(f"'ids' has {len(ids)} entries for {len(texts)} texts; "
                                        f"give one id per text or leave it out.")
        vectors, known = self.doc_vectors(texts)
        labels = self.topic_labels()
        rows = []
        for doc_id, vector, has_terms in zip(ids, vectors, known):
            topic = int(vector.argmax()) if has_terms else None
            rows.append({"doc_id": doc_id, "topic": topic,
                         "weight": None if topic is None else float(vector[topic]),
                         "topic_label": "" if topic is None else labels[topic],
                         "weights": [round(float(w), 6) for w in vector]})
        unknown = int((~known).sum())
        if unknown:
            warnings.warn(f"{unknown} document(s) share no term with the model's vocabulary "
                          f"and get no topic.", TopicmfWarning, stacklevel=2)
        return rows


def topic_label(terms: list[tuple[str, float]], n: int = 3) -> str:
    """A short name for a topic: its top ``n`` terms."""
    return " / ".join(term for term, _ in terms[:n])


@dataclass
class TopicResult:
    """Everything one ``analyze`` run found, ready for printing, exporting and reporting."""

    analysis: Analysis
    corpus: Corpus
    dtm: DocTermMatrix                 # the fitted documents only
    fitted_rows: np.ndarray            # their positions in the corpus
    doc_weights: np.ndarray            # fitted documents x topics, see topic_weights()
    top_n: int = 10

    @property
    def excluded(self) -> list[str]:
        """Ids of documents that had no term left after pruning, so got no topic."""
        fitted = set(self.fitted_rows.tolist())
        return [doc_id for i, doc_id in enumerate(self.corpus.ids) if i not in fitted]

    @property
    def model(self):
        return self.analysis.model

    @property
    def topics(self) -> list[list[tuple[str, float]]]:
        return self.analysis.topics(self.top_n)

    @property
    def dominant_topics(self) -> np.ndarray:
        return self.doc_weights.argmax(axis=1)

    @property
    def topic_shares(self) -> np.ndarray:
        """Share of the corpus that has each topic as its dominant topic."""
        counts = np.bincount(self.dominant_topics, minlength=self.analysis.n_topics)
        return counts / max(1, counts.sum())

    # What the outputs read of the documents. A run fitted from shards answers the same
    # questions by reading its shards and sources, never holding every text.
    @property
    def fitted_labels(self) -> list[str] | None:
        """The labels of the fitted documents, or None."""
        return list(self.dtm.labels) if self.dtm.labels else None

    def fitted_ids(self, rows) -> list[str]:
        """Ids of the fitted documents at positions ``rows`` (of ``doc_weights``)."""
        return [self.dtm.doc_ids[int(i)] for i in rows]

    def fitted_texts(self, rows) -> list[str]:
        """Texts of the fitted documents at positions ``rows``."""
        return [self.corpus.texts[int(self.fitted_rows[int(i)])] for i in rows]

    def fitted_dates(self) -> list | None:
        """The dates (``datetime.date`` or None) of the fitted documents, or None when the
        corpus has no dates."""
        dates = getattr(self.corpus, "dates", None)
        return None if dates is None else [dates[int(r)] for r in self.fitted_rows]

    def fitted_counts(self):
        """The term counts of the fitted documents: a sparse matrix, documents x terms."""
        return self.dtm.counts

    def term_frequencies(self) -> np.ndarray:
        """p(w): each term's share of all tokens of the fitted documents."""
        totals = np.asarray(self.fitted_counts().sum(axis=0), dtype=np.float64).ravel()
        return totals / max(totals.sum(), 1.0)

    def doc_topic_rows(self):
        """(doc_id, label, weights or None) for every corpus document, in corpus order; a
        document left without terms has no weights."""
        row_of = {int(r): i for i, r in enumerate(self.fitted_rows)}
        labels = self.corpus.labels
        for position, doc_id in enumerate(self.corpus.ids):
            row = row_of.get(position)
            yield (doc_id, labels[position] if labels else "",
                   None if row is None else self.doc_weights[row])

    @property
    def skipped(self) -> list[tuple[str, str]]:
        """(file, reason) of the input files that were skipped."""
        return list(self.corpus.skipped)

    # In a notebook.
    def _repr_html_(self) -> str:
        """One row per topic: its number, share of documents and top terms with weights."""
        from ._notebook import result_html
        return result_html(self)

    def show(self, height: int = 800):
        """The full HTML report (the page ``topicmf analyze`` writes, plots inline), as an
        object that a notebook displays in a sandboxed iframe ``height`` pixels high; its
        ``page`` attribute is the HTML. Works without IPython."""
        from ._notebook import report_view
        return report_view(self, height=height)

    def topics_frame(self):
        """The top terms as a pandas DataFrame, one row per (topic, rank): columns ``topic``,
        ``rank`` (from 1), ``term``, ``weight``, ``name`` (a seeded topic's, else "").
        Needs pandas (``topicmf[pandas]``)."""
        from .interop import topics_frame
        return topics_frame(self)

    def doc_topics_frame(self):
        """The document weights as a pandas DataFrame indexed by ``doc_id``, in corpus order:
        ``label`` (if the corpus has labels), then ``topic_0 ... topic_{K-1}``; a document left
        without terms has NaN weights. Needs pandas (``topicmf[pandas]``)."""
        from .interop import doc_topics_frame
        return doc_topics_frame(self)

    def topics_over_time(self, period: str | None = None):
        """Each topic's share of the documents of each day, week, month or year (None: chosen
        by the corpus's span), as a :class:`topicmf.timeline.TopicsOverTime`; see
        :func:`topicmf.timeline.topics_over_time`."""
        from .timeline import topics_over_time
        return topics_over_time(self, period)

    def topic_evolution(self, period: str | None = None, n: int = 10):
        """Each topic's top ``n`` terms in each period, as a
        :class:`topicmf.timeline.TopicEvolution`; see :func:`topicmf.timeline.topic_evolution`."""
        from .timeline import topic_evolution
        return topic_evolution(self, period, n)

    def search(self, query: str, n: int = 10) -> list[dict]:
        """The ``n`` documents closest to ``query`` by topic (see :func:`topicmf.search.search`)."""
        from .search import search
        return search(self, query, n)

    def similar(self, doc, n: int = 10) -> list[dict]:
        """The ``n`` documents closest to ``doc`` by their vectors: a fitted document by id
        (str) or row (int), itself left out, or a text (see :func:`topicmf.search.similar`)."""
        from .search import similar
        return similar(self, doc, n)

    def merge_topics(self, *topic_sets) -> "TopicResult":
        """A new result in which each given set of topics is one topic: ``merge_topics([0, 3])``
        or ``merge_topics([0, 3], [1, 5])``. The merged topic takes the place of the lowest
        of its topics and the others close up; the model is merged as
        :meth:`topicmf.models.LatentFactorModel.merged` says (NMF and PLSA), so the result
        folds in, searches, saves and reports like any other."""
        import dataclasses

        k = self.analysis.n_topics
        chosen = [sorted({int(t) for t in topics}) for topics in topic_sets]
        seen = [t for topics in chosen for t in topics]
        if not chosen or any(len(topics) < 2 for topics in chosen) or len(set(seen)) < len(seen) \
                or any(not 0 <= t < k for t in seen):
            raise InvalidParameterError(
                f"merge_topics takes sets of two or more distinct topics among 0..{k - 1}, "
                f"none in two sets, e.g. merge_topics([0, 3]); got {topic_sets}.")
        first = {topics[0]: topics for topics in chosen}
        groups = [first.get(t, [t]) for t in range(k) if t in first or t not in seen]
        model = self.model.merged(groups)
        names = self.analysis.topic_names
        merged_names = [" + ".join(names[t] for t in group if names[t]) or None
                        for group in groups]
        info = {**self.analysis.info, "model": {**self.analysis.info.get("model", {}),
                                                "n_topics": len(groups),
                                                "merged_from": groups,
                                                "topic_names": merged_names}}
        analysis = dataclasses.replace(self.analysis, model=model, info=info)
        return dataclasses.replace(self, analysis=analysis,
                                   doc_weights=model.display_weights(model.doc_topic_))

    def topic_hierarchy(self):
        """Which topics belong together (see :func:`topicmf.hierarchy.topic_hierarchy`)."""
        from .hierarchy import topic_hierarchy
        return topic_hierarchy(self)

    def topic_documents(self, topic: int, n: int = 10) -> list[dict]:
        """The ``n`` documents with the largest weight on ``topic``
        (see :func:`topicmf.search.topic_documents`)."""
        from .search import topic_documents
        return topic_documents(self, topic, n)


def topic_weights(model_name: str, doc_topic: np.ndarray) -> np.ndarray:
    """Document vectors as reported, as the model ``model_name`` declares them
    (``display_weights``): NMF rows scaled to sum to 1 (a topic mixture), PLSA rows already
    are P(topic|document), LSA coordinates as they are (they can be negative)."""
    return model_class(model_name).display_weights(doc_topic)


@dataclass
class Prepared:
    """A corpus tokenized and vectorized once, ready for any number of models."""

    corpus: Corpus
    tokenizer: Tokenizer
    token_lists: list[list[str]]
    dtm: DocTermMatrix                 # the fitted documents only
    fitted_rows: np.ndarray            # their positions in the corpus
    timings: dict
    cleaner: Cleaner = field(default_factory=Cleaner)


def prepare(corpus: Corpus, *, tokenizer: Tokenizer | None = None, min_df=DEFAULTS["min_df"],
            max_df=DEFAULTS["max_df"], max_terms=DEFAULTS["max_terms"],
            sublinear_tf: bool = DEFAULTS["sublinear_tf"], weighting: str = DEFAULTS["weighting"],
            clean=DEFAULTS["clean"], progress: Progress | None = None) -> Prepared:
    """Clean, tokenize and vectorize ``corpus``; documents left without terms are set aside
    with a TopicmfWarning naming them. ``weighting``: "tfidf" or "log-entropy" (see
    :func:`topicmf.vectorize.vectorize`).

    ``clean``: False (the default) cleans nothing, True strips mail and news posts of their
    headers, and a :class:`topicmf.clean.Cleaner` runs the steps it names (also quotes,
    signatures, lines repeated across the corpus, phrases). What the steps learn from the
    corpus is kept, so new texts are cleaned the same way. The README's "Cleaning the text"
    says what each step did to four corpora.
    """
    check_weighting(weighting, sublinear_tf)  # before the corpus is read through: fail fast
    tokenizer = tokenizer if tokenizer is not None else Tokenizer()
    cleaner = as_cleaner(clean, "prepare")
    step = time.perf_counter()
    texts = cleaner.fit_texts(corpus.texts)
    timings = {"clean": time.perf_counter() - step} if cleaner.active else {}
    step = time.perf_counter()
    n_texts = len(texts)
    token_lists = cleaner.fit_tokens(tokenizer.tokenize_many(
        texts, progress=None if progress is None else
        (lambda done: progress("tokenize", done, n_texts))))
    del texts  # the cleaned copy
    timings["tokenize"] = time.perf_counter() - step
    step = time.perf_counter()
    dtm = vectorize(token_lists, doc_ids=corpus.ids, labels=corpus.labels, min_df=min_df,
                    max_df=max_df, max_terms=max_terms, sublinear_tf=sublinear_tf,
                    weighting=weighting)
    dtm, fitted_rows = _drop_empty_documents(dtm)
    timings["vectorize"] = time.perf_counter() - step
    return Prepared(corpus=corpus, tokenizer=tokenizer, token_lists=token_lists, dtm=dtm,
                    fitted_rows=fitted_rows, timings=timings, cleaner=cleaner)


def fit_prepared(prepared: Prepared, n_topics: int, *, model: str = DEFAULTS["model"],
                 random_state: int | None = DEFAULTS["seed"], max_iter: int | None = None,
                 top_n: int = DEFAULTS["top_n"], progress: Progress | None = None,
                 background: float | None = None, seed_words: dict | None = None,
                 seed_strength: float | None = None) -> TopicResult:
    """Fit one model on a prepared corpus. ``background`` sets PLSA's background weight
    (None: PLSA's default); other models ignore it. ``seed_words`` ({name: [word, ...]})
    makes guided topics (see :mod:`topicmf.guided`), with ``seed_strength`` (None: the
    model's default)."""
    check_choice(model, "model", tuple(VARIANTS))
    check_int(n_topics, "n_topics", low=1, high=1000)
    top_n = check_int(top_n, "top_n", low=1, high=1000)
    corpus, dtm = prepared.corpus, prepared.dtm
    names, seeding = seed_params(seed_words, seed_strength, prepared.tokenizer,
                                 dtm.vocabulary, n_topics, model)
    estimator = new_model(model, n_topics, random_state=random_state, max_iter=max_iter,
                          background=background, progress=progress, **seeding)
    step = time.perf_counter()
    doc_topic = estimator.fit_transform(dtm.matrix_for(estimator.input_kind))
    timings = {**prepared.timings, "fit": time.perf_counter() - step}
    if getattr(estimator, "callback", None) is None:
        if progress is not None:
            progress("fit", 1, 1)
    else:
        estimator.callback = None  # a saved model must not hold on to the caller's function
    timings["total"] = sum(timings.values())

    languages = Counter(prepared.tokenizer.detect_language(text) for text in corpus.texts)
    info = {
        "library_version": __version__,
        "python_version": platform.python_version(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "corpus": {"name": corpus.name, "source": corpus.source, "n_documents": len(corpus),
                   "n_fitted": dtm.n_docs, "n_excluded": len(corpus) - dtm.n_docs,
                   "n_skipped_files": len(corpus.skipped),
                   "languages": {k or "none": v for k, v in languages.most_common()},
                   "labels": sorted(set(corpus.labels)) if corpus.labels else []},
        "vocabulary": {"n_terms": dtm.n_terms, "n_pruned": dtm.pruned_terms,
                       "nnz": int(dtm.counts.nnz), **dtm.vocabulary.settings},
        "cleaning": cleaning_summary(prepared.cleaner, prepared.tokenizer),
        "model": {"name": model, "n_topics": n_topics, "input": estimator.input_kind,
                  "params": _json_params(estimator), "n_iter": int(estimator.n_iter_),
                  "objective": _last(estimator.history_), **seed_info(names, seeding, dtm.vocabulary)},
        "timings_s": {k: round(v, 4) for k, v in timings.items()},
    }
    analysis = Analysis(tokenizer=prepared.tokenizer, vocabulary=dtm.vocabulary,
                        model=estimator, model_name=model, info=info, cleaner=prepared.cleaner)
    return TopicResult(analysis=analysis, corpus=corpus, dtm=dtm,
                       fitted_rows=prepared.fitted_rows,
                       doc_weights=estimator.display_weights(doc_topic), top_n=top_n)


def new_model(name: str, n_topics: int, *, random_state=DEFAULTS["seed"], max_iter=None,
              background=None, progress: Progress | None = None, **params):
    """The model ``name`` (a key of :data:`topicmf.models.VARIANTS`) as ``analyze`` fits it:
    ``max_iter`` caps its iterations (LDA's passes), ``background`` sets PLSA's background
    weight (other models ignore it), ``progress`` hears of each iteration where the model
    has a callback; None keeps the model's own default. ``params`` go to the model as given."""
    cls = model_class(name)
    defaults = make_model(name, n_topics).get_params()
    params = {"random_state": random_state, **params}
    if max_iter is not None and cls.iteration_param:
        params[cls.iteration_param] = max_iter
    if background is not None and "background" in defaults:
        params["background"] = background
    if progress is not None and "callback" in defaults:
        total = max_iter or defaults.get(cls.iteration_param)
        params["callback"] = lambda n_iter, objective: progress("fit", n_iter, total)
    return make_model(name, n_topics, **params)


def analyze(corpus: Corpus, n_topics: int, *, model: str = DEFAULTS["model"],
            tokenizer: Tokenizer | None = None, min_df=DEFAULTS["min_df"],
            max_df=DEFAULTS["max_df"], max_terms=DEFAULTS["max_terms"],
            sublinear_tf: bool = DEFAULTS["sublinear_tf"], weighting: str = DEFAULTS["weighting"],
            clean=DEFAULTS["clean"],
            random_state: int | None = DEFAULTS["seed"],
            max_iter: int | None = None, top_n: int = DEFAULTS["top_n"],
            progress: Progress | None = None, background: float | None = None,
            seed_words: dict | None = None, seed_strength: float | None = None) -> TopicResult:
    """Tokenize, vectorize and factorize a corpus; return the topics and document vectors.

    Documents left with no term after pruning are not fitted: a TopicmfWarning names them and
    ``TopicResult.excluded`` lists them. ``seed_words`` ({name: [word, ...]}, e.g.
    ``{"finance": ["股票", "投資"]}``) guides the first topics towards those words
    (:mod:`topicmf.guided`; NMF and PLSA). ``clean`` chooses the cleaning steps, as in
    :func:`prepare`.
    """
    return analyze_many(corpus, n_topics, models=(model,), tokenizer=tokenizer, min_df=min_df,
                        max_df=max_df, max_terms=max_terms, sublinear_tf=sublinear_tf,
                        weighting=weighting, clean=clean, random_state=random_state,
                        max_iter=max_iter, top_n=top_n, progress=progress, background=background,
                        seed_words=seed_words, seed_strength=seed_strength)[0]


def analyze_many(corpus: Corpus, n_topics: int, *, models=(DEFAULTS["model"],),
                 tokenizer: Tokenizer | None = None, min_df=DEFAULTS["min_df"],
                 max_df=DEFAULTS["max_df"], max_terms=DEFAULTS["max_terms"],
                 sublinear_tf: bool = DEFAULTS["sublinear_tf"],
                 weighting: str = DEFAULTS["weighting"], clean=DEFAULTS["clean"],
                 random_state: int | None = DEFAULTS["seed"],
                 max_iter: int | None = None, top_n: int = DEFAULTS["top_n"],
                 progress: Progress | None = None,
                 background: float | None = None, seed_words: dict | None = None,
                 seed_strength: float | None = None) -> list[TopicResult]:
    """Like :func:`analyze` for several models on one tokenization and one vocabulary."""
    models = list(models)
    if not models:
        raise InvalidParameterError("Give at least one model, e.g. models=('nmf',).")
    for name in models:
        check_choice(name, "model", tuple(VARIANTS))
    check_int(n_topics, "n_topics", low=1, high=1000)
    if seed_words is not None:  # before the corpus is read through: fail fast
        check_seeding(seed_words, n_topics, models)
    prepared = prepare(corpus, tokenizer=tokenizer, min_df=min_df, max_df=max_df,
                       max_terms=max_terms, sublinear_tf=sublinear_tf, weighting=weighting,
                       clean=clean,
                       progress=progress)
    return [fit_prepared(prepared, n_topics, model=name, random_state=random_state,
                         max_iter=max_iter, top_n=top_n, progress=progress,
                         background=background, seed_words=seed_words,
                         seed_strength=seed_strength) for name in models]


def cleaning_summary(cleaner: Cleaner, tokenizer: Tokenizer) -> dict:
    """What a run's info says of its cleaning: each step on or off, and what was found."""
    return {**cleaner.settings(), "news_stopwords": tokenizer.news_stopwords,
            "n_posts": cleaner.n_posts_, "n_repeated_lines": len(cleaner.repeated_lines_),
            "n_phrases": len(cleaner.phrases_)}


def seed_params(seed_words, seed_strength, tokenizer, vocabulary, n_topics: int,
                model: str) -> tuple[list[str] | None, dict]:
    """(the seeded topics' names, the model parameters of guided topics: ``seed_topics`` and
    ``seed_strength``), or (None, {}) without ``seed_words``."""
    if seed_words is None:
        return None, {}
    from .guided import seed_terms
    check_seeding(seed_words, n_topics, [model])
    names, topics = seed_terms(seed_words, tokenizer, vocabulary.terms, n_topics, stacklevel=5)
    params = {"seed_topics": topics}
    if seed_strength is not None:
        params["seed_strength"] = seed_strength
    return names, params


def seed_info(names, seeding: dict, vocabulary) -> dict:
    """What a run's info says of its guided topics: the seeded topics' names (the first
    topics) and terms; {} without seeds."""
    if names is None:
        return {}
    return {"topic_names": names,
            "seed_words": {name: [str(vocabulary.terms[i]) for i in terms]
                           for name, terms in zip(names, seeding["seed_topics"])}}


def check_seeding(seed_words, n_topics: int, models) -> dict:
    """``seed_words`` checked (:func:`topicmf.guided.check_seed_words`) against the number
    of topics and the models, which must all take seeds."""
    from .guided import check_seed_words
    seed_words = check_seed_words(seed_words, n_topics)
    for model in models:
        if not model_class(model).seedable:
            seedable = ", ".join(n for n in VARIANTS if model_class(n).seedable)
            raise InvalidParameterError(
                f"Guided topics (seed words) work with the models {seedable}; model {model!r} "
                f"cannot take them: choose one of those or leave the seed words out.")
    return seed_words


def _drop_empty_documents(dtm: DocTermMatrix) -> tuple[DocTermMatrix, np.ndarray]:
    empty = dtm.empty_rows()
    if len(empty) == 0:
        return dtm, np.arange(dtm.n_docs)
    if len(empty) == dtm.n_docs:
        raise VocabularyError("After pruning, every document is empty; try a lower 'min_df' "
                              "or a higher 'max_df'.")
    excluded = [dtm.doc_ids[i] for i in empty]
    shown = ", ".join(excluded[:3]) + (", ..." if len(excluded) > 3 else "")
    warnings.warn(f"{len(excluded)} document(s) have no term left after stopwords and pruning "
                  f"and get no topic: {shown}", TopicmfWarning, stacklevel=3)
    keep = np.setdiff1d(np.arange(dtm.n_docs), empty)
    return dtm.select(keep), keep


def _json_params(estimator) -> dict:
    return {k: v for k, v in estimator.get_params().items()
            if isinstance(v, (int, float, str, bool, type(None)))}


def _last(history) -> float | None:
    return float(history[-1]) if len(history) else None
