from __future__ import annotations

import numpy as np
import pytest
import torch

from colbert_retrieval import ColBERT, EmptyInputError, InputTypeError
from colbert_retrieval.pooling import pooled_length
from colbert_retrieval.scores import mask_from_padded

TEXTS = ["what causes scurvy?", "paris is the capital city of france, on a river.", "hello"]


def test_output_forms(tiny_colbert: ColBERT) -> None:
    single = tiny_colbert.encode("hello")
    assert isinstance(single, np.ndarray) and single.shape == (12, 8) and single.dtype == np.float32
    listed = tiny_colbert.encode(TEXTS)
    assert isinstance(listed, list) and all(isinstance(e, np.ndarray) for e in listed)
    nested = tiny_colbert.encode([TEXTS[:2], TEXTS[1:]])
    assert len(nested) == 2 and len(nested[0]) == 2 and isinstance(nested[1][0], np.ndarray)
    np.testing.assert_allclose(nested[0][1], nested[1][0], atol=1e-6)
    assert tiny_colbert.encode([]) == []


@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        (None, InputTypeError, "None"),
        (["ok", None], InputTypeError, r"\[1\].*None"),
        (["ok", 3], InputTypeError, r"\[1\].*int"),
        ([["ok"], ["fine", None]], InputTypeError, r"\[1\]\[1\]"),
        (["ok", "  "], EmptyInputError, r"\[1\].*empty"),
    ],
)
def test_bad_inputs_raise_typed_errors(tiny_colbert: ColBERT, bad: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        tiny_colbert.encode(bad)
    assert issubclass(error, (TypeError, ValueError))


def test_queries_are_expanded_documents_skip_punctuation(tiny_colbert: ColBERT) -> None:
    queries = tiny_colbert.encode(TEXTS, is_query=True)
    assert {q.shape for q in queries} == {(12, 8)}
    documents = tiny_colbert.encode(TEXTS, is_query=False)
    # "what causes scurvy?" -> [CLS] [D] what causes scurvy [SEP]: the "?" is in the skiplist.
    assert documents[0].shape == (6, 8)
    assert documents[2].shape == (4, 8)
    for matrix in queries + documents:
        np.testing.assert_allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)


def test_query_expansion_and_attention_settings(tiny_bert_dir) -> None:
    torch.manual_seed(0)
    plain = ColBERT(str(tiny_bert_dir), device="cpu", embedding_size=8, query_length=12, do_query_expansion=False)
    assert plain.encode("hello").shape == (4, 8)
    torch.manual_seed(0)
    expanded = ColBERT(str(tiny_bert_dir), device="cpu", embedding_size=8, query_length=12)
    torch.manual_seed(0)
    attending = ColBERT(
        str(tiny_bert_dir), device="cpu", embedding_size=8, query_length=12, attend_to_expansion_tokens=True
    )
    a, b = expanded.encode("hello"), attending.encode("hello")
    assert a.shape == b.shape == (12, 8)
    assert not np.allclose(a[:4], b[:4], atol=1e-4)  # real tokens now attend to the [MASK] tokens


def test_tensor_outputs(tiny_colbert: ColBERT) -> None:
    tensors = tiny_colbert.encode(TEXTS, convert_to_tensor=True)
    assert all(isinstance(t, torch.Tensor) for t in tensors)
    also = tiny_colbert.encode(TEXTS, convert_to_numpy=False)
    assert all(isinstance(t, torch.Tensor) for t in also)
    np.testing.assert_allclose(tensors[1].numpy(), tiny_colbert.encode(TEXTS)[1], atol=1e-6)


@pytest.mark.parametrize("convert_to_tensor", [False, True])
def test_padding_returns_one_batch_and_recoverable_mask(tiny_colbert: ColBERT, convert_to_tensor: bool) -> None:
    ragged = tiny_colbert.encode(TEXTS, is_query=False)
    padded = tiny_colbert.encode(TEXTS, is_query=False, padding=True, convert_to_tensor=convert_to_tensor)
    longest = max(e.shape[0] for e in ragged)
    assert tuple(padded.shape) == (3, longest, 8)
    mask = mask_from_padded(padded)
    assert mask.sum(dim=1).tolist() == [e.shape[0] for e in ragged]
    array = padded.numpy() if convert_to_tensor else padded
    for row, expected in enumerate(ragged):
        np.testing.assert_allclose(array[row, : expected.shape[0]], expected, atol=1e-6)


