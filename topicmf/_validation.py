"""One place for parameter checks, so every message has the same shape.

    The 'n_topics' parameter of NMF must be an int in the range [1, 1000]. Got 0 instead.
"""

from __future__ import annotations

import numbers

import numpy as np

from .errors import InvalidParameterError


def _owner_text(owner: str | None) -> str:
    return f" of {owner}" if owner else ""


def check_int(value, name: str, *, low: int | None = None, high: int | None = None,
              owner: str | None = None, allow_none: bool = False) -> int | None:
    """Return ``value`` as an int, or raise InvalidParameterError naming the parameter."""
    if value is None and allow_none:
        return None
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if ok:
        value = int(value)
        ok = (low is None or value >= low) and (high is None or value <= high)
    if not ok:
        raise InvalidParameterError(
            f"The '{name}' parameter{_owner_text(owner)} must be an int{_range_text(low, high)}"
            f"{' or None' if allow_none else ''}. Got {value!r} instead."
        )
    return value


def check_float(value, name: str, *, low: float | None = None, high: float | None = None,
                low_open: bool = False, high_open: bool = False, owner: str | None = None,
                allow_none: bool = False) -> float | None:
    """Return ``value`` as a float in the given range, or raise InvalidParameterError."""
    if value is None and allow_none:
        return None
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isfinite(value)
    if ok:
        value = float(value)
        if low is not None:
            ok = value > low if low_open else value >= low
        if ok and high is not None:
            ok = value < high if high_open else value <= high
    if not ok:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        raise InvalidParameterError(
            f"The '{name}' parameter{_owner_text(owner)} must be a float in the range "
            f"{left}{lo}, {hi}{right}{' or None' if allow_none else ''}. Got {value!r} instead."
        )
    return value


def check_choice(value, name: str, choices, *, owner: str | None = None):
    """Return ``value`` if it is one of ``choices``, or raise InvalidParameterError."""
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise InvalidParameterError(
            f"The '{name}' parameter{_owner_text(owner)} must be one of {listed}. "
            f"Got {value!r} instead."
        )
    return value


def _range_text(low, high) -> str:
    if low is None and high is None:
        return ""
    lo = "-inf" if low is None else str(low)
    hi = "inf" if high is None else str(high)
    return f" in the range [{lo}, {hi}]"
