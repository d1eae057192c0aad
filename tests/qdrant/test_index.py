"""Behaviour of ColBERTIndex, run against both backends (see conftest.py)."""

from __future__ import annotations

import asyncio
import importlib
import sys
import threading

import numpy as np
import pytest
import torch
from qdrant_client import QdrantClient
from qdrant_client import models as qm

from colbert_retrieval import ColBERT
from colbert_retrieval.documents import Record
from colbert_retrieval.errors import (
    CollectionNotFoundError,
    DimensionMismatchError,
    EmptyInputError,
    IndexMismatchError,
    InputTypeError,
    InvalidArgumentError,
)
from colbert_retrieval.qdrant import ColBERTIndex, Schema
from colbert_retrieval.qdrant import _writer as writer_module
from colbert_retrieval.qdrant._filters import to_filter
from colbert_retrieval.qdrant._plans import fuse
from tests.qdrant.conftest import DOCS, OpenIndex


def brute_force_maxsim(model: ColBERT, query: str) -> dict[str, float]:
    q = model.encode(query)
    docs = [model.encode(d["text"], is_query=False).astype(np.float16).astype(np.float32) for d in DOCS]
    return {d["id"]: float((q @ e.T).max(axis=1).sum()) for d, e in zip(DOCS, docs)}


def test_settings_are_stored_with_the_collection(index: ColBERTIndex) -> None:
    settings = index.backend.read_settings()
    assert settings == index.settings
    assert settings.dim == 8 and settings.first_stage == "muvera" and settings.muvera["seed"] == 42
    assert settings.has_bm25 and settings.bm25["k"] == 1.2 and settings.schema_version == 3


def test_server_schema(tiny_colbert: ColBERT) -> None:
    index = ColBERTIndex(tiny_colbert, "docs", store=QdrantClient(location=":memory:"), schema=Schema(pool_factor=1))
    config = index.client.get_collection("docs").config
    colbert = config.params.vectors["colbert"]
    assert colbert.multivector_config.comparator == qm.MultiVectorComparator.MAX_SIM
    assert colbert.hnsw_config.m == 0 and colbert.datatype == qm.Datatype.FLOAT16 and colbert.size == 8
    assert config.params.vectors["first_stage"].size == index.settings.first_stage_dim()
    assert config.params.sparse_vectors["bm25"].modifier == qm.Modifier.IDF
    assert config.metadata["colbert_retrieval"]["dim"] == 8
    first_stage = config.params.vectors["first_stage"]
    assert first_stage.quantization_config.scalar.type == qm.ScalarType.INT8 and first_stage.on_disk


def test_reopen_with_other_model_or_dimension_fails_before_writing(open_index: OpenIndex, tiny_bert_dir) -> None:
    index = open_index()
    index.add(DOCS)
    index.close()
    with pytest.raises(IndexMismatchError, match="model_name"):
        open_index(schema=Schema(model_name="another-model"))
    torch.manual_seed(0)
    wider = ColBERT(str(tiny_bert_dir), device="cpu", embedding_size=12)
    with pytest.raises(IndexMismatchError, match="dim"):
        open_index(schema=Schema(model_name=index.settings.model_name), model=wider)
    reopened = open_index()
    assert reopened.count() == len(DOCS)
    with pytest.raises(CollectionNotFoundError):
        open_index("missing", create=False)


