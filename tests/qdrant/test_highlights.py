"""Highlights (#37): the words a hit's query matched, from the stored vectors, on both backends."""

from __future__ import annotations

import numpy as np
import pytest

from colbert_retrieval.errors import InvalidArgumentError
from colbert_retrieval.qdrant import SPANS_KEY, Schema, SearchConfig
from colbert_retrieval.qdrant._highlights import span_table, spans_of
from tests.qdrant.conftest import DOCS


def _check(hit, query: str) -> None:
    assert hit.highlights, hit.text
    for highlight in hit.highlights:
        assert hit.text[highlight.start : highlight.end] == highlight.text  # offsets into the returned text
        assert 0 < highlight.share <= 1
        assert set(highlight.query_tokens) <= set(query.lower().split())


def test_hits_carry_the_matched_words_from_the_stored_vectors(open_index, minilm) -> None:
    index = open_index(model=minilm, schema=Schema())  # pooled (factor 2), BM25: the defaults
    index.add(DOCS)
    assert all(h.highlights is None for h in index.search("what causes scurvy", k=3))  # off by default
    query = "what causes scurvy"
    hits = index.search(query, k=3, config=SearchConfig(highlights=True))
    for hit in hits:
        _check(hit, query)
    top = hits[0]
    assert top.id in {"scurvy", "diet"}
    scurvy = [h for h in top.highlights if h.text.lower() == "scurvy"]
    assert scurvy and scurvy[0].query_tokens == ("scurvy",)  # word pieces of query and text merged
    assert top.marked("<b>", "</b>").count("<b>") == len(top.highlights)
    stored = index._backend.retrieve([top.point_id])[0].payload
    assert stored[SPANS_KEY] and len(stored[SPANS_KEY]) % 3 == 0  # start, end, vector per token


def test_points_without_a_span_table_are_re_encoded_to_the_same_words(open_index, minilm) -> None:
    """``add_embeddings`` stores no spans; highlights then re-encode the text. Unpooled, the words match."""
    written = open_index("written", model=minilm, schema=Schema(pool_factor=1))
    given = open_index("given", model=minilm, schema=Schema(pool_factor=1))
    written.add(DOCS)
    given.add_embeddings(DOCS, minilm.encode([d["text"] for d in DOCS], is_query=False))
    assert SPANS_KEY not in given._backend.retrieve([given.search("scurvy", k=1)[0].point_id])[0].payload
    config = {"highlights": True, "mode": "exact"}
    for query in ("what causes scurvy", "capital of france"):
        ours = written.search(query, k=2, config=config)
        theirs = given.search(query, k=2, config=config)
        assert [h.id for h in ours] == [h.id for h in theirs]
        for a, b in zip(ours, theirs):
            _check(a, query)
            assert [(h.start, h.end, h.query_tokens) for h in a.highlights] == [
                (h.start, h.end, h.query_tokens) for h in b.highlights
            ]
            assert [h.share for h in a.highlights] == pytest.approx([h.share for h in b.highlights], abs=0.02)


def test_highlights_need_query_texts(open_index, minilm) -> None:
    index = open_index(model=minilm)
    index.add(DOCS)
    vectors = minilm.encode("scurvy", is_query=True)
    with pytest.raises(InvalidArgumentError, match="Highlights need the query text"):
        index.search(vectors, k=1, config={"highlights": True})
    with pytest.raises(InvalidArgumentError, match="highlights must be True, False or None"):
        SearchConfig(highlights="yes")


def test_span_table_and_spans_of() -> None:
    tokens = np.eye(4, dtype=np.float32)
    pooled = np.stack([tokens[0], (tokens[1] + tokens[2]) / 2, tokens[3]])  # tokens 1 and 2 merged
    spans = [None, (0, 5), (6, 11), (12, 14)]
    assert span_table(tokens, pooled, spans) == [0, 5, 1, 6, 11, 1, 12, 14, 2]
    assert span_table(tokens, pooled, spans[:3]) is None  # spans that do not cover every vector: no table
    text = "apple pears ok"
    query = np.array([[0, 0.7, 0.7, 0], [0, 0, 0, 0.1]], dtype=np.float32)
    found = spans_of(query, ["fruit", "ok"], pooled, [0, 5, 1, 6, 11, 1, 12, 14, 2], text)
    assert [(h.text, h.query_tokens) for h in found] == [("apple", ("fruit",)), ("pears", ("fruit",))]  # weak "ok"
    assert spans_of(query, ["[CLS]", "ok"], pooled, [0, 5, 1], text) == ()  # special tokens mark nothing
