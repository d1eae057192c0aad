"""ColBERTVectorStore swaps in for langchain-qdrant's QdrantVectorStore: 44 typical calls run against both."""

from __future__ import annotations

import warnings

import pytest
from langchain_colbert_retrieval import ColBERTEmbeddings, ColBERTVectorStore
from langchain_core.embeddings import DeterministicFakeEmbedding, Embeddings
from lc_shared import shared_model
from qdrant_client import models as qm
from qdrant_swap import calls, outcome, same

langchain_qdrant = pytest.importorskip("langchain_qdrant")

#: The calls that differ on purpose (docs/benchmarks/langchain-qdrant-swap.md gives the reasons).
DOCUMENTED_DIFFERENCES = {
    # MMR weighs relevance by MaxSim, which a single vector cannot give: the error names embed_query_multi.
    "max_marginal_relevance_search_by_vector(embeddings.embed_query(q))",
    # An empty query matches nothing meaningful; every colbert-retrieval entry point refuses empty text.
    "empty query text",
}


def _create_dense_collection(client, name, embedding) -> None:
    vectors = qm.VectorParams(size=len(embedding.embed_query("x")), distance=qm.Distance.COSINE)
    client.create_collection(name, vectors_config=vectors)


def test_at_least_42_of_44_langchain_qdrant_calls_behave_the_same_store_client_included(tmp_path) -> None:
    fake = DeterministicFakeEmbedding(size=32)
    colbert = ColBERTEmbeddings(model=shared_model())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # local mode warns that search_params has no effect
        qdrant_calls = calls(langchain_qdrant.QdrantVectorStore, fake, str(tmp_path / "q"), _create_dense_collection)
        qdrant = {name: outcome(call) for name, call in qdrant_calls.items()}
    ours = {
        name: outcome(call)
        for name, call in calls(ColBERTVectorStore, colbert, str(tmp_path / "c"), lambda *_: None).items()
    }
    assert len(qdrant) == 44 and sum(name.startswith("client.") for name in qdrant) == 4
    assert all(qdrant[name][0] == "ok" for name in qdrant if "missing" not in name)  # the reference really ran
    differing = {name for name in qdrant if not same(qdrant[name], ours[name])}
    assert len(qdrant) - len(differing) >= 42, {name: (qdrant[name], ours[name]) for name in differing}
    assert differing <= DOCUMENTED_DIFFERENCES, {name: (qdrant[name], ours[name]) for name in differing}


def test_mmr_by_vector_takes_token_vectors_and_names_them_for_a_single_vector() -> None:
    store = ColBERTVectorStore.from_texts(
        ["Scurvy comes from a lack of vitamin C.", "Scurvy: no vitamin C.", "Paris is in France."],
        model=shared_model(),
        location=":memory:",
    )
    tokens = ColBERTEmbeddings(model=shared_model()).embed_query_multi("what causes scurvy?")
    chosen = store.max_marginal_relevance_search_by_vector(tokens, k=2, fetch_k=3, lambda_mult=0.5)
    assert len(chosen) == 2 and "scurvy" in chosen[0].page_content.lower()
    with pytest.raises(ValueError, match="embed_query_multi"):
        store.max_marginal_relevance_search_by_vector(store.embeddings.embed_query("scurvy"), k=2)


def test_a_score_threshold_written_for_cosine_scores_filters_alike() -> None:
    """langchain-qdrant over the same base model as a dense cosine embedding, against ColBERTVectorStore.

    Measured scores ("what causes scurvy?"): dense cosine 0.818, 0.649, 0.434, 0.274 for the four scurvy texts,
    <= 0.075 for the others; mean MaxSim 0.752, 0.573, 0.556, 0.354 and <= 0.154. Raw MaxSim sums are 1.2 - 24.
    """
    from sentence_transformers import SentenceTransformer

    from colbert_retrieval.models._default import minilm_path

    dense_model = SentenceTransformer(minilm_path(), device="cpu")

    class Dense(Embeddings):
        def embed_documents(self, texts):
            return dense_model.encode(texts, normalize_embeddings=True).tolist()

        def embed_query(self, text):
            return dense_model.encode(text, normalize_embeddings=True).tolist()

    relevant = [
        "Scurvy is a disease caused by a lack of vitamin C.",
        "Sailors carried lemons against scurvy.",
        "Vitamin C deficiency causes bleeding gums.",
        "Citrus fruit prevents scurvy.",
    ]
    other = ["Paris is the capital of France.", "The stock market fell on Monday.", "Football is played with a ball."]
    query = "what causes scurvy?"
    qdrant = langchain_qdrant.QdrantVectorStore.from_texts(relevant + other, Dense(), location=":memory:")
    ours = ColBERTVectorStore.from_texts(relevant + other, model=shared_model(), location=":memory:")
    raw = ColBERTVectorStore(ours.index, score_scale="raw")
    for threshold in (0.2, 0.7):  # the measured scores above: the same documents pass either way
        kept = {d.page_content for d, _ in qdrant.similarity_search_with_score(query, k=7, score_threshold=threshold)}
        assert {
            d.page_content for d, _ in ours.similarity_search_with_score(query, k=7, score_threshold=threshold)
        } == kept
        assert kept < set(relevant) | set(other) and kept <= set(relevant)
    assert all(score <= 1.0 for _, score in ours.similarity_search_with_score(query, k=7))
    kept_raw = raw.similarity_search_with_score(query, k=7, score_threshold=0.2, mode="colbert")
    assert len(kept_raw) == 7  # raw MaxSim sums keep everything
    search = {"search_type": "similarity_score_threshold", "search_kwargs": {"score_threshold": 0.6, "k": 7}}
    kept = {d.page_content for d in qdrant.as_retriever(**search).invoke(query)}  # relevance (cos + 1) / 2
    assert {d.page_content for d in ours.as_retriever(**search).invoke(query)} == kept and kept <= set(relevant)


def test_payload_keys_are_honoured_and_kept_with_the_collection(tmp_path) -> None:
    """langchain-qdrant's content_payload_key / metadata_payload_key were refused (#36): now the payload uses them."""
    from colbert_retrieval.errors import IndexMismatchError

    folder = str(tmp_path / "store")
    store = ColBERTVectorStore.from_texts(
        ["Scurvy is caused by a lack of vitamin C.", "Paris is in France."],
        model=shared_model(),
        metadatas=[{"lang": "en"}, {"lang": "fr"}],
        ids=["a", "b"],
        collection_name="keys",
        path=folder,
        content_payload_key="page_content",
        metadata_payload_key="meta",
    )
    points, _ = store.index.backend.scroll(None, 10)
    assert all({"page_content", "meta", "id"} <= set(p.payload) and "text" not in p.payload for p in points)
    hits = store.similarity_search("vitamin C deficiency", k=2, filter={"lang": "en"})
    assert [(d.id, d.page_content, d.metadata["lang"]) for d in hits] == [
        ("a", "Scurvy is caused by a lack of vitamin C.", "en")
    ]
    store.index.close()
    # reopened without naming them: the collection's keys; naming others is refused, not ignored
    again = ColBERTVectorStore.from_existing_collection("keys", model=shared_model(), path=folder)
    assert again.get_by_ids(["b"])[0].page_content == "Paris is in France."
    with pytest.raises(IndexMismatchError, match="keeps metadata_payload_key='meta'"):
        ColBERTVectorStore(again.index, metadata_payload_key="metadata")
    again.index.close()
    with pytest.raises(IndexMismatchError, match="text_key='page_content'"):
        ColBERTVectorStore.from_existing_collection(
            "keys", model=shared_model(), path=folder, content_payload_key="text"
        )
