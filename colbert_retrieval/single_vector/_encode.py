"""One vector per text from a ColBERT model, for interfaces that want a single vector (LangChain / LlamaIndex).

Methods (NFCorpus nDCG@10 of each as a plain single-vector retriever in docs/benchmarks/single-vector.md):

- ``"sentence"``: the mean of the transformer's hidden states over the text's tokens, L2-normalised, before
  the ColBERT head: the base model's own sentence embedding when the ColBERT was built from a
  sentence-transformers bi-encoder with mean pooling (the offline default, from all-MiniLM-L6-v2). The
  default: it is the best measured for the default model.
- ``"muvera"``: MUVERA fixed-dimensional encodings of the token vectors (asymmetric: queries sum their
  SimHash buckets, documents average them), whose dot product approximates MaxSim; larger vectors.
- ``"mean"``: the L2-normalised mean of the ColBERT token vectors (0.1's only reduction).

Compare vectors with the dot product (``sentence`` and ``mean`` are unit vectors, so that is the cosine).

Examples:
    >>> from colbert_retrieval import default_model
    >>> vectors = encode_single_vectors(default_model(), ["Scurvy: no vitamin C.", "Paris."], is_query=False)
    >>> vectors.shape
    (2, 384)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from sentence_transformers.base.modules import Transformer

from colbert_retrieval._inputs import positive_int, texts_or_raise
from colbert_retrieval.errors import InvalidArgumentError
from colbert_retrieval.models import ColBERT
from colbert_retrieval.single_vector._muvera import FirstStage, MuveraConfig, first_stage_vectors

__all__ = ["SINGLE_VECTOR_METHODS", "encode_single_vectors"]

#: Accepted ``method`` values, the default first.
SINGLE_VECTOR_METHODS = ("sentence", "muvera", "mean")


def _sentence_vectors(model: ColBERT, texts: list[str], batch_size: int) -> np.ndarray:
    transformer = next(module for module in model if isinstance(module, Transformer))
    device = next(model.parameters()).device
    rows: list[np.ndarray] = []
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # less padding
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            batch = [texts[i] for i in order[start : start + batch_size]]
            features = model.tokenizer(
                batch, padding=True, truncation=True, max_length=model.document_length, return_tensors="pt"
            )
            features = {name: tensor.to(device) for name, tensor in features.items()}
            hidden = transformer(dict(features))["token_embeddings"].float()
            mask = features["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
            rows.append(torch.nn.functional.normalize(pooled, dim=-1).cpu().numpy())
    stacked = np.concatenate(rows) if rows else np.zeros((0, 0), dtype=np.float32)
    out = np.empty_like(stacked)
    out[np.array(order, dtype=np.int64)] = stacked
    return out.astype(np.float32, copy=False)


def encode_single_vectors(
    model: ColBERT,
    texts: str | Sequence[str],
    *,
    is_query: bool,
    method: str = "sentence",
    batch_size: int = 32,
    muvera: MuveraConfig | None = None,
) -> np.ndarray:
    """One float32 vector per text, as a ``(len(texts), dim)`` array (``(dim,)`` for a single string).

    Args:
        model: the ColBERT encoder.
        texts: a text or a list of texts.
        is_query: encode as queries (MUVERA sums buckets) or documents (it averages them).
        method: ``"sentence"`` (default), ``"muvera"`` or ``"mean"`` (see the module docstring).
        batch_size: texts per forward pass.
        muvera: MUVERA parameters (default: ``MuveraConfig(dim=model's dimension)``).

    Raises:
        InvalidArgumentError: an unknown method or a ``batch_size`` below 1.
        InputTypeError, EmptyInputError: a bad text.
    """
    if method not in SINGLE_VECTOR_METHODS:
        raise InvalidArgumentError(f"Unknown single-vector method {method!r}; use one of {SINGLE_VECTOR_METHODS}.")
    positive_int(batch_size, "batch_size")
    single = isinstance(texts, str)
    items = texts_or_raise(texts)
    if not items:
        return np.zeros((0, 0), dtype=np.float32)
    if method == "sentence":
        vectors = _sentence_vectors(model, items, batch_size)
    else:
        multi = model.encode(items, is_query=is_query, batch_size=batch_size)
        config = muvera or MuveraConfig(dim=multi[0].shape[1])
        vectors = np.stack(first_stage_vectors(multi, FirstStage(method), config, is_query)).astype(np.float32)
    return vectors[0] if single else vectors
