"""ColBERTVectorStore swaps in for langchain-qdrant's QdrantVectorStore: 40 typical calls run against both."""

from __future__ import annotations

import warnings

import pytest
from langchain_colbert_retrieval import ColBERTEmbeddings, ColBERTVectorStore
from langchain_core.embeddings import DeterministicFakeEmbedding
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


def test_at_least_36_of_40_langchain_qdrant_calls_behave_the_same(tmp_path) -> None:
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
    assert len(qdrant) == 40
    assert all(qdrant[name][0] == "ok" for name in qdrant if "missing" not in name)  # the reference really ran
    differing = {name for name in qdrant if not same(qdrant[name], ours[name])}
    assert len(qdrant) - len(differing) >= 36, {name: (qdrant[name], ours[name]) for name in differing}
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
