"""Swap ``QdrantVectorStore`` (langchain-qdrant) for ``ColBERTVectorStore``: which typical calls behave the same.

    pip install langchain-qdrant
    python benchmarks/langchain_qdrant_swap.py

Each call runs against both stores (in-memory / embedded), differing only in the class and the embedding
argument (``DeterministicFakeEmbedding`` for Qdrant, ``ColBERTEmbeddings`` for ColBERT). Rankings differ
(different models), so a call "behaves the same" when both succeed with the same shape (result type, count,
ids, texts, metadata keys) or both raise the same kind of error. Writes docs/benchmarks/langchain-qdrant-swap.md.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import Callable
from typing import Any

from _common import table, write_result
from langchain_colbert_retrieval import ColBERTEmbeddings, ColBERTVectorStore
from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_qdrant import QdrantVectorStore
from qdrant_client import models as qm

from colbert_retrieval import default_model

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


def shape(value: Any) -> Any:
    """What must match between the two stores: types, counts, ids, texts and metadata keys, not scores."""
    if isinstance(value, Document):
        return ("Document", value.id, value.page_content, tuple(sorted(value.metadata)))
    if isinstance(value, tuple):
        return tuple(shape(v) if isinstance(v, Document) else type(v).__name__ for v in value)
    if isinstance(value, list):
        items = [shape(v) for v in value]
        return ("list", len(items), sorted(map(repr, items)))
    if isinstance(value, (str, int, bool, type(None))):
        return value
    return type(value).__name__


def outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", shape(call())
    except Exception as error:  # the kind of error is what is compared
        builtin = next(c for c in type(error).__mro__ if c.__module__ == "builtins")  # typed errors keep theirs
        return "error", builtin.__name__


def calls(cls: type, embedding: Any, folder: str) -> dict[str, Callable[[], Any]]:
    def store(**kwargs: Any) -> Any:
        kwargs.setdefault("location", ":memory:")
        kwargs.setdefault("collection_name", "docs")
        return cls.from_texts(TEXTS, embedding, metadatas=METADATAS, ids=IDS, **kwargs)

    docs = [Document(page_content=t, metadata=m, id=i) for t, m, i in zip(TEXTS, METADATAS, IDS)]
    s = store()
    return {
        "from_texts(location=':memory:', collection_name=)": lambda: store().collection_name,
        "from_texts(ids=...) keeps the ids": lambda: sorted(d.id for d in store().similarity_search(QUERY, k=4)),
        "from_documents keeps ids and metadata": lambda: cls.from_documents(
            docs, embedding, location=":memory:", collection_name="d"
        ).get_by_ids(IDS[:1]),
        "two collection_names in one folder stay apart": lambda: _two_collections(cls, embedding, folder),
        "force_recreate=True empties the collection": lambda: _recreate(cls, embedding, folder),
        "from_existing_collection": lambda: _existing(cls, embedding, folder),
        "from_existing_collection of a missing collection": lambda: cls.from_existing_collection(
            collection_name="nope", embedding=embedding, path=f"{folder}/missing"
        ),
        ".collection_name": lambda: s.collection_name,
        ".embeddings is not None": lambda: s.embeddings is not None,
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
        "similarity_search_by_vector": lambda: len(s.similarity_search_by_vector([0.1] * 32, k=1)),
        "similarity_search_with_relevance_scores": lambda: len(s.similarity_search_with_relevance_scores(QUERY, k=2)),
        "max_marginal_relevance_search": lambda: len(s.max_marginal_relevance_search(QUERY, k=2, fetch_k=4)),
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
        "returned Document.id is the given id": lambda: store().similarity_search(QUERY, k=1)[0].id in IDS,
        "metadata has _id and _collection_name": lambda: sorted(store().similarity_search(QUERY, k=1)[0].metadata),
        "aadd_texts": lambda: len(asyncio.run(s.aadd_texts(["async text"]))),
        "asimilarity_search": lambda: len(asyncio.run(s.asimilarity_search(QUERY, k=2))),
        "asimilarity_search_with_score": lambda: len(asyncio.run(s.asimilarity_search_with_score(QUERY, k=2))),
        "amax_marginal_relevance_search": lambda: len(asyncio.run(s.amax_marginal_relevance_search(QUERY, k=2))),
        "aget_by_ids": lambda: asyncio.run(store().aget_by_ids(IDS[:1])),
        "adelete": lambda: asyncio.run(store().adelete(IDS[:1])),
        "afrom_texts": lambda: type(
            asyncio.run(cls.afrom_texts(TEXTS, embedding, location=":memory:", collection_name="af"))
        ).__name__.startswith(cls.__name__[:4]),
        "empty query text": lambda: len(s.similarity_search("", k=1)),
    }


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
    if isinstance(store, ColBERTVectorStore):
        store.index.close()
    else:
        store.client.close()


def main() -> None:
    colbert = ColBERTEmbeddings(model=default_model())
    fake = DeterministicFakeEmbedding(size=32)
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        qdrant = {name: outcome(call) for name, call in calls(QdrantVectorStore, fake, a).items()}
        ours = {name: outcome(call) for name, call in calls(ColBERTVectorStore, colbert, b).items()}
    rows = []
    for name in qdrant:
        same = qdrant[name] == ours[name]
        rows.append([name, "same" if same else "differs", str(qdrant[name])[:70], str(ours[name])[:70]])
    matching = sum(r[1] == "same" for r in rows)
    markdown = (
        f"{matching} of {len(rows)} typical langchain-qdrant calls behave the same on `ColBERTVectorStore` "
        "(only the class and the embedding argument changed; same shape or same kind of error).\n\n"
        + table(["call", "", "QdrantVectorStore", "ColBERTVectorStore"], rows)
    )
    print(markdown)
    write_result("langchain-qdrant-swap", markdown)


if __name__ == "__main__":
    main()
