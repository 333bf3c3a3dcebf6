"""The scikit-learn estimator protocol, without importing scikit-learn.

scikit-learn works with any object that has ``get_params`` / ``set_params`` (``clone``,
``Pipeline``, ``GridSearchCV``) and ``__sklearn_tags__`` (its checks). Importing
``sklearn.base`` costs about 1.5 s (it loads ``scipy.stats``), more than a small topic fit, so
the models implement the protocol here and import scikit-learn only when scikit-learn itself
asks (tags) or when input needs its validation (anything but a float CSR matrix).
"""

from __future__ import annotations

import inspect
import numbers

import numpy as np

__all__ = ["EstimatorMixin", "check_random_state"]


class EstimatorMixin:
    """``get_params``, ``set_params``, ``repr`` and transformer tags, as scikit-learn reads
    them: parameters are the keyword arguments of ``__init__``, stored under their own names."""

    @classmethod
    def _get_param_names(cls) -> list[str]:
        init = cls.__init__
        if init is object.__init__:
            return []
        names = []
        for parameter in inspect.signature(init).parameters.values():
            if parameter.name == "self" or parameter.kind == parameter.VAR_KEYWORD:
                continue
            if parameter.kind == parameter.VAR_POSITIONAL:
                raise RuntimeError(f"{cls.__name__}.__init__ must not take *args: "
                                   "estimator parameters are named.")
            names.append(parameter.name)
        return sorted(names)

    def get_params(self, deep: bool = True) -> dict:
        """The estimator's parameters by name (with ``deep``, those of nested estimators
        too, as ``name__parameter``)."""
        params = {}
        for name in self._get_param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                params.update((f"{name}__{key}", inner)
                              for key, inner in value.get_params().items())
            params[name] = value
        return params

    def set_params(self, **params):
        """Set parameters by name (``name__parameter`` for a nested estimator); returns self."""
        if not params:
            return self
        valid = self.get_params(deep=True)
        nested: dict[str, dict] = {}
        for key, value in params.items():
            name, nested_key, rest = key.partition("__")
            if name not in valid:
                raise ValueError(
                    f"Invalid parameter {name!r} for estimator {self}. Valid parameters are: "
                    f"{self._get_param_names()!r}.")
            if nested_key:
                nested.setdefault(name, {})[rest] = value
            else:
                setattr(self, name, value)
                valid[name] = value
        for name, inner in nested.items():
            valid[name].set_params(**inner)
        return self

    def __repr__(self) -> str:
        defaults = {name: p.default
                    for name, p in inspect.signature(type(self).__init__).parameters.items()}
        changed = []
        for name, value in self.get_params(deep=False).items():
            default = defaults.get(name, inspect.Parameter.empty)
            if not _same(value, default):
                changed.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(changed)})"

    def __sklearn_tags__(self):
        # Only scikit-learn asks for tags, so it is already imported when this runs.
        from sklearn.utils import InputTags, Tags, TargetTags, TransformerTags

        return Tags(
            estimator_type=None,
            target_tags=TargetTags(required=False),
            transformer_tags=TransformerTags(preserves_dtype=["float64", "float32"]),
            input_tags=InputTags(sparse=True, positive_only=self._positive_only_tag()),
        )

    def _positive_only_tag(self) -> bool:
        return False


def _same(value, default) -> bool:
    if value is default:
        return True
    if isinstance(value, np.ndarray) or isinstance(default, np.ndarray):
        return False
    try:
        return bool(value == default) and type(value) is type(default)
    except Exception:  # an object whose == is not a plain truth value
        return False


def check_random_state(seed) -> np.random.RandomState:
    """A RandomState from None (numpy's global one), an int seed or a RandomState as is."""
    if seed is None or seed is np.random:
        return np.random.mtrand._rand
    if isinstance(seed, numbers.Integral):
        return np.random.RandomState(seed)  # raises ValueError outside [0, 2**32 - 1]
    if isinstance(seed, np.random.RandomState):
        return seed
    raise ValueError(f"{seed!r} cannot be used to seed a numpy.random.RandomState instance")
