"""Collection schema: what is stored in Qdrant, and the settings that must match on re-open.

A collection holds, per document, a named multivector ``colbert`` (``MAX_SIM`` comparator, no HNSW
graph since it is only used to rerank, float16 storage by default) and a single first-stage vector
``first_stage`` with an HNSW graph (MUVERA encoding or mean of the token vectors). The model name,
vector dimension and encoding settings live in the collection metadata; opening the collection with
another model or dimension fails before anything is written.

Examples:
    >>> settings = IndexSettings(model_name="m", dim=128)
    >>> sorted(vectors_config(settings))
    ['colbert', 'first_stage']
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from qdrant_client import models as qm

from colbert_retrieval.errors import IndexMismatchError
from colbert_retrieval.qdrant.first_stage import FirstStage, MuveraConfig

__all__ = [
    "COLBERT_VECTOR",
    "FIRST_STAGE_VECTOR",
    "MAX_MULTIVECTOR_FLOATS",
    "METADATA_KEY",
    "IndexSettings",
    "check_compatible",
    "max_vectors_per_point",
    "vectors_config",
]

COLBERT_VECTOR = "colbert"
FIRST_STAGE_VECTOR = "first_stage"
METADATA_KEY = "colbert_retrieval"
#: Qdrant rejects a multivector of this many floats or more.
MAX_MULTIVECTOR_FLOATS = 1_048_576
SCHEMA_VERSION = 1


def max_vectors_per_point(dim: int) -> int:
    """Largest number of ``dim``-d token vectors Qdrant accepts in one multivector.

    Examples:
        >>> max_vectors_per_point(128)
        8191
    """
    return (MAX_MULTIVECTOR_FLOATS - 1) // dim


@dataclass(frozen=True)
class IndexSettings:
    """Everything that must be the same for every document and query of a collection."""

    model_name: str
    dim: int
    first_stage: str = FirstStage.MUVERA.value
    pool_factor: int = 2
    datatype: str = "float16"
    muvera: dict[str, int] = field(default_factory=dict)
    encoding: dict[str, Any] = field(default_factory=dict)

    def muvera_config(self) -> MuveraConfig | None:
        """The MUVERA parameters (None for the mean first stage)."""
        if FirstStage(self.first_stage) is not FirstStage.MUVERA:
            return None
        return MuveraConfig(**self.muvera) if self.muvera else MuveraConfig(dim=self.dim)

    def first_stage_dim(self) -> int:
        """Dimension of the first-stage vector."""
        config = self.muvera_config()
        return config.output_dim if config is not None else self.dim

    def to_metadata(self) -> dict[str, Any]:
        """The dict written into the collection metadata."""
        data = asdict(self)
        config = self.muvera_config()
        data["muvera"] = config.to_dict() if config is not None else {}
        data["schema_version"] = SCHEMA_VERSION
        return {METADATA_KEY: data}

    @classmethod
    def from_metadata(cls, metadata: dict[str, Any] | None) -> IndexSettings | None:
        """Read settings back from collection metadata (None if the collection has none)."""
        data = (metadata or {}).get(METADATA_KEY)
        if not data:
            return None
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def vectors_config(
    settings: IndexSettings,
    *,
    on_disk: bool | None = None,
    quantization: qm.QuantizationConfig | None = None,
    hnsw_m: int = 16,
) -> dict[str, qm.VectorParams]:
    """Qdrant vector parameters for a collection with these settings.

    Args:
        settings: the index settings.
        on_disk: keep the original vectors on disk (server only; embedded mode ignores it).
        quantization: scalar/binary/product quantization of the ColBERT vectors (server only).
        hnsw_m: HNSW graph degree of the first-stage vector.
    """
    datatype = qm.Datatype(settings.datatype)
    colbert = qm.VectorParams(
        size=settings.dim,
        distance=qm.Distance.DOT,
        multivector_config=qm.MultiVectorConfig(comparator=qm.MultiVectorComparator.MAX_SIM),
        hnsw_config=qm.HnswConfigDiff(m=0),
        datatype=datatype,
        on_disk=on_disk,
        quantization_config=quantization,
    )
    distance = qm.Distance.COSINE if FirstStage(settings.first_stage) is FirstStage.MEAN else qm.Distance.DOT
    first = qm.VectorParams(
        size=settings.first_stage_dim(),
        distance=distance,
        hnsw_config=qm.HnswConfigDiff(m=hnsw_m),
        on_disk=on_disk,
    )
    return {COLBERT_VECTOR: colbert, FIRST_STAGE_VECTOR: first}


def check_compatible(stored: IndexSettings, wanted: IndexSettings, collection: str) -> None:
    """Raise if a collection was built with another model, dimension or first stage.

    Raises:
        IndexMismatchError: naming the differing setting and how to proceed.
    """
    for name in ("model_name", "dim", "first_stage"):
        if getattr(stored, name) != getattr(wanted, name):
            msg = (
                f"Collection {collection!r} was built with {name}={getattr(stored, name)!r}, but this index uses "
                f"{name}={getattr(wanted, name)!r}. Use the same model and settings, or another collection name "
                "(or delete the collection to rebuild it)."
            )
            raise IndexMismatchError(msg)
