"""Runs saved by ``topicmf analyze`` (or :func:`topicmf.export.write_outputs`), read back.

    from topicmf.runs import run_folders, load_run
    for name, folder in run_folders("reports/news"):    # one per model of a multi-model run
        result = load_run(folder)                         # a TopicResult without texts
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from ._csv import read_cell
from .corpus import Corpus
from .errors import ModelFileError
from .io import COUNTS, load_analysis, read_counts
from .pipeline import TopicResult

__all__ = ["run_folders", "load_run"]


def run_folders(run_dir) -> list[tuple[str | None, Path]]:
    """(model name or None, folder) of each run in an output folder of ``topicmf analyze``."""
    run_dir = Path(run_dir)
    if (run_dir / "model" / "model.json").is_file():
        return [(None, run_dir)]
    folders = sorted(p.parent.parent for p in run_dir.glob("*/model/model.json"))
    if not folders:
        raise ModelFileError(f"{run_dir} holds no run of topicmf analyze (no model/model.json "
                             f"in it or in its subfolders); give the folder that analyze wrote "
                             f"with --out.")
    return [(folder.name, folder) for folder in folders]


class _SavedResult(TopicResult):
    """A run read back from its output folder: no texts; the counts are read when asked."""

    def __init__(self, folder: Path, to: str, **fields):
        super().__init__(**fields)
        self._folder, self._to, self._counts = folder, to, None

    @property
    def fitted_labels(self) -> list[str] | None:
        labels = self.corpus.labels
        return None if labels is None else [labels[int(i)] for i in self.fitted_rows]

    def fitted_ids(self, rows) -> list[str]:
        return [self.corpus.ids[int(self.fitted_rows[int(i)])] for i in rows]

    def fitted_counts(self):
        if self._counts is None:
            self._counts = _saved_counts(self._folder, self._to, self.analysis,
                                         len(self.fitted_rows))
        return self._counts


def load_run(folder, purpose: str = "this") -> _SavedResult:
    """The run saved in ``folder`` (an output folder of ``topicmf analyze`` for one model) as
    a TopicResult without texts: topics, document vectors, ids and labels; the term counts
    are read when asked (``purpose`` names what wants them in the error when they are
    missing)."""
    folder = Path(folder)
    analysis = load_analysis(folder / "model")
    corpus_info = analysis.info.get("corpus") or {}
    ids, labels, fitted = _read_doc_topics(folder / "doc_topics.csv")
    n_fitted = analysis.model.doc_topic_.shape[0]
    if len(fitted) != n_fitted:
        raise ModelFileError(f"{folder / 'doc_topics.csv'} lists {len(fitted)} documents with "
                             f"a topic where the model has {n_fitted}; re-run topicmf analyze.")
    corpus = Corpus(ids=ids, texts=[""] * len(ids),
                    labels=labels if corpus_info.get("labels") else None,
                    name=corpus_info.get("name", folder.name),
                    source=corpus_info.get("source", ""))
    return _SavedResult(folder, purpose, analysis=analysis, corpus=corpus, dtm=None,
                        fitted_rows=np.asarray(fitted, dtype=np.int64),
                        doc_weights=analysis.model.display_weights(analysis.model.doc_topic_),
                        top_n=_top_n(folder / "topics.json"))


def _read_doc_topics(path: Path):
    """(ids, labels, positions of the documents that have a topic) from doc_topics.csv."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader, [])
            if header[:3] != ["doc_id", "label", "topic"]:
                raise ValueError(f"header {header[:3]}, not doc_id, label, topic")
            rows = [(read_cell(row[0]), read_cell(row[1]), row[2] != "") for row in reader]
    except (OSError, ValueError, IndexError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{path} is missing or unreadable ({type(exc).__name__}: {exc}); "
                             f"re-run topicmf analyze.") from None
    return ([r[0] for r in rows], [r[1] for r in rows],
            [i for i, r in enumerate(rows) if r[2]])


def _top_n(path: Path) -> int:
    try:
        topics = json.loads(path.read_text(encoding="utf-8"))["topics"]
        return max(1, len(topics[0]["terms"]))
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise ModelFileError(f"{path} is missing or unreadable ({type(exc).__name__}: {exc}); "
                             f"re-run topicmf analyze.") from None


def _saved_counts(folder: Path, to: str, analysis, n_fitted: int):
    shape = (n_fitted, len(analysis.vocabulary))
    model_dir = folder / "model"
    if (model_dir / COUNTS).is_file():
        return read_counts(model_dir, shape)
    shard_folder = (analysis.info.get("corpus") or {}).get("shards")
    if not shard_folder:
        raise ModelFileError(f"{folder} holds no term counts of its documents (model/{COUNTS}), "
                             f"which {to} needs; re-run topicmf analyze to write them.")
    from .pipeline_shards import stacked_counts
    from .shards import ShardSet

    shards = ShardSet.open(shard_folder, verify=True)
    if ((shards.n_docs, shards.n_terms) != shape
            or shards.terms.tolist() != analysis.vocabulary.terms.tolist()):
        raise ModelFileError(f"the shard folder {shard_folder} that {folder} was fitted on now "
                             f"holds other documents or terms; export from the shards the run "
                             f"was fitted on, or re-run topicmf analyze.")
    return stacked_counts(shards)
