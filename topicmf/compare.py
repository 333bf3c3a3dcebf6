"""Which model, how many topics: ``compare`` models on one vocabulary, ``sweep`` K for one model.

Both tokenize and vectorize the corpus once, fit in parallel across cores where the corpus is
large enough to pay for the extra processes, and count coherence statistics once for all fits.

    table = compare(corpus, 10).rows            # one dict of metrics per model
    result = sweep(corpus, range(2, 31, 2))     # metrics per K and a recommended K
    plot_sweep(result, "sweep.png")
"""

from __future__ import annotations

import math
import os
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import evaluate
from ._validation import check_choice, check_float, check_int
from .corpus import Corpus
from .errors import InvalidParameterError, TopicmfWarning, VocabularyError
from .models import MODELS, VARIANTS, make_model, model_class
from .pipeline import DEFAULTS
from .tokenize import Tokenizer
from .vectorize import DocTermMatrix, vectorize

__all__ = ["compare", "sweep", "plot_sweep", "Comparison", "SweepResult", "VARIANTS",
           "K_RULE", "parse_ks"]

#: Below this many stored entries, starting worker processes costs more than it saves.
PARALLEL_NNZ = 200_000

MIN_DIVERSITY, MIN_STABILITY, NEAR_BEST = 0.7, 0.8, 0.01
K_RULE = (f"Among the K whose topic diversity is at least {MIN_DIVERSITY} and whose stability "
          f"is at least {MIN_STABILITY}, take the K of highest NPMI coherence, or the smallest "
          f"K whose NPMI is within {NEAR_BEST} of it; if no K passes both thresholds, the K of "
          f"highest NPMI.")


@dataclass
class Comparison:
    """Output of :func:`compare`: one row of metrics per model, and their topics."""

    rows: list[dict]
    topics: dict[str, list[list[tuple[str, float]]]]
    settings: dict = field(default_factory=dict)
    #: Per model, how well each topic recurs in the other runs (None with one seed):
    #: :func:`topicmf.evaluate.topic_recurrence`.
    recurrence: dict[str, list[float] | None] = field(default_factory=dict)

    def save(self, folder) -> dict:
        """Write compare.csv and compare.json (settings, rows, each model's top 10 terms and
        their topics' recurrence) into ``folder``, all at once; returns {"report": what the
        JSON holds, "files": names}."""
        report = {"settings": self.settings, "rows": self.rows,
                  "topics": {name: [[t for t, _ in topic[:10]] for topic in topics]
                             for name, topics in self.topics.items()},
                  "recurrence": self.recurrence}
        return _save(folder, "compare", report, self.rows)

    def _repr_html_(self) -> str:
        """The rows as an HTML table, one column per metric."""
        from ._notebook import rows_html
        return rows_html(self.rows, _settings_line(self.settings,
                                                   f"{self.settings.get('n_topics')} topics"))


@dataclass
class SweepResult:
    """Output of :func:`sweep`: one row of metrics per K and the recommended K."""

    rows: list[dict]
    recommended_k: int
    rule: str = K_RULE
    settings: dict = field(default_factory=dict)

    def save(self, folder) -> dict:
        """Write sweep.csv, sweep.json and the sweep.png plot into ``folder``, all at once;
        returns {"report": what the JSON holds, "files": names}."""
        report = {"settings": self.settings, "recommended_k": self.recommended_k,
                  "rule": self.rule, "rows": self.rows}
        return _save(folder, "sweep", report, self.rows,
                     plot=lambda staging: plot_sweep(self, staging / "sweep.png"))

    def _repr_html_(self) -> str:
        """The rows as an HTML table, one column per metric, and the recommended K."""
        from ._notebook import rows_html
        return rows_html(self.rows, _settings_line(
            self.settings, f"{str(self.settings.get('model', '')).upper()}, recommended "
                           f"K = {self.recommended_k}"))


