"""The async methods of ``ColBERTIndex``: each runs its sync twin in a worker thread (encoding is CPU/GPU bound).

Examples:
    >>> import asyncio
    >>> from colbert_retrieval import default_model
    >>> from colbert_retrieval.qdrant import ColBERTIndex
    >>> index = ColBERTIndex(default_model(), "docs", location=":memory:")
    >>> _ = asyncio.run(index.aadd(["Scurvy comes from a lack of vitamin C."]))
    >>> len(asyncio.run(index.asearch("vitamin C", k=1)))
    1
    >>> index.close()
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

from colbert_retrieval.qdrant.ingest import IngestSummary
from colbert_retrieval.qdrant.searcher import SearchHit

__all__ = ["AsyncMethods"]


class AsyncMethods:
    """``aadd``, ``asearch`` and ``asearch_batch`` for a class with ``add``, ``search`` and ``search_batch``."""

    async def aadd(self, documents: Iterable[Any], **kwargs: Any) -> IngestSummary:
        """Async ``add``."""
        return await asyncio.to_thread(self.add, documents, **kwargs)  # type: ignore[attr-defined]

    async def asearch(self, query: str, k: int = 10, **kwargs: Any) -> list[SearchHit]:
        """Async ``search`` (runs in a worker thread: encoding is CPU/GPU bound)."""
        return await asyncio.to_thread(self.search, query, k, **kwargs)  # type: ignore[attr-defined]

    async def asearch_batch(self, queries: Sequence[str], k: int = 10, **kwargs: Any) -> list[list[SearchHit]]:
        """Async ``search_batch``."""
        return await asyncio.to_thread(self.search_batch, queries, k, **kwargs)  # type: ignore[attr-defined]
