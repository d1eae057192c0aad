"""BM25 sparse vectors for hybrid search, computed client-side with Qdrant's own BM25 tokenizer.

Documents get term-frequency weights (``k``, ``b`` and ``avg_len`` of :class:`BM25Config`); queries get
weight 1 per unique term; a document's section heading path is a title field whose words count
``title_weight`` times (BM25F with one shared length normalisation); the engine multiplies in the inverse
document frequency (the sparse vector is stored with Qdrant's ``IDF`` modifier), so the dot product of the
two is the BM25 score. Tokenisation, lowercasing, English stop words and Snowball stemming are Qdrant's
(``qdrant_edge.Bm25``), so both backends (embedded qdrant-edge and a Qdrant server) store identical vectors.
The parameters are stored with the collection: queries always use the ones the documents were written with.

Examples:
    >>> encoder = BM25Encoder(BM25Config())
    >>> document = encoder.embed_documents(["Vitamins prevent scurvy."])[0]
    >>> query = encoder.embed_queries(["vitamin"])[0]
    >>> bool(set(query.indices) & set(document.indices))  # "vitamins" and "vitamin" share a stem
    True
    >>> titled = encoder.embed_documents(["Vitamins prevent scurvy."], titles=["Scurvy"])[0]
    >>> max(titled.values) > max(document.values)  # "scurvy" counts once more per extra title copy
    True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from colbert_retrieval.errors import InvalidArgumentError

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

    ``title_weight`` is the BM25F weight of a document's title field, the section heading path the chunker
    writes at the top of each chunk and stores as metadata ``section`` ("Qdrant index > Moving between
    stores"): its words count that many times in all (1: BM25 reads the text alone). 3 is the ratio
    documentation search engines give a title match over a body match (Sphinx's scorer: 15 against 5); it
    was not tuned on this project's questions. Collections written before the field existed read it as 1,
    so their stored vectors and new ones agree.
    """

    k: float = 1.2
    b: float = 0.75
    avg_len: float = 256.0
    language: str = "english"
    title_weight: int = 3

    def __post_init__(self) -> None:
        weight = self.title_weight
        if isinstance(weight, bool) or not isinstance(weight, int) or weight < 1:
            msg = f"title_weight must be an integer >= 1, got {weight!r}."
            raise InvalidArgumentError(msg)

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

    def embed_documents(self, texts: Sequence[str], titles: Sequence[str | None] | None = None) -> list[SparseVector]:
        """Term-frequency weighted vectors of documents (IDF is applied by the engine).

        Args:
            texts: the documents.
            titles: each document's title field (its section heading path), or None. Its words count
                ``config.title_weight - 1`` times more than the text holds them: the chunker opens every chunk
                with its heading path, so there they count ``title_weight`` times in all.
        """
        titles = titles if titles is not None else [None] * len(texts)
        if len(titles) != len(texts):
            msg = f"Got {len(titles)} titles for {len(texts)} documents; give one title (or None) per document."
            raise InvalidArgumentError(msg)
        return [_convert(self._model.embed_document(self._fielded(t, title))) for t, title in zip(texts, titles)]

    def _fielded(self, text: str, title: str | None) -> str:
        """The text BM25 reads: the text, then the title ``title_weight - 1`` more times (BM25F, integer weights)."""
        if not title or not title.strip() or self.config.title_weight == 1:
            return text
        return "\n\n".join([text, *[title] * (self.config.title_weight - 1)])

    def embed_queries(self, texts: Sequence[str]) -> list[SparseVector]:
        """Query vectors: weight 1 per unique term."""
        return [_convert(self._model.embed_query(text)) for text in texts]


def _convert(native: Any) -> SparseVector:
    return SparseVector(indices=list(native.indices), values=list(native.values))
