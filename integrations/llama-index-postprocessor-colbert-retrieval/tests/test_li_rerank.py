from __future__ import annotations

import asyncio
import os

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import llama_index.postprocessor.colbert_retrieval as package
from llama_index.core import Settings, VectorStoreIndex
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.llms import MockLLM
from llama_index.core.schema import MetadataMode, NodeWithScore, TextNode
from llama_index.postprocessor.colbert_retrieval import ColBERTRerank

from colbert_retrieval.errors import InvalidArgumentError
from colbert_retrieval.testing import SAMPLE_QUERY, SAMPLE_TEXTS, shared_model

MODEL = shared_model()
TEXTS, QUERY = SAMPLE_TEXTS, SAMPLE_QUERY


def nodes() -> list[TextNode]:
    return [
        TextNode(text=t, id_=f"n{i}", metadata={"topic": "health" if i < 3 else "other"}) for i, t in enumerate(TEXTS)
    ]


def exact_order(query: str, items: list[TextNode]) -> list[str]:
    q = MODEL.encode(query, is_query=True)
    scores = [
        float((q @ MODEL.encode(n.get_content(metadata_mode=MetadataMode.EMBED), is_query=False).T).max(axis=1).sum())
        for n in items
    ]
    return [items[i].node_id for i in np.argsort(scores)[::-1]]


def test_all_is_frozen() -> None:
    assert package.__all__ == ["ColBERTRerank"]


def test_rerank_order_equals_exact_maxsim_and_top_n() -> None:
    items = nodes()
    reranker = ColBERTRerank(model=MODEL, top_n=3)
    result = reranker.postprocess_nodes([NodeWithScore(node=n, score=0.1) for n in items], query_str=QUERY)
    assert [r.node.node_id for r in result] == exact_order(QUERY, items)[:3]
    assert [r.score for r in result] == sorted((r.score for r in result), reverse=True)
    assert reranker.postprocess_nodes([], query_str=QUERY) == []
    with pytest.raises(ValueError, match="query"):
        reranker.postprocess_nodes([NodeWithScore(node=items[0])])


def test_colbertrerank_constructor_arguments_and_keep_retrieval_score() -> None:
    reranker = ColBERTRerank(top_n=2, model=MODEL, tokenizer="ignored", device="cpu", keep_retrieval_score=True)
    items = [NodeWithScore(node=n, score=0.5 + i) for i, n in enumerate(nodes())]
    result = reranker.postprocess_nodes(items, query_str=QUERY)
    assert len(result) == 2 and "retrieval_score" in result[0].node.metadata
    assert all("retrieval_score" not in n.node.metadata for n in items)  # inputs are not mutated


def test_instrumentation_events_are_emitted() -> None:
    seen: list[str] = []

    class Collector(BaseEventHandler):
        @classmethod
        def class_name(cls) -> str:
            return "Collector"

        def handle(self, event, **kwargs) -> None:
            seen.append(event.class_name())

    dispatcher = get_dispatcher("llama_index.postprocessor.colbert_retrieval.base")
    handler = Collector()
    dispatcher.add_event_handler(handler)
    try:
        ColBERTRerank(model=MODEL, top_n=1).postprocess_nodes([NodeWithScore(node=n) for n in nodes()], query_str=QUERY)
    finally:
        dispatcher.event_handlers.remove(handler)
    assert "ReRankStartEvent" in seen and "ReRankEndEvent" in seen


def test_in_a_query_engine_with_vectorstoreindex_and_mockllm() -> None:
    Settings.llm = MockLLM()
    items = nodes()
    index = VectorStoreIndex(items, embed_model=MockEmbedding(embed_dim=8))
    engine = index.as_query_engine(
        similarity_top_k=5, node_postprocessors=[ColBERTRerank(model=MODEL, top_n=2)], llm=MockLLM()
    )
    response = engine.query(QUERY)
    assert [n.node.node_id for n in response.source_nodes] == exact_order(QUERY, items)[:2]


def test_async_postprocess() -> None:
    items = [NodeWithScore(node=n) for n in nodes()]
    result = asyncio.run(ColBERTRerank(model=MODEL, top_n=1).apostprocess_nodes(items, query_str=QUERY))
    assert result[0].node.node_id == exact_order(QUERY, nodes())[0]


@pytest.mark.parametrize("least", [0.2, 0.5, 0.8])
def test_similarity_cutoff_on_the_relevance_scale_keeps_the_index_s_hits(least: float) -> None:
    """The reranker's relevance threshold over an index's candidates = ``index.search(min_relevance=)`` (#37):
    an unpooled collection searched exactly holds the vectors the reranker computes (to float16)."""
    qdrant = pytest.importorskip("colbert_retrieval.qdrant", reason='pip install "colbert-retrieval[qdrant]"')
    from llama_index.postprocessor.colbert_retrieval.base import SCORE_SCALES

    assert sorted(SCORE_SCALES) == sorted(qdrant.SCORE_SCALES)
    with qdrant.ColBERTIndex(MODEL, "texts", store=":memory:", schema=qdrant.Schema(pool_factor=1)) as index:
        index.add([{"id": f"n{i}", "text": t} for i, t in enumerate(SAMPLE_TEXTS)])
        every = index.search(SAMPLE_QUERY, k=len(SAMPLE_TEXTS), config={"mode": "exact"})
        expected = [h for h in every if h.relevance >= least]
    assert all(abs(h.relevance - least) > 1e-3 for h in every), "a threshold on a boundary would test rounding"
    candidates = [NodeWithScore(node=TextNode(text=h.text, id_=str(h.id))) for h in every]
    reranker = ColBERTRerank(model=MODEL, top_n=len(SAMPLE_TEXTS), score_scale="relevance", similarity_cutoff=least)
    kept = reranker.postprocess_nodes(candidates, query_str=SAMPLE_QUERY)
    assert [n.node.node_id for n in kept] == [h.id for h in expected]
    assert [n.score for n in kept] == pytest.approx([h.relevance for h in expected], abs=1e-3)
    with pytest.raises(InvalidArgumentError, match="Unknown score_scale"):
        ColBERTRerank(model=MODEL, score_scale="probability")
