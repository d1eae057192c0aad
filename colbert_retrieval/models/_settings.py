"""PyLate-style settings of a ColBERT model, resolved and applied to sentence-transformers modules.

Precedence for every setting: explicit constructor argument > value saved in the checkpoint > default.
A checkpoint converted from a plain transformers / sentence-transformers model has no saved ColBERT
settings, so it gets PyLate's defaults.

Examples:
    >>> pick(None, 180, 300)
    180
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any, TypeVar

from sentence_transformers import MultiVectorEncoder
from sentence_transformers.base.modules import Normalize, Transformer
from sentence_transformers.base.modules.dense import Dense
from sentence_transformers.multi_vector_encoder.modules import MultiVectorMask
from torch import nn
from transformers import AddedToken

from colbert_retrieval.errors import InvalidArgumentError

__all__ = ["ColBERTSettings", "apply_settings", "mask_of", "new_projection", "pick", "transformer_of"]

T = TypeVar("T")

DEFAULT_EMBEDDING_SIZE = 128
DEFAULT_QUERY_PREFIX = "[Q] "
DEFAULT_DOCUMENT_PREFIX = "[D] "
DEFAULT_QUERY_LENGTH = 32
DEFAULT_DOCUMENT_LENGTH = 180


def pick(explicit: T | None, saved: T | None, default: T) -> T:
    """Explicit value, else the saved one, else the default.

    Examples:
        >>> pick(5, 3, 1), pick(None, None, 1)
        (5, 1)
    """
    if explicit is not None:
        return explicit
    if saved is not None:
        return saved
    return default


@dataclass
class ColBERTSettings:
    """The constructor arguments that shape tokenisation and scoring (None = not given)."""

    embedding_size: int | None = None
    bias: bool = False
    query_prefix: str | None = None
    document_prefix: str | None = None
    add_special_tokens: bool = True
    query_length: int | None = None
    document_length: int | None = None
    do_query_expansion: bool | None = None
    attend_to_expansion_tokens: bool | None = None
    skiplist_words: list[str] | None = None


def new_projection(in_features: int, out_features: int, bias: bool) -> Dense:
    """A token-level linear projection (the ColBERT head), freshly initialised.

    Examples:
        >>> new_projection(8, 4, False).get_embedding_dimension()
        4
    """
    return Dense(
        in_features=in_features,
        out_features=out_features,
        bias=bias,
        activation_function=nn.Identity(),
        module_input_name="token_embeddings",
    )


def transformer_of(model: MultiVectorEncoder) -> Transformer:
    """The backbone module (it holds ``query_length``, ``document_length`` and the query expansion)."""
    for module in model:
        if isinstance(module, Transformer):
            return module
    msg = "A ColBERT model needs a sentence_transformers Transformer module as its backbone."
    raise InvalidArgumentError(msg)


def mask_of(model: MultiVectorEncoder) -> MultiVectorMask:
    """The skiplist module (inserted before the final Normalize when the checkpoint has none)."""
    for module in model:
        if isinstance(module, MultiVectorMask):
            return module
    mask = MultiVectorMask()
    position = len(model)
    while position > 0 and isinstance(model[position - 1], Normalize):
        position -= 1
    model.insert(position, mask)
    return mask


def _last_dense_position(model: MultiVectorEncoder) -> int | None:
    positions = [i for i, module in enumerate(model) if isinstance(module, Dense)]
    return positions[-1] if positions else None


def _apply_projection(model: MultiVectorEncoder, settings: ColBERTSettings, fresh: bool) -> None:
    position = _last_dense_position(model)
    if position is None:
        return
    dense = model[position]
    if fresh:
        size = settings.embedding_size or DEFAULT_EMBEDDING_SIZE
        if dense.get_embedding_dimension() != size or settings.bias:
            model[position] = new_projection(dense.linear.in_features, size, settings.bias)
    elif settings.embedding_size is not None and dense.get_embedding_dimension() != settings.embedding_size:
        # PyLate: a checkpoint whose head has another size gets one more projection on top.
        extra = new_projection(dense.get_embedding_dimension(), settings.embedding_size, settings.bias)
        model.insert(position + 1, extra)


def _register_markers(model: MultiVectorEncoder, markers: list[str]) -> None:
    """Make each marker one token: known ones become special tokens, unknown ones are added (+1 row each)."""
    tokenizer = model.tokenizer
    known = set(tokenizer.get_vocab()) | set(getattr(tokenizer, "added_tokens_encoder", {}) or {})
    to_register: list[str] = []
    new_tokens: list[str] = []
    for marker in dict.fromkeys(m for m in markers if m and m.strip()):
        if tokenizer.tokenize(marker) in ([marker], [marker.strip()]):
            continue
        if marker in known:
            to_register.append(marker)
        elif marker.split()[0] in known:
            to_register.append(marker.split()[0])
        else:
            new_tokens.append(marker)
    if not to_register and not new_tokens:
        return
    backbone = transformer_of(model).auto_model
    if new_tokens:
        backbone.resize_token_embeddings(len(tokenizer))
    tokens = [AddedToken(t, normalized=False, special=True) for t in [*to_register, *new_tokens]]
    tokenizer.add_special_tokens({"additional_special_tokens": tokens}, replace_extra_special_tokens=False)
    if new_tokens:
        # transformers initialises new rows from the mean of the old ones (plus tiny noise), as in PyLate.
        backbone.resize_token_embeddings(len(tokenizer))


def _saved_prefixes(model: MultiVectorEncoder, fresh: bool, legacy: dict[str, str]) -> dict[str, str | None]:
    if legacy:
        return dict(legacy)
    if fresh:
        return {"query": None, "document": None}
    return {role: model.prompts.get(role) or None for role in ("query", "document")}


def _split_prompts(prompts: dict[str, Any], prefixes: dict[str, str]) -> dict[str, str]:
    user: dict[str, str] = {}
    for name, value in prompts.items():
        if value is None:
            continue
        marker = prefixes.get(name, "")
        rest = value[len(marker) :] if marker and value.startswith(marker) else value
        if rest or name not in prefixes:
            user[name] = rest
    return user


def apply_settings(
    model: MultiVectorEncoder,
    settings: ColBERTSettings,
    fresh: bool,
    user_prompts: dict[str, str],
    legacy_prefixes: dict[str, str] | None = None,
) -> None:
    """Resolve ``settings`` against what the checkpoint saved and configure the modules in place.

    Args:
        model: the freshly loaded model.
        settings: explicit constructor arguments.
        fresh: the checkpoint had no ColBERT head (plain transformers / sentence-transformers model).
        user_prompts: prompts the caller passed to the constructor.
        legacy_prefixes: the markers of a Stanford checkpoint (``[unused0]`` / ``[unused1]``), if any.
    """
    _apply_projection(model, settings, fresh)
    saved = _saved_prefixes(model, fresh, legacy_prefixes or {})
    model.query_prefix = pick(settings.query_prefix, saved["query"], DEFAULT_QUERY_PREFIX)
    model.document_prefix = pick(settings.document_prefix, saved["document"], DEFAULT_DOCUMENT_PREFIX)
    model.add_special_tokens = settings.add_special_tokens
    prefixes = {"query": model.query_prefix, "document": model.document_prefix}
    model.prompts = _split_prompts(model.prompts, {**prefixes, **{k: v for k, v in saved.items() if v}})
    model.prompts.update(user_prompts)
    if settings.add_special_tokens:
        _register_markers(model, [model.query_prefix, model.document_prefix])

    transformer = transformer_of(model)
    expansion = None if fresh else transformer.query_expansion
    saved_query_length = expansion["length"] if expansion else (None if fresh else transformer.query_length)
    query_length = pick(settings.query_length, saved_query_length, DEFAULT_QUERY_LENGTH)
    saved_document_length = None if fresh else transformer.document_length
    document_length = pick(settings.document_length, saved_document_length, DEFAULT_DOCUMENT_LENGTH)
    saved_expansion = None if fresh else expansion is not None
    do_expansion = pick(settings.do_query_expansion, saved_expansion, True)
    saved_attend = expansion.get("attend") if expansion else None
    attend = bool(pick(settings.attend_to_expansion_tokens, saved_attend, False)) and do_expansion
    transformer.query_expansion = None
    transformer.query_length = query_length
    transformer.document_length = document_length
    if do_expansion:
        transformer.query_expansion = {"strategy": "fixed", "attend": attend, "length": query_length}

    mask = mask_of(model)
    saved_skiplist = None if fresh else mask.skiplist_words
    mask.skiplist_words = list(pick(settings.skiplist_words, saved_skiplist, list(string.punctuation)))
    mask.resolve_with_tokenizer(model.tokenizer)