def _save(folder, name: str, report: dict, rows, plot=None) -> dict:
    import json
    from pathlib import Path

    from ._csv import write_rows
    from .io import staged_output

    files = [f"{name}.csv", f"{name}.json"] + ([f"{name}.png"] if plot else [])
    with staged_output(Path(folder)) as staging:
        write_rows(staging / files[0], rows)
        (staging / files[1]).write_text(json.dumps(report, ensure_ascii=False, indent=1),
                                        encoding="utf-8")
        if plot:
            plot(staging)
    return {"report": report, "files": files}


def _settings_line(settings: dict, what: str) -> str:
    coherence = settings.get("coherence") or {}
    return (f"{settings.get('corpus', 'corpus')}: {settings.get('n_fitted', '?')} documents, "
            f"{settings.get('n_terms', '?')} terms, {what}; coherence over the top "
            f"{coherence.get('topn', '?')} terms")


# -------------------------------------------------------------------------------- compare

def compare(corpus: Corpus, n_topics: int, models=("lsa", "nmf", "nmf-kl", "plsa", "lda"), *,
            tokenizer: Tokenizer | None = None, min_df=DEFAULTS["min_df"],
            max_df=DEFAULTS["max_df"], max_terms=DEFAULTS["max_terms"], seeds=(0, 1, 2),
            sample: float = 1.0, measures=evaluate.MEASURES, topn: int = 10,
            heldout: float = 0.1, n_jobs: int | None = None) -> Comparison:
    """Fit every model of ``models`` (names in :data:`VARIANTS`) on the same vocabulary.

    Each row has the fit time of the run with ``seeds[0]``, its coherence (each of
    ``measures``, top ``topn`` terms), topic diversity (top 25), relative reconstruction error
    (LSA, NMF), log-likelihood and held-out perplexity (PLSA, LDA: fitted again without a
    random share ``heldout`` of the documents, which are then folded in), agreement with the
    corpus labels if it has any, and stability over ``seeds`` (each run on a random share
    ``sample`` of the documents when ``sample`` < 1).
    """
    models = list(models)
    for name in models:
        check_choice(name, "models", tuple(VARIANTS))
    if not models:
        raise InvalidParameterError("compare needs at least one model; choose among "
                                    f"{', '.join(VARIANTS)}.")
    seeds = _check_seeds(seeds)
    heldout = check_float(heldout, "heldout", low=0.0, high=0.5, owner="compare")
    data = _prepare(corpus, tokenizer, min_df, max_df, max_terms)
    jobs = []
    for name in models:
        jobs += _stability_jobs(name, n_topics, seeds, sample, data.dtm.n_docs)
        if heldout > 0 and model_class(name).probabilistic:
            jobs.append(_Job(name, n_topics, seeds[0], "heldout",
                             _split(data.dtm.n_docs, heldout, seeds[0])))
    done = _run_jobs(jobs, data.dtm, n_jobs)
    main = {name: done[(name, n_topics, seeds[0], "main")] for name in models}
    topics = {name: main[name]["model"].top_terms(data.dtm.terms, 25) for name in models}
    scores = _coherence(data, [topics[name] for name in models], measures, topn)
    rows, recurrence = [], {}
    for name, coherence in zip(models, scores):
        recurrence[name] = _recurrence(done, name, n_topics, seeds, sample)
        row = {"model": name, "n_topics": n_topics, "fit_s": round(main[name]["fit_s"], 3)}
        row.update(_metrics(data, main[name], coherence, topics[name]))
        row["stability"] = _stability(done, name, n_topics, seeds, sample)
        held = done.get((name, n_topics, seeds[0], "heldout"))
        if held is not None:
            row["heldout_perplexity"] = held["perplexity"]
        row["notes"] = row.pop("notes")  # last: the long column
        rows.append(row)
    settings = {**data.settings, "n_topics": n_topics, "seeds": list(seeds), "sample": sample,
                "heldout": heldout, "coherence": _coherence_settings(measures, topn)}
    return Comparison(rows=rows, topics=topics, settings=settings, recurrence=recurrence)


# ---------------------------------------------------------------------------------- sweep

