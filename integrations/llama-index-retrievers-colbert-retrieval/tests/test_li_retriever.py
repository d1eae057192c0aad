from __future__ import annotations

import asyncio
import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import llama_index.retrievers.colbert_retrieval as package
from llama_index.core.ingestion import IngestionPipeline
from llama_index.core.llms import MockLLM
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import Document, NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.types import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
)
from llama_index.retrievers.colbert_retrieval import (
    ColBERTIndexWriter,
    ColBERTRetriever,
    add_nodes,
    to_qdrant_filter,
)

from colbert_retrieval.errors import TruncationWarning
from colbert_retrieval.pooling import compile_cpu_kernels
from colbert_retrieval.qdrant import ColBERTIndex
from colbert_retrieval.testing import SAMPLE_QUERY, SAMPLE_TEXTS, shared_model

MODEL = shared_model()
TEXTS, QUERY = SAMPLE_TEXTS, SAMPLE_QUERY


def make_nodes() -> list[TextNode]:
    items = [
        TextNode(text=t, id_=f"n{i}", metadata={"topic": "health" if i < 3 else "other", "year": 2018 + i})
        for i, t in enumerate(TEXTS)
    ]
    items[0].relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id="doc-1")
    items[0].relationships[NodeRelationship.NEXT] = RelatedNodeInfo(node_id="n1")
    return items


@pytest.fixture
def index() -> ColBERTIndex:
    index = ColBERTIndex(MODEL, "nodes", store=":memory:")
    add_nodes(index, make_nodes())
    return index


def test_all_is_frozen() -> None:
    assert sorted(package.__all__) == ["ColBERTIndexWriter", "ColBERTRetriever", "add_nodes", "to_qdrant_filter"]


def test_retrieve_preserves_ids_metadata_relationships(index: ColBERTIndex) -> None:
    results = ColBERTRetriever(index, similarity_top_k=2).retrieve(QUERY)
    assert len(results) == 2
    first = results[0].node
    original = make_nodes()[0]
    assert first.node_id == "n0" and first.text == original.text and first.metadata == original.metadata
    assert first.relationships[NodeRelationship.SOURCE].node_id == "doc-1"
    assert first.relationships[NodeRelationship.NEXT].node_id == "n1"
    assert results[0].score >= results[1].score


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (MetadataFilters(filters=[MetadataFilter(key="topic", value="health")]), {"n0", "n1", "n2"}),
        (
            MetadataFilters(filters=[MetadataFilter(key="topic", value="health", operator=FilterOperator.NE)]),
            {"n3", "n4"},
        ),
        (
            MetadataFilters(filters=[MetadataFilter(key="year", value=[2018, 2022], operator=FilterOperator.IN)]),
            {"n0", "n4"},
        ),
        (
            MetadataFilters(filters=[MetadataFilter(key="year", value=[2018, 2022], operator=FilterOperator.NIN)]),
            {"n1", "n2", "n3"},
        ),
        (MetadataFilters(filters=[MetadataFilter(key="year", value=2020, operator=FilterOperator.GT)]), {"n3", "n4"}),
        (
            MetadataFilters(filters=[MetadataFilter(key="year", value=2020, operator=FilterOperator.GTE)]),
            {"n2", "n3", "n4"},
        ),
        (MetadataFilters(filters=[MetadataFilter(key="year", value=2019, operator=FilterOperator.LT)]), {"n0"}),
        (MetadataFilters(filters=[MetadataFilter(key="year", value=2019, operator=FilterOperator.LTE)]), {"n0", "n1"}),
        (
            MetadataFilters(
                filters=[
                    MetadataFilter(key="topic", value="other"),
                    MetadataFilter(key="year", value=2018),
                ],
                condition=FilterCondition.OR,
            ),
            {"n0", "n3", "n4"},
        ),
        (
            MetadataFilters(
                filters=[
                    MetadataFilter(key="topic", value="health"),
                    MetadataFilters(
                        filters=[MetadataFilter(key="year", value=2018), MetadataFilter(key="year", value=2020)],
                        condition=FilterCondition.OR,
                    ),
                ],
                condition=FilterCondition.AND,
            ),
            {"n0", "n2"},
        ),
    ],
)
def test_filter_translation(index: ColBERTIndex, filters: MetadataFilters, expected: set[str]) -> None:
    results = ColBERTRetriever(index, similarity_top_k=10, filters=filters).retrieve(QUERY)
    assert {r.node.node_id for r in results} == expected


def test_unsupported_operator() -> None:
    filters = MetadataFilters(filters=[MetadataFilter(key="t", value="x", operator=FilterOperator.TEXT_MATCH)])
    with pytest.raises(ValueError, match="not supported"):
        to_qdrant_filter(filters)


def test_retriever_query_engine_and_async(index: ColBERTIndex) -> None:
    engine = RetrieverQueryEngine.from_args(ColBERTRetriever(index, similarity_top_k=2), llm=MockLLM())
    response = engine.query(QUERY)
    assert response.source_nodes[0].node.node_id == "n0"
    results = asyncio.run(ColBERTRetriever(index, similarity_top_k=1).aretrieve(QUERY))
    assert results[0].node.node_id == "n0"


