"""Single-vector summaries of a multi-vector, used by the first (HNSW) stage of two-stage search.

* ``mean``: the normalised mean of the token vectors (cosine similarity).
* ``muvera``: a MUVERA fixed-dimensional encoding (Dhulipala et al., 2024). Each of ``repetitions``
  SimHash partitions (``2**k_sim`` buckets from ``k_sim`` random hyperplanes) assigns every token vector
  to a bucket; a document bucket holds the mean of its vectors (an empty bucket takes the vector whose
  SimHash is nearest in Hamming distance), a query bucket the sum. Each bucket is projected to
  ``dim_proj`` dimensions with a random ±1 matrix and everything is concatenated, so that the dot
  product of a query and a document encoding approximates their MaxSim. All randomness comes from
  ``seed``: queries and documents must use the same :class:`MuveraConfig`.

Examples:
    >>> import numpy as np
    >>> config = MuveraConfig(dim=4, k_sim=2, dim_proj=2, repetitions=3)
    >>> config.output_dim
    24
    >>> doc = np.eye(4, dtype=np.float32)
    >>> muvera_document(doc, config).shape
    (24,)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum
from functools import cached_property

import numpy as np

from colbert_retrieval.errors import DimensionMismatchError, InvalidArgumentError
from colbert_retrieval.single_vector._mean import mean_vector

__all__ = ["FirstStage", "MuveraConfig", "first_stage_vectors", "mean_vector", "muvera_document", "muvera_query"]


class FirstStage(str, Enum):
    """Which single vector the first stage searches with."""

    MUVERA = "muvera"
    MEAN = "mean"


@dataclass(frozen=True)
class MuveraConfig:
    """Parameters of the MUVERA encoding (stored in the collection so queries use the same ones)."""

    dim: int
    k_sim: int = 3
    dim_proj: int = 32
    repetitions: int = 16
    seed: int = 42

    @property
    def output_dim(self) -> int:
        """Length of the encoding: ``repetitions * 2**k_sim * dim_proj``."""
        return self.repetitions * (2**self.k_sim) * self.dim_proj

    def to_dict(self) -> dict[str, int]:
        """Plain dict for the collection metadata."""
        return asdict(self)

    @cached_property
    def _matrices(self) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(self.seed)
        hyperplanes = rng.standard_normal((self.repetitions, self.dim, self.k_sim)).astype(np.float32)
        signs = rng.choice([-1.0, 1.0], size=(self.repetitions, self.dim, self.dim_proj)).astype(np.float32)
        return hyperplanes, signs / np.sqrt(self.dim_proj, dtype=np.float32)


def _encode(vectors: np.ndarray, config: MuveraConfig, is_query: bool) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[1] != config.dim:
        msg = f"Expected (n_tokens, {config.dim}) vectors for MUVERA, got shape {vectors.shape}."
        raise DimensionMismatchError(msg)
    hyperplanes, projections = config._matrices
    repetitions, n_buckets, n = config.repetitions, 2**config.k_sim, len(vectors)
    # All repetitions at once: SimHash bits (r, n, k) -> bucket of every vector in every repetition (r, n).
    flat_planes = hyperplanes.transpose(1, 0, 2).reshape(config.dim, -1)
    bits = (vectors @ flat_planes).reshape(n, repetitions, config.k_sim).transpose(1, 0, 2) > 0
    bucket = (bits * (1 << np.arange(config.k_sim))).sum(axis=2)
    assign = np.zeros((repetitions, n_buckets, n), dtype=np.float32)
    assign[np.arange(repetitions)[:, None], bucket, np.arange(n)[None, :]] = 1.0
    sums = assign @ vectors  # (r, buckets, dim): sum of each bucket's vectors
    if not is_query:
        counts = assign.sum(axis=2)
        filled = counts > 0
        sums = np.where(filled[..., None], sums / np.maximum(counts, 1.0)[..., None], sums)
        if n and not filled.all():
            # An empty bucket takes the vector whose SimHash is nearest to the bucket's code (Hamming).
            codes = np.arange(n_buckets)
            code_bits = ((codes[:, None] >> np.arange(config.k_sim)) & 1).astype(bool)  # (buckets, k)
            hamming = (code_bits[None, :, None, :] != bits[:, None, :, :]).sum(axis=3)  # (r, buckets, n)
            nearest = vectors[hamming.argmin(axis=2)]  # (r, buckets, dim)
            sums = np.where(filled[..., None], sums, nearest)
    return np.matmul(sums, projections).reshape(-1)


def muvera_document(vectors: np.ndarray, config: MuveraConfig) -> np.ndarray:
    """MUVERA encoding of a document's ``(n_tokens, dim)`` vectors, shape ``(config.output_dim,)``."""
    return _encode(vectors, config, is_query=False)


def muvera_query(vectors: np.ndarray, config: MuveraConfig) -> np.ndarray:
    """MUVERA encoding of a query's ``(n_tokens, dim)`` vectors, shape ``(config.output_dim,)``."""
    return _encode(vectors, config, is_query=True)


def first_stage_vectors(
    embeddings: list[np.ndarray], kind: FirstStage, config: MuveraConfig | None, is_query: bool
) -> list[np.ndarray]:
    """First-stage vectors for a list of multi-vectors.

    Args:
        embeddings: ``(n_i, dim)`` float arrays.
        kind: ``muvera`` or ``mean``.
        config: the MUVERA parameters (required for ``muvera``).
        is_query: encode as queries (MUVERA sums buckets) or documents (averages them).

    Returns:
        float32 vectors, one per input.
    """
    if kind is FirstStage.MEAN:
        return [mean_vector(e) for e in embeddings]
    if config is None:
        msg = "MUVERA first-stage vectors need a MuveraConfig."
        raise InvalidArgumentError(msg)
    encode = muvera_query if is_query else muvera_document
    return [encode(e, config) for e in embeddings]
