"""Token pooling: shrink a document's multi-vector by merging similar token vectors (Ward clustering).

Rule of this folder: pure tensor maths on token vectors; it imports only ``colbert_retrieval.errors`` and
the shared argument checks (never the encoder, the index or a framework). Public:
:func:`pool_embeddings_hierarchical`, :func:`pooled_length`, :func:`compile_cpu_kernels` and
:class:`TokenPooling` (the same pooling as a sentence-transformers module). The compiled CPU kernels
(``_ward``, ``_cpu``) and their on-disk cache (``_cache``), the GPU lockstep path (``_lockstep``) and the
SciPy reference (``_reference``) are private.

Examples:
    >>> from colbert_retrieval.pooling import pooled_length
    >>> pooled_length(180, pool_factor=3)
    60
"""

from __future__ import annotations

from colbert_retrieval.pooling._hierarchical import (
    METHODS,
    compile_cpu_kernels,
    pool_embeddings_hierarchical,
    pooled_length,
)
from colbert_retrieval.pooling._module import TokenPooling

__all__ = ["METHODS", "TokenPooling", "compile_cpu_kernels", "pool_embeddings_hierarchical", "pooled_length"]

# For the sibling packages of colbert_retrieval (not public API: not in __all__, may change without notice).
from colbert_retrieval.pooling._hierarchical import check_pool_factor as check_pool_factor
from colbert_retrieval.pooling._hierarchical import check_pooling_arguments as check_pooling_arguments
from colbert_retrieval.pooling._hierarchical import compiled_cpu_kernels as compiled_cpu_kernels
