"""Which documents the model would cut: texts longer than ``document_length`` tokens, markers included.

The index counts them at ingest so that nothing is truncated without a word: a model loaded with
``truncation=True`` (the default) encodes the first ``document_length`` tokens of a longer document, one loaded
with ``truncation=False`` encodes it whole in sliding windows (then nothing is cut).

Examples:
    >>> from colbert_retrieval import default_model
    >>> model = default_model()
    >>> overlong_documents(model, ["short", "word " * 1000])
    [1]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from colbert_retrieval.models._colbert import ColBERT

__all__ = ["overlong_documents"]


def overlong_documents(model: ColBERT, texts: Sequence[str]) -> list[int]:
    """Positions of the ``texts`` that ``model.encode(texts, is_query=False)`` cuts at ``document_length``.

    Args:
        model: the encoder.
        texts: document texts.

    Returns:
        Positions in ``texts``, ascending; ``[]`` for a model loaded with ``truncation=False`` (sliding windows
        read every token).
    """
    if not model.truncation or not texts:
        return []
    prompt = model._text_prompt(False, None, None)
    lengths = model.tokenizer(
        [prompt + text for text in texts],
        add_special_tokens=True,
        truncation=False,
        return_attention_mask=False,
        return_token_type_ids=False,
        verbose=False,
    )["input_ids"]
    return [position for position, ids in enumerate(lengths) if len(ids) > model.document_length]
