"""How a ColBERT checkpoint's modules are loaded and its configuration saved (hooks of sentence-transformers).

A bare transformers or sentence-transformers checkpoint gets a new ColBERT head; everything else keeps
its saved modules. The saved configuration carries PyLate's keys (markers, lengths, expansion, skiplist),
so PyLate and sentence-transformers both read it back.

Examples:
    >>> from colbert_retrieval import default_model
    >>> default_model().similarity_fn_name
    'MaxSim'
"""

from __future__ import annotations

import warnings

__all__ = ["SimilarityName", "warn_random_head"]


def warn_random_head(name: str | None) -> None:
    """Warn that a checkpoint without a ColBERT head got a random one (its vectors change at every load)."""
    msg = (
        f"{name} has no trained ColBERT head: a random projection was added, so every load gives other vectors. "
        "Fine-tune it, or save it (model.save(folder)) and load that folder before indexing."
    )
    warnings.warn(msg, UserWarning, stacklevel=3)


class SimilarityName(str):
    """A similarity function name that compares (and hashes) without regard to case.

    PyLate spells MaxSim ``"MaxSim"`` and sentence-transformers ``"maxsim"``; the model reports PyLate's
    spelling and still matches wherever sentence-transformers looks the name up (its evaluators, model card).
    Metric names built from it keep PyLate's spelling (``MaxSim_accuracy``), as PyLate's scripts read them.

    Examples:
        >>> name = SimilarityName("MaxSim")
        >>> name == "maxsim", name == "MaxSim", {"maxsim": 1}.get(name)
        (True, True, 1)
    """

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and self.lower() == other.lower()

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self.lower())
