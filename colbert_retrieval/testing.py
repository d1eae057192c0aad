"""Test support shared by this distribution and the adapter distributions: a small corpus and one model.

The framework adapters live in separate distributions; their tests take the same few documents and the
same offline model from here instead of copying them.

Examples:
    >>> from colbert_retrieval.testing import SAMPLE_QUERY, SAMPLE_TEXTS
    >>> len(SAMPLE_TEXTS), SAMPLE_QUERY.endswith("?")
    (5, True)
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from colbert_retrieval.models import ColBERT, default_model

__all__ = ["SAMPLE_QUERY", "SAMPLE_TEXTS", "SharedLocalClient", "shared_model"]

#: Five short documents on distinct topics; the first answers :data:`SAMPLE_QUERY`.
SAMPLE_TEXTS = [
    "Scurvy is a disease resulting from a lack of vitamin C.",
    "Citrus fruits such as oranges and lemons are rich in vitamin C.",
    "Statins lower LDL cholesterol and the risk of heart attacks.",
    "Paris is the capital and most populous city of France.",
    "Regular exercise improves blood pressure, sleep and mood.",
]
SAMPLE_QUERY = "which disease comes from a lack of vitamin c?"


@lru_cache(maxsize=1)
def shared_model() -> ColBERT:
    """The offline default model on the CPU, built once per process (tests share it)."""
    return default_model(device="cpu")


class SharedLocalClient:
    """A Qdrant server stand-in that several processes can write to: qdrant-client's local mode on a folder.

    Local mode holds its folder for one client at a time, so every call takes a file lock, opens the folder,
    runs and closes it. It is slow (the folder is read at every call) and only for tests of multi-process
    writers such as the Ray pipeline, where no server binary is available. Calling the object returns it, so it
    is also the ``connect`` factory of a :class:`~colbert_retrieval.distributed.QdrantTarget`.

    Args:
        path: the local-mode folder.

    Examples:
        >>> import tempfile
        >>> client = SharedLocalClient(tempfile.mkdtemp())
        >>> client().collection_exists("docs")
        False
    """

    def __init__(self, path: str) -> None:
        self.path = str(path)

    def __call__(self) -> SharedLocalClient:
        """This object (it is its own ``connect`` factory)."""
        return self

    def close(self) -> None:
        """Nothing to close: every call closes its own client."""

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        from qdrant_client import QdrantClient

        def call(*args: Any, **kwargs: Any) -> Any:
            with open(f"{self.path}.lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                client = QdrantClient(path=self.path)
                try:
                    return getattr(client, name)(*args, **kwargs)
                finally:
                    client.close()

        return call