def test_ingestion_pipeline_step_after_a_node_parser() -> None:
    index = ColBERTIndex(MODEL, "pipeline", store=":memory:")
    documents = [Document(text=" ".join(TEXTS), id_="doc", metadata={"source": "test"})]
    pipeline = IngestionPipeline(
        transformations=[SentenceSplitter(chunk_size=24, chunk_overlap=0), ColBERTIndexWriter(index=index)]
    )
    nodes = pipeline.run(documents=documents)
    assert index.count() == len(nodes) > 1
    result = ColBERTRetriever(index, similarity_top_k=1).retrieve(QUERY)[0].node
    assert result.node_id in {n.node_id for n in nodes}
    assert result.ref_doc_id == "doc" and result.metadata["source"] == "test"


@pytest.mark.parametrize("mode", ["hybrid", "colbert", "exact"])
def test_search_modes(index: ColBERTIndex, mode: str) -> None:
    expected = [h.id for h in index.search(QUERY, k=3, config={"mode": mode})]
    results = ColBERTRetriever(index, similarity_top_k=3, mode=mode).retrieve(QUERY)
    assert [r.node.node_id for r in results] == expected


def test_the_pipeline_writer_warns_about_nodes_longer_than_the_model_reads() -> None:
    index = ColBERTIndex(MODEL, "long", store=":memory:")
    # numba compiles the pooling kernels in a background thread under warnings.catch_warnings, which is not
    # thread-safe: a warning raised meanwhile lands in numba's record. Have them ready before asserting one.
    compile_cpu_kernels()
    long = "Lemons and limes were carried on long voyages to prevent scurvy. " * 60  # ~780 tokens
    with pytest.warns(TruncationWarning, match=r"1 longer than the model reads \(256 tokens; first: n-long\)"):
        ColBERTIndexWriter(index=index)([TextNode(text=long, id_="n-long"), TextNode(text="short", id_="n-short")])
    assert index.count() == 2


def test_a_retriever_rescores_the_same_with_and_without_mode_on_a_small_collection(monkeypatch) -> None:
    """One SearchConfig rule: the preset's rescoring is kept whether or not the retriever names a mode."""
    from colbert_retrieval.qdrant import SearchConfig, _searcher

    index = ColBERTIndex(MODEL, "small", store=":memory:", storage="small", search={"mode": "colbert"})
    add_nodes(index, make_nodes())
    chosen: list[SearchConfig] = []
    real = _searcher.call_config
    monkeypatch.setattr(_searcher, "call_config", lambda d, c: chosen.append(real(d, c)[0]) or real(d, c))
    config = SearchConfig(prefetch_limit=50)
    without = ColBERTRetriever(index, similarity_top_k=3, config=config).retrieve(QUERY)
    named = ColBERTRetriever(index, similarity_top_k=3, config=config, mode="colbert").retrieve(QUERY)
    assert chosen[0] == chosen[1] and chosen[0].rescore_oversampling == index.search_config.rescore_oversampling
    assert chosen[0].rescore_oversampling is not None
    assert [(r.node.node_id, r.score) for r in without] == [(r.node.node_id, r.score) for r in named]


def test_a_retriever_checks_its_mode_and_score_scale_when_built(index: ColBERTIndex) -> None:
    """The same core checks as the vector store's, at construction rather than at the first query (#36)."""
    from colbert_retrieval.errors import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="Unknown search mode 'dense'"):
        ColBERTRetriever(index, mode="dense")
    with pytest.raises(InvalidArgumentError, match="Unknown score_scale 'probability'"):
        ColBERTRetriever(index, score_scale="probability")


@pytest.mark.parametrize("least", [0.2, 0.5, 0.8])
def test_similarity_cutoff_on_the_relevance_scale_is_the_index_threshold(index: ColBERTIndex, least: float) -> None:
    """ColBERTRetriever(score_scale='relevance', similarity_cutoff=) = index.search(min_relevance=) (#37)."""
    assert MODEL.relevance is not None, "the offline default ships a relevance calibration"
    expected = index.search(QUERY, k=len(TEXTS), config={"min_relevance": least})
    retriever = ColBERTRetriever(index, similarity_top_k=len(TEXTS), score_scale="relevance", similarity_cutoff=least)
    found = retriever.retrieve(QUERY)
    assert [n.node.node_id for n in found] == [h.id for h in expected]
    assert [n.score for n in found] == [h.relevance for h in expected]


def test_highlights_are_opt_in_node_metadata_whose_offsets_slice_node_text(index: ColBERTIndex) -> None:
    """``highlights=True``: ``node.metadata["highlights"]`` holds the index's highlights with offsets into
    ``node.text`` (the stored content also carries the node's metadata lines), hidden from the LLM (#37)."""
    from llama_index.core.schema import MetadataMode

    assert all("highlights" not in n.node.metadata for n in ColBERTRetriever(index, similarity_top_k=2).retrieve(QUERY))
    found = ColBERTRetriever(index, similarity_top_k=2, highlights=True).retrieve(QUERY)
    expected = index.search(QUERY, k=2, config={"highlights": True})
    assert [n.node.node_id for n in found] == [h.id for h in expected]
    for scored, hit in zip(found, expected):
        node = scored.node
        spans = node.metadata["highlights"]
        assert spans and all(node.text[s["start"] : s["end"]] == s["text"] for s in spans)
        assert [s["text"] for s in spans] == [h.text for h in hit.highlights if h.text in node.text]
        assert "highlights" not in node.get_content(metadata_mode=MetadataMode.LLM)
        assert "highlights" not in node.get_content(metadata_mode=MetadataMode.EMBED)
    assert any(
        s["text"].lower() == "scurvy" or s["text"].lower() == "vitamin" for s in found[0].node.metadata["highlights"]
    )
