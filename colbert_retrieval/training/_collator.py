"""PyLate's ``ColBERTCollator`` on sentence-transformers' multi-vector data collator.

``ColBERTCollator(tokenize_fn=model.tokenize)`` is how PyLate scripts build their collator. Here it tokenises
with the model's own ``preprocess`` (markers, ``[MASK]`` expansion, lengths: exactly as ``encode``), so the
first column is the query and the others are documents, as in PyLate. Two of PyLate's data layouts work:

* one text per column: ``query``, ``positive``, ``negative`` (..., ``negative_n``);
* a list column of documents with a list of teacher scores, PyLate's distillation layout
  (``{"query": ..., "documents": [d1, ..., dN], "scores": [s1, ..., sN]}``): the list is expanded into
  ``documents_0`` ... ``documents_{N-1}`` columns, the layout of :class:`colbert_retrieval.pylate.losses.Distillation`.

Examples:
    >>> from colbert_retrieval.testing import shared_model
    >>> model = shared_model()
    >>> collator = ColBERTCollator(tokenize_fn=model.tokenize)
    >>> row = {"query": "fruits?", "documents": ["fruits are good.", "cars are fast."], "scores": [0.9, 0.1]}
    >>> batch = collator([row])
    >>> sorted(k for k in batch if k.endswith("input_ids")), tuple(batch["label"].shape)
    (['documents_0_input_ids', 'documents_1_input_ids', 'query_input_ids'], (1, 2))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sentence_transformers.base.data_collator import DEFAULT_LABEL_COLUMNS
from sentence_transformers.multi_vector_encoder.data_collator import MultiVectorEncoderDataCollator

from colbert_retrieval.errors import InputTypeError

__all__ = ["ColBERTCollator"]


def _preprocess_fn(tokenize_fn: Callable) -> Callable:
    owner = getattr(tokenize_fn, "__self__", None)
    preprocess = getattr(owner, "preprocess", None)
    if callable(preprocess):
        return preprocess  # the model's own: what its encode and its losses expect

    def preprocess_with_tokenize(inputs: Sequence[str], prompt: Any = None, task: Any = None, **_: Any) -> Any:
        return tokenize_fn(list(inputs), is_query=task == "query")

    return preprocess_with_tokenize


class ColBERTCollator(MultiVectorEncoderDataCollator):
    """Collates training rows into model inputs (PyLate's ``ColBERTCollator`` arguments).

    Args:
        tokenize_fn: ``model.tokenize`` (its model's ``preprocess`` is used), or any
            ``tokenize(texts, is_query=...)`` function.
        valid_label_columns: columns holding labels or teacher scores (default: label, labels, score, scores).
        router_mapping: column name to ``"query"`` / ``"document"`` (default: first column query, rest documents).
        prompts: a prompt per column (or per dataset).
        include_prompt_lengths: accepted for PyLate compatibility (prompt lengths are not needed here).
        all_special_ids: accepted for PyLate compatibility (the model's skiplist handles special tokens).
        max_length: token limit per task during training, e.g. ``{"document": 128}`` (default: the model's).
    """

    def __init__(
        self,
        tokenize_fn: Callable,
        valid_label_columns: list[str] | None = None,
        router_mapping: dict[str, Any] | None = None,
        prompts: dict[str, Any] | None = None,
        include_prompt_lengths: bool = False,
        all_special_ids: set[int] | None = None,
        max_length: int | dict[str, int] | None = None,
    ) -> None:
        super().__init__(
            preprocess_fn=_preprocess_fn(tokenize_fn),
            valid_label_columns=list(valid_label_columns or DEFAULT_LABEL_COLUMNS),
            router_mapping=router_mapping or {},
            prompts=prompts or {},
            max_length=max_length,
        )
        self.tokenize_fn = tokenize_fn

    def _expand(self, row: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in row.items():
            if name in self.valid_label_columns or not isinstance(value, (list, tuple)):
                out[name] = value
                continue
            if not value or not all(isinstance(text, str) for text in value):
                raise InputTypeError(f"Column {name!r} must hold texts or a non-empty list of texts, got {value!r}.")
            out.update({f"{name}_{position}": text for position, text in enumerate(value)})
        return out

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        """One batch: list columns expanded, then sentence-transformers' collation."""
        return super().__call__([self._expand(row) for row in features])