def test_foreign_collection_is_refused(index: ColBERTIndex) -> None:
    if index.embedded:
        import qdrant_edge as qe

        folder = index.backend.folder.parent / "foreign" / "shard"
        config = qe.EdgeConfig(vectors={"": qe.EdgeVectorParams(size=4, distance=qe.Distance.Dot)})
        qe.EdgeShard.create(str(folder), config).close()
        store = str(index.backend.root)
    else:
        index.client.create_collection("foreign", vectors_config=qm.VectorParams(size=4, distance=qm.Distance.DOT))
        store = index.client
    with pytest.raises(IndexMismatchError, match="not created by colbert-retrieval"):
        ColBERTIndex(index.model, "foreign", store=store)


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
    real_upsert = index.backend.upsert
    calls = {"n": 0}

    def failing_upsert(points):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")  # not transient: the ingest must stop and say so
        return real_upsert(points)

    monkeypatch.setattr(index.backend, "upsert", failing_upsert)
    with pytest.raises(RuntimeError, match="disk full"):
        index.add(DOCS, chunk_size=2)
    stored = index.count()
    assert 0 < stored < len(DOCS)
    monkeypatch.setattr(index.backend, "upsert", real_upsert)
    summary = index.add(DOCS, chunk_size=2)
    assert summary.skipped == stored and summary.documents == len(DOCS) - stored
    assert index.count() == len(DOCS)
    assert sorted(h.id for h in index.get([d["id"] for d in DOCS])) == sorted(d["id"] for d in DOCS)