@pytest.mark.parametrize(
    ("precision", "dtype", "dim"),
    [("int8", np.int8, 8), ("uint8", np.uint8, 8), ("binary", np.int8, 1), ("ubinary", np.uint8, 1)],
)
def test_precision_returns_quantised_arrays(tiny_colbert: ColBERT, precision: str, dtype: type, dim: int) -> None:
    floats = tiny_colbert.encode(TEXTS, is_query=False)
    quantised = tiny_colbert.encode(TEXTS, is_query=False, precision=precision)
    for f, q in zip(floats, quantised):
        assert q.dtype == dtype and q.shape == (f.shape[0], dim)
    if precision == "int8":
        np.testing.assert_allclose(quantised[0] / 127.0, floats[0], atol=1 / 127)
    if precision == "ubinary":
        np.testing.assert_array_equal(np.unpackbits(quantised[0], axis=1)[:, :8], (floats[0] > 0).astype(np.uint8))


def test_normalize_embeddings_false_keeps_raw_norms(tiny_colbert: ColBERT) -> None:
    raw = tiny_colbert.encode(TEXTS, is_query=False, normalize_embeddings=False)
    unit = tiny_colbert.encode(TEXTS, is_query=False)
    norms = np.linalg.norm(raw[1], axis=1)
    assert not np.allclose(norms, 1.0, atol=1e-3)
    np.testing.assert_allclose(raw[1] / norms[:, None], unit[1], atol=1e-5)


def test_truncate_dim(tiny_bert_dir) -> None:
    torch.manual_seed(0)
    full = ColBERT(str(tiny_bert_dir), device="cpu", embedding_size=8)
    torch.manual_seed(0)
    cut = ColBERT(str(tiny_bert_dir), device="cpu", embedding_size=8, truncate_dim=3)
    a = full.encode(TEXTS[1], is_query=False, normalize_embeddings=False)
    b = cut.encode(TEXTS[1], is_query=False)
    assert b.shape == (a.shape[0], 3)
    expected = a[:, :3] / np.linalg.norm(a[:, :3], axis=1, keepdims=True)
    np.testing.assert_allclose(b, expected, atol=1e-5)


def test_pool_factor_pools_documents_only(tiny_colbert: ColBERT) -> None:
    text = "statins lower cholesterol; study of patients with heart disease and cancer risk"
    unpooled = tiny_colbert.encode(text, is_query=False)
    pooled = tiny_colbert.encode(text, is_query=False, pool_factor=2)
    assert pooled.shape[0] == pooled_length(unpooled.shape[0], 2, 1)
    np.testing.assert_allclose(pooled[0], unpooled[0], atol=1e-6)
    kept_three = tiny_colbert.encode(text, is_query=False, pool_factor=2, protected_tokens=3)
    np.testing.assert_allclose(kept_three[:3], unpooled[:3], atol=1e-6)
    assert tiny_colbert.encode(text, is_query=True, pool_factor=2).shape == (12, 8)
    with pytest.raises(ValueError, match="pool_factor"):
        tiny_colbert.encode(text, pool_factor=0)


def test_prompt_and_prompt_name_go_after_the_marker(tiny_bert_dir) -> None:
    torch.manual_seed(0)
    model = ColBERT(str(tiny_bert_dir), device="cpu", embedding_size=8, prompts={"search": "hello "})
    with_prompt = model.encode("paris", is_query=False, prompt="hello ")
    by_name = model.encode("paris", is_query=False, prompt_name="search")
    inline = model.encode("hello paris", is_query=False)
    np.testing.assert_allclose(with_prompt, inline, atol=1e-6)
    np.testing.assert_allclose(by_name, inline, atol=1e-6)
    assert model.encode("paris", is_query=False).shape[0] == inline.shape[0] - 1  # never applied implicitly


def test_batch_size_and_device_do_not_change_results(tiny_colbert: ColBERT) -> None:
    a = tiny_colbert.encode(TEXTS, is_query=False, batch_size=1, device="cpu", show_progress_bar=True)
    b = tiny_colbert.encode(TEXTS, is_query=False, batch_size=32)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, atol=1e-5)


