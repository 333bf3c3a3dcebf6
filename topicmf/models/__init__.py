"""Latent-factor models on one scikit-learn interface."""

from .base import LatentFactorModel
from .lda import LDA
from .lsa import LSA
from .nmf import NMF
from .plsa import PLSA

#: Model classes by their short name.
MODELS = {"lsa": LSA, "nmf": NMF, "plsa": PLSA, "lda": LDA}

#: Every model a user can name (the command line, ``analyze``, ``compare``, saved runs): the
#: short name of its class and the parameters that make the variant.
VARIANTS = {"lsa": ("lsa", {}), "nmf": ("nmf", {}),
            "nmf-kl": ("nmf", {"beta_loss": "kullback-leibler"}),
            "plsa": ("plsa", {}), "lda": ("lda", {})}


def model_class(name: str) -> type[LatentFactorModel]:
    """The class of the model ``name`` (a key of :data:`VARIANTS`)."""
    return MODELS[VARIANTS[name][0]]


def make_model(name: str, n_topics: int, **params) -> LatentFactorModel:
    """The model ``name`` (a key of :data:`VARIANTS`) with ``n_topics`` topics: its variant's
    parameters, then ``params``."""
    kind, variant = VARIANTS[name]
    return MODELS[kind](n_topics, **{**variant, **params})


__all__ = ["LatentFactorModel", "LDA", "LSA", "NMF", "PLSA", "MODELS", "VARIANTS",
           "model_class", "make_model"]
