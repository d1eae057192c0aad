"""Searching with precomputed query vectors, and the HNSW beam width, on both backends."""

from __future__ import annotations

import numpy as np
import pytest

from colbert_retrieval.errors import DimensionMismatchError, InputTypeError, InvalidArgumentError
from colbert_retrieval.qdrant import SearchConfig
from colbert_retrieval.single_vector import FirstStage, first_stage_vectors
from tests.qdrant.conftest import DOCS, OpenIndex

QUERY = "vitamin c and scurvy"


@pytest.mark.parametrize("exact_below", [1000, 0])
def test_token_vectors_search_like_the_text(open_index: OpenIndex, exact_below: int) -> None:
    index = open_index(search={"exact_below": exact_below, "mode": "colbert"})
    index.add(DOCS)
    tokens = index.model.encode(QUERY, is_query=True)
    for mode in ("colbert", "exact"):
        by_text = index.search(QUERY, k=5, config={"mode": mode})
        (by_vectors,) = index.search([tokens], k=5, config={"mode": mode})
        assert [h.id for h in by_vectors] == [h.id for h in by_text]
        assert [h.score for h in by_vectors] == pytest.approx([h.score for h in by_text], abs=1e-5)
    assert index.search([tokens.tolist()], k=2, filter={"topic": "travel"})[0][0].metadata["topic"] == "travel"
    assert index.search([], k=2) == []


def test_a_first_stage_vector_searches_the_first_stage_alone(open_index: OpenIndex) -> None:
    index = open_index(search={"exact_below": 0})
    index.add(DOCS)
    tokens = index.model.encode(QUERY, is_query=True)
    settings = index.settings
    first = first_stage_vectors([tokens], FirstStage(settings.first_stage), settings.muvera_config(), True)[0]
    approximate, ranked = index.search([first, tokens], k=5, config={"mode": "exact"})
    documents = [np.asarray(v, dtype=np.float32) for v in index.vectors([h.id for h in ranked]).values()]
    assert len(documents) == 5
    stored = first_stage_vectors(
        [index.vectors([d["id"]])[d["id"]] for d in DOCS],
        FirstStage(settings.first_stage),
        settings.muvera_config(),
        False,
    )
    expected = sorted(range(len(DOCS)), key=lambda i: -float(np.dot(first, stored[i])))
    assert [h.id for h in approximate] == [DOCS[i]["id"] for i in expected]  # first-stage scores, not MaxSim
    assert {h.id for h in approximate} == {h.id for h in ranked}


def test_bad_query_vectors_are_refused_with_the_shapes_that_fit(open_index: OpenIndex) -> None:
    index = open_index()
    index.add(DOCS[:2])
    dim = index.settings.dim
    with pytest.raises(DimensionMismatchError, match=rf"\(n_tokens, {dim}\).*{index.settings.first_stage_dim()}"):
        index.search([np.zeros((3, dim + 1), dtype=np.float32)])
    with pytest.raises(DimensionMismatchError):
        index.search([np.zeros((0, dim), dtype=np.float32)])
    with pytest.raises(InvalidArgumentError, match="NaN"):
        index.search([np.full((2, dim), np.nan, dtype=np.float32)])
    with pytest.raises(InputTypeError):
        index.search([["a", "b"]])
    with pytest.raises(InputTypeError, match="not both"):
        index.search(["a query", np.ones((2, dim), dtype=np.float32)])
    with pytest.raises(InvalidArgumentError, match="query text"):
        index.search([np.ones((2, dim), dtype=np.float32)], config={"mode": "hybrid"})


def test_hnsw_ef_reaches_the_first_stage_and_is_checked(open_index: OpenIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    index = open_index(search={"exact_below": 0})
    index.add(DOCS)
    default = index.search(QUERY, k=5, config={"mode": "colbert"})
    seen: list[object] = []
    real = index.backend.query_batch

    def spy(plans):  # the engine gets the beam width with the first-stage candidates
        seen.extend(c.hnsw_ef for plan in plans for c in plan.candidates if c.using == "first_stage")
        return real(plans)

    monkeypatch.setattr(index.backend, "query_batch", spy)
    wide = index.search(QUERY, k=5, config={"mode": "colbert", "hnsw_ef": 256})
    assert seen == [256]
    assert [h.id for h in wide] == [h.id for h in default]
    for bad in (0, -1, 1.5, True):
        with pytest.raises(InvalidArgumentError, match="hnsw_ef"):
            SearchConfig(hnsw_ef=bad)
