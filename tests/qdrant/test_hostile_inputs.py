"""Regression tests of the hostile-input findings (issue: "nothing lost, nothing mixed up"), both backends.

Each test names its finding; each failed before the fix.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from colbert_retrieval import errors
from colbert_retrieval.documents import Record, point_id
from colbert_retrieval.models import ColBERT
from colbert_retrieval.pooling import pool_embeddings_hierarchical, pooled_length
from colbert_retrieval.pooling._hierarchical import MAX_BLOCK_TOKENS
from colbert_retrieval.qdrant import ColBERTIndex, IndexSettings, Schema

DOCS = [{"id": f"d{i}", "text": f"document {i} about topic {i % 3}", "metadata": {"n": i}} for i in range(12)]


def test_finding_1_an_empty_delete_filter_is_refused_and_nothing_is_deleted(index: ColBERTIndex) -> None:
    index.add(DOCS)
    for empty in ({}, None):
        with pytest.raises(errors.InvalidArgumentError):
            index.delete(filter=empty)
    assert index.count() == len(DOCS)


def test_finding_2_int_and_string_ids_are_two_documents(index: ColBERTIndex) -> None:
    index.add([{"id": 7, "text": "seven as a number"}])
    summary = index.add([{"id": "7", "text": "seven as a string"}])
    assert summary.documents == 1 and summary.skipped == 0
    assert index.count() == 2
    assert [h.text for h in index.get([7])] == ["seven as a number"]
    assert [h.text for h in index.get(["7"])] == ["seven as a string"]
    assert index.get(["7"])[0].id == "7" and index.get([7])[0].id == 7


def test_finding_2_collections_written_before_keep_their_ids() -> None:
    old = IndexSettings.from_metadata({"colbert_retrieval": {"model_name": "m", "dim": 8}})
    assert old.id_scheme == 1
    assert point_id(Record("a", id=7), old.id_scheme) == point_id(Record("b", id="7"), old.id_scheme)


def test_finding_2_ids_of_other_types_are_refused(index: ColBERTIndex) -> None:
    with pytest.raises(errors.InputTypeError, match="position 0"):
        index.add([{"id": 1.5, "text": "x"}])
    with pytest.raises(errors.InputTypeError, match="list"):
        index.get("d1")
    assert index.count() == 0


def test_finding_3_one_index_is_safe_to_share_between_threads(index: ColBERTIndex) -> None:
    index.add(DOCS)

    def ranking() -> list[tuple[float, str]]:
        hits = index.search("topic 1", k=len(DOCS), filter={"n": {"lt": 12}})
        return sorted((-round(h.score, 3), h.id) for h in hits)

    expected = ranking()
    assert len(expected) == len(DOCS)
    failures: list[BaseException] = []
    stop = threading.Event()

    def searcher() -> None:
        try:
            while not stop.is_set():
                got = ranking()
                assert got == expected, got
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=searcher) for _ in range(3)]
    for thread in threads:
        thread.start()
    index.add([{"id": f"x{i}", "text": f"unrelated {i}", "metadata": {"n": 100 + i}} for i in range(30)])
    stop.set()
    for thread in threads:
        thread.join()
    assert not failures, failures[0]
    assert index.count() == len(DOCS) + 30


def test_finding_4_another_encoding_cannot_open_the_collection(
    open_index, tiny_bert_dir: Path, tiny_colbert: ColBERT
) -> None:
    index = open_index("docs")
    index.add(DOCS[:2])
    index.close()
    other = ColBERT(str(tiny_bert_dir), device="cpu", embedding_size=8, query_length=12, document_length=31)
    other.load_state_dict(tiny_colbert.state_dict())  # the same weights: only the document length differs
    with pytest.raises(errors.IndexMismatchError, match=r"encoding\.document_length"):
        open_index("docs", schema=Schema(model_name=index.settings.model_name), model=other, create=False)


def test_finding_4_a_random_head_warns_and_a_second_load_is_refused(open_index, tiny_st_dir: Path) -> None:
    with pytest.warns(UserWarning, match="no trained ColBERT head"):
        first = ColBERT(str(tiny_st_dir), device="cpu")
    with pytest.warns(UserWarning, match="no trained ColBERT head"):
        second = ColBERT(str(tiny_st_dir), device="cpu")
    index = open_index("random", model=first)
    index.add(DOCS[:2])
    index.close()
    with pytest.raises(errors.IndexMismatchError, match=r"encoding\.head"):
        open_index("random", model=second, create=False)


def test_finding_5_pool_factor_is_checked_and_a_reopen_with_another_is_refused(open_index) -> None:
    for bad in ("2", 0, -3, 1.5, True):
        with pytest.raises(errors.InvalidArgumentError, match="pool_factor"):
            open_index(f"bad{abs(hash(str(bad))) % 1000}", schema=Schema(pool_factor=bad))
    index = open_index("pooled", schema=Schema(pool_factor=3))
    index.add(DOCS[:2])
    index.close()
    with pytest.raises(errors.IndexMismatchError, match="pool_factor"):
        open_index("pooled", schema=Schema(pool_factor=2))
    assert open_index("pooled", schema=Schema(pool_factor=None)).settings.pool_factor == 3  # not given: the stored one


def test_finding_7_long_documents_pool_in_bounded_blocks() -> None:
    n = MAX_BLOCK_TOKENS * 2 + 500
    doc = torch.nn.functional.normalize(torch.randn(n, 8, generator=torch.Generator().manual_seed(0)), dim=-1)
    pooled = pool_embeddings_hierarchical([doc], 2)[0]
    assert pooled.shape == (pooled_length(n, 2), 8)
    assert torch.equal(pooled[0], doc[0])
    blocks = [MAX_BLOCK_TOKENS, MAX_BLOCK_TOKENS, n - 1 - 2 * MAX_BLOCK_TOKENS]
    assert pooled_length(n, 2) == 1 + sum(b // 2 for b in blocks)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda i: i.add(None), errors.InputTypeError),
        (lambda i: i.add("abc"), errors.InputTypeError),
        (lambda i: i.add({"text": "one dict"}), errors.InputTypeError),
        (lambda i: i.add([{"text": "x", "metadata": {"when": object()}}]), errors.InputTypeError),
        (lambda i: i.add([{"text": "x", "metadata": ["a", "b"]}]), errors.InputTypeError),
        (lambda i: i.add([{"text": "x", "metadata": {1: "a"}}]), errors.InputTypeError),
        (lambda i: i.add(["ok", "\ud800"]), errors.InvalidArgumentError),
        (lambda i: i.search("q", k=0), errors.InvalidArgumentError),
        (lambda i: i.search("q", k=-1), errors.InvalidArgumentError),
        (lambda i: i.search("q", k=1.5), errors.InvalidArgumentError),
        (lambda i: i.search("q", filter=["lang", "en"]), errors.InvalidArgumentError),
        (lambda i: i.search("q", filter={"lang": None}), errors.InvalidArgumentError),
        (lambda i: i.search(["q", ""]), errors.EmptyInputError),
        (lambda i: i.search(5), errors.InputTypeError),
        (lambda i: i.search({"q": 1}), errors.InputTypeError),
        (lambda i: i.search("q", config={"prefetch": 5}), errors.InvalidArgumentError),
        (lambda i: i.search("q"), None),
    ],
)
def test_finding_11_bad_calls_raise_typed_errors_and_change_nothing(index: ColBERTIndex, call, error) -> None:
    index.add(DOCS[:3])
    if error is None:
        assert len(call(index)) == 3 and all(hasattr(hit, "score") for hit in call(index))  # one query: its hits
    else:
        with pytest.raises(error):
            call(index)
    assert index.count() == 3
    assert [h.id for h in index.get(["d0", "d1", "d2"])] == ["d0", "d1", "d2"]


def test_finding_11_delete_of_no_ids_deletes_nothing(index: ColBERTIndex) -> None:
    index.add(DOCS[:3])
    index.delete(ids=[])
    assert index.count() == 3


@pytest.mark.parametrize(
    ("texts", "error"),
    [
        (5, errors.InputTypeError),
        ({"text": "a"}, errors.InputTypeError),
        (b"bytes", errors.InputTypeError),
        (["\ud800"], errors.InvalidArgumentError),
    ],
)
def test_finding_11_encode_refuses_what_is_not_text(tiny_colbert: ColBERT, texts, error) -> None:
    with pytest.raises(error):
        tiny_colbert.encode(texts)


@pytest.mark.parametrize("pool_factor", ["2", None, 1.5, 0])
def test_finding_11_encode_refuses_a_bad_pool_factor_before_encoding(tiny_colbert: ColBERT, pool_factor) -> None:
    with pytest.raises(errors.InvalidArgumentError, match="pool_factor"):
        tiny_colbert.encode(["a"], is_query=False, pool_factor=pool_factor)


def test_finding_6_a_bad_batch_size_is_refused(tiny_colbert: ColBERT) -> None:
    with pytest.raises(errors.InvalidArgumentError, match="batch_size"):
        tiny_colbert.encode(["a", "b"], batch_size=-1)
    assert len(tiny_colbert.encode(["a", "b"], batch_size=1)) == 2


def test_a_document_text_that_is_not_a_string_is_refused_with_its_position(index: ColBERTIndex) -> None:
    with pytest.raises(errors.InputTypeError, match="position 1"):
        index.add(["fine", {"text": 5}])
    assert np.isfinite(index.count())
