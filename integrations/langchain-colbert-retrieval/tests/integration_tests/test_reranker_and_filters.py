from __future__ import annotations

import asyncio
import copy

import numpy as np
import pytest
from langchain_classic.retrievers import ContextualCompressionRetriever
from langchain_colbert_retrieval import ColBERTRerank, ColBERTRetriever, ColBERTVectorStore
from langchain_colbert_retrieval.compressors import RERANK_SCORE_KEY
from langchain_core.documents import Document
from lc_shared import TEXTS, shared_model
from qdrant_client import models as qm

from colbert_retrieval.qdrant import ColBERTIndex

QUERY = "which disease comes from a lack of vitamin c?"


def documents() -> list[Document]:
    return [Document(page_content=t, metadata={"n": i}, id=f"doc-{i}") for i, t in enumerate(TEXTS)]


def exact_order(query: str, docs: list[Document]) -> list[str]:
    model = shared_model()
    q = model.encode(query, is_query=True)
    scores = [float((q @ model.encode(d.page_content, is_query=False).T).max(axis=1).sum()) for d in docs]
    return [docs[i].id for i in np.argsort(scores)[::-1]]


def test_reranker_order_equals_exact_maxsim_and_top_n() -> None:
    docs = documents()
    reranked = ColBERTRerank(model=shared_model(), top_n=3).compress_documents(docs, QUERY)
    assert [d.id for d in reranked] == exact_order(QUERY, docs)[:3]
    scores = [d.metadata[RERANK_SCORE_KEY] for d in reranked]
    assert scores == sorted(scores, reverse=True)
    everything = ColBERTRerank(model=shared_model(), top_n=None).compress_documents(docs, QUERY)
    assert [d.id for d in everything] == exact_order(QUERY, docs)
    assert ColBERTRerank(model=shared_model()).compress_documents([], QUERY) == []


def test_reranker_never_mutates_its_input() -> None:
    docs = documents()
    before = copy.deepcopy(docs)
    reranked = ColBERTRerank(model=shared_model(), top_n=5).compress_documents(docs, QUERY)
    assert docs == before
    assert all(RERANK_SCORE_KEY not in d.metadata for d in docs)
    assert all(r is not d for r in reranked for d in docs)


def test_reranker_async() -> None:
    docs = documents()
    result = asyncio.run(ColBERTRerank(model=shared_model(), top_n=2).acompress_documents(docs, QUERY))
    assert [d.id for d in result] == exact_order(QUERY, docs)[:2]


def test_reranker_inside_contextual_compression_retriever() -> None:
    store = ColBERTVectorStore.from_texts(
        TEXTS, model=shared_model(), location=":memory:", ids=[str(i) for i in range(5)]
    )
    base = store.as_retriever(search_kwargs={"k": 5})
    retriever = ContextualCompressionRetriever(
        base_compressor=ColBERTRerank(model=shared_model(), top_n=2), base_retriever=base
    )
    result = retriever.invoke(QUERY)
    assert len(result) == 2 and "Scurvy" in result[0].page_content
    assert all(RERANK_SCORE_KEY in d.metadata for d in result)


def test_vectorstore_filters_scores_and_relevance() -> None:
    store = ColBERTVectorStore.from_texts(
        TEXTS, model=shared_model(), location=":memory:", metadatas=[{"topic": t} for t in "hhhtx"]
    )
    health = store.similarity_search("vitamin", k=5, filter={"topic": "h"})
    assert len(health) == 3 and all(d.metadata["topic"] == "h" for d in health)
    qdrant_filter = qm.Filter(must=[qm.FieldCondition(key="metadata.topic", match=qm.MatchValue(value="t"))])
    assert [d.page_content for d in store.similarity_search("city", k=5, filter=qdrant_filter)] == [TEXTS[3]]
    scored = store.similarity_search_with_score(QUERY, k=2)
    assert scored[0][1] >= scored[1][1]
    relevance = store.similarity_search_with_relevance_scores(QUERY, k=2)
    assert all(0.0 <= score <= 1.0 for _, score in relevance)
    with pytest.raises(TypeError, match="ColBERT"):
        ColBERTVectorStore.from_texts(["x"], embedding=object())  # type: ignore[arg-type]


