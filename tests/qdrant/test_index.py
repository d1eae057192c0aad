from __future__ import annotations

import asyncio
import importlib
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from qdrant_client import QdrantClient
from qdrant_client import models as qm

from colbert_retrieval import ColBERT
from colbert_retrieval.errors import CollectionNotFoundError, EmptyInputError, IndexMismatchError, InputTypeError
from colbert_retrieval.qdrant import ColBERTIndex, Record
from colbert_retrieval.qdrant import writer as writer_module

DOCS = [
    {
        "id": "scurvy",
        "text": "scurvy is a disease from a lack of vitamin c.",
        "metadata": {"topic": "health", "year": 2020},
    },
    {
        "id": "paris",
        "text": "paris is the capital city of france, on a river.",
        "metadata": {"topic": "travel", "year": 2018},
    },
    {
        "id": "statins",
        "text": "statins lower cholesterol and heart disease risk.",
        "metadata": {"topic": "health", "year": 2023},
    },
    {"id": "weather", "text": "how is the weather today in paris?", "metadata": {"topic": "travel", "year": 2024}},
    {"id": "diet", "text": "a diet with vitamin c prevents scurvy.", "metadata": {"topic": "health", "year": 2021}},
]


@pytest.fixture
def index(tiny_colbert: ColBERT) -> ColBERTIndex:
    return ColBERTIndex(tiny_colbert, "docs", location=":memory:", pool_factor=1)


def test_schema_and_metadata(index: ColBERTIndex) -> None:
    config = index.client.get_collection("docs").config
    colbert = config.params.vectors["colbert"]
    assert colbert.multivector_config.comparator == qm.MultiVectorComparator.MAX_SIM
    assert colbert.hnsw_config.m == 0 and colbert.datatype == qm.Datatype.FLOAT16 and colbert.size == 8
    assert config.params.vectors["first_stage"].size == index.settings.first_stage_dim()
    stored = config.metadata["colbert_retrieval"]
    assert stored["dim"] == 8 and stored["first_stage"] == "muvera" and stored["muvera"]["seed"] == 42


def test_reopen_with_other_model_or_dimension_fails_before_writing(index: ColBERTIndex, tiny_bert_dir) -> None:
    index.add(DOCS)
    client = index.client
    with pytest.raises(IndexMismatchError, match="model_name"):
        ColBERTIndex(index.model, "docs", client=client, model_name="another-model", pool_factor=1)
    torch.manual_seed(0)
    wider = ColBERT(str(tiny_bert_dir), device="cpu", embedding_size=12)
    with pytest.raises(IndexMismatchError, match="dim"):
        ColBERTIndex(wider, "docs", client=client, model_name=index.settings.model_name)
    assert client.count("docs").count == len(DOCS)
    client.create_collection("foreign", vectors_config=qm.VectorParams(size=4, distance=qm.Distance.DOT))
    with pytest.raises(IndexMismatchError, match="not created by colbert-retrieval"):
        ColBERTIndex(index.model, "foreign", client=client)
    with pytest.raises(CollectionNotFoundError):
        ColBERTIndex(index.model, "missing", client=client, create=False)


def test_reingest_is_idempotent(index: ColBERTIndex) -> None:
    first = index.add(DOCS)
    assert (first.documents, first.skipped) == (5, 0) and first.vectors > 0
    again = index.add(iter(DOCS))
    assert (again.documents, again.skipped) == (0, 5)
    assert index.count() == 5
    forced = index.add(DOCS, overwrite=True)
    assert forced.documents == 5 and index.count() == 5
    texts_only = index.add([d["text"] for d in DOCS])  # ids from the text: new points, once
    assert texts_only.documents == 5 and index.add([d["text"] for d in DOCS]).skipped == 5
    assert index.count() == 10


