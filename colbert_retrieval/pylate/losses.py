"""PyLate's ``pylate.losses`` names: ``from colbert_retrieval.pylate import losses`` ports a PyLate training script.

The classes live in :mod:`colbert_retrieval.training._losses` (mappings onto sentence-transformers' losses;
the arguments that differ are listed there). Needs ``pip install "colbert-retrieval[train]"``.

Examples:
    >>> from colbert_retrieval.pylate import losses
    >>> sorted(losses.__all__)
    ['CachedContrastive', 'Contrastive', 'Distillation']
"""

from __future__ import annotations

from colbert_retrieval.training import CachedContrastive, Contrastive, Distillation

__all__ = ["CachedContrastive", "Contrastive", "Distillation"]
