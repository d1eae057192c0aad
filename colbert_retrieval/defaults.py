"""Deprecated module of 0.1 (removed in 0.3): use :func:`colbert_retrieval.load_model` and ``models.default``.

Examples:
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     from colbert_retrieval.defaults import default_model
    >>> default_model.__module__
    'colbert_retrieval.models.default'
"""

from __future__ import annotations

import warnings
from typing import Any

from colbert_retrieval.models import default as _default
from colbert_retrieval.models.loading import load_model

__all__: list[str] = []  # every name here is deprecated (see __getattr__)

_MOVED = {
    "DEFAULT_MODEL_NAME": _default.DEFAULT_MODEL_NAME,
    "DefaultModelConfig": _default.DefaultModelConfig,
    "build_minilm_colbert": _default.build_minilm_colbert,
    "default_model": _default.default_model,
    "minilm_path": _default.minilm_path,
    "SHIPPED": _default.SHIPPED,
}


def _resolve_model(model: Any = None, device: str | None = None) -> Any:
    return load_model(model, device=device)


def __getattr__(name: str) -> Any:
    """Every name of this module moved to ``colbert_retrieval.models.default``; ``resolve_model`` is ``load_model``."""
    if name == "resolve_model":
        warnings.warn(
            "resolve_model is deprecated; use colbert_retrieval.load_model.", DeprecationWarning, stacklevel=2
        )
        return _resolve_model
    if name in _MOVED:
        warnings.warn(
            f"colbert_retrieval.defaults is deprecated; import {name} from colbert_retrieval.models.default.",
            DeprecationWarning,
            stacklevel=2,
        )
        return _MOVED[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
