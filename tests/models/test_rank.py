"""``ColBERT.rank``: the one reranking function both frameworks' rerankers call (#36)."""

from __future__ import annotations

import pytest

from colbert_retrieval import scores
from colbert_retrieval.errors import InputTypeError, InvalidArgumentError

TEXTS = [
    "Paris is the capital of France.",
    "Scurvy is caused by a lack of vitamin C.",
    "Citrus fruit is rich in vitamin C.",
    "The Seine flows through Paris.",
]


def test_rank_orders_texts_by_their_maxsim_like_the_scores_module(minilm) -> None:
    ranked = minilm.rank("what causes scurvy?", TEXTS, return_documents=True)
    query = minilm.encode("what causes scurvy?", is_query=True)
    expected = [float(scores.colbert_scores([query], [d])[0, 0]) for d in minilm.encode(TEXTS, is_query=False)]
    assert [hit["corpus_id"] for hit in ranked] == sorted(range(4), key=lambda i: -expected[i])
    assert [hit["score"] for hit in ranked] == pytest.approx(sorted(expected, reverse=True), rel=1e-5)
    assert ranked[0]["text"] == TEXTS[1]
    assert [h["corpus_id"] for h in minilm.rank("what causes scurvy?", TEXTS, top_k=2)] == [
        h["corpus_id"] for h in ranked[:2]
    ]
    assert minilm.rank("anything", [], top_k=3) == []
    assert minilm.rank("anything", TEXTS, top_k=0) == []


def test_rank_refuses_what_it_cannot_rank(minilm) -> None:
    with pytest.raises(InputTypeError, match="one query string"):
        minilm.rank(["two", "queries"], TEXTS)
    with pytest.raises(InputTypeError, match="list of document strings"):
        minilm.rank("query", "one string, not a list")
    with pytest.raises(InvalidArgumentError, match="top_k"):
        minilm.rank("query", TEXTS, top_k=-1)
