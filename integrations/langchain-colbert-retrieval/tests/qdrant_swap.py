"""Forty-four typical langchain-qdrant calls (four through ``store.client``), run against ``QdrantVectorStore``
and ``ColBERTVectorStore`` alike.

Used by ``integration_tests/test_langchain_qdrant_swap.py`` (the bar) and by
``benchmarks/langchain_qdrant_swap.py`` (the table in docs/benchmarks/langchain-qdrant-swap.md).

Each call differs between the two stores only in the class and the embedding argument (plus, for the
``QdrantVectorStore(client, collection_name, embedding)`` constructor, the ``create_collection`` call that
langchain-qdrant needs first, whose vector size is the embedding's). Rankings differ (different models),
so a call "behaves the same" when both succeed with the same shape (result type, count, texts, metadata keys,
``metadata["_id"]`` values) or both raise an error that one ``except`` clause catches. ``Document.id`` is not
compared: langchain-qdrant leaves it None, ColBERTVectorStore also sets it (LangChain's convention).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

from langchain_core.documents import Document
from qdrant_client import QdrantClient
from qdrant_client import models as qm

__all__ = ["IDS", "TEXTS", "calls", "outcome", "same"]

TEXTS = [
    "Scurvy is a disease caused by a lack of vitamin C.",
    "Paris is the capital of France.",
    "Statins lower LDL cholesterol.",
    "Sailors carried lemons against scurvy.",
]
METADATAS = [{"topic": "health"}, {"topic": "travel"}, {"topic": "health"}, {"topic": "history"}]
IDS = [str(uuid.UUID(int=i + 1)) for i in range(len(TEXTS))]
QUERY = "what causes scurvy?"
HEALTH = qm.Filter(must=[qm.FieldCondition(key="metadata.topic", match=qm.MatchValue(value="health"))])

Setup = Callable[[QdrantClient, str, Any], None]


def shape(value: Any) -> Any:
    """What must match between the two stores: types, counts, texts, metadata keys and ``_id``s, not scores."""
    if isinstance(value, Document):
        return ("Document", value.page_content, tuple(sorted(value.metadata)), repr(value.metadata.get("_id")))
    if isinstance(value, tuple):
        return tuple(shape(v) if isinstance(v, Document) else type(v).__name__ for v in value)
    if isinstance(value, list):
        items = [shape(v) for v in value]
        return ("list", len(items), sorted(map(repr, items)))
    if isinstance(value, (str, int, bool, type(None))):
        return value
    return type(value).__name__


def outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    """``("ok", shape)`` or ``("error", the exception's builtin base classes)``."""
    try:
        return "ok", shape(call())
    except Exception as error:  # the kind of error is what is compared
        return "error", tuple(c.__name__ for c in type(error).__mro__ if c.__module__ == "builtins")


def same(qdrant: tuple[str, Any], ours: tuple[str, Any]) -> bool:
    """Equal shapes, or errors such that an ``except`` for langchain-qdrant's also catches ours."""
    if qdrant[0] == "error" and ours[0] == "error":
        return qdrant[1][0] in ours[1]
    return qdrant == ours


def calls(cls: type, embedding: Any, folder: str, setup: Setup) -> dict[str, Callable[[], Any]]:
    """The calls, by name, for one store class and embedding; ``setup`` prepares a client's collection."""

    def store(**kwargs: Any) -> Any:
        kwargs.setdefault("location", ":memory:")
        kwargs.setdefault("collection_name", "docs")
        return cls.from_texts(TEXTS, embedding, metadatas=METADATAS, ids=IDS, **kwargs)

    def ids_of(documents: list[Document]) -> list[Any]:
        return sorted(d.metadata["_id"] for d in documents)

    docs = [Document(page_content=t, metadata=m, id=i) for t, m, i in zip(TEXTS, METADATAS, IDS)]
    s = store()
    return {
        "from_texts(location=':memory:', collection_name=)": lambda: store().collection_name,
        "from_texts(ids=...) keeps the ids": lambda: ids_of(store().similarity_search(QUERY, k=4)),
        "integer ids come back as integers": lambda: ids_of(
            cls.from_texts(TEXTS, embedding, ids=[1, 2, 3, 4], location=":memory:").similarity_search(QUERY, k=4)
        ),
        "from_documents keeps ids and metadata": lambda: cls.from_documents(
            docs, embedding, location=":memory:", collection_name="d"
        ).get_by_ids(IDS[:1]),
        "two collection_names in one folder stay apart": lambda: _two_collections(cls, embedding, folder),
        "force_recreate=True empties the collection": lambda: _recreate(cls, embedding, folder),
        "from_existing_collection": lambda: _existing(cls, embedding, folder),
        "from_existing_collection of a missing collection": lambda: cls.from_existing_collection(
            collection_name="nope", embedding=embedding, path=f"{folder}/missing"
        ),
        "constructor (client, collection_name, embedding)": lambda: _constructed(cls, embedding, setup),
        "retrieval_mode=RetrievalMode.DENSE": lambda: len(store(retrieval_mode=_dense()).similarity_search(QUERY, k=2)),
        "add_texts returns ids": lambda: len(s.add_texts(["more text"])),
        "add_texts(ids=) returns those ids": lambda: s.add_texts(["x"], ids=[str(uuid.UUID(int=99))]),
        "add_documents keeps Document.id": lambda: s.add_documents(
            [Document(page_content="y", id=str(uuid.UUID(int=98)))]
        ),
        "re-adding an id replaces": lambda: (
            s.add_texts(["z1"], ids=[IDS[0]]),
            s.add_texts(["z2"], ids=[IDS[0]]),
            s.get_by_ids([IDS[0]]),
        )[-1],
        "similarity_search(k=2)": lambda: len(s.similarity_search(QUERY, k=2)),
        "similarity_search(filter=Filter)": lambda: sorted(
            d.metadata["topic"] for d in store().similarity_search(QUERY, k=4, filter=HEALTH)
        ),
        "similarity_search_with_score": lambda: [type(x[1]).__name__ for x in s.similarity_search_with_score(QUERY, 2)],
        "similarity_search_with_score(score_threshold=-1e9)": lambda: len(
            store().similarity_search_with_score(QUERY, k=4, score_threshold=-1e9)
        ),
        "similarity_search(offset=1)": lambda: len(store().similarity_search(QUERY, k=2, offset=1)),
        "similarity_search(search_params=)": lambda: len(
            s.similarity_search(QUERY, k=1, search_params=qm.SearchParams(hnsw_ef=64))
        ),
        "similarity_search_by_vector(embeddings.embed_query(q))": lambda: len(
            s.similarity_search_by_vector(s.embeddings.embed_query(QUERY), k=1)
        ),
        "similarity_search_with_score_by_vector(filter=)": lambda: sorted(
            d.metadata["topic"]
            for d, _ in store().similarity_search_with_score_by_vector(
                s.embeddings.embed_query(QUERY), k=4, filter=HEALTH
            )
        ),
        "similarity_search_with_relevance_scores": lambda: len(s.similarity_search_with_relevance_scores(QUERY, k=2)),
        "max_marginal_relevance_search": lambda: len(s.max_marginal_relevance_search(QUERY, k=2, fetch_k=4)),
        "max_marginal_relevance_search_by_vector(embeddings.embed_query(q))": lambda: len(
            s.max_marginal_relevance_search_by_vector(s.embeddings.embed_query(QUERY), k=2, fetch_k=4)
        ),
        "as_retriever().invoke": lambda: len(s.as_retriever(search_kwargs={"k": 2}).invoke(QUERY)),
        "as_retriever(search_type='mmr')": lambda: len(
            s.as_retriever(search_type="mmr", search_kwargs={"k": 2}).invoke(QUERY)
        ),
        "as_retriever(similarity_score_threshold)": lambda: (
            type(
                s.as_retriever(search_type="similarity_score_threshold", search_kwargs={"score_threshold": 0.0}).invoke(
                    QUERY
                )
            ).__name__
        ),
        "get_by_ids": lambda: store().get_by_ids(IDS[:2]),
        "get_by_ids of a missing id": lambda: store().get_by_ids([str(uuid.UUID(int=12345))]),
        "delete(ids) -> True": lambda: store().delete(IDS[:1]),
        "delete then get_by_ids": lambda: _delete_then_get(store()),
        "metadata has _id and _collection_name": lambda: (
            store().similarity_search(QUERY, k=1)[0].metadata["_collection_name"]
        ),
        "aadd_texts": lambda: len(asyncio.run(s.aadd_texts(["async text"]))),
        "asimilarity_search": lambda: len(asyncio.run(s.asimilarity_search(QUERY, k=2))),
        "amax_marginal_relevance_search": lambda: len(asyncio.run(s.amax_marginal_relevance_search(QUERY, k=2))),
        "aget_by_ids": lambda: asyncio.run(store().aget_by_ids(IDS[:1])),
        "adelete": lambda: asyncio.run(store().adelete(IDS[:1])),
        "afrom_texts": lambda: type(
            asyncio.run(cls.afrom_texts(TEXTS, embedding, location=":memory:", collection_name="af"))
        ).__name__.startswith(cls.__name__[:4]),
        "empty query text": lambda: len(s.similarity_search("", k=1)),
        "client.count(collection_name)": lambda: store().client.count(collection_name="docs").count,
        "client.retrieve(collection_name, ids)": lambda: store().client.retrieve(collection_name="docs", ids=IDS[:2]),
        "client.scroll(collection_name, limit)": lambda: store().client.scroll(collection_name="docs", limit=10),
        "client.close()": lambda: _client_close(store()),
    }


def _client_close(store: Any) -> Any:
    store.client.close()
    return "closed"


def _dense() -> Any:
    from langchain_qdrant import RetrievalMode

    return RetrievalMode.DENSE


def _constructed(cls: type, embedding: Any, setup: Setup) -> Any:
    client = QdrantClient(":memory:")
    setup(client, "made", embedding)
    store = cls(client=client, collection_name="made", embedding=embedding)
    store.add_texts(TEXTS, ids=IDS)
    found = store.similarity_search(QUERY, k=2)
    client.close()
    return len(found)


def _two_collections(cls: type, embedding: Any, folder: str) -> Any:
    path = f"{folder}/two"
    a = cls.from_texts(TEXTS[:2], embedding, ids=IDS[:2], path=path, collection_name="a")
    _close(a)
    b = cls.from_texts(TEXTS[2:], embedding, ids=IDS[2:], path=path, collection_name="b")
    found = sorted(d.page_content for d in b.similarity_search(QUERY, k=10))
    _close(b)
    return found


def _recreate(cls: type, embedding: Any, folder: str) -> Any:
    path = f"{folder}/recreate"
    _close(cls.from_texts(TEXTS, embedding, ids=IDS, path=path, collection_name="r"))
    fresh = cls.from_texts(TEXTS[:1], embedding, ids=IDS[:1], path=path, collection_name="r", force_recreate=True)
    found = len(fresh.similarity_search(QUERY, k=10))
    _close(fresh)
    return found


def _existing(cls: type, embedding: Any, folder: str) -> Any:
    path = f"{folder}/existing"
    _close(cls.from_texts(TEXTS, embedding, ids=IDS, path=path, collection_name="e"))
    again = cls.from_existing_collection(collection_name="e", embedding=embedding, path=path)
    found = len(again.similarity_search(QUERY, k=10))
    _close(again)
    return found


def _delete_then_get(store: Any) -> Any:
    store.delete(IDS[:1])
    return store.get_by_ids(IDS[:2])


def _close(store: Any) -> None:
    index = getattr(store, "index", None)
    if index is not None:
        index.close()
    else:
        store.client.close()
