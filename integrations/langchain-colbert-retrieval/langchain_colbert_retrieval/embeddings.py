"""ColBERT as a LangChain ``Embeddings`` (one vector per text) with multi-vector access."""

from __future__ import annotations

from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings
from pydantic import BaseModel, ConfigDict, PrivateAttr

from colbert_retrieval import ColBERT, load_model
from colbert_retrieval.single_vector import MuveraConfig, encode_single_vectors

__all__ = ["ColBERTEmbeddings"]


class ColBERTEmbeddings(BaseModel, Embeddings):
    """ColBERT embeddings for LangChain.

    LangChain's ``Embeddings`` interface wants one vector per text; ``single_vector`` picks it
    (``colbert_retrieval.single_vector._encode``; NFCorpus numbers in ``docs/benchmarks/single-vector.md``):
    ``"sentence"`` (default: the base model's mean-pooled sentence embedding, as good as the bi-encoder the
    default ColBERT is built from), ``"muvera"`` (MUVERA encodings approximating MaxSim) or ``"mean"``
    (mean of the token vectors). Any single vector is weaker than MaxSim: for ranking use
    ``ColBERTVectorStore``, ``ColBERTRetriever`` or ``ColBERTRerank``. The token vectors are available through
    ``embed_documents_multi`` / ``embed_query_multi``.

    Setup:
        ``pip install langchain-colbert-retrieval``

    Key init args:
        model: a ``colbert_retrieval.ColBERT``, a model name or path, or None for the offline default model.
        device: where to run the model (None: best available).
        batch_size: texts per forward pass.
        single_vector: ``"sentence"`` (default), ``"muvera"`` or ``"mean"``.
        muvera: MUVERA parameters for ``single_vector="muvera"`` (``colbert_retrieval.single_vector.MuveraConfig``
            fields; default: the model's dimension with MUVERA's defaults).

    Instantiate:
        .. code-block:: python

            from langchain_colbert_retrieval import ColBERTEmbeddings

            embeddings = ColBERTEmbeddings()  # offline default model

    Use:
        .. code-block:: python

            vector = embeddings.embed_query("what causes scurvy?")
            len(vector)  # 384 (the base model's sentence embedding)
            tokens = embeddings.embed_query_multi("what causes scurvy?")
            tokens.shape  # (n_tokens, 128)

    Async:
        .. code-block:: python

            vectors = await embeddings.aembed_documents(["Scurvy is caused by a lack of vitamin C."])
    """

    model: Any = None
    device: str | None = None
    batch_size: int = 32
    single_vector: str = "sentence"
    muvera: dict[str, int] | None = None

    model_config = ConfigDict(arbitrary_types_allowed=True, protected_namespaces=())
    _encoder: ColBERT = PrivateAttr()

    def model_post_init(self, context: Any, /) -> None:
        """Load the encoder."""
        self._encoder = load_model(self.model, device=self.device)
        encode_single_vectors(self._encoder, [], is_query=True, method=self.single_vector)  # checks the method

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
        """One vector per document (``single_vector``)."""
        if not texts:
            return []
        return encode_single_vectors(
            self._encoder,
            texts,
            is_query=False,
            method=self.single_vector,
            batch_size=self.batch_size,
            muvera=self._muvera,
        ).tolist()

    def embed_query(self, text: str) -> list[float]:
        """One vector for the query (``single_vector``)."""
        vector = encode_single_vectors(
            self._encoder, text, is_query=True, method=self.single_vector, muvera=self._muvera
        )
        return vector.tolist()

    @property
    def _muvera(self) -> MuveraConfig | None:
        return MuveraConfig(**self.muvera) if self.muvera else None
