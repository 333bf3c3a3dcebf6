"""Latent-factor models on one scikit-learn interface."""

from .base import LatentFactorModel
from .lda import LDA
from .lsa import LSA
from .nmf import NMF
from .plsa import PLSA

#: Model classes by the name used on the command line and in saved models.
MODELS = {"lsa": LSA, "nmf": NMF, "plsa": PLSA, "lda": LDA}

__all__ = ["LatentFactorModel", "LDA", "LSA", "NMF", "PLSA", "MODELS"]
