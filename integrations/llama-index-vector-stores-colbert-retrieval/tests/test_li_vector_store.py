from __future__ import annotations

import asyncio
import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import llama_index.vector_stores.colbert_retrieval as package
from llama_index.core import Document, StorageContext, VectorStoreIndex
from llama_index.core.llms import MockLLM
from llama_index.core.schema import MetadataMode, NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.types import (
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
)
from llama_index.vector_stores.colbert_retrieval import NO_EMBEDDING, ColBERTVectorStore

from colbert_retrieval import scores
from colbert_retrieval.errors import InvalidArgumentError
from colbert_retrieval.qdrant import ColBERTIndex
from colbert_retrieval.testing import SAMPLE_QUERY, SAMPLE_TEXTS, shared_model

MODEL = shared_model()


def make_nodes() -> list[TextNode]:
    nodes = [
        TextNode(
            text=text,
            id_=f"n{i}",
            metadata={"topic": "health" if i < 3 else "other", "year": 2018 + i},
            relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=f"doc{i % 2}")},
        )
        for i, text in enumerate(SAMPLE_TEXTS)
    ]
    return nodes


@pytest.fixture()
def store() -> ColBERTVectorStore:
    return ColBERTVectorStore(model=MODEL, location=":memory:", collection_name="nodes")


def exact_order(texts: list[str], ids: list[str], query: str) -> list[str]:
    documents = MODEL.encode(texts, is_query=False, pool_factor=2)
    ranked = scores.rerank(
        documents_ids=[ids], queries_embeddings=[MODEL.encode(query, is_query=True)], documents_embeddings=[documents]
    )[0]
    return [item["id"] for item in ranked]


def test_public_api() -> None:
    assert package.__all__ == ["NO_EMBEDDING", "ColBERTVectorStore"]
    assert ColBERTVectorStore.class_name() == "ColBERTVectorStore"


def test_standard_llamaindex_path_encodes_each_node_once_and_ranks_by_maxsim(store, monkeypatch) -> None:
    encoded: list[tuple[bool, int]] = []
    original = MODEL.encode

    def counting_encode(sentences, *args, **kwargs):
        is_query = kwargs.get("is_query", True)
        encoded.append((is_query, 1 if isinstance(sentences, str) else len(sentences)))
        return original(sentences, *args, **kwargs)

    monkeypatch.setattr(MODEL, "encode", counting_encode)
    documents = [Document(text=text, id_=f"d{i}", metadata={"i": i}) for i, text in enumerate(SAMPLE_TEXTS)]
    index = VectorStoreIndex.from_documents(
        documents, storage_context=StorageContext.from_defaults(vector_store=store), embed_model=NO_EMBEDDING
    )
    nodes = store.get_nodes()
    assert len(nodes) == len(documents)  # one node per short document
    assert sum(n for is_query, n in encoded if not is_query) == len(nodes)  # each node encoded once
    engine = index.as_query_engine(llm=MockLLM(), similarity_top_k=len(nodes))
    response = engine.query(SAMPLE_QUERY)
    assert sum(n for is_query, n in encoded if is_query) == 1  # the query, once
    retrieved = [hit.node.node_id for hit in response.source_nodes]
    by_id = {node.node_id: node.get_content(metadata_mode=MetadataMode.EMBED) for node in nodes}
    assert retrieved == exact_order(list(by_id.values()), list(by_id), SAMPLE_QUERY)
    assert response.source_nodes[0].score >= response.source_nodes[-1].score
    assert {hit.node.ref_doc_id for hit in response.source_nodes} == {d.doc_id for d in documents}


def test_add_get_and_relationships(store) -> None:
    nodes = make_nodes()
    assert store.add(nodes) == [n.node_id for n in nodes]
    back = {n.node_id: n for n in store.get_nodes(node_ids=["n0", "n3", "missing"])}
    assert sorted(back) == ["n0", "n3"]
    assert back["n0"].get_content() == nodes[0].get_content() and back["n0"].metadata == nodes[0].metadata
    assert back["n3"].relationships[NodeRelationship.SOURCE].node_id == "doc1"
    health = MetadataFilters(filters=[MetadataFilter(key="topic", value="health")])
    assert sorted(n.node_id for n in store.get_nodes(filters=health)) == ["n0", "n1", "n2"]
    assert [n.node_id for n in store.get_nodes(node_ids=["n0", "n4"], filters=health)] == ["n0"]
    assert len(store.get_nodes()) == len(nodes)
    store.add(nodes[:1])  # same id: replaced, not duplicated
    assert len(store.get_nodes()) == len(nodes)


