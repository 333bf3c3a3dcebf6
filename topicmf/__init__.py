"""topicmf: topic modeling by matrix factorization for English and Chinese text."""

__version__ = "0.1.0"
