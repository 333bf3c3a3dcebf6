"""The main job on a shard folder (``topicmf build-matrix``): topics of a corpus that need not
fit in memory, fitted one shard at a time, in memory, or on a Dask cluster.

    results = analyze_shards("shards/", 20, engine="shards")
    results[0].topics

The results answer the same questions as an in-memory :class:`topicmf.pipeline.TopicResult`
(topics, shares, document weights, ids, labels, dates, texts of the documents a report
shows), but
read documents from the shards and their source files only when asked, a shard at a time.
Nothing here prints or exits.
"""

from __future__ import annotations

import platform
import time
from pathlib import Path

import numpy as np

from . import __version__
from ._validation import check_choice, check_int
from .errors import InvalidParameterError
from .models import VARIANTS, model_class
from .pipeline import DEFAULTS, Analysis, TopicResult, Progress, _json_params, _last, \
    check_seeding, new_model, seed_info, seed_params
from .tokenize import Tokenizer

__all__ = ["ENGINES", "ShardTopicResult", "analyze_shards", "open_source", "stacked_counts"]

#: Where the blocks of a fit from shards live.
ENGINES = ("shards", "memory", "dask")

#: Rows of document weights read at a time when the outputs scan them all.
_CHUNK_ROWS = 65536


class DisplayWeights:
    """A model's document vectors as reported (``display_weights``), made row by row when
    read, so the document vectors of a corpus on disk are never all in memory twice."""

    def __init__(self, model):
        self.model = model
        self.shape = model.doc_topic_.shape

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key):
        rows, column = (key if isinstance(key, tuple) else (key, None))
        if isinstance(rows, (int, np.integer)):
            value = self.model.display_weights(self.model.doc_topic_[[int(rows)]])[0]
        else:
            if not isinstance(rows, slice):
                rows = np.asarray(rows, dtype=np.int64)
            value = self.model.display_weights(self.model.doc_topic_[rows])
        return value if column is None else value[..., column]

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self[:], dtype=dtype)

    def chunks(self):
        """(start, weights of rows start:start + n) over all rows."""
        for start in range(0, self.shape[0], _CHUNK_ROWS):
            yield start, self[start:start + _CHUNK_ROWS]


class ShardTopicResult(TopicResult):
    """One model fitted on a shard folder: a :class:`TopicResult` whose documents are read
    from the shards when asked. Documents the build left without terms are not in the
    shards: they are counted (and the first ones named) in the summary, not in
    ``doc_topics.csv``."""

    def __init__(self, analysis, shards, doc_weights: DisplayWeights, top_n: int, source):
        super().__init__(analysis=analysis, corpus=None, dtm=None, fitted_rows=None,
                         doc_weights=doc_weights, top_n=top_n)
        self.shards = shards
        # A fit from disk keeps its document vectors in the source's work folder, which
        # lives as long as the source: the result keeps it.
        self.source = source
        self._dominant = None

    @property
    def excluded(self) -> list[str]:
        return list(self.shards.manifest["excluded"]["first"])

    @property
    def skipped(self) -> list[tuple[str, str]]:
        return [tuple(item) for item in self.shards.manifest["skipped"]["first"]]

    @property
    def dominant_topics(self) -> np.ndarray:
        if self._dominant is None:
            dominant = np.empty(self.doc_weights.shape[0], dtype=np.int64)
            for start, weights in self.doc_weights.chunks():
                dominant[start:start + len(weights)] = weights.argmax(axis=1)
            self._dominant = dominant
        return self._dominant

    @property
    def fitted_labels(self) -> list[str] | None:
        if not self.shards.manifest.get("labels"):
            return None
        return [label for i in range(self.shards.n_shards) for label in self.shards.labels(i)]

    def fitted_dates(self) -> list | None:
        if self.shards.manifest.get("dates") is None:  # no dates, or built before shards had them
            return None
        return [date for i in range(self.shards.n_shards) for date in self.shards.dates(i)]

    def fitted_ids(self, rows) -> list[str]:
        rows = np.asarray(rows, dtype=np.int64).ravel()
        ids = np.empty(len(rows), dtype=object)
        for i, (start, stop) in enumerate(self.shards.row_ranges):
            inside = (rows >= start) & (rows < stop)
            if inside.any():
                shard_ids = self.shards.doc_ids(i)
                ids[inside] = [shard_ids[r - start] for r in rows[inside]]
        return ids.tolist()

    def fitted_texts(self, rows) -> list[str]:
        rows = np.asarray(rows, dtype=np.int64).ravel()
        if not self.shards.manifest.get("source"):  # written from a matrix in memory
            return [""] * len(rows)
        return self.shards.texts(rows)

    def fitted_counts(self):
        return stacked_counts(self.shards)

    def term_frequencies(self) -> np.ndarray:
        totals = self.shards.column_totals("counts")
        return totals / max(totals.sum(), 1.0)

    def doc_topic_rows(self):
        for i, (start, stop) in enumerate(self.shards.row_ranges):
            labels = self.shards.labels(i)
            weights = self.doc_weights[start:stop]
            for j, doc_id in enumerate(self.shards.doc_ids(i)):
                yield doc_id, labels[j] if labels else "", weights[j]


def stacked_counts(shards):
    """The counts of every shard of ``shards`` (a ShardSet) in one sparse CSR matrix,
    documents x terms (int32 counts, as stored)."""
    import scipy.sparse as sp

    return sp.vstack([shards.read(i, "counts", dtype=None) for i in range(shards.n_shards)],
                     format="csr")


