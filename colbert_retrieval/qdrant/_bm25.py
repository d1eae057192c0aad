"""BM25 sparse vectors for hybrid search, computed client-side with Qdrant's own BM25 tokenizer.

Documents get term-frequency weights (``k``, ``b`` and ``avg_len`` of :class:`BM25Config`); queries get
weight 1 per unique term; the engine multiplies in the inverse document frequency (the sparse vector is
stored with Qdrant's ``IDF`` modifier), so the dot product of the two is the BM25 score. Tokenisation,
lowercasing, English stop words and Snowball stemming are Qdrant's (``qdrant_edge.Bm25``), so both backends
(embedded qdrant-edge and a Qdrant server) store identical vectors. The parameters are stored with the
collection: queries always use the ones the documents were written with.

Examples:
    >>> encoder = BM25Encoder(BM25Config())
    >>> document = encoder.embed_documents(["Vitamins prevent scurvy."])[0]
    >>> query = encoder.embed_queries(["vitamin"])[0]
    >>> bool(set(query.indices) & set(document.indices))  # "vitamins" and "vitamin" share a stem
    True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["BM25Config", "BM25Encoder", "SparseVector"]


@dataclass(frozen=True)
class SparseVector:
    """A sparse vector: term ids (hashes) and their weights."""

    indices: list[int]
    values: list[float]

    def __len__(self) -> int:
        return len(self.indices)


@dataclass(frozen=True)
class BM25Config:
    """BM25 parameters, stored with the collection.

    The defaults are the textbook ``k1=1.2, b=0.75`` and the English analyser (stop words, Snowball stemmer).
    ``avg_len`` is the expected document length in tokens used by the length normalisation; it is fixed at
    ingest (a running average would change stored vectors), and 256 matches the passages a RAG index holds.
    """

    k: float = 1.2
    b: float = 0.75
    avg_len: float = 256.0
    language: str = "english"

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for the collection settings."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BM25Config:
        """Read back :meth:`to_dict` (unknown keys are ignored)."""
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


class BM25Encoder:
    """Sparse BM25 vectors for documents and queries (needs ``qdrant-edge-py``, part of the ``qdrant`` extra).

    Args:
        config: the BM25 parameters.

    Raises:
        ImportError: qdrant-edge-py is missing (the message names the pip line).
    """

    def __init__(self, config: BM25Config | None = None) -> None:
        try:
            import qdrant_edge
        except ImportError as error:  # pragma: no cover - exercised with the module hidden
            from colbert_retrieval._extras import missing_extra

            raise missing_extra("qdrant", "qdrant-edge-py") from error
        self.config = config or BM25Config()
        native = qdrant_edge.Bm25Config(
            k=self.config.k, b=self.config.b, avg_len=self.config.avg_len, language=self.config.language
        )
        self._model = qdrant_edge.Bm25(native)

    def embed_documents(self, texts: Sequence[str]) -> list[SparseVector]:
        """Term-frequency weighted vectors of documents (IDF is applied by the engine)."""
        return [_convert(self._model.embed_document(text)) for text in texts]

    def embed_queries(self, texts: Sequence[str]) -> list[SparseVector]:
        """Query vectors: weight 1 per unique term."""
        return [_convert(self._model.embed_query(text)) for text in texts]


def _convert(native: Any) -> SparseVector:
    return SparseVector(indices=list(native.indices), values=list(native.values))