def test_resume_after_failure_in_the_middle(index: ColBERTIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    real_upsert = index.client.upsert
    calls = {"n": 0}

    def failing_upsert(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")  # not transient: the ingest must stop and say so
        return real_upsert(*args, **kwargs)

    monkeypatch.setattr(index.client, "upsert", failing_upsert)
    with pytest.raises(RuntimeError, match="disk full"):
        index.add(DOCS, chunk_size=2)
    stored = index.count()
    assert 0 < stored < len(DOCS)
    monkeypatch.setattr(index.client, "upsert", real_upsert)
    summary = index.add(DOCS, chunk_size=2)
    assert summary.skipped == stored and summary.documents == len(DOCS) - stored
    assert index.count() == len(DOCS)
    assert sorted(h.id for h in index.get([d["id"] for d in DOCS])) == sorted(d["id"] for d in DOCS)


def test_transient_errors_are_retried(index: ColBERTIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    real_upsert = index.client.upsert
    failures = {"left": 2}

    def flaky(*args, **kwargs):
        if failures["left"]:
            failures["left"] -= 1
            raise TimeoutError("timed out")
        return real_upsert(*args, **kwargs)

    monkeypatch.setattr(index.client, "upsert", flaky)
    monkeypatch.setattr("colbert_retrieval.qdrant.ingest.time.sleep", lambda seconds: None)
    assert index.add(DOCS).documents == 5 and index.count() == 5


def test_search_orders_by_maxsim_and_two_stage_matches_exact(index: ColBERTIndex) -> None:
    index.add(DOCS)
    model = index.model
    query = "vitamin c and scurvy"
    exact = index.search(query, k=5, exact=True)
    two_stage = index.search(query, k=5, exact=False)
    assert [h.id for h in exact] == [h.id for h in two_stage]  # prefetch covers the whole tiny corpus
    assert index.embedded  # embedded mode searches exactly by default (its prefetch saves nothing)
    assert [h.id for h in index.search(query, k=5)] == [h.id for h in exact]
    q = model.encode(query)
    docs = [model.encode(d["text"], is_query=False).astype(np.float16).astype(np.float32) for d in DOCS]
    brute = {d["id"]: float((q @ e.T).max(axis=1).sum()) for d, e in zip(DOCS, docs)}
    assert [h.id for h in exact] == sorted(brute, key=brute.get, reverse=True)
    for hit in exact:
        assert hit.score == pytest.approx(brute[hit.id], abs=1e-2)
        assert hit.text == next(d["text"] for d in DOCS if d["id"] == hit.id)


def test_filters_get_update_delete_count(index: ColBERTIndex) -> None:
    index.add(DOCS)
    hits = index.search("paris", k=5, filter={"topic": "travel"})
    assert {h.id for h in hits} == {"paris", "weather"}
    hits = index.search("health", k=5, filter={"year": {"gte": 2021}, "topic": {"ne": "travel"}})
    assert {h.id for h in hits} == {"statins", "diet"}
    qdrant_filter = qm.Filter(must=[qm.FieldCondition(key="metadata.topic", match=qm.MatchValue(value="health"))])
    assert index.count(qdrant_filter) == 3 and index.count({"topic": ["health", "travel"]}) == 5
    assert index.get(["paris", "missing"])[0].metadata == {"topic": "travel", "year": 2018}
    index.update("paris", metadata={"topic": "city"})
    assert index.get(["paris"])[0].metadata == {"topic": "city"}
    index.update("paris", text="berlin is the capital of germany.")
    assert index.get(["paris"])[0].text == "berlin is the capital of germany." and index.count() == 5
    with pytest.raises(KeyError):
        index.update("missing", text="x")
    index.delete(["scurvy"])
    index.delete(filter={"topic": "travel"})
    assert sorted(h.id for h in index.get([d["id"] for d in DOCS])) == ["diet", "paris", "statins"]
    with pytest.raises(ValueError, match="ids or a filter"):
        index.delete()
    with pytest.raises(ValueError, match="operator"):
        index.search("x", filter={"year": {"between": [1, 2]}})


def test_empty_collection_and_bad_documents(index: ColBERTIndex) -> None:
    assert index.search("anything") == []
    assert index.search_batch([]) == []
    with pytest.raises(EmptyInputError, match="position 1"):
        index.add(["fine text", "   "], chunk_size=1)
    assert index.count() == 1  # the document before the bad one is stored, nothing is silently dropped
    with pytest.raises(InputTypeError, match="position 0"):
        index.add([42])


def test_oversized_multivectors_are_pooled_to_fit(index: ColBERTIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer_module, "max_vectors_per_point", lambda dim: 5)
    with pytest.warns(UserWarning, match="pooled further"):
        summary = index.add([DOCS[2]])
    assert summary.repooled == 1
    point = index.client.retrieve("docs", ids=[index.get(["statins"])[0].point_id], with_vectors=True)[0]
    assert len(point.vector["colbert"]) <= 5


def test_pooling_at_ingest_reduces_vectors(tiny_colbert: ColBERT) -> None:
    unpooled = ColBERTIndex(tiny_colbert, "a", location=":memory:", pool_factor=1).add(DOCS)
    pooled = ColBERTIndex(tiny_colbert, "b", location=":memory:", pool_factor=2).add(DOCS)
    assert pooled.vectors < unpooled.vectors


def test_mean_first_stage_and_batch_search(tiny_colbert: ColBERT) -> None:
    index = ColBERTIndex(tiny_colbert, "mean", location=":memory:", first_stage="mean", pool_factor=1)
    index.add(DOCS)
    results = index.search_batch(["scurvy", "paris"], k=2)
    assert len(results) == 2 and all(len(r) == 2 for r in results)
    assert index.client.get_collection("mean").config.params.vectors["first_stage"].size == 8


def test_embedded_store_persists(tiny_colbert: ColBERT, tmp_path: Path) -> None:
    index = ColBERTIndex(tiny_colbert, "docs", path=str(tmp_path / "store"), pool_factor=1)
    index.add(DOCS)
    index.close()
    reopened = ColBERTIndex(tiny_colbert, "docs", path=str(tmp_path / "store"), pool_factor=1)
    assert reopened.count() == 5 and reopened.search("scurvy", k=1)[0].id in {"scurvy", "diet"}
    reopened.close()


def test_async_variants(index: ColBERTIndex) -> None:
    async def run():
        summary = await index.aadd(DOCS)
        hits = await index.asearch("scurvy", k=2)
        batch = await index.asearch_batch(["scurvy", "paris"], k=1)
        return summary, hits, batch

    summary, hits, batch = asyncio.run(run())
    assert summary.documents == 5 and len(hits) == 2 and len(batch) == 2


def test_deleted_collection_gives_clear_error(index: ColBERTIndex) -> None:
    index.client.delete_collection("docs")
    with pytest.raises(CollectionNotFoundError, match="docs"):
        index.search("x")


def test_records_and_dicts_with_bare_ids(index: ColBERTIndex) -> None:
    index.add([Record(text="hello paris", id=7, metadata={"a": 1}), {"_id": "x1", "text": "hello"}])
    assert {h.id for h in index.get([7, "x1"])} == {7, "x1"}


def test_missing_extra_names_the_pip_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "qdrant_client", None)
    for name in [m for m in sys.modules if m.startswith("colbert_retrieval.qdrant")]:
        monkeypatch.delitem(sys.modules, name)
    with pytest.raises(ImportError, match=r"pip install .*colbert-retrieval\[qdrant\]"):
        importlib.import_module("colbert_retrieval.qdrant")


def test_client_is_read_only(index: ColBERTIndex) -> None:
    assert isinstance(index.client, QdrantClient)
    with pytest.raises(AttributeError):
        index.client = None  # type: ignore[misc]


def test_add_embeddings_checks_dimension_and_count(index: ColBERTIndex) -> None:
    from colbert_retrieval.errors import DimensionMismatchError

    vectors = index.model.encode([d["text"] for d in DOCS], is_query=False)
    summary = index.add_embeddings(DOCS, vectors)
    assert summary.documents == 5 and index.count() == 5
    assert index.search("scurvy", k=1, exact=True)[0].id in {"scurvy", "diet"}
    with pytest.raises(DimensionMismatchError, match=r"\(n_tokens, 8\)"):
        index.add_embeddings(DOCS[:1], [np.ones((3, 7), dtype=np.float32)])
    with pytest.raises(DimensionMismatchError, match="one embedding per document"):
        index.add_embeddings(DOCS[:2], vectors[:1])
