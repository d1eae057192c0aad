"""``ColBERTEmbedding``: single-vector ColBERT embeddings for LlamaIndex."""

from __future__ import annotations

from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.bridge.pydantic import Field, PrivateAttr

from colbert_retrieval import ColBERT, load_model
from colbert_retrieval.single_vector import encode_single_vectors

__all__ = ["ColBERTEmbedding"]


class ColBERTEmbedding(BaseEmbedding):
    """One vector per text from a ColBERT model (compare with cosine / dot product).

    ``single_vector`` picks the vector (``colbert_retrieval.single_vector._encode``; NFCorpus numbers in
    ``docs/benchmarks/single-vector.md``): ``"sentence"`` (default: the base model's mean-pooled sentence
    embedding, as good as the bi-encoder the default ColBERT is built from), ``"muvera"`` (MUVERA encodings
    approximating MaxSim) or ``"mean"`` (mean of the token vectors). Any single vector is weaker than MaxSim:
    for ranking use the ColBERT vector store, retriever or ``ColBERTRerank``.

    Examples:
        >>> from llama_index.embeddings.colbert_retrieval import ColBERTEmbedding
        >>> len(ColBERTEmbedding().get_query_embedding("what causes scurvy?"))
        384
    """

    model: Any = Field(default=None, description="A ColBERT, a model name or path, or None (offline default).")
    device: str | None = Field(default=None, description="Device of the model.")
    single_vector: str = Field(default="sentence", description="'sentence' (default), 'muvera' or 'mean'.")
    _encoder: ColBERT = PrivateAttr()

    def __init__(self, model: Any = None, device: str | None = None, **kwargs: Any) -> None:
        name = model if isinstance(model, (str, type(None))) else getattr(model, "model_name_or_path", "custom")
        super().__init__(model=name, device=device, model_name=str(name or "colbert-retrieval default"), **kwargs)
        self._encoder = load_model(model, device=device)
        encode_single_vectors(self._encoder, [], is_query=True, method=self.single_vector)  # checks the method

    @classmethod
    def class_name(cls) -> str:
        """Name used in LlamaIndex serialisation."""
        return "ColBERTEmbedding"

    def _get_query_embedding(self, query: str) -> list[float]:
        return encode_single_vectors(self._encoder, query, is_query=True, method=self.single_vector).tolist()

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embeddings([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = encode_single_vectors(
            self._encoder, texts, is_query=False, method=self.single_vector, batch_size=self.embed_batch_size
        )
        return vectors.tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embedding(text)
