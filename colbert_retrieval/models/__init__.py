"""The encoder: ``models.ColBERT`` (PyLate's API on sentence-transformers), the offline default, ``load_model``.

Rule of this folder: everything about turning text into token vectors lives here, and only here are the
encoder's private members touched; it imports ``pooling``, ``scores`` and ``errors`` below it, never the
index or a framework. Public: :class:`ColBERT`, :func:`load_model`, :func:`default_model`, the output
precisions (:class:`Precision`, :func:`quantize`), how short calls run (:class:`ShortInputs`,
:class:`ShortPath`) and what ``ColBERT.explain`` returns.

Examples:
    >>> from colbert_retrieval import models
    >>> models.ColBERT.__name__
    'ColBERT'
"""

from __future__ import annotations

from colbert_retrieval.models._colbert import ColBERT
from colbert_retrieval.models._default import default_model
from colbert_retrieval.models._explanation import Explanation, TokenMatch
from colbert_retrieval.models._loading import load_model
from colbert_retrieval.models._quantization import Precision, quantize
from colbert_retrieval.models._short_inputs import ShortInputs, ShortPath

__all__ = [
    "ColBERT",
    "Explanation",
    "Precision",
    "ShortInputs",
    "ShortPath",
    "TokenMatch",
    "default_model",
    "load_model",
    "quantize",
]

# For the sibling packages of colbert_retrieval (not public API: not in __all__, may change without notice).
from colbert_retrieval.models._bulk import bulk_unavailable as bulk_unavailable
from colbert_retrieval.models._default import head_weights_fingerprint as head_weights_fingerprint
from colbert_retrieval.models._default import quiet_loading as quiet_loading
from colbert_retrieval.models._lengths import overlong_documents as overlong_documents
from colbert_retrieval.models._precision import (
    cpu_has_native_bf16 as cpu_has_native_bf16,
)
from colbert_retrieval.models._precision import (
    resolve_inference_precision as resolve_inference_precision,
)
from colbert_retrieval.models._relevance import Relevance as Relevance
from colbert_retrieval.models._relevance import query_features as query_features
from colbert_retrieval.models._short_inputs import resolve_short_path as resolve_short_path
from colbert_retrieval.models._spans import document_token_spans as document_token_spans
from colbert_retrieval.models._spans import query_token_labels as query_token_labels
from colbert_retrieval.models._spans import word_span as word_span
