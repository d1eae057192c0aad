"""langchain-qdrant's argument names and constructors on ColBERTVectorStore."""

from __future__ import annotations

import pytest
from langchain_colbert_retrieval import ColBERTEmbeddings, ColBERTVectorStore
from lc_shared import TEXTS, shared_model
from qdrant_client import QdrantClient
from qdrant_client import models as qm

from colbert_retrieval.errors import CollectionNotFoundError, DimensionMismatchError, InvalidArgumentError

QUERY = "which disease comes from a lack of vitamin c?"


def test_collection_names_keep_collections_apart_in_one_folder(tmp_path) -> None:
    path = str(tmp_path / "store")
    first = ColBERTVectorStore.from_texts(TEXTS[:2], model=shared_model(), path=path, collection_name="first")
    assert first.collection_name == "first"
    first.index.close()
    second = ColBERTVectorStore.from_texts(TEXTS[2:], model=shared_model(), path=path, collection_name="second")
    assert {d.page_content for d in second.similarity_search(QUERY, k=10)} == set(TEXTS[2:])
    second.index.close()
    again = ColBERTVectorStore.from_existing_collection("first", model=shared_model(), path=path)
    assert {d.page_content for d in again.similarity_search(QUERY, k=10)} == set(TEXTS[:2])
    again.index.close()
    with pytest.raises(CollectionNotFoundError):
        ColBERTVectorStore.from_existing_collection("missing", model=shared_model(), path=path)
    with pytest.raises(InvalidArgumentError, match="one of them"):
        ColBERTVectorStore.from_texts(
            [], model=shared_model(), location=":memory:", collection="a", collection_name="b"
        )


def test_force_recreate_and_misspelt_arguments(tmp_path) -> None:
    path = str(tmp_path / "store")
    store = ColBERTVectorStore.from_texts(TEXTS, model=shared_model(), path=path, collection_name="docs")
    store.index.close()
    fresh = ColBERTVectorStore.from_texts(
        TEXTS[:1], model=shared_model(), path=path, collection_name="docs", force_recreate=True
    )
    assert [d.page_content for d in fresh.similarity_search(QUERY, k=10)] == TEXTS[:1]
    fresh.index.close()
    with pytest.raises(InvalidArgumentError, match="QdrantClient arguments"):
        ColBERTVectorStore.from_texts(TEXTS, model=shared_model(), location=":memory:", colection_name="typo")


def test_offset_score_threshold_and_properties() -> None:
    store = ColBERTVectorStore.from_texts(
        TEXTS, model=shared_model(), location=":memory:", ids=list("abcdef")[: len(TEXTS)]
    )
    ranked = store.similarity_search_with_score(QUERY, k=len(TEXTS), mode="exact")
    assert store.similarity_search_with_score(QUERY, k=2, offset=1, mode="exact") == ranked[1:3]
    threshold = ranked[1][1]
    kept = store.similarity_search_with_score(QUERY, k=len(TEXTS), score_threshold=threshold, mode="exact")
    assert kept == ranked[:2]
    assert store.similarity_search(QUERY, k=2, search_params={"exact": True}) == [d for d, _ in ranked[:2]]
    assert len(store.similarity_search(QUERY, k=2, search_params=qm.SearchParams(hnsw_ef=128))) == 2
    with pytest.raises(InvalidArgumentError, match="honours exact and hnsw_ef"):
        store.similarity_search(QUERY, search_params={"quantization": {"rescore": False}})
    with pytest.raises(InvalidArgumentError, match="Unsupported search arguments"):
        store.similarity_search(QUERY, consistency="majority")
    with pytest.raises(InvalidArgumentError, match="Unsupported search arguments"):
        store.similarity_search(QUERY, serch_params={"exact": True})
    assert store.client.count(store.collection_name).count == len(TEXTS)  # the embedded handle
    with pytest.raises(AttributeError, match=r"index\.add"):
        store.client.upsert(store.collection_name, points=[])


