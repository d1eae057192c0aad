"""langchain-qdrant's argument names and constructors on ColBERTVectorStore."""

from __future__ import annotations

import pytest
from langchain_colbert_retrieval import ColBERTVectorStore
from lc_shared import TEXTS, shared_model

from colbert_retrieval.errors import CollectionNotFoundError, InvalidArgumentError

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
    with pytest.raises(InvalidArgumentError, match="QdrantClient options"):
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
    with pytest.raises(InvalidArgumentError, match="Unsupported search arguments"):
        store.similarity_search(QUERY, search_params={"hnsw_ef": 128})
    with pytest.raises(AttributeError, match="embedded"):
        _ = store.client
