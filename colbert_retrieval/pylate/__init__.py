"""PyLate's module names, in one place: change ``pylate`` to ``colbert_retrieval.pylate`` in a script's imports.

Rule: nothing is implemented here; each name is the colbert-retrieval object that does what PyLate's does
(``models``, ``scores``, ``evaluation`` are this library's packages; ``rank``, ``losses`` and ``utils`` map
PyLate's names onto them). What differs from PyLate, and why, is in docs/pylate-differences.md.

Examples:
    >>> from colbert_retrieval.pylate import models, rank
    >>> models.ColBERT.__name__, rank.rerank.__name__
    ('ColBERT', 'rerank')
    >>> from colbert_retrieval.pylate.models import ColBERT  # PyLate's ``from pylate.models import ColBERT``
"""

from __future__ import annotations

import sys

from colbert_retrieval import evaluation, models, scores
from colbert_retrieval.pylate import rank

# ``from colbert_retrieval.pylate.models import ColBERT`` works as ``from pylate.models import ColBERT`` does.
for _name, _module in {"models": models, "scores": scores, "evaluation": evaluation}.items():
    sys.modules.setdefault(f"{__name__}.{_name}", _module)

__all__ = ["evaluation", "losses", "models", "rank", "scores", "utils"]


def __getattr__(name: str) -> object:
    """``losses`` and ``utils`` need the training extra: imported when first used."""
    if name in ("losses", "utils"):
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
