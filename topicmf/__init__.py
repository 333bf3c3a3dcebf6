"""topicmf: topic modeling by matrix factorization for English and Chinese text.

    from topicmf import load_corpus, analyze
    result = analyze(load_corpus("corpora/finance-politics-en"), n_topics=2)
    for topic in result.topics:
        print(topic[:5])
"""

__version__ = "0.1.0"

from .corpus import Corpus, load_corpus
from .errors import (ClusterError, ConvergenceWarning, CorpusError, InvalidParameterError,
                     ModelFileError, NotFittedError, OutputError, ShardError, TopicmfError,
                     TopicmfWarning, VocabularyError)
from .io import load_analysis, save_analysis
from .models import LSA, NMF, PLSA
from .pipeline import Analysis, TopicResult, analyze
from .tokenize import Tokenizer
from .vectorize import DocTermMatrix, Vocabulary, vectorize

__all__ = [
    "Analysis", "Corpus", "DocTermMatrix", "LSA", "NMF", "PLSA", "TopicResult", "Tokenizer",
    "Vocabulary", "analyze", "load_analysis", "load_corpus", "save_analysis", "vectorize",
    "ClusterError", "ConvergenceWarning", "CorpusError", "InvalidParameterError",
    "ModelFileError", "NotFittedError", "OutputError", "ShardError", "TopicmfError",
    "TopicmfWarning", "VocabularyError",
]