def sweep(corpus: Corpus, ks, model: str = DEFAULTS["model"], *, tokenizer: Tokenizer | None = None,
          min_df=DEFAULTS["min_df"], max_df=DEFAULTS["max_df"],
          max_terms=DEFAULTS["max_terms"], seeds=(0, 1, 2), sample: float = 0.8,
          measures=("c_npmi",), topn: int = 10, n_jobs: int | None = None) -> SweepResult:
    """Fit ``model`` for each K of ``ks`` on one matrix; metrics per K and a recommended K.

    Each row has NPMI coherence (and any other of ``measures``), topic diversity, stability
    (runs with each of ``seeds``, each on a random share ``sample`` of the documents, as in
    Greene et al. 2014; with ``sample=1`` only the seed varies, and models with a
    deterministic start such as NMF's NNDSVD then score about 1 by construction), the
    relative reconstruction error (LSA, NMF) or training perplexity (PLSA, LDA), and label
    agreement if the corpus has labels. The recommended K follows :data:`K_RULE`.
    """
    check_choice(model, "model", tuple(VARIANTS))
    ks = sorted({check_int(k, "ks", low=1, high=1000, owner="sweep") for k in ks})
    if not ks:
        raise InvalidParameterError("sweep needs at least one K, e.g. ks=range(2, 31, 2).")
    seeds = _check_seeds(seeds)
    if "c_npmi" not in measures:
        measures = ("c_npmi", *measures)  # the rule needs it
    data = _prepare(corpus, tokenizer, min_df, max_df, max_terms)
    jobs = [job for k in ks for job in _stability_jobs(model, k, seeds, sample, data.dtm.n_docs)]
    done = _run_jobs(jobs, data.dtm, n_jobs)
    main = [done[(model, k, seeds[0], "main")] for k in ks]
    topics = [fit["model"].top_terms(data.dtm.terms, 25) for fit in main]
    scores = _coherence(data, topics, measures, topn)
    rows = []
    for k, fit, coherence, k_topics in zip(ks, main, scores, topics):
        row = {"n_topics": k, "fit_s": round(fit["fit_s"], 3)}
        row.update(_metrics(data, fit, coherence, k_topics))
        row["stability"] = _stability(done, model, k, seeds, sample)
        row["notes"] = row.pop("notes")
        rows.append(row)
    settings = {**data.settings, "model": model, "ks": ks, "seeds": list(seeds),
                "sample": sample, "coherence": _coherence_settings(measures, topn)}
    return SweepResult(rows=rows, recommended_k=recommend_k(rows), settings=settings)


def recommend_k(rows) -> int:
    """The K chosen by :data:`K_RULE` from sweep rows (n_topics, c_npmi, diversity,
    stability; a missing stability counts as passing)."""
    def passes(row):
        stable = row.get("stability")
        return row["diversity"] >= MIN_DIVERSITY and (stable is None or stable >= MIN_STABILITY)

    candidates = [row for row in rows if passes(row)] or list(rows)
    best = max(row["c_npmi"] for row in candidates)
    return min(row["n_topics"] for row in candidates if row["c_npmi"] >= best - NEAR_BEST)


