"""Single-vector reduction of a multi-vector, for frameworks that need one vector per text.

The reduction is the L2-normalised mean of the token vectors, compared with cosine similarity. It is much
weaker than MaxSim (see ``docs/benchmarks/qdrant-nfcorpus.md``): use it only where an interface demands
one vector, and MaxSim (the retrievers and rerankers) for ranking.

Examples:
    >>> import numpy as np
    >>> mean_vector(np.array([[3.0, 0.0], [1.0, 0.0]])).tolist()
    [1.0, 0.0]
"""

from __future__ import annotations

import numpy as np

__all__ = ["mean_vector"]


def mean_vector(vectors: np.ndarray) -> np.ndarray:
    """Normalised mean of ``(n_tokens, dim)`` vectors, as float32 ``(dim,)`` (zero stays zero)."""
    mean = np.asarray(vectors, dtype=np.float32).mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm > 0 else mean
