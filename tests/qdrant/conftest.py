"""The index test suite runs against both backends: the embedded engine and a server (qdrant-client's local
mode stands in for a server, since no server binary is available here)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from qdrant_client import QdrantClient

from colbert_retrieval import ColBERT
from colbert_retrieval.qdrant import ColBERTIndex, Schema

DOCS = [
    {
        "id": "scurvy",
        "text": "scurvy is a disease from a lack of vitamin c.",
        "metadata": {"topic": "health", "year": 2020},
    },
    {
        "id": "paris",
        "text": "paris is the capital city of france, on a river.",
        "metadata": {"topic": "travel", "year": 2018},
    },
    {
        "id": "statins",
        "text": "statins lower cholesterol and heart disease risk.",
        "metadata": {"topic": "health", "year": 2023},
    },
    {"id": "weather", "text": "how is the weather today in paris?", "metadata": {"topic": "travel", "year": 2024}},
    {"id": "diet", "text": "a diet with vitamin c prevents scurvy.", "metadata": {"topic": "health", "year": 2021}},
]

#: Opens an index on the backend under test; calling it again reopens the same store.
OpenIndex = Callable[..., ColBERTIndex]


@pytest.fixture(params=["embedded", "server"])
def open_index(request: pytest.FixtureRequest, tiny_colbert: ColBERT, tmp_path: Path) -> Iterator[OpenIndex]:
    opened: list[ColBERTIndex] = []
    client = QdrantClient(location=":memory:") if request.param == "server" else None

    def open_(collection: str = "docs", model: ColBERT | None = None, **kwargs: object) -> ColBERTIndex:
        kwargs.setdefault("schema", Schema(pool_factor=1))
        store = client if client is not None else str(tmp_path / "store")
        index = ColBERTIndex(model or tiny_colbert, collection, store=store, **kwargs)
        opened.append(index)
        return index

    yield open_
    for index in opened:
        index.close()
    if client is not None:
        client.close()


@pytest.fixture
def index(open_index: OpenIndex) -> ColBERTIndex:
    return open_index()