def test_sliding_windows_cover_the_whole_document(tiny_bert_dir) -> None:
    text = " ".join(["statins lower cholesterol in patients with heart disease"] * 6)
    torch.manual_seed(0)
    truncating = ColBERT(str(tiny_bert_dir), device="cpu", embedding_size=8, document_length=16)
    torch.manual_seed(0)
    windowed = ColBERT(str(tiny_bert_dir), device="cpu", embedding_size=8, document_length=16, truncation=False)
    full_ids = windowed.tokenizer("[D] " + text)["input_ids"]
    cut = truncating.encode(text, is_query=False)
    whole = windowed.encode(text, is_query=False)
    assert cut.shape[0] == 16 and whole.shape[0] == len(full_ids) > 16
    # The first window is exactly the truncated input: the tokens it owns are identical.
    np.testing.assert_allclose(whole[:8], cut[:8], atol=1e-5)
    short = windowed.encode("hello paris", is_query=False)
    np.testing.assert_allclose(short, truncating.encode("hello paris", is_query=False), atol=1e-6)
    mixed = windowed.encode(["hello paris", text], is_query=False)
    np.testing.assert_allclose(mixed[1], whole, atol=1e-5)


def test_tokenize_and_static_helpers(tiny_colbert: ColBERT) -> None:
    features = tiny_colbert.tokenize(["hello"], is_query=False, pad_document=True)
    assert features["input_ids"].shape == (1, 24)
    assert features["attention_mask"].sum().item() == 4
    ids = torch.tensor([[2, 10, 3]])
    assert ColBERT.insert_prefix_token(ids, 99).tolist() == [[2, 99, 10, 3]]
    assert ColBERT.skiplist_mask(ids, [10]).tolist() == [[True, False, True]]


def test_similarity_is_maxsim(tiny_colbert: ColBERT) -> None:
    queries = tiny_colbert.encode(TEXTS[:2])
    documents = tiny_colbert.encode(TEXTS, is_query=False)
    got = tiny_colbert.similarity(queries, documents)
    expected = np.array([[(q @ d.T).max(axis=1).sum() for d in documents] for q in queries])
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-5)
    pairwise = tiny_colbert.similarity_pairwise(queries, documents[:2])
    np.testing.assert_allclose(pairwise.numpy(), np.diag(expected), rtol=1e-5, atol=1e-5)
    tensors = [torch.from_numpy(d) for d in documents]
    np.testing.assert_allclose(tiny_colbert.similarity(queries, tensors).numpy(), expected, rtol=1e-5, atol=1e-5)


def test_encode_query_and_document_aliases(tiny_colbert: ColBERT) -> None:
    np.testing.assert_allclose(tiny_colbert.encode_query("hello"), tiny_colbert.encode("hello"), atol=1e-6)
    np.testing.assert_allclose(
        tiny_colbert.encode_document("hello"), tiny_colbert.encode("hello", is_query=False), atol=1e-6
    )


@pytest.mark.slow
def test_encode_multi_process_matches_encode(tiny_colbert: ColBERT) -> None:
    pool = tiny_colbert.start_multi_process_pool(["cpu"])
    try:
        got = tiny_colbert.encode_multi_process(TEXTS, pool, is_query=False, pool_factor=2, chunk_size=1)
    finally:
        tiny_colbert.stop_multi_process_pool(pool)
    expected = tiny_colbert.encode(TEXTS, is_query=False, pool_factor=2)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_opt_in_bfloat16_on_cpu_stays_close(tiny_colbert: ColBERT) -> None:
    import copy

    bf16 = copy.deepcopy(tiny_colbert).to(torch.bfloat16)
    for a, b in zip(tiny_colbert.encode(TEXTS, is_query=False), bf16.encode(TEXTS, is_query=False, pool_factor=1)):
        assert b.dtype == np.float32 and a.shape == b.shape
        cosine = (a * b).sum(axis=1) / np.linalg.norm(b, axis=1)
        assert cosine.min() > 0.98
    pooled = bf16.encode(TEXTS[1], is_query=False, pool_factor=2)
    assert pooled.shape[0] < tiny_colbert.encode(TEXTS[1], is_query=False).shape[0]


def test_unsorted_batches_give_the_same_embeddings(tiny_colbert: ColBERT) -> None:
    prompt = tiny_colbert._text_prompt(False, None, None)
    a = tiny_colbert._inference(TEXTS, prompt=prompt, is_query=False, batch_size=2, sort_by_length=False)
    b = tiny_colbert._inference(TEXTS, prompt=prompt, is_query=False, batch_size=2)
    for x, y in zip(a, b):
        torch.testing.assert_close(x, y, atol=1e-5, rtol=1e-5)
