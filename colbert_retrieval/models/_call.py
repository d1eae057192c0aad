"""The two call contracts of ``encode``, PyLate's and sentence-transformers', mapped onto one request.

PyLate says ``is_query=`` / ``pool_factor=`` / ``protected_tokens=``; sentence-transformers' ``MultiVectorEncoder``
says ``task=`` / ``token_pooling=`` / ``truncate_dim=`` / ``output_value=``. Both may be used, alone or together,
as long as they agree; this is the only place that reads them.

Examples:
    >>> call = resolve_call(task="document", pool_factor=2)
    >>> call.is_query, call.task, type(call.token_pooling).__name__
    (False, 'document', 'TokenPooling')
    >>> resolve_call().task
    'query'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sentence_transformers.multi_vector_encoder.modules import BaseTokenPooling

from colbert_retrieval._inputs import positive_int
from colbert_retrieval.errors import InputTypeError, InvalidArgumentError
from colbert_retrieval.pooling import TokenPooling, check_pooling_arguments

__all__ = ["OUTPUT_VALUES", "TASKS", "EncodeCall", "resolve_call"]

#: sentence-transformers' task names and whether each is the query side.
TASKS: dict[str, bool] = {"query": True, "document": False, "passage": False, "corpus": False}
#: ``output_value``: the token vectors (default), or None for one dict of features per input.
OUTPUT_VALUES = ("token_embeddings", None)


@dataclass(frozen=True)
class EncodeCall:
    """What one ``encode`` call asks for, whichever contract it was written in."""

    is_query: bool
    token_pooling: BaseTokenPooling | None = None
    truncate_dim: int | None = None
    output_value: str | None = "token_embeddings"

    @property
    def task(self) -> str:
        """``"query"`` or ``"document"``: the side the texts are encoded as."""
        return "query" if self.is_query else "document"


def resolve_call(
    *,
    is_query: bool | None = None,
    task: str | None = None,
    pool_factor: int = 1,
    protected_tokens: int = 1,
    token_pooling: BaseTokenPooling | None = None,
    truncate_dim: int | None = None,
    output_value: str | None = "token_embeddings",
    model_pooling: BaseTokenPooling | None = None,
    model_truncate_dim: int | None = None,
    unknown: dict[str, Any] | None = None,
) -> EncodeCall:
    """Map the keywords of either contract onto one :class:`EncodeCall`.

    Args:
        is_query: PyLate's side flag (None: not given).
        task: sentence-transformers' side (``"query"``, ``"document"``, ``"passage"``, ``"corpus"``).
        pool_factor: PyLate's pooling (documents only; 1 disables it).
        protected_tokens: leading vectors PyLate's pooling keeps.
        token_pooling: sentence-transformers' per-call pooler (any ``BaseTokenPooling``).
        truncate_dim: per-call dimension (None: the model's).
        output_value: ``"token_embeddings"`` or None (one dict of features per input).
        model_pooling: the model's default pooler (sentence-transformers' ``token_pooling`` attribute).
        model_truncate_dim: the model's ``truncate_dim``.
        unknown: keywords neither contract has.

    Returns:
        The resolved call. Without ``is_query`` and ``task``, texts are queries (PyLate's default).

    Raises:
        InvalidArgumentError: an unknown keyword, task or output value; ``is_query`` and ``task`` that
            disagree; both ``pool_factor`` and ``token_pooling``; a bad pooling setting or dimension.
        InputTypeError: ``token_pooling`` that is not a ``BaseTokenPooling``.
    """
    if unknown:
        msg = (
            f"encode() got keyword arguments it does not take: {sorted(unknown)}. It takes PyLate's (is_query, "
            "pool_factor, protected_tokens, precision, padding, convert_to_tensor) and sentence-transformers' "
            "(task, token_pooling, truncate_dim, output_value, pool, chunk_size) keywords."
        )
        raise InvalidArgumentError(msg)
    if output_value not in OUTPUT_VALUES:
        msg = f'output_value must be "token_embeddings" or None (one dict of features per input), got {output_value!r}.'
        raise InvalidArgumentError(msg)
    is_query = _side(is_query, task)
    check_pooling_arguments(pool_factor, protected_tokens)
    if int(pool_factor) > 1:
        if token_pooling is not None:
            msg = "Pass pool_factor= (PyLate) or token_pooling= (sentence-transformers), not both."
            raise InvalidArgumentError(msg)
        token_pooling = TokenPooling(int(pool_factor), protected_tokens=protected_tokens)
    elif token_pooling is None:
        token_pooling = model_pooling
    if token_pooling is not None and not isinstance(token_pooling, BaseTokenPooling):
        msg = (
            f"token_pooling must be a sentence_transformers BaseTokenPooling (e.g. colbert_retrieval.pooling."
            f"TokenPooling), got {type(token_pooling).__name__}; or pass pool_factor=."
        )
        raise InputTypeError(msg)
    dimension = truncate_dim if truncate_dim is not None else model_truncate_dim
    if dimension is not None:
        positive_int(dimension, "truncate_dim")
    return EncodeCall(is_query, token_pooling, dimension, output_value)


def _side(is_query: bool | None, task: str | None) -> bool:
    if task is None:
        return True if is_query is None else bool(is_query)
    if task not in TASKS:
        msg = f"task={task!r} is not a side of the model: use one of {sorted(TASKS)} (or is_query=)."
        raise InvalidArgumentError(msg)
    if is_query is not None and bool(is_query) != TASKS[task]:
        msg = f"is_query={is_query} and task={task!r} disagree: pass one of them."
        raise InvalidArgumentError(msg)
    return TASKS[task]
