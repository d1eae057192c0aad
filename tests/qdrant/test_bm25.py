"""BM25 with a title field: a chunk's section heading path counts ``title_weight`` times (BM25F)."""

from __future__ import annotations

import pytest

from colbert_retrieval.errors import InvalidArgumentError
from colbert_retrieval.qdrant import ColBERTIndex, IndexSettings, Schema
from colbert_retrieval.qdrant._bm25 import BM25Config, BM25Encoder
from tests.qdrant.conftest import OpenIndex


def weights(vector: object) -> dict[int, float]:
    return dict(zip(vector.indices, vector.values))  # type: ignore[attr-defined]


def test_title_words_count_title_weight_times_in_all() -> None:
    text = "Moving between stores\n\nCopy an index with migrate."
    title = "Qdrant index > Moving between stores"
    plain = BM25Encoder(BM25Config(title_weight=1))
    boosted = BM25Encoder(BM25Config(title_weight=3))
    # BM25F with integer weights: the title read twice more, under one length normalisation.
    expected = plain.embed_documents([f"{text}\n\n{title}\n\n{title}"])[0]
    assert weights(boosted.embed_documents([text], [title])[0]) == weights(expected)
    assert weights(plain.embed_documents([text], [title])[0]) == weights(plain.embed_documents([text])[0])
    assert weights(boosted.embed_documents([text], [None])[0]) == weights(boosted.embed_documents([text])[0])
    move = set(plain.embed_queries(["move"])[0].indices).pop()
    assert weights(boosted.embed_documents([text], [title])[0])[move] > weights(plain.embed_documents([text])[0])[move]


def test_bad_titles_and_weights_name_the_fix() -> None:
    with pytest.raises(InvalidArgumentError, match="one title"):
        BM25Encoder().embed_documents(["a", "b"], ["only one"])
    for weight in (0, 1.5, True):
        with pytest.raises(InvalidArgumentError, match="title_weight"):
            BM25Config(title_weight=weight)  # type: ignore[arg-type]


def test_collections_written_before_title_weights_keep_reading_the_text_alone() -> None:
    stored = {"k": 1.2, "b": 0.75, "avg_len": 256.0, "language": "english"}  # a 0.2 collection's settings
    assert IndexSettings(model_name="m", dim=4, bm25=stored).bm25_config().title_weight == 1  # type: ignore[union-attr]
    assert IndexSettings(model_name="m", dim=4).bm25_config().title_weight == 3  # type: ignore[union-attr]


def test_hybrid_search_ranks_a_matching_heading_first(open_index: OpenIndex) -> None:
    index: ColBERTIndex = open_index("titled", schema=Schema(pool_factor=1))
    index.add(
        [
            {"id": "body", "text": "Notes\n\nA ship's cook once wrote about scurvy.", "metadata": {"section": "Notes"}},
            {"id": "title", "text": "Scurvy\n\nA ship's cook once wrote about it.", "metadata": {"section": "Scurvy"}},
        ]
    )
    hits = index.search("scurvy", k=2, config={"mode": "hybrid", "bm25_weight": 1.0})
    assert [h.id for h in hits] == ["title", "body"]
    assert hits[0].scores["bm25"] > hits[1].scores["bm25"] > 0
