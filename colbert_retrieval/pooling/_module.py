"""Token pooling as a sentence-transformers module: in a model's pipeline, per ``encode`` call, or standalone.

:class:`TokenPooling` is a ``BaseTokenPooling`` (the interface of sentence-transformers'
``HierarchicalTokenPooling``) with this library's semantics and speed: integer ``pool_factor``, protected
leading tokens, cluster means not re-normalised, and the batched path of
:func:`~colbert_retrieval.pooling.pool_embeddings_hierarchical` (a whole batch at once, not one SciPy call per
document). Its configuration saves with the model, so a checkpoint can bake pooling in.

Examples:
    >>> import torch
    >>> pooling = TokenPooling(pool_factor=2)
    >>> doc = torch.nn.functional.normalize(torch.randn(9, 4, generator=torch.Generator().manual_seed(0)), dim=-1)
    >>> [tuple(p.shape) for p in pooling.pool([doc])]
    [(5, 4)]
    >>> pooling.pool([doc], task="query")[0] is doc
    True
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from sentence_transformers.multi_vector_encoder.modules import BaseTokenPooling
from torch import Tensor

from colbert_retrieval.pooling._hierarchical import check_pooling_arguments, pool_embeddings_hierarchical

__all__ = ["TokenPooling"]


class TokenPooling(BaseTokenPooling):
    """Ward token pooling of documents (PyLate >= 1.5 semantics) for a ``MultiVectorEncoder`` pipeline.

    Args:
        pool_factor: keep about ``1 / pool_factor`` of each document's non-protected vectors (integer >= 1;
            1 disables pooling).
        protected_tokens: leading vectors never pooled (the ``[CLS]``).
        tasks: tasks the pooling applies to (default ``["document"]``: queries are never pooled).

    Raises:
        InvalidArgumentError: ``pool_factor`` below 1 or ``protected_tokens`` below 0.
    """

    config_keys: ClassVar[list[str]] = ["pool_factor", "protected_tokens", "tasks"]

    def __init__(
        self, pool_factor: int = 2, *, protected_tokens: int = 1, tasks: str | list[str] | None = None
    ) -> None:
        super().__init__(tasks=tasks)
        check_pooling_arguments(pool_factor, protected_tokens)
        self.pool_factor = int(pool_factor)
        self.protected_tokens = protected_tokens

    def pool_one(self, embedding: Tensor, **kwargs: Any) -> Tensor:
        """Pool one ``(n_tokens, dim)`` matrix."""
        return pool_embeddings_hierarchical([embedding], self.pool_factor, self.protected_tokens)[0]

    def pool(self, embeddings: list[Tensor] | Tensor, **kwargs: Any) -> list[Tensor] | Tensor:
        """Pool a list of ``(n_i, dim)`` matrices (all at once) or a padded ``(batch, n, dim)`` tensor.

        Args:
            embeddings: the documents' token vectors.
            **kwargs: ``task``, ``attention_mask`` and ``padding_side``, as sentence-transformers takes them.

        Returns:
            The pooled list, or a padded tensor for a padded input.
        """
        if isinstance(embeddings, list) and self.applies_to(kwargs.get("task")):
            return pool_embeddings_hierarchical(embeddings, self.pool_factor, self.protected_tokens)
        return super().pool(embeddings, **kwargs)

    def forward(self, features: dict[str, Tensor], task: str | None = None) -> dict[str, Tensor]:
        """Pool ``token_embeddings`` (under ``attention_mask``) of a batch in a model's pipeline."""
        if not self.applies_to(task) or features["token_embeddings"].shape[0] == 0:
            return features
        embeddings, mask = features["token_embeddings"], features["attention_mask"].bool()
        pooled = pool_embeddings_hierarchical(
            [e[m] for e, m in zip(embeddings, mask)], self.pool_factor, self.protected_tokens
        )
        lengths = torch.tensor([p.shape[0] for p in pooled], device=embeddings.device)
        features["token_embeddings"] = torch.nn.utils.rnn.pad_sequence(pooled, batch_first=True)
        features["attention_mask"] = torch.arange(int(lengths.max()), device=embeddings.device)[None] < lengths[:, None]
        return features
