"""ColBERT as a LangChain ``Embeddings`` (one vector per text) with multi-vector access."""

from __future__ import annotations

from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings
from pydantic import BaseModel, ConfigDict, PrivateAttr

from colbert_retrieval import ColBERT, load_model
from colbert_retrieval.reduce import mean_vector

__all__ = ["ColBERTEmbeddings"]


class ColBERTEmbeddings(BaseModel, Embeddings):
    """ColBERT embeddings for LangChain.

    LangChain's ``Embeddings`` interface wants one vector per text, so ``embed_documents`` / ``embed_query``
    return the L2-normalised mean of the ColBERT token vectors (compare with cosine). That reduction is much
    weaker than MaxSim (nDCG@10 on NFCorpus in ``docs/benchmarks/qdrant-nfcorpus.md``): for ranking use
    ``ColBERTVectorStore``, ``ColBERTRetriever`` or ``ColBERTReranker``, which score with MaxSim. The token
    vectors are available through ``embed_documents_multi`` / ``embed_query_multi``.

    Setup:
        ``pip install langchain-colbert-retrieval``

    Key init args:
        model: a ``colbert_retrieval.ColBERT``, a model name or path, or None for the offline default model.
        device: where to run the model (None: best available).
        batch_size: texts per forward pass.

    Instantiate:
        .. code-block:: python

            from langchain_colbert_retrieval import ColBERTEmbeddings

            embeddings = ColBERTEmbeddings()  # offline default model

    Use:
        .. code-block:: python

            vector = embeddings.embed_query("what causes scurvy?")
            len(vector)  # 128
            tokens = embeddings.embed_query_multi("what causes scurvy?")
            tokens.shape  # (n_tokens, 128)

    Async:
        .. code-block:: python

            vectors = await embeddings.aembed_documents(["Scurvy is caused by a lack of vitamin C."])
    """

    model: Any = None
    device: str | None = None
    batch_size: int = 32

    model_config = ConfigDict(arbitrary_types_allowed=True, protected_namespaces=())
    _encoder: ColBERT = PrivateAttr()

    def model_post_init(self, context: Any, /) -> None:
        """Load the encoder."""
        self._encoder = load_model(self.model, device=self.device)

    @property
    def encoder(self) -> ColBERT:
        """The ColBERT model (read-only)."""
        return self._encoder

    def embed_documents_multi(self, texts: list[str]) -> list[np.ndarray]:
        """Token vectors of documents: ``(n_tokens, dim)`` float32 arrays."""
        if not texts:
            return []
        return self._encoder.encode(texts, is_query=False, batch_size=self.batch_size)

    def embed_query_multi(self, text: str) -> np.ndarray:
        """Token vectors of a query: ``(n_tokens, dim)`` float32 array."""
        return self._encoder.encode(text, is_query=True)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """One vector per document: the normalised mean of its token vectors."""
        return [mean_vector(m).tolist() for m in self.embed_documents_multi(texts)]

    def embed_query(self, text: str) -> list[float]:
        """One vector for the query: the normalised mean of its token vectors."""
        return mean_vector(self.embed_query_multi(text)).tolist()