def test_retriever_filter_and_k_per_call_and_scores() -> None:
    index = ColBERTIndex(shared_model(), "r", store=":memory:")
    index.add([{"id": i, "text": t, "metadata": {"topic": t_}} for i, (t, t_) in enumerate(zip(TEXTS, "hhhtx"))])
    retriever = ColBERTRetriever(index=index, k=4)
    assert len(retriever.invoke(QUERY)) == 4
    docs = retriever.invoke(QUERY, k=5, filter={"topic": "h"})
    assert len(docs) == 3 and all(d.metadata["topic"] == "h" for d in docs)
    assert all(isinstance(d.metadata["score"], float) for d in docs)
    assert asyncio.run(retriever.ainvoke(QUERY, k=1))[0].page_content == TEXTS[0]


def test_retriever_search_modes() -> None:
    index = ColBERTIndex(shared_model(), "modes", store=":memory:")
    index.add([{"id": i, "text": t} for i, t in enumerate(TEXTS)])
    exact = [h.text for h in index.search(QUERY, k=3, config={"mode": "exact"})]
    assert [d.page_content for d in ColBERTRetriever(index=index, k=3, mode="exact").invoke(QUERY)] == exact
    hybrid = [h.text for h in index.search(QUERY, k=3, config={"mode": "hybrid"})]
    assert [d.page_content for d in ColBERTRetriever(index=index, k=3).invoke(QUERY)] == hybrid  # the default
    store = ColBERTVectorStore(index)
    assert [d.page_content for d in store.similarity_search(QUERY, k=3, mode="colbert")] == [
        h.text for h in index.search(QUERY, k=3, config={"mode": "colbert"})
    ]
    index.close()


def test_mmr_uses_maxsim_between_stored_documents() -> None:
    texts = [
        "Scurvy comes from a lack of vitamin C in the diet.",
        "Scurvy comes from a lack of vitamin C in the food.",  # a near duplicate of the first
        "Sailors prevented scurvy by carrying lemons and limes.",
        "Paris is the capital of France.",
    ]
    store = ColBERTVectorStore.from_texts(texts, model=shared_model(), location=":memory:", ids=["a", "b", "c", "d"])
    plain = [d.id for d in store.similarity_search(QUERY, k=2, mode="exact")]
    assert sorted(plain) == ["a", "b"]  # relevance alone returns both near duplicates
    diverse = [d.id for d in store.max_marginal_relevance_search(QUERY, k=2, fetch_k=4, lambda_mult=0.3, mode="exact")]
    assert diverse[0] in {"a", "b"} and diverse[1] not in {"a", "b"}
    relevance_only = store.max_marginal_relevance_search(QUERY, k=4, fetch_k=4, lambda_mult=1.0, mode="exact")
    assert [d.id for d in relevance_only] == [d.id for d in store.similarity_search(QUERY, k=4, mode="exact")]
    retriever = store.as_retriever(search_type="mmr", search_kwargs={"k": 2, "fetch_k": 4, "lambda_mult": 0.3})
    assert len(retriever.invoke(QUERY)) == 2
    assert len(asyncio.run(store.amax_marginal_relevance_search(QUERY, k=2))) == 2
    with pytest.raises(ValueError, match="token vectors"):
        store.max_marginal_relevance_search_by_vector([0.0], k=2)
    with pytest.raises(ValueError, match="lambda_mult"):
        store.max_marginal_relevance_search(QUERY, lambda_mult=2.0)


def test_a_retriever_rescores_the_same_with_and_without_mode_on_a_small_collection(monkeypatch) -> None:
    """One SearchConfig rule: the preset's rescoring is kept whether or not the retriever names a mode."""
    from colbert_retrieval.qdrant import SearchConfig, _searcher

    index = ColBERTIndex(shared_model(), "small", store=":memory:", storage="small", search={"mode": "colbert"})
    index.add([{"id": i, "text": t} for i, t in enumerate(TEXTS)])
    chosen: list[SearchConfig] = []
    real = _searcher.call_config
    monkeypatch.setattr(_searcher, "call_config", lambda d, c: chosen.append(real(d, c)[0]) or real(d, c))
    config = SearchConfig(prefetch_limit=50)
    without = ColBERTRetriever(index=index, k=3, config=config).invoke(QUERY)
    named = ColBERTRetriever(index=index, k=3, config=config, mode="colbert").invoke(QUERY)
    assert chosen[0] == chosen[1] and chosen[0].rescore_oversampling == index.search_config.rescore_oversampling
    assert chosen[0].rescore_oversampling is not None
    assert [(d.page_content, d.metadata["score"]) for d in without] == [
        (d.page_content, d.metadata["score"]) for d in named
    ]