def plot_sweep(result: SweepResult, path) -> None:
    """Plot coherence, diversity, stability and error against K into a PNG at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    ks = [row["n_topics"] for row in result.rows]
    error_key = "error" if "error" in result.rows[0] else "perplexity"
    panels = [("c_npmi", f"NPMI coherence (top {result.settings['coherence']['topn']})"),
              ("diversity", "topic diversity (top 25)"), ("stability", "stability"),
              (error_key, "relative reconstruction error" if error_key == "error"
               else "training perplexity")]
    figure = Figure(figsize=(9, 6.5), layout="constrained")
    for axes, (key, title) in zip(figure.subplots(2, 2).ravel(), panels):
        values = [row.get(key) for row in result.rows]
        axes.plot(ks, [math.nan if v is None else v for v in values], marker="o")
        axes.axvline(result.recommended_k, color="tab:red", linestyle="--", linewidth=1)
        axes.set_title(title)
        axes.set_xlabel("number of topics K")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(alpha=0.3)
    figure.suptitle(f"{result.settings['corpus']}: {result.settings['model'].upper()}, "
                    f"recommended K = {result.recommended_k}")
    figure.savefig(path, dpi=100)


def parse_ks(text: str) -> list[int]:
    """``"2:30:2"`` (start:stop:step, stop included), ``"5,10,20"`` or ``"10"`` to a list."""
    try:
        if ":" in text:
            parts = [int(p) for p in text.split(":")]
            if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] < 1):
                raise ValueError
            start, stop, step = (*parts, 1) if len(parts) == 2 else parts
            ks = list(range(start, stop + 1, step))
        else:
            ks = [int(p) for p in text.split(",")]
    except ValueError:
        ks = []
    if not ks or min(ks) < 1 or max(ks) > 1000:
        raise InvalidParameterError(
            f"'ks' {text!r} is not a list of topic numbers in [1, 1000]; write START:STOP"
            f"[:STEP] (e.g. 2:30:2) or a comma-separated list (e.g. 5,10,20).")
    return ks


# ------------------------------------------------------------------------------ internals

@dataclass
class _Data:
    token_lists: list
    dtm: DocTermMatrix
    settings: dict


@dataclass
class _Job:
    name: str
    n_topics: int
    seed: int
    role: str = "main"               # "main", "seed" or "sample" (stability), "heldout"
    rows: np.ndarray | None = None   # documents to fit on (None: all)

    @property
    def key(self):
        return (self.name, self.n_topics, self.seed, self.role)


def _prepare(corpus, tokenizer, min_df, max_df, max_terms) -> _Data:
    tokenizer = tokenizer if tokenizer is not None else Tokenizer()
    token_lists = tokenizer.tokenize_many(corpus.texts)
    dtm = vectorize(token_lists, doc_ids=corpus.ids, labels=corpus.labels, min_df=min_df,
                    max_df=max_df, max_terms=max_terms)
    keep = np.flatnonzero(np.diff(dtm.counts.indptr) > 0)
    if keep.size == 0:
        raise VocabularyError("After pruning, every document is empty; try a lower 'min_df' "
                              "or a higher 'max_df'.")
    if keep.size < dtm.n_docs:
        warnings.warn(f"{dtm.n_docs - keep.size} document(s) have no term left after "
                      "stopwords and pruning and are left out of the fits.",
                      TopicmfWarning, stacklevel=3)
        dtm = dtm.select(keep)
    settings = {"corpus": corpus.name, "n_documents": len(corpus), "n_fitted": dtm.n_docs,
                "n_terms": dtm.n_terms, "min_df": min_df, "max_df": max_df,
                "max_terms": max_terms}
    return _Data(token_lists=token_lists, dtm=dtm, settings=settings)


def _check_seeds(seeds) -> tuple[int, ...]:
    seeds = tuple(check_int(s, "seeds", low=0, owner="compare") for s in seeds)
    if not seeds:
        raise InvalidParameterError("Give at least one seed, e.g. seeds=(0, 1, 2).")
    return seeds


def _split(n_docs, share, seed) -> np.ndarray:
    """Rows of a random (1 - share) of the documents, sorted."""
    rng = np.random.RandomState(seed)
    n_keep = max(1, n_docs - max(1, int(round(share * n_docs))))
    return np.sort(rng.choice(n_docs, n_keep, replace=False))


def _stability_jobs(name, k, seeds, sample, n_docs) -> list[_Job]:
    """The reported run (first seed, all documents) and the runs stability compares."""
    check_float(sample, "sample", low=0.0, high=1.0, low_open=True, owner="compare")
    jobs = [_Job(name, k, seeds[0])]
    if len(seeds) > 1 and sample < 1.0:
        jobs += [_Job(name, k, s, "sample", _split(n_docs, 1.0 - sample, s)) for s in seeds]
    elif len(seeds) > 1:
        jobs += [_Job(name, k, s, "seed") for s in seeds[1:]]
    return jobs


def _run_jobs(jobs, dtm, n_jobs) -> dict:
    """Run the fits, in worker processes if worth it; {job key: result}."""
    from joblib import Parallel, delayed

    if n_jobs is None:
        n_jobs = min(2, os.cpu_count() or 1) if dtm.counts.nnz >= PARALLEL_NNZ else 1
    n_jobs = check_int(n_jobs, "n_jobs", low=1, owner="compare")
    results = Parallel(n_jobs=min(n_jobs, len(jobs)))(
        delayed(_fit_job)(job, dtm) for job in jobs)
    done = {}
    for job, (result, caught) in zip(jobs, results):
        for category, message in caught:  # warnings raised inside worker processes
            warnings.warn(message, category, stacklevel=3)
        done[job.key] = result
    return done


def _fit_job(job: _Job, dtm: DocTermMatrix):
    """Fit one model; return what the metrics need and the warnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        kind = VARIANTS[job.name][0]
        X = dtm.matrix_for(MODELS[kind].input_kind)
        fit_rows = job.rows if job.rows is not None else np.arange(X.shape[0])
        model = make_model(job.name, job.n_topics, random_state=job.seed)
        started = time.perf_counter()
        doc_topic = model.fit_transform(X[fit_rows])
        result = {"fit_s": time.perf_counter() - started, "kind": kind,
                  "components": model.components_, "n_iter": int(model.n_iter_)}
        if job.role == "heldout":
            others = np.setdiff1d(np.arange(X.shape[0]), fit_rows)
            result["perplexity"] = round(evaluate.heldout_perplexity(
                model, X[others], random_state=job.seed), 2)
        elif job.role == "main":
            result.update(doc_topic=doc_topic, model=model)
    return result, [(w.category, str(w.message)) for w in caught]


