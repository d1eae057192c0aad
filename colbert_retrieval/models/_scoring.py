"""MaxSim scoring and token pooling as methods of the encoder (PyLate's ``similarity`` and pooling API).

The maths lives in :mod:`colbert_retrieval.scores` and :mod:`colbert_retrieval.pooling`; these methods apply
the model's ``similarity_fn_name`` (``maxsim`` or ``meanmaxsim``).

Examples:
    >>> import numpy as np
    >>> from colbert_retrieval import default_model
    >>> default_model().similarity([np.eye(2, dtype=np.float32)], [np.eye(2, dtype=np.float32)]).tolist()
    [[2.0]]
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from colbert_retrieval import pooling, scores
from colbert_retrieval._inputs import texts_or_raise
from colbert_retrieval.explanation import Explanation, TokenMatch

__all__ = ["ScoringMixin"]


class ScoringMixin:
    """``similarity``, ``similarity_pairwise`` and ``pool_embeddings_hierarchical`` of the encoder."""

    similarity_fn_name: str

    def similarity(self, embeddings1: Any, embeddings2: Any, **kwargs: Any) -> Tensor:
        """All-pairs MaxSim between query and document embeddings (ragged lists, one matrix or padded).

        Args:
            embeddings1: query embeddings.
            embeddings2: document embeddings.
            **kwargs: ``chunk_elements`` / ``compute_dtype`` of :func:`colbert_retrieval.scores.colbert_scores`.

        Returns:
            ``(n_queries, n_documents)`` tensor (divided by the query token count for ``meanmaxsim``).
        """
        q, q_mask = scores.to_padded(embeddings1)
        d, d_mask = scores.to_padded(embeddings2)
        result = scores.colbert_scores(q, d, q_mask, d_mask, **kwargs)
        if self.similarity_fn_name == "meanmaxsim":
            result = result / q_mask.sum(dim=1, keepdim=True).clamp(min=1).to(result)
        return result

    def similarity_pairwise(self, embeddings1: Any, embeddings2: Any, **kwargs: Any) -> Tensor:
        """MaxSim of each query with the document at the same position: a ``(n,)`` tensor."""
        q, q_mask = scores.to_padded(embeddings1)
        d, d_mask = scores.to_padded(embeddings2)
        result = scores.colbert_scores_pairwise(q, d, q_mask, d_mask)
        if self.similarity_fn_name == "meanmaxsim":
            result = result / q_mask.sum(dim=1).clamp(min=1).to(result)
        return result

    def _token_vectors(self, text: str, is_query: bool) -> tuple[list[str], list[int], Tensor, list[int]]:
        """Tokens with vectors, their positions in the input ids, the unit vectors, and all input ids."""
        task = "query" if is_query else "document"
        prompt = self._text_prompt(is_query, None, None)  # type: ignore[attr-defined]
        features = self.preprocess([text], prompt=prompt, task=task)  # type: ignore[attr-defined]
        device = next(self.parameters()).device  # type: ignore[attr-defined]
        features = {k: v.to(device) if isinstance(v, Tensor) else v for k, v in features.items()}
        input_ids = features["input_ids"][0].tolist()
        with torch.inference_mode():
            out = self._forward(features, task, True)  # type: ignore[attr-defined]
        kept = out["attention_mask"][0].bool().nonzero().flatten().tolist()
        tokens = self.tokenizer.convert_ids_to_tokens([input_ids[p] for p in kept])  # type: ignore[attr-defined]
        return tokens, kept, out["token_embeddings"][0][kept].float(), input_ids

    def explain(self, query: str, document: str) -> Explanation:
        """Split the MaxSim score of ``document`` for ``query`` into per-query-token matches.

        The document's first ``document_length`` tokens are explained, without pooling (one vector per token):
        the whole document for the default ``truncation=True``; with ``truncation=False`` (sliding windows) only
        the first window, so the score is that window's.

        Args:
            query: the query text.
            document: the document text.

        Returns:
            An :class:`~colbert_retrieval.explanation.Explanation`: per query token, the best document token,
            its character span and its contribution; the contributions sum to the MaxSim score.

        Examples:
            >>> from colbert_retrieval import default_model
            >>> explanation = default_model().explain("vitamin C deficiency", "Scurvy: a lack of vitamin C.")
            >>> explanation.to_text(color=False)
            'Scurvy: a [lack] [of] [vitamin] [C].'
        """
        query, document = texts_or_raise([query, document])
        q_tokens, _, q_vectors, _ = self._token_vectors(query, True)
        d_tokens, kept, d_vectors, input_ids = self._token_vectors(document, False)
        raw = self.tokenizer(  # type: ignore[attr-defined]
            document, add_special_tokens=False, return_offsets_mapping=True, truncation=True, max_length=len(input_ids)
        )
        start = next((i for i in range(len(input_ids)) if input_ids[i : i + 1] == raw["input_ids"][:1]), 0)
        offsets = raw["offset_mapping"]
        spans = [tuple(offsets[p - start]) if 0 <= p - start < len(offsets) else None for p in kept]
        similarities = q_vectors @ d_vectors.T
        best, where = similarities.max(dim=1)
        matches = [
            TokenMatch(q_tokens[i], d_tokens[j], j, spans[j], float(best[i]))  # type: ignore[arg-type]
            for i, j in enumerate(where.tolist())
        ]
        return Explanation(query, document, float(best.sum()), matches, d_tokens, spans)  # type: ignore[arg-type]

    @staticmethod
    def pool_embeddings_hierarchical(
        documents_embeddings: list[Tensor], pool_factor: int = 1, protected_tokens: int = 1
    ) -> list[Tensor]:
        """Ward token pooling (see :func:`colbert_retrieval.pooling.pool_embeddings_hierarchical`)."""
        return pooling.pool_embeddings_hierarchical(documents_embeddings, pool_factor, protected_tokens)
