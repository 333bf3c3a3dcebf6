"""Errors and warnings raised by topicmf.

Every error a user can cause is a :class:`TopicmfError`; the command line prints its message on
one line and exits with status 1. Anything else is a bug in topicmf.

::

    TopicmfError
     ├── CorpusError            no documents; unreadable, undecodable or binary file (names the file)
     │    ├── VocabularyError   nothing left after stopwords / pruning (says which knob to turn)
     │    └── ShardError        a shard folder with a missing, truncated or changed shard, or a
     │                          manifest that does not match its shards (says how to rebuild)
     ├── InvalidParameterError  (also ValueError) a parameter out of its range
     ├── NotFittedError         (also ValueError, AttributeError) the model has not been fitted
     ├── ModelFileError         missing, truncated, tampered or wrong-version model file
     ├── OutputError            the output folder cannot be written
     ├── ClusterError           no Dask scheduler answers, or a cluster lost what a fit needs
     └── MissingDependencyError (also ImportError) an optional package is not installed (names
                                the extra that installs it)

    TopicmfWarning              something was skipped or adjusted; the run goes on
    ConvergenceWarning          max_iter was reached before tol
"""

__all__ = [
    "TopicmfError",
    "CorpusError",
    "VocabularyError",
    "ShardError",
    "InvalidParameterError",
    "NotFittedError",
    "ModelFileError",
    "OutputError",
    "ClusterError",
    "MissingDependencyError",
    "TopicmfWarning",
    "ConvergenceWarning",
]


class TopicmfError(Exception):
    """Base class of every error a user of topicmf can cause.

    Its message is one line: a line break or other control character that came in with the
    user's data (a column name, a label, a cell) is shown escaped, as ``\\n``.
    """

    def __init__(self, *args):
        super().__init__(*(_one_line(a) if isinstance(a, str) else a for a in args))


def _one_line(text: str) -> str:
    """``text`` with control characters and line or paragraph separators escaped."""
    import unicodedata

    if text.isprintable():
        return text
    return "".join(c.encode("unicode_escape").decode("ascii")
                   if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text)


class CorpusError(TopicmfError):
    """The documents could not be read: names the file and says how to fix it."""


class VocabularyError(CorpusError):
    """No terms are left after stopwords and pruning."""


class ShardError(CorpusError):
    """A shard folder cannot be read as written: names the file and how to rebuild it."""


class InvalidParameterError(TopicmfError, ValueError):
    """A parameter is outside its allowed values."""


class NotFittedError(TopicmfError, ValueError, AttributeError):
    """A method that needs a fitted model was called before ``fit``."""


class ModelFileError(TopicmfError):
    """A saved model is missing, truncated, tampered with or of another format version."""


class OutputError(TopicmfError):
    """The output folder or file cannot be written."""


class ClusterError(TopicmfError):
    """A Dask cluster cannot run the fit: names the scheduler and says what to do."""


class MissingDependencyError(TopicmfError, ImportError):
    """An optional package a function needs is not installed: says which extra installs it."""


class TopicmfWarning(UserWarning):
    """Something was skipped or adjusted (a file, a document, a parameter); the run goes on."""


class ConvergenceWarning(UserWarning):
    """The fit stopped at ``max_iter`` before the change in its objective fell below ``tol``."""