def test_deletes_and_clear(store) -> None:
    store.add(make_nodes())
    store.delete("doc0")  # the nodes of source document doc0: n0, n2, n4
    assert sorted(n.node_id for n in store.get_nodes()) == ["n1", "n3"]
    store.add(make_nodes())
    store.delete_nodes(node_ids=["n0"])
    old = MetadataFilters(filters=[MetadataFilter(key="year", value=2020, operator=FilterOperator.LT)])
    store.delete_nodes(filters=old)  # n1 (2019); n0 already gone
    store.delete_nodes(node_ids=["n2", "n3"], filters=MetadataFilters(filters=[MetadataFilter(key="i", value=1)]))
    assert sorted(n.node_id for n in store.get_nodes()) == ["n2", "n3", "n4"]  # nothing matched both
    with pytest.raises(InvalidArgumentError, match="clear"):
        store.delete_nodes()
    store.clear()
    assert store.get_nodes() == []
    store.add(make_nodes()[:2])
    assert len(store.get_nodes()) == 2


def test_query_filters_ids_and_modes(store) -> None:
    store.add(make_nodes())
    everything = store.query(VectorStoreQuery(query_str=SAMPLE_QUERY, similarity_top_k=10))
    assert everything.ids == [n.node_id for n in everything.nodes] and len(everything.ids) == len(SAMPLE_TEXTS)
    assert everything.similarities == sorted(everything.similarities, reverse=True)
    other = MetadataFilters(filters=[MetadataFilter(key="topic", value="other")])
    assert set(store.query(VectorStoreQuery(query_str=SAMPLE_QUERY, similarity_top_k=10, filters=other)).ids) == {
        "n3",
        "n4",
    }
    restricted = store.query(VectorStoreQuery(query_str=SAMPLE_QUERY, similarity_top_k=10, node_ids=["n1", "n4"]))
    assert set(restricted.ids) == {"n1", "n4"}
    by_doc = store.query(VectorStoreQuery(query_str=SAMPLE_QUERY, similarity_top_k=10, doc_ids=["doc1"]))
    assert set(by_doc.ids) == {"n1", "n3"}
    hybrid = store.query(
        VectorStoreQuery(query_str=SAMPLE_QUERY, similarity_top_k=10, hybrid_top_k=2, mode=VectorStoreQueryMode.HYBRID)
    )
    assert len(hybrid.ids) == 2
    with pytest.raises(InvalidArgumentError, match="not supported"):
        store.query(VectorStoreQuery(query_str="x", mode=VectorStoreQueryMode.MMR))
    with pytest.raises(InvalidArgumentError, match="query_str"):
        store.query(VectorStoreQuery(query_embedding=[0.0], similarity_top_k=1))


def test_exact_mode_and_an_existing_index(tmp_path) -> None:
    index = ColBERTIndex(MODEL, "nodes", store=str(tmp_path / "store"))
    store = ColBERTVectorStore(index, mode="exact")
    assert store.client is index and store.collection_name == "nodes"
    store.add(make_nodes())
    result = store.query(VectorStoreQuery(query_str=SAMPLE_QUERY, similarity_top_k=len(SAMPLE_TEXTS)))
    texts = [n.get_content(metadata_mode=MetadataMode.EMBED) for n in make_nodes()]
    assert result.ids == exact_order(texts, [f"n{i}" for i in range(len(texts))], SAMPLE_QUERY)
    index.close()
    reopened = ColBERTVectorStore(model=MODEL, path=str(tmp_path / "store"), collection_name="nodes")
    assert len(reopened.get_nodes()) == len(SAMPLE_TEXTS)
    reopened.client.close()
    with pytest.raises(InvalidArgumentError, match="mode"):
        ColBERTVectorStore(model=MODEL, location=":memory:", mode="mmr")


def test_async_variants(store) -> None:
    async def run() -> None:
        assert await store.async_add(make_nodes()) == [f"n{i}" for i in range(len(SAMPLE_TEXTS))]
        result = await store.aquery(VectorStoreQuery(query_str=SAMPLE_QUERY, similarity_top_k=2))
        assert len(result.ids) == 2
        assert len(await store.aget_nodes(node_ids=["n0"])) == 1
        await store.adelete("doc0")
        await store.adelete_nodes(node_ids=["n1"])
        assert [n.node_id for n in await store.aget_nodes()] == ["n3"]
        await store.aclear()
        assert await store.aget_nodes() == []

    asyncio.run(run())


def test_highlights_through_the_standard_llamaindex_path() -> None:
    """``ColBERTVectorStore(highlights=True)``: nodes of ``VectorStoreIndex.as_retriever`` carry the index's
    highlights, offsets into ``node.text``, hidden from the LLM (#37)."""
    store = ColBERTVectorStore(model=shared_model(), location=":memory:", highlights=True)
    index = VectorStoreIndex(
        make_nodes(), storage_context=StorageContext.from_defaults(vector_store=store), embed_model=NO_EMBEDDING
    )
    found = index.as_retriever(similarity_top_k=2).retrieve(SAMPLE_QUERY)
    expected = store.client.search(SAMPLE_QUERY, k=2, config={"highlights": True, "mode": "colbert"})
    assert [n.node.node_id for n in found] == [h.id for h in expected]
    for scored in found:
        spans = scored.node.metadata["highlights"]
        assert spans and all(scored.node.text[s["start"] : s["end"]] == s["text"] for s in spans)
        assert "highlights" not in scored.node.get_content(metadata_mode=MetadataMode.LLM)