def test_transient_errors_are_retried_inside_the_server_backend(
    index: ColBERTIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    if index.embedded:  # Qdrant's engine in-process has no network, and no retries
        pytest.skip("the embedded engine makes no network calls")
    failures = {"upsert": 2, "query_batch_points": 1, "retrieve": 1}
    for method in failures:
        real = getattr(index.client, method)

        def flaky(*args, _real=real, _method=method, **kwargs):
            if failures[_method]:
                failures[_method] -= 1
                raise TimeoutError("timed out")
            return _real(*args, **kwargs)

        monkeypatch.setattr(index.client, method, flaky)
    monkeypatch.setattr("colbert_retrieval.qdrant.backends._server.time.sleep", lambda seconds: None)
    assert index.add(DOCS).documents == 5 and index.count() == 5
    assert index.search("scurvy", k=2, config={"mode": "hybrid"})[0].id in {"scurvy", "diet"}
    assert failures == {"upsert": 0, "query_batch_points": 0, "retrieve": 0}


@pytest.mark.parametrize("exact_below", [1000, 0])  # exact candidates, then first-stage candidates
def test_every_mode_orders_by_maxsim(open_index: OpenIndex, exact_below: int) -> None:
    index = open_index(search={"exact_below": exact_below})
    index.add(DOCS)
    query = "vitamin c and scurvy"
    brute = brute_force_maxsim(index.model, query)
    exact = index.search(query, k=5, config={"mode": "exact"})
    assert [h.id for h in exact] == sorted(brute, key=brute.get, reverse=True)
    for hit in exact:
        assert hit.score == pytest.approx(brute[hit.id], abs=1e-2)
        assert hit.text == next(d["text"] for d in DOCS if d["id"] == hit.id)
    two_stage = index.search(query, k=5, config={"mode": "colbert"})
    assert [h.id for h in two_stage] == [h.id for h in exact]  # the first stage covers the whole tiny corpus
    assert [h.id for h in index.search(query, k=5, config={"mode": "exact"})] == [
        h.id for h in exact
    ]  # 0.1.0 shorthand


def test_hybrid_fuses_maxsim_and_bm25(index: ColBERTIndex) -> None:
    index.add(DOCS)
    query = "statins cholesterol"
    hits = index.search(query, k=5)  # hybrid is the default
    assert len(hits) == 5
    brute = brute_force_maxsim(index.model, query)
    for hit in hits:
        assert hit.scores["maxsim"] == pytest.approx(brute[hit.id], abs=1e-2)
    lexical = {h.id: h.scores["bm25"] for h in hits}
    assert lexical["statins"] > 0 and lexical["paris"] == 0  # only the statins text has these words
    expected = fuse([(h.id, h.scores["maxsim"]) for h in hits], lexical, index.search_config.bm25_weight)
    assert [h.id for h in hits] == [row[0] for row in expected]
    assert [h.score for h in hits] == pytest.approx([row[1] for row in expected])
    assert index.search(query, k=1, config={"bm25_weight": 1.0})[0].id == "statins"
    only_bm25 = index.search("weather today", k=2, config={"bm25_weight": 1.0})
    assert only_bm25[0].id == "weather"


def test_filters_apply_in_every_mode(index: ColBERTIndex) -> None:
    index.add(DOCS)
    for mode in ("exact", "colbert", "hybrid"):
        hits = index.search("paris", k=5, filter={"topic": "travel"}, config={"mode": mode})
        assert {h.id for h in hits} == {"paris", "weather"}, mode
        hits = index.search(
            "health", k=5, filter={"year": {"gte": 2021}, "topic": {"ne": "travel"}}, config={"mode": mode}
        )
        assert {h.id for h in hits} == {"statins", "diet"}, mode


def test_qdrant_filters_match_on_both_backends(index: ColBERTIndex) -> None:
    index.add(DOCS)
    field = qm.FieldCondition
    cases = {
        "must": (qm.Filter(must=[field(key="metadata.topic", match=qm.MatchValue(value="health"))]), 3),
        "any": (qm.Filter(must=[field(key="metadata.year", match=qm.MatchAny(any=[2018, 2024]))]), 2),
        "except": (qm.Filter(must=[field(key="metadata.topic", match=qm.MatchExcept(**{"except": ["health"]}))]), 2),
        "range": (qm.Filter(must=[field(key="metadata.year", range=qm.Range(gt=2018, lte=2023))]), 3),
        "should": (
            qm.Filter(
                should=[
                    field(key="id", match=qm.MatchValue(value="paris")),
                    field(key="id", match=qm.MatchValue(value="diet")),
                ]
            ),
            2,
        ),
        "must_not": (qm.Filter(must_not=[field(key="metadata.topic", match=qm.MatchValue(value="travel"))]), 3),
        "nested_filter": (
            qm.Filter(must=[qm.Filter(should=[field(key="metadata.year", range=qm.Range(lt=2019))])]),
            1,
        ),
        "is_empty": (qm.Filter(must=[qm.IsEmptyCondition(is_empty=qm.PayloadField(key="metadata.missing"))]), 5),
        "has_id": (qm.Filter(must=[qm.HasIdCondition(has_id=[index.get(["paris"])[0].point_id])]), 1)
        if index.count()
        else None,
    }
    for name, (condition, expected) in cases.items():
        assert index.count(condition) == expected, name
        assert len(index.search("vitamin paris", k=10, filter=condition)) == expected, name


def test_get_update_delete_count(index: ColBERTIndex) -> None:
    index.add(DOCS)
    assert index.count({"topic": ["health", "travel"]}) == 5
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
    assert index.search("scurvy", k=5, config={"mode": "hybrid"})[0].id != "scurvy"  # deleted documents are never found
    with pytest.raises(ValueError, match="ids or a filter"):
        index.delete()
    for empty in ({}, qm.Filter()):
        with pytest.raises(ValueError, match="every document"):
            index.delete(filter=empty)
    assert index.count() == 3
    with pytest.raises(ValueError, match="operator"):
        index.search("x", filter={"year": {"between": [1, 2]}})


def test_documents_pages_through_a_filter_and_clear_keeps_the_collection(index: ColBERTIndex) -> None:
    index.add(DOCS)
    assert sorted(h.id for h in index.documents()) == sorted(d["id"] for d in DOCS)
    health = list(index.documents(filter={"topic": "health"}, page_size=1))  # three pages of one
    assert sorted(h.id for h in health) == ["diet", "scurvy", "statins"]
    assert all(h.metadata["topic"] == "health" and h.text for h in health)
    assert list(index.documents(filter={"topic": "none"})) == []
    with pytest.raises(ValueError, match="page_size"):
        list(index.documents(page_size=0))
    settings = index.settings
    index.clear()
    assert index.count() == 0 and list(index.documents()) == [] and index.search("scurvy") == []
    index.add(DOCS[:1])  # same collection, same settings
    assert index.settings == settings and [h.id for h in index.search("scurvy", k=1)] == ["scurvy"]


def test_empty_collection_and_bad_documents(index: ColBERTIndex) -> None:
    for mode in ("exact", "colbert", "hybrid"):
        assert index.search("anything", config={"mode": mode}) == []
    assert index.search([]) == []
    with pytest.raises(ValueError, match="k must be"):
        index.search("x", k=0)
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
    point = index.backend.retrieve([index.get(["statins"])[0].point_id], with_vectors=True)[0]
    assert len(point.vectors["colbert"]) <= 5


def test_pooling_at_ingest_reduces_vectors(open_index: OpenIndex) -> None:
    unpooled = open_index("a", schema=Schema(pool_factor=1)).add(DOCS)
    pooled = open_index("b", schema=Schema(pool_factor=2)).add(DOCS)
    assert pooled.vectors < unpooled.vectors


def test_mean_first_stage_and_batch_search(open_index: OpenIndex) -> None:
    index = open_index("mean", schema=Schema(first_stage="mean"), search={"exact_below": 0})
    index.add(DOCS)
    assert index.settings.first_stage_dim() == 8
    for mode in ("colbert", "hybrid"):
        results = index.search(["scurvy", "paris"], k=2, config={"mode": mode})
        assert len(results) == 2 and all(len(r) == 2 for r in results)


def test_store_persists(open_index: OpenIndex) -> None:
    index = open_index()
    index.add(DOCS)
    index.close()
    reopened = open_index()
    assert reopened.count() == 5 and reopened.search("scurvy", k=1)[0].id in {"scurvy", "diet"}


def test_async_variants(index: ColBERTIndex) -> None:
    async def run():
        summary = await index.aadd(DOCS)
        hits = await index.asearch("scurvy", k=2)
        batch = await index.asearch(["scurvy", "paris"], k=1)
        return summary, hits, batch

    summary, hits, batch = asyncio.run(run())
    assert summary.documents == 5 and len(hits) == 2 and len(batch) == 2


def test_dropped_collection_gives_clear_error(index: ColBERTIndex) -> None:
    index.backend.drop()
    with pytest.raises(CollectionNotFoundError, match="docs"):
        index.search("x")


def test_records_and_dicts_with_bare_ids(index: ColBERTIndex) -> None:
    index.add([Record(text="hello paris", id=7, metadata={"a": 1}), {"_id": "x1", "text": "hello"}])
    assert {h.id for h in index.get([7, "x1"])} == {7, "x1"}


def test_missing_extra_names_the_pip_line(monkeypatch: pytest.MonkeyPatch) -> None:
    for hidden in ("qdrant_client", "qdrant_edge"):
        monkeypatch.setitem(sys.modules, hidden, None)
        for name in [m for m in sys.modules if m.startswith("colbert_retrieval.qdrant")]:
            monkeypatch.delitem(sys.modules, name)
        with pytest.raises(ImportError, match=r"pip install .*colbert-retrieval\[qdrant\]"):
            importlib.import_module("colbert_retrieval.qdrant")
        monkeypatch.delitem(sys.modules, hidden)


def test_client_is_a_qdrant_client_or_an_embedded_handle_of_its_shape(index: ColBERTIndex) -> None:
    index.add(DOCS)
    client = index.client
    assert client.count("docs").count == 5
    assert client.count("docs", count_filter=to_filter({"topic": "health"})).count == 3
    assert client.collection_exists("docs") and not client.collection_exists("other")
    points, following = client.scroll("docs", limit=2)
    assert len(points) == 2 and following is not None
    assert all(isinstance(p, (qm.Record,)) or hasattr(p, "payload") for p in points)
    if index.embedded:  # the handle takes document ids as well as point ids
        assert [r.payload["text"] for r in client.retrieve("docs", ids=["paris"])] == [DOCS[1]["text"]]
        assert len(client.retrieve("docs", ids=[p.id for p in points])) == 2
        client.delete("docs", points_selector=qm.PointIdsList(points=["paris"]))
        assert index.count() == 4
        with pytest.raises(AttributeError, match=r"index\.search"):
            client.query_points("docs", query=[0.0])
        with pytest.raises(CollectionNotFoundError):
            client.count("other")
        client.close()
        return
    assert isinstance(index.client, QdrantClient)
    with pytest.raises(AttributeError):
        index.client = None  # type: ignore[misc]


def test_add_embeddings_checks_dimension_and_count(index: ColBERTIndex) -> None:
    vectors = index.model.encode([d["text"] for d in DOCS], is_query=False)
    summary = index.add_embeddings(DOCS, vectors)
    assert summary.documents == 5 and index.count() == 5
    assert index.search("scurvy", k=1, config={"mode": "exact"})[0].id in {"scurvy", "diet"}
    assert index.search("scurvy", k=1)[0].scores["bm25"] > 0  # BM25 vectors are computed here too
    with pytest.raises(DimensionMismatchError, match=r"\(n_tokens, 8\)"):
        index.add_embeddings(DOCS[:1], [np.ones((3, 7), dtype=np.float32)])
    with pytest.raises(DimensionMismatchError, match="one embedding per document"):
        index.add_embeddings(DOCS[:2], vectors[:1])


def test_hybrid_needs_bm25_vectors(open_index: OpenIndex) -> None:
    index = open_index("old", schema=Schema(bm25=False))
    index.add(DOCS)
    assert not index.settings.has_bm25
    assert "bm25" not in index.search("scurvy", k=1)[0].scores  # the default falls back to colbert
    with pytest.raises(IndexMismatchError, match="migrate"):
        index.search("scurvy", config={"mode": "hybrid"})


def test_search_while_adding_in_another_thread(index: ColBERTIndex) -> None:
    index.add(DOCS)
    query = "vitamin c and scurvy"
    extra = [f"the river city {i}" for i in range(8)]
    q = index.model.encode(query)
    texts = {d["text"] for d in DOCS} | set(extra)
    encoded = index.model.encode(sorted(texts), is_query=False)
    expected = {
        t: float((q @ e.astype(np.float16).astype(np.float32).T).max(axis=1).sum())
        for t, e in zip(sorted(texts), encoded)
    }
    errors: list[BaseException] = []
    stop = threading.Event()

    def writer() -> None:
        try:
            for round_ in range(6):
                index.add([{"id": f"extra{round_}-{i}", "text": text} for i, text in enumerate(extra)])
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            stop.set()

    thread = threading.Thread(target=writer)
    thread.start()
    searches = 0
    while not stop.is_set() or searches < 5:
        hits = index.search(query, k=3, config={"mode": "exact"})
        assert len(hits) == 3
        for hit in hits:  # every score is the hit's own MaxSim: nothing mixed up while points are written
            assert hit.score == pytest.approx(expected[hit.text], abs=1e-2)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        searches += 1
    thread.join()
    assert not errors and index.count() == len(DOCS) + 48


def test_colbert_mode_takes_bm25_candidates(open_index: OpenIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    index = open_index(search={"exact_below": 0, "prefetch_limit": 1, "bm25_limit": 2})
    index.add(DOCS)
    seen = []
    real = index.backend.query_batch

    def spy(plans):
        seen.extend(plans)
        return real(plans)

    monkeypatch.setattr(index.backend, "query_batch", spy)
    hits = index.search("statins cholesterol", k=3, config={"mode": "colbert"})
    assert [c.using for c in seen[0].candidates] == ["first_stage", "bm25"]
    assert [c.rescore for c in seen[0].candidates] == [False, True]  # the first stage only proposes candidates
    assert "statins" in {h.id for h in hits}  # found through BM25 although the first stage keeps one candidate


def test_index_defaults_are_the_search_defaults(index: ColBERTIndex) -> None:
    from colbert_retrieval.qdrant import SearchConfig

    assert index.search_config == SearchConfig()


@pytest.mark.parametrize("pool_factor", ["2", 0, -3, 1.5, True])
def test_bad_pool_factor_is_refused_before_anything_is_stored(open_index: OpenIndex, pool_factor: object) -> None:
    with pytest.raises(ValueError, match="pool_factor"):
        open_index("bad", schema=Schema(pool_factor=pool_factor))


_CLIENT_CALLS = (
    "collection_exists",
    "get_collection",
    "count",
    "query_points",
    "query_batch_points",
    "retrieve",
    "scroll",
    "delete",
    "upsert",
    "set_payload",
)


def _spy(client: QdrantClient, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    for name in _CLIENT_CALLS:
        real = getattr(client, name)

        def counted(*args, _real=real, _name=name, **kwargs):
            calls.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(client, name, counted)
    return calls


@pytest.mark.parametrize("exact_below", [1000, 0])  # a small collection (exact candidates), then a large one
def test_a_hybrid_search_on_a_server_makes_at_most_two_round_trips(
    tiny_colbert: ColBERT, monkeypatch: pytest.MonkeyPatch, exact_below: int
) -> None:
    client = QdrantClient(location=":memory:")
    index = ColBERTIndex(
        tiny_colbert, "docs", store=client, schema=Schema(pool_factor=1), search={"exact_below": exact_below}
    )
    index.add(DOCS)
    calls = _spy(client, monkeypatch)
    hits = index.search("vitamin c and scurvy", k=3, filter={"topic": "health"}, config={"mode": "hybrid"})
    assert [h.metadata["topic"] for h in hits] == ["health"] * 3 and hits[0].text  # payloads came back
    assert calls == ["query_batch_points", "retrieve"]  # no existence check, no count, one payload read
    calls.clear()
    assert len(index.search(["scurvy", "paris"], k=2)) == 2 and calls == ["query_batch_points", "retrieve"]
    calls.clear()
    index.search("scurvy", k=2, config={"mode": "colbert"})
    assert calls == ["query_batch_points"]  # payloads come with the hits
    calls.clear()
    index.clear()
    assert calls == ["delete", "count"]  # one delete for everything, then the count searches rely on
    assert index.count() == 0
    client.close()


def test_a_deleted_collection_is_named_by_the_call_that_finds_it_missing(tiny_colbert: ColBERT) -> None:
    client = QdrantClient(location=":memory:")
    index = ColBERTIndex(tiny_colbert, "docs", store=client, schema=Schema(pool_factor=1))
    index.add(DOCS)
    client.delete_collection("docs")  # another process drops it
    for call in (lambda: index.search("x"), lambda: index.add(DOCS), lambda: index.count(), lambda: index.get(["a"])):
        with pytest.raises(CollectionNotFoundError, match="'docs' does not exist"):
            call()
    client.close()


def test_search_settings_of_the_constructor_are_checked_as_a_call_s(open_index: OpenIndex) -> None:
    with pytest.raises(InvalidArgumentError, match="prefetch"):
        open_index(search={"prefetch": 10})
    assert open_index(search={"prefetch_limit": 10}).search_config.prefetch_limit == 10


def test_a_re_run_that_stores_nothing_refreshes_nothing(index: ColBERTIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    index.add(DOCS)
    refreshed: list[bool] = []
    monkeypatch.setattr(index, "_written", lambda: refreshed.append(True))
    assert index.add(DOCS).documents == 0 and refreshed == []  # everything already stored
    assert index.add(DOCS[:1], overwrite=True).documents == 1 and refreshed == [True]
