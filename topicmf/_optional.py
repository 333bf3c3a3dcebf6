"""Optional packages: imported when a function needs them, with one line naming the extra."""

from __future__ import annotations

import importlib

from .errors import MissingDependencyError


def require(module: str, what: str, extra: str):
    """Import and return ``module``, which ``what`` needs; MissingDependencyError naming the
    extra of topicmf that installs it if it is not installed."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(f"{what} needs {module}; install it with: "
                                     f"pip install 'topicmf[{extra}]'") from None