def open_source(shards, kind: str, *, engine: str = "shards", client=None,
                dtype=np.float32, work_dir=None):
    """The block source of the matrix ``kind`` of ``shards`` (a ShardSet) for ``engine``:
    "shards" reads one shard at a time, "memory" stacks them (each shard one block, so the
    fit is the same as from disk), "dask" sends each shard to a worker of ``client``."""
    check_choice(engine, "engine", ENGINES)
    if engine == "shards":
        from .engine import ShardBlocks
        return ShardBlocks(shards, kind=kind, dtype=dtype, work_dir=work_dir)
    if engine == "memory":
        import scipy.sparse as sp

        from .engine import InMemoryBlocks
        X = sp.vstack([shards.read(i, kind=kind, dtype=dtype) for i in range(shards.n_shards)],
                      format="csr")
        bounds = [0] + [stop for _, stop in shards.row_ranges]
        return InMemoryBlocks(X, bounds=bounds)
    if client is None:
        raise InvalidParameterError("engine='dask' needs a Dask client: pass client= (see "
                                    "topicmf.engine.cluster.connect).")
    from .engine import DaskBlocks
    return DaskBlocks(client, shards=shards, kind=kind, dtype=dtype)


def analyze_shards(folder, n_topics: int, *, models=(DEFAULTS["model"],),
                   engine: str = "shards", client=None,
                   random_state: int | None = DEFAULTS["seed"], max_iter: int | None = None,
                   top_n: int = DEFAULTS["top_n"], progress: Progress | None = None,
                   background: float | None = None, work_dir=None, seed_words: dict | None = None,
                   seed_strength: float | None = None) -> list[ShardTopicResult]:
    """Fit each of ``models`` on the shard folder ``folder`` (its checksums checked once),
    in float32, on ``engine`` (see :func:`open_source`). ``work_dir`` holds the document
    vectors of fits from shards (default: a temporary folder per fit, kept while the result
    is). ``seed_words`` guides topics as in :func:`topicmf.analyze`."""
    from .shards import ShardSet

    models = list(models)
    if not models:
        raise InvalidParameterError("Give at least one model, e.g. models=('nmf',).")
    for name in models:
        check_choice(name, "model", tuple(VARIANTS))
        if not model_class(name).fits_blocks:
            raise InvalidParameterError(
                f"{name} is fitted on a matrix in memory only; fit it on the corpus itself "
                f"(topicmf analyze CORPUS), or choose among "
                f"{', '.join(n for n in VARIANTS if model_class(n).fits_blocks)} for shards.")
    check_int(n_topics, "n_topics", low=1, high=1000)
    top_n = check_int(top_n, "top_n", low=1, high=1000)
    check_choice(engine, "engine", ENGINES)
    if seed_words is not None:
        check_seeding(seed_words, n_topics, models)
    step = time.perf_counter()
    shards = ShardSet.open(folder, verify=True)
    opened = time.perf_counter() - step
    tokenizer = Tokenizer.from_config(shards.tokenizer_config)
    results = []
    for name in models:
        names, seeding = seed_params(seed_words, seed_strength, tokenizer, shards.vocabulary,
                                     n_topics, name)
        estimator = new_model(name, n_topics, random_state=random_state, max_iter=max_iter,
                              background=background, progress=progress, **seeding)
        step = time.perf_counter()
        source = open_source(shards, estimator.input_kind, engine=engine, client=client,
                             work_dir=None if work_dir is None else Path(work_dir) / name)
        estimator.fit(source)
        if getattr(estimator, "callback", None) is not None:
            estimator.callback = None
        fit_s = time.perf_counter() - step
        info = _info(shards, name, estimator, engine, {"open": opened, "fit": fit_s})
        info["model"].update(seed_info(names, seeding, shards.vocabulary))
        analysis = Analysis(tokenizer=tokenizer, vocabulary=shards.vocabulary, model=estimator,
                            model_name=name, info=info)
        results.append(ShardTopicResult(analysis, shards, DisplayWeights(estimator), top_n,
                                        source))
    return results


def _info(shards, name, estimator, engine, timings) -> dict:
    manifest = shards.manifest
    source = manifest.get("source") or {}
    timings = {**timings, "total": sum(timings.values())}
    return {
        "library_version": __version__,
        "python_version": platform.python_version(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "corpus": {"name": source.get("name") or Path(shards.folder).name,
                   "source": source.get("path") or str(shards.folder),
                   "shards": str(shards.folder), "n_shards": shards.n_shards,
                   "n_documents": manifest.get("n_documents_read", shards.n_docs),
                   "n_fitted": shards.n_docs, "n_excluded": manifest["excluded"]["count"],
                   "n_skipped_files": manifest["skipped"]["count"],
                   "languages": {}, "labels": manifest.get("labels") or []},
        "vocabulary": {"n_terms": shards.n_terms, "n_pruned": manifest.get("pruned_terms", 0),
                       "nnz": int(shards.nnz), **shards.vocabulary.settings},
        "model": {"name": name, "n_topics": int(estimator.components_.shape[0]),
                  "input": estimator.input_kind, "engine": engine,
                  "params": _json_params(estimator), "n_iter": int(estimator.n_iter_),
                  "objective": _last(estimator.history_)},
        "timings_s": {k: round(v, 4) for k, v in timings.items()},
    }
