"""PyLate's ``pylate.utils`` training name: ``utils.ColBERTCollator(tokenize_fn=model.tokenize)``.

The collator lives in :mod:`colbert_retrieval.training._collator`. Needs ``pip install "colbert-retrieval[train]"``.

Examples:
    >>> from colbert_retrieval.pylate import utils
    >>> utils.__all__
    ['ColBERTCollator']
"""

from __future__ import annotations

from colbert_retrieval.training import ColBERTCollator

__all__ = ["ColBERTCollator"]