@pytest.mark.parametrize(
    "method", ["similarity_search", "similarity_search_with_score", "similarity_search_with_score_by_vector"]
)
def test_search_methods_name_langchain_qdrants_arguments_in_its_order(method: str) -> None:
    import inspect

    from langchain_qdrant import QdrantVectorStore

    ours = list(inspect.signature(getattr(ColBERTVectorStore, method)).parameters)
    theirs = list(inspect.signature(getattr(QdrantVectorStore, method)).parameters)
    named = ["filter", "search_params", "offset", "score_threshold"]
    assert [p for p in ours if p in named] == [p for p in theirs if p in named] == named


def test_offset_and_score_threshold_by_name_and_position() -> None:
    index = ColBERTIndex(shared_model(), "paging", store=":memory:")
    index.add([{"id": i, "text": t} for i, t in enumerate(TEXTS)])
    store = ColBERTVectorStore(index)
    everything = store.similarity_search_with_score(QUERY, k=5)

    def texts(results: list) -> list[str]:
        return [(item[0] if isinstance(item, tuple) else item).page_content for item in results]

    assert texts(store.similarity_search_with_score(QUERY, k=2, offset=1)) == texts(everything[1:3])
    assert texts(store.similarity_search(QUERY, 2, None, None, 1)) == texts(everything[1:3])
    threshold = everything[1][1] - 1e-6
    kept = store.similarity_search_with_score(QUERY, k=5, score_threshold=threshold)
    assert texts(kept) == texts([item for item in everything if item[1] >= threshold])


def test_a_retriever_checks_its_mode_and_score_scale_when_built() -> None:
    """The same core checks as the vector store's, at construction rather than at the first query (#36)."""
    from colbert_retrieval.testing import shared_model

    # pydantic wraps the core's InvalidArgumentError (a ValueError) in its ValidationError (a ValueError too)
    with ColBERTIndex(shared_model(), "checks", store=":memory:") as index:
        with pytest.raises(ValueError, match="Unknown search mode 'dense'"):
            ColBERTRetriever(index=index, mode="dense")
        with pytest.raises(ValueError, match="Unknown score_scale 'probability'"):
            ColBERTRetriever(index=index, score_scale="probability")


@pytest.mark.parametrize("least", [0.2, 0.5, 0.8])
def test_one_relevance_threshold_keeps_the_same_hits_as_the_index(least: float) -> None:
    """score_scale='relevance' + score_threshold (store) and the retriever = index.search(min_relevance=) (#37)."""
    model = shared_model()
    assert model.relevance is not None, "the offline default ships a relevance calibration"
    store = ColBERTVectorStore.from_documents(documents(), model=model, location=":memory:", score_scale="relevance")
    expected = store.index.search(QUERY, k=len(TEXTS), config={"min_relevance": least})
    found = store.similarity_search_with_score(QUERY, k=len(TEXTS), score_threshold=least)
    assert [d.id for d, _ in found] == [str(h.id) for h in expected]
    assert [s for _, s in found] == [h.relevance for h in expected]
    retriever = ColBERTRetriever(index=store.index, k=len(TEXTS), score_scale="relevance")
    scored = [(d.id, d.metadata["score"]) for d in retriever.invoke(QUERY)]
    assert [i for i, s in scored if s >= least] == [str(h.id) for h in expected]
    store.index.close()


def test_highlights_are_opt_in_metadata_whose_offsets_slice_the_matched_words() -> None:
    """``highlights=True`` (store call, ``as_retriever`` search kwargs, retriever field) puts the index's
    highlights into ``metadata["highlights"]``; ``page_content[start:end]`` is each matched word (#37)."""
    store = ColBERTVectorStore.from_documents(documents(), model=shared_model(), location=":memory:")
    assert all("highlights" not in d.metadata for d in store.similarity_search(QUERY, k=2))  # off by default
    expected = store.index.search(QUERY, k=2, config={"highlights": True})
    found = store.similarity_search(QUERY, k=2, highlights=True)
    via_kwargs = store.as_retriever(search_kwargs={"k": 2, "highlights": True}).invoke(QUERY)
    via_field = ColBERTRetriever(index=store.index, k=2, highlights=True).invoke(QUERY)
    for documents_ in (found, via_kwargs, via_field):
        assert [d.metadata["highlights"] for d in documents_] == [
            [h.to_dict() for h in hit.highlights] for hit in expected
        ]
    for document in found:
        spans = document.metadata["highlights"]
        assert spans and all(document.page_content[s["start"] : s["end"]] == s["text"] for s in spans)
        assert all(set(s["query_tokens"]) <= set(QUERY.rstrip("?").split()) for s in spans)
    assert any(s["text"].lower() == "vitamin" for s in found[0].metadata["highlights"])
    store.index.close()
