"""``ColBERT.encode`` takes sentence-transformers' ``MultiVectorEncoder`` call shapes as well as PyLate's.

sentence-transformers' evaluators and trainer call ``encode_query`` / ``encode_document`` / ``encode`` with
``token_pooling=``, ``truncate_dim=``, ``task=`` and datasets columns; a subclass must be substitutable for
its base.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch
from sentence_transformers import MultiVectorEncoder
from sentence_transformers.multi_vector_encoder.modules import LambdaTokenPooling

from colbert_retrieval import ColBERT
from colbert_retrieval.errors import InputTypeError, InvalidArgumentError
from colbert_retrieval.pooling import TokenPooling

DOCS = ["statins lower cholesterol in patients with heart disease and a risk of cancer.", "paris is in france."]


@pytest.mark.parametrize("method", ["encode", "encode_query", "encode_document", "similarity", "similarity_pairwise"])
def test_every_parameter_of_the_base_method_is_accepted_in_its_place(method) -> None:
    base = list(inspect.signature(getattr(MultiVectorEncoder, method)).parameters.values())
    ours = list(inspect.signature(getattr(ColBERT, method)).parameters.values())
    positional = [p.name for p in base if p.kind is p.POSITIONAL_OR_KEYWORD]
    # the leading positions every supported sentence-transformers release shares (6.2 and 6.3 order the later
    # keywords differently; ours follow 6.3)
    shared = positional[: positional.index("normalize_embeddings") + 1] if method.startswith("encode") else positional
    assert [p.name for p in ours[: len(shared)]] == shared
    names = {p.name for p in ours}
    for parameter in base:
        if parameter.kind is parameter.VAR_KEYWORD:
            assert any(p.kind is p.VAR_KEYWORD for p in ours) or method.startswith("similarity")
        elif parameter.kind is not parameter.VAR_POSITIONAL and method.startswith("encode"):
            assert parameter.name in names, f"{method} lacks {parameter.name}="


def test_task_is_the_same_as_is_query(tiny_colbert) -> None:
    by_task = tiny_colbert.encode(DOCS, task="document")
    by_flag = tiny_colbert.encode(DOCS, is_query=False)
    for a, b in zip(by_task, by_flag):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(tiny_colbert.encode("q", task="query"), tiny_colbert.encode("q", is_query=True))
    with pytest.raises(InvalidArgumentError, match="disagree"):
        tiny_colbert.encode(DOCS, task="document", is_query=True)
    with pytest.raises(InvalidArgumentError, match="task="):
        tiny_colbert.encode(DOCS, task="summary")


def test_encode_query_and_document_follow_sentence_transformers_defaults(tiny_colbert) -> None:
    queries = tiny_colbert.encode_query(["what causes scurvy?", "capital of france"])
    documents = tiny_colbert.encode_document(DOCS)
    assert all(isinstance(e, torch.Tensor) for e in [*queries, *documents])
    torch.nn.utils.rnn.pad_sequence(queries, batch_first=True)  # what its retrieval evaluator does with them
    np.testing.assert_allclose(documents[1].numpy(), tiny_colbert.encode(DOCS[1], is_query=False), atol=1e-6)
    assert isinstance(tiny_colbert.encode_query("a", convert_to_numpy=True), np.ndarray)


def test_token_pooling_is_pylates_pool_factor(tiny_colbert) -> None:
    pooled = tiny_colbert.encode(DOCS, is_query=False, pool_factor=2)
    by_module = tiny_colbert.encode(DOCS, task="document", token_pooling=TokenPooling(2))
    for a, b in zip(pooled, by_module):
        np.testing.assert_array_equal(a, b)
    unpooled = tiny_colbert.encode(DOCS[0], is_query=False)
    assert pooled[0].shape[0] < unpooled.shape[0]
    queries = tiny_colbert.encode(["q one"], task="query", token_pooling=TokenPooling(2))  # documents only
    np.testing.assert_array_equal(queries[0], tiny_colbert.encode("q one"))
    with pytest.raises(InvalidArgumentError, match="not both"):
        tiny_colbert.encode(DOCS, is_query=False, pool_factor=2, token_pooling=TokenPooling(2))
    with pytest.raises(InputTypeError, match="BaseTokenPooling"):
        tiny_colbert.encode(DOCS, is_query=False, token_pooling="ward")


def test_any_sentence_transformers_pooler_applies(tiny_colbert) -> None:
    halve = LambdaTokenPooling(lambda embedding: embedding[: max(1, embedding.shape[0] // 2)])
    pooled = tiny_colbert.encode_document(DOCS, token_pooling=halve)
    full = tiny_colbert.encode_document(DOCS)
    assert [p.shape[0] for p in pooled] == [max(1, f.shape[0] // 2) for f in full]


def test_the_models_default_pooler_is_used_unless_a_call_names_one(tiny_colbert) -> None:
    if "token_pooling" not in inspect.signature(MultiVectorEncoder.__init__).parameters:
        pytest.skip("sentence-transformers < 6.3 has no model-level token_pooling")
    full = tiny_colbert.encode_document(DOCS)
    tiny_colbert.token_pooling = TokenPooling(2)
    try:
        pooled = tiny_colbert.encode_document(DOCS)
        explicit = tiny_colbert.encode_document(DOCS, token_pooling=TokenPooling(3))
    finally:
        tiny_colbert.token_pooling = None
    assert pooled[0].shape[0] < full[0].shape[0] and explicit[0].shape[0] < pooled[0].shape[0]


def test_truncate_dim_per_call(tiny_colbert) -> None:
    short = tiny_colbert.encode_document(DOCS, truncate_dim=4)
    assert [e.shape[1] for e in short] == [4, 4]
    torch.testing.assert_close(short[0].norm(dim=-1), torch.ones(short[0].shape[0]))
    assert tiny_colbert.encode_document(DOCS)[0].shape[1] > 4
    with pytest.raises(InvalidArgumentError, match="truncate_dim"):
        tiny_colbert.encode_document(DOCS, truncate_dim=0)


def test_output_value_none_gives_sentence_transformers_raw_feature_dicts(tiny_colbert) -> None:
    dicts = tiny_colbert.encode(DOCS, task="document", output_value=None)
    vectors = tiny_colbert.encode_document(DOCS)
    assert all({"token_embeddings", "attention_mask", "input_ids"} <= set(d) for d in dicts)
    for d, v in zip(dicts, vectors):
        torch.testing.assert_close(d["token_embeddings"][d["attention_mask"].bool()], v, atol=1e-5, rtol=1e-5)
    pooled = tiny_colbert.encode(DOCS, task="document", output_value=None, pool_factor=2)
    assert int(pooled[0]["attention_mask"].sum()) < int(dicts[0]["attention_mask"].sum())
    with pytest.raises(InvalidArgumentError, match="output_value"):
        tiny_colbert.encode(DOCS, output_value="sentence_embedding")
    with pytest.raises(InvalidArgumentError, match="padding"):
        tiny_colbert.encode(DOCS, output_value=None, padding=True)


def test_tokenize_takes_task_as_well_as_is_query(tiny_colbert) -> None:
    by_task = tiny_colbert.tokenize(DOCS, task="document")
    by_flag = tiny_colbert.tokenize(DOCS, is_query=False)
    assert torch.equal(by_task["input_ids"], by_flag["input_ids"])
    assert tiny_colbert.tokenize(["q"])["input_ids"].shape[1] == tiny_colbert.query_length


def test_inputs_may_be_any_sequence_and_named_either_way(tiny_colbert) -> None:
    datasets = pytest.importorskip("datasets")
    column = datasets.Dataset.from_dict({"text": DOCS})["text"]
    expected = tiny_colbert.encode(DOCS, is_query=False)
    for given in (column, tuple(DOCS), np.array(DOCS)):
        got = tiny_colbert.encode(given, is_query=False)
        assert len(got) == 2 and all(np.array_equal(a, b) for a, b in zip(got, expected))
    assert np.array_equal(tiny_colbert.encode(sentences=DOCS[0]), tiny_colbert.encode(inputs=DOCS[0]))
    with pytest.raises(InvalidArgumentError, match="once"):
        tiny_colbert.encode(DOCS, sentences=DOCS)


def test_an_unknown_keyword_is_named_not_swallowed(tiny_colbert) -> None:
    with pytest.raises(InvalidArgumentError, match="pool_size"):
        tiny_colbert.encode(DOCS, pool_size=2)


def test_pooling_on_top_of_a_pipeline_pooling_compounds_and_says_so(tiny_bert_dir, caplog) -> None:
    import logging

    model = ColBERT(str(tiny_bert_dir), device="cpu", embedding_size=8, inference_precision="float32")
    unpooled = model.encode_document([DOCS[0]])[0].shape[0]
    model.append(TokenPooling(2))
    in_pipeline = model.encode_document([DOCS[0]])[0].shape[0]
    getattr(logging.Logger.warning_once, "cache_clear", lambda: None)()  # transformers' once-only cache
    with caplog.at_level("WARNING", logger="colbert_retrieval.models._colbert"):
        model.encode_query(["a query"], token_pooling=TokenPooling(2))  # queries are not pooled: no note
        assert not any("compounding" in record.message for record in caplog.records)
        compounded = model.encode_document([DOCS[0]], pool_factor=2)[0].shape[0]
    assert compounded < in_pipeline < unpooled
    assert any("compounding" in record.message for record in caplog.records)
