"""Fine-tuning a ColBERT on a user's documents, on sentence-transformers' multi-vector trainer.

Rule of this folder: no second trainer. Losses, collation and the training loop are sentence-transformers'
(:mod:`.losses` and :mod:`.collator` only map PyLate's names and arguments onto them); this folder adds what
they lack for a ColBERT user: hard negatives mined from our own index (:mod:`.mining`), exact-MaxSim BEIR
evaluation during training (:mod:`.beir`), and the end-to-end recipe behind ``colbert-retrieval train``
(:mod:`.fine_tune`). Needs the ``train`` extra: ``pip install "colbert-retrieval[train]"``.

Examples:
    >>> from colbert_retrieval.training import FineTuneConfig
    >>> FineTuneConfig(data="nfcorpus", output="out").split
    'train'
"""

from __future__ import annotations

try:
    import datasets  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised by tests with the module hidden
    from colbert_retrieval._extras import missing_extra

    raise missing_extra("train", "datasets") from error

from colbert_retrieval.training._beir import BeirEvaluator, exact_maxsim_runs
from colbert_retrieval.training._collator import ColBERTCollator
from colbert_retrieval.training._fine_tune import FineTuneConfig, FineTuneReport, fine_tune
from colbert_retrieval.training._losses import CachedContrastive, Contrastive, Distillation
from colbert_retrieval.training._mining import mine_hard_negatives

__all__ = [
    "BeirEvaluator",
    "CachedContrastive",
    "ColBERTCollator",
    "Contrastive",
    "Distillation",
    "FineTuneConfig",
    "FineTuneReport",
    "exact_maxsim_runs",
    "fine_tune",
    "mine_hard_negatives",
]