def test_ids_keep_their_type_and_metadata_carries_them_like_langchain_qdrant() -> None:
    store = ColBERTVectorStore.from_texts(TEXTS[:3], model=shared_model(), location=":memory:", ids=[7, "7", 8])
    found = {d.page_content: d for d in store.similarity_search(QUERY, k=3)}
    assert {d.metadata["_id"] for d in found.values()} == {7, "7", 8}
    assert found[TEXTS[0]].metadata == {"_id": 7, "_collection_name": "langchain"}
    assert found[TEXTS[0]].id == "7" and found[TEXTS[1]].id == "7"  # Document.id is a string in LangChain
    assert [d.metadata["_id"] for d in store.get_by_ids([8])] == [8]
    plain = ColBERTVectorStore(store.index, qdrant_metadata=False)
    assert all(d.metadata == {} for d in plain.similarity_search(QUERY, k=3))


def test_retrieval_mode_maps_langchain_qdrant_modes() -> None:
    from langchain_qdrant import RetrievalMode

    dense = ColBERTVectorStore.from_texts(TEXTS, model=shared_model(), location=":memory:", retrieval_mode="dense")
    assert dense.retrieval_mode == "colbert"
    hits = dense.similarity_search_with_score(QUERY, k=3)
    assert hits == dense.similarity_search_with_score(QUERY, k=3, mode="colbert")
    assert ColBERTVectorStore(dense.index, retrieval_mode=RetrievalMode.HYBRID).retrieval_mode == "hybrid"
    with pytest.raises(InvalidArgumentError, match="BM25 alone"):
        ColBERTVectorStore(dense.index, retrieval_mode=RetrievalMode.SPARSE)
    with pytest.raises(InvalidArgumentError, match="Unknown retrieval_mode"):
        ColBERTVectorStore(dense.index, retrieval_mode="semantic")


def test_constructor_with_a_qdrant_client_like_langchain_qdrant() -> None:
    client = QdrantClient(":memory:")
    embedding = ColBERTEmbeddings(model=shared_model())
    store = ColBERTVectorStore(client, collection_name="made", embedding=embedding)  # positional, as theirs
    store.add_texts(TEXTS, ids=list(range(len(TEXTS))))
    again = ColBERTVectorStore(client=client, collection_name="made", embedding=embedding)
    assert again.client is client and again.index.count() == len(TEXTS)
    assert again.similarity_search(QUERY, k=1)[0].page_content == store.similarity_search(QUERY, k=1)[0].page_content
    with pytest.raises(InvalidArgumentError, match="client= and collection_name="):
        ColBERTVectorStore(client=client)
    client.close()


def test_search_by_vector_token_vectors_rank_like_the_text_first_stage_vectors_approximately() -> None:
    store = ColBERTVectorStore.from_texts(TEXTS, model=shared_model(), location=":memory:")
    by_text = store.similarity_search_with_score(QUERY, k=3, mode="colbert")
    tokens = ColBERTEmbeddings(model=shared_model()).embed_query_multi(QUERY)
    assert store.similarity_search_with_score_by_vector(tokens, k=3) == by_text
    first_stage = store.embeddings.embed_query(QUERY)
    assert len(first_stage) == store.index.settings.first_stage_dim()
    assert len(store.similarity_search_by_vector(first_stage, k=3)) == 3
    with pytest.raises(DimensionMismatchError, match="is_query=True"):
        store.similarity_search_by_vector([0.1] * 32, k=1)
    with pytest.raises(InvalidArgumentError, match="BM25"):
        store.similarity_search_by_vector(tokens, k=1, bm25_weight=0.5)
    # a whole SearchConfig names every field: only a BM25 setting it changes is refused
    from colbert_retrieval.qdrant import SearchConfig

    assert store.similarity_search_with_score_by_vector(tokens, k=3, config=SearchConfig(mode="colbert")) == by_text
    with pytest.raises(InvalidArgumentError, match="BM25"):
        store.similarity_search_by_vector(tokens, k=1, config=SearchConfig(bm25_limit=5))
