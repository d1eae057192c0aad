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
from colbert_retrieval.models._explanation import Explanation, TokenMatch

__all__ = ["ScoringMixin"]


def _training_dtype(queries: Tensor, documents: Tensor) -> torch.dtype | None:
    """While autograd records the inputs (training), score in their own dtype; else the default (None)."""
    if torch.is_grad_enabled() and (queries.requires_grad or documents.requires_grad):
        return torch.promote_types(queries.dtype, documents.dtype)
    return None


class ScoringMixin:
    """``similarity``, ``similarity_pairwise`` and ``pool_embeddings_hierarchical`` of the encoder."""

    similarity_fn_name: str

    def similarity(
        self,
        embeddings1: Any,
        embeddings2: Any,
        a_mask: Any = None,
        b_mask: Any = None,
        chunk_elements: int | None = None,
        length_normalize: bool | None = None,
        device: str | torch.device | None = None,
        *,
        compute_dtype: torch.dtype | None = None,
    ) -> Tensor:
        """All-pairs MaxSim between query and document embeddings (ragged lists, one matrix or padded).

        Takes sentence-transformers' ``MultiVectorEncoder.similarity`` keywords (its losses, evaluators and
        trainer call it with them) and PyLate's positional form.

        Args:
            embeddings1: query embeddings: a list of ``(n_i, dim)`` matrices, one matrix, or a padded batch.
            embeddings2: document embeddings, in the same forms.
            a_mask: ``(n_queries, Lq)`` mask of a padded query batch, True on real tokens (None: all-zero rows
                are padding).
            b_mask: ``(n_documents, Ld)`` mask of a padded document batch.
            chunk_elements: similarity values materialised at once (see
                :func:`colbert_retrieval.scores.colbert_scores`).
            length_normalize: divide each score by the query's real token count (MeanMaxSim); None follows
                ``similarity_fn_name``.
            device: score on this device; the scores are returned on the documents' device.
            compute_dtype: dtype of the matrix products (default: float32 on CPU, bfloat16 on CUDA, the inputs'
                own dtype while autograd records them, as in training).

        Returns:
            ``(n_queries, n_documents)`` float32 tensor.

        Examples:
            >>> import torch
            >>> from colbert_retrieval import default_model
            >>> q, d = torch.eye(2)[None], torch.eye(2)[None]
            >>> default_model().similarity(q, d, a_mask=torch.tensor([[True, False]]), length_normalize=True)
            tensor([[1.]])
        """
        q, q_mask, d, d_mask, home = self._scoring_inputs(embeddings1, embeddings2, a_mask, b_mask, device)
        dtype = compute_dtype or _training_dtype(q, d)
        result = scores.colbert_scores(q, d, q_mask, d_mask, chunk_elements=chunk_elements, compute_dtype=dtype)
        if self._length_normalize(length_normalize):
            result = result / q_mask.sum(dim=1, keepdim=True).clamp(min=1).to(result)
        return result.to(home)

    def similarity_pairwise(
        self,
        embeddings1: Any,
        embeddings2: Any,
        a_mask: Any = None,
        b_mask: Any = None,
        chunk_elements: int | None = None,
        length_normalize: bool | None = None,
        device: str | torch.device | None = None,
    ) -> Tensor:
        """MaxSim of each query with the document at the same position: a ``(n,)`` tensor.

        Same keywords as :meth:`similarity` (sentence-transformers' ``similarity_pairwise`` contract).

        Examples:
            >>> import torch
            >>> from colbert_retrieval import default_model
            >>> default_model().similarity_pairwise(torch.eye(2)[None], torch.eye(2)[None]).tolist()
            [2.0]
        """
        q, q_mask, d, d_mask, home = self._scoring_inputs(embeddings1, embeddings2, a_mask, b_mask, device)
        result = scores.colbert_scores_pairwise(q, d, q_mask, d_mask, chunk_elements=chunk_elements)
        if self._length_normalize(length_normalize):
            result = result / q_mask.sum(dim=1).clamp(min=1).to(result)
        return result.to(home)

    def _length_normalize(self, length_normalize: bool | None) -> bool:
        if length_normalize is None:
            return self.similarity_fn_name == "meanmaxsim"
        return bool(length_normalize)

    @staticmethod
    def _scoring_inputs(
        embeddings1: Any, embeddings2: Any, a_mask: Any, b_mask: Any, device: str | torch.device | None
    ) -> tuple[Tensor, Tensor, Tensor, Tensor, torch.device]:
        """Padded queries and documents with their masks, on ``device``; and the documents' own device."""
        q, q_mask = scores.to_padded(embeddings1, a_mask)
        d, d_mask = scores.to_padded(embeddings2, b_mask)
        home = d.device
        if device is not None:
            q, q_mask, d, d_mask = (t.to(device) for t in (q, q_mask, d, d_mask))
        return q, q_mask, d, d_mask, home

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
            An :class:`~colbert_retrieval.models._explanation.Explanation`: per query token, the best document token,
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
