"""``ColBERTEmbedding``: single-vector ColBERT embeddings for LlamaIndex."""

from __future__ import annotations

from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.bridge.pydantic import Field, PrivateAttr

from colbert_retrieval import ColBERT, load_model
from colbert_retrieval.reduce import mean_vector

__all__ = ["ColBERTEmbedding"]


class ColBERTEmbedding(BaseEmbedding):
    """One vector per text: the L2-normalised mean of the ColBERT token vectors (compare with cosine).

    The reduction is much weaker than MaxSim (NFCorpus numbers in ``docs/benchmarks/qdrant-nfcorpus.md``);
    for ranking use the ColBERT retriever or ``ColBERTRerank``.

    Examples:
        >>> from llama_index.embeddings.colbert_retrieval import ColBERTEmbedding
        >>> len(ColBERTEmbedding().get_query_embedding("what causes scurvy?"))
        128
    """

    model: Any = Field(default=None, description="A ColBERT, a model name or path, or None (offline default).")
    device: str | None = Field(default=None, description="Device of the model.")
    _encoder: ColBERT = PrivateAttr()

    def __init__(self, model: Any = None, device: str | None = None, **kwargs: Any) -> None:
        name = model if isinstance(model, (str, type(None))) else getattr(model, "model_name_or_path", "custom")
        super().__init__(model=name, device=device, model_name=str(name or "colbert-retrieval default"), **kwargs)
        self._encoder = load_model(model, device=device)

    @classmethod
    def class_name(cls) -> str:
        """Name used in LlamaIndex serialisation."""
        return "ColBERTEmbedding"

    def _get_query_embedding(self, query: str) -> list[float]:
        return mean_vector(self._encoder.encode(query, is_query=True)).tolist()

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embeddings([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return [
            mean_vector(m).tolist()
            for m in self._encoder.encode(texts, is_query=False, batch_size=self.embed_batch_size)
        ]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embedding(text)