def _coherence(data, topic_sets, measures, topn):
    scorer = evaluate.Coherence(data.token_lists, data.dtm.terms, topn=topn)
    return scorer.score_many(topic_sets, measures)


def _coherence_settings(measures, topn):
    return {"measures": list(measures), "topn": topn,
            "window_sizes": {m: evaluate.WINDOW_SIZES[m] for m in measures},
            "reference": "the corpus itself, tokens restricted to the vocabulary"}


def _metrics(data, fit, coherence, topics) -> dict:
    row = {measure: round(result.value, 4) for measure, result in coherence.items()}
    notes = [f"{m}: {n}" for m, result in coherence.items() for n in result.notes]
    row["diversity"] = round(evaluate.topic_diversity(topics, 25), 4)
    X = data.dtm.matrix_for(MODELS[fit["kind"]].input_kind)
    model = fit["model"]
    if MODELS[fit["kind"]].probabilistic:
        ll = evaluate.model_log_likelihood(model, X, fit["doc_topic"])
        row["log_likelihood"] = round(ll, 2)
        row["perplexity"] = round(float(np.exp(-ll / X.sum())), 2)
    else:
        row["error"] = round(evaluate.reconstruction_error(
            X, fit["doc_topic"], model.components_, relative=True), 4)
    if data.dtm.labels is not None:
        dominant = fit["doc_topic"].argmax(axis=1)
        row.update({k: round(v, 4) for k, v in
                    evaluate.label_agreement(data.dtm.labels, dominant).items()})
    row["iterations"] = fit["n_iter"]
    row["notes"] = notes
    return row


def _refits(done, name, k, seeds, sample) -> list:
    """The topic-term matrices of the runs that stability compares, besides the main run's."""
    if sample < 1.0:
        return [done[(name, k, s, "sample")]["components"] for s in seeds]
    return [done[(name, k, s, "seed")]["components"] for s in seeds[1:]]


def _stability(done, name, k, seeds, sample):
    if len(seeds) < 2:
        return None
    runs = _refits(done, name, k, seeds, sample)
    if sample >= 1.0:
        runs = [done[(name, k, seeds[0], "main")]["components"], *runs]
    return round(evaluate.stability(runs), 4)


def _recurrence(done, name, k, seeds, sample) -> list[float] | None:
    """How well each topic of the main run recurs in the refits (evaluate.topic_recurrence)."""
    if len(seeds) < 2:
        return None
    main = done[(name, k, seeds[0], "main")]["components"]
    return [round(float(v), 4) for v in
            evaluate.topic_recurrence(main, _refits(done, name, k, seeds, sample))]
