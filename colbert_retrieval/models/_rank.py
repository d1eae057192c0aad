"""``ColBERT.rank``: a query and candidate texts in, the texts' order by MaxSim out.

One function for every reranker built on the encoder (LangChain's ``ColBERTRerank``, LlamaIndex's
``ColBERTRerank``, users' own): encode the query and the texts (length-sorted batches), score each text by
MaxSim, order best first. The shape of the result is sentence-transformers' ``CrossEncoder.rank``; a model with
a relevance calibration adds each text's ``relevance`` (computed as for a search's hits).

Examples:
    >>> from colbert_retrieval import default_model
    >>> ranked = rank_texts(default_model(), "vitamin C", ["Paris is in France.", "Scurvy: a lack of vitamin C."])
    >>> [hit["corpus_id"] for hit in ranked]
    [1, 0]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from colbert_retrieval import scores
from colbert_retrieval.errors import InputTypeError, InvalidArgumentError

__all__ = ["rank_texts"]


def rank_texts(
    model: Any,
    query: str,
    documents: Sequence[str],
    top_k: int | None = None,
    return_documents: bool = False,
    batch_size: int = 32,
) -> list[dict[str, Any]]:
    """The documents' indices and MaxSim scores for ``query``, best first (see :meth:`ColBERT.rank`).

    ``model`` is a ``ColBERT`` (only its public ``encode`` is called, so this module imports no model class).
    """
    if not isinstance(query, str):
        msg = f"rank takes one query string, got {type(query).__name__}; call it once per query."
        raise InputTypeError(msg)
    if isinstance(documents, str) or not all(isinstance(d, str) for d in documents):
        msg = "rank takes a list of document strings."
        raise InputTypeError(msg)
    if top_k is not None and (not isinstance(top_k, int) or top_k < 0):
        msg = f"top_k must be an integer >= 0 or None, got {top_k!r}."
        raise InvalidArgumentError(msg)
    if not documents:
        return []
    query_vectors = model.encode(query, is_query=True)
    document_vectors = model.encode(list(documents), is_query=False, batch_size=batch_size)
    ranked = scores.rerank([list(range(len(documents)))], [query_vectors], [document_vectors])[0][:top_k]
    hits: list[dict[str, Any]] = [{"corpus_id": int(hit["id"]), "score": float(hit["score"])} for hit in ranked]
    calibration = getattr(model, "relevance", None)
    if calibration is not None and hits:  # the same features as a search's hits: MaxSim per query token
        tokens = max(len(query_vectors), 1)
        chances = calibration.of_query([hit["score"] / tokens for hit in hits], tokens)
        for hit, chance in zip(hits, chances):
            hit["relevance"] = round(float(chance), 6)
    if return_documents:
        for hit in hits:
            hit["text"] = documents[hit["corpus_id"]]
    return hits
