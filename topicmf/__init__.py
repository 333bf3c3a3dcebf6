"""topicmf: topic modeling by matrix factorization for English and Chinese text.

    from topicmf import load_corpus, analyze
    result = analyze(load_corpus("corpora/finance-politics-en"), n_topics=2)
    for topic in result.topics:
        print(topic[:5])
"""

__version__ = "0.1.0"

import sys as _sys
import types as _types

from .errors import (ClusterError, ConvergenceWarning, CorpusError, InvalidParameterError,
                     MissingDependencyError, ModelFileError, NotFittedError, OutputError,
                     ShardError, TopicmfError, TopicmfWarning, VocabularyError)

# The rest is imported on first use (PEP 562), so that ``import topicmf`` and a command that
# needs one part of it do not pay for the others.
_LAZY = {
    "Corpus": "corpus", "load_corpus": "corpus",
    "load_analysis": "io", "save_analysis": "io",
    "LSA": "models", "NMF": "models", "PLSA": "models",
    "Analysis": "pipeline", "TopicResult": "pipeline", "analyze": "pipeline",
    "Tokenizer": "tokenize",
    "DocTermMatrix": "vectorize", "Vocabulary": "vectorize", "vectorize": "vectorize",
}


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'topicmf' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


class _Package(_types.ModuleType):
    def __setattr__(self, name, value):
        # Importing the submodule topicmf.vectorize binds it as an attribute of the package;
        # the name belongs to the function vectorize(), as it did before imports were lazy.
        if isinstance(value, _types.ModuleType) and _LAZY.get(name) == name:
            return
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package


__all__ = [
    "Analysis", "Corpus", "DocTermMatrix", "LSA", "NMF", "PLSA", "TopicResult", "Tokenizer",
    "Vocabulary", "analyze", "load_analysis", "load_corpus", "save_analysis", "vectorize",
    "ClusterError", "ConvergenceWarning", "CorpusError", "InvalidParameterError",
    "MissingDependencyError", "ModelFileError", "NotFittedError", "OutputError", "ShardError",
    "TopicmfError", "TopicmfWarning", "VocabularyError",
]
