from __future__ import annotations

import json
import string
from pathlib import Path

import numpy as np
import pytest
import torch
from sentence_transformers import MultiVectorEncoder

from colbert_retrieval import ColBERT, ModelNotAvailableError, models


def projection(model: ColBERT) -> torch.nn.Linear:
    return [m for m in model if hasattr(m, "linear")][-1].linear


@pytest.mark.parametrize("fixture", ["tiny_bert_dir", "tiny_st_dir"])
def test_plain_checkpoint_gets_pylate_defaults(fixture: str, request: pytest.FixtureRequest) -> None:
    path = request.getfixturevalue(fixture)
    from transformers import AutoTokenizer

    vocab_before = len(AutoTokenizer.from_pretrained(str(path)))
    model = ColBERT(str(path), device="cpu")
    assert projection(model).out_features == 128 and projection(model).bias is None
    assert (model.query_prefix, model.document_prefix) == ("[Q] ", "[D] ")
    assert (model.query_length, model.document_length) == (32, 180)
    assert model.do_query_expansion and not model.attend_to_expansion_tokens
    assert model.skiplist_words == list(string.punctuation)
    assert len(model.tokenizer) == vocab_before + 2
    ids = model.tokenize(["hello"], is_query=False)["input_ids"][0].tolist()
    assert model.tokenizer.convert_ids_to_tokens(ids) == ["[CLS]", "[D] ", "hello", "[SEP]"]
    assert model.document_prefix_id == ids[1]


def test_constructor_arguments_shape_a_new_model(tiny_bert_dir: Path) -> None:
    model = ColBERT(
        str(tiny_bert_dir),
        device="cpu",
        embedding_size=12,
        bias=True,
        query_prefix="[unused0] ",
        document_prefix="[unused1] ",
        query_length=10,
        document_length=20,
        attend_to_expansion_tokens=True,
        skiplist_words=["."],
    )
    assert projection(model).out_features == 12 and projection(model).bias is not None
    assert model.attend_to_expansion_tokens and model.skiplist_words == ["."]
    ids = model.tokenize(["hello"], is_query=True)["input_ids"][0].tolist()
    tokens = model.tokenizer.convert_ids_to_tokens(ids)
    assert tokens[:2] == ["[CLS]", "[unused0]"] and len(tokens) == 10 and tokens[-1] == "[MASK]"


def test_stanford_checkpoint(stanford_dir: Path) -> None:
    model = ColBERT(str(stanford_dir), device="cpu")
    assert projection(model).out_features == 6
    from safetensors.torch import load_file

    expected = load_file(stanford_dir / "model.safetensors")["linear.weight"]
    torch.testing.assert_close(projection(model).weight, expected)
    assert (model.query_length, model.document_length) == (10, 20)
    assert model.do_query_expansion
    q_tokens = model.tokenizer.convert_ids_to_tokens(model.tokenize(["hello"])["input_ids"][0].tolist())
    d_tokens = model.tokenizer.convert_ids_to_tokens(model.tokenize(["hello"], is_query=False)["input_ids"][0].tolist())
    assert q_tokens[:3] == ["[CLS]", "[unused0]", "hello"] and len(q_tokens) == 10
    assert d_tokens == ["[CLS]", "[unused1]", "hello", "[SEP]"]
    assert model.encode("hello, paris", is_query=False).shape == (5, 6)  # [CLS] [unused1] hello paris [SEP]


def test_save_load_round_trip_and_multivectorencoder(tiny_colbert: ColBERT, tmp_path: Path) -> None:
    texts = ["what causes scurvy?", "paris is the capital of france."]
    queries = tiny_colbert.encode(texts, is_query=True)
    documents = tiny_colbert.encode(texts, is_query=False)
    tiny_colbert.save_pretrained(str(tmp_path / "saved"))
    config = json.loads((tmp_path / "saved" / "config_sentence_transformers.json").read_text())
    assert config["query_prefix"] == "[Q] " and config["query_length"] == 12
    assert config["do_query_expansion"] is True and config["similarity_fn_name"] == "maxsim"
    again = models.ColBERT(str(tmp_path / "saved"), device="cpu", inference_precision="float32")
    for a, b in zip(queries + documents, again.encode(texts) + again.encode(texts, is_query=False)):
        np.testing.assert_allclose(a, b, atol=1e-6)
    mve = MultiVectorEncoder(str(tmp_path / "saved"), device="cpu")
    for a, b in zip(queries, mve.encode_query(texts)):
        np.testing.assert_allclose(a, b.numpy(), atol=1e-6)
    for a, b in zip(documents, mve.encode_document(texts)):
        np.testing.assert_allclose(a, b.numpy(), atol=1e-6)


def test_explicit_argument_beats_saved_value(tiny_colbert: ColBERT, tmp_path: Path) -> None:
    tiny_colbert.save(str(tmp_path / "m"))
    saved = ColBERT(str(tmp_path / "m"), device="cpu")
    assert (saved.query_length, saved.document_length) == (12, 24)
    override = ColBERT(str(tmp_path / "m"), device="cpu", query_length=16, do_query_expansion=False)
    assert override.query_length == 16 and not override.do_query_expansion
    assert override.encode("hello", is_query=True).shape[0] == 4  # [CLS] [Q] hello [SEP], no expansion


def test_embedding_size_on_a_checkpoint_adds_a_projection(tiny_colbert: ColBERT, tmp_path: Path) -> None:
    tiny_colbert.save(str(tmp_path / "m"))
    model = ColBERT(str(tmp_path / "m"), device="cpu", embedding_size=4)
    assert [m.linear.out_features for m in model if hasattr(m, "linear")] == [8, 4]
    assert model.encode("hello", is_query=False).shape == (4, 4)


def test_arguments_after_the_model_are_keyword_only_and_use_auth_token_is_gone(tiny_bert_dir: Path) -> None:
    with pytest.raises(TypeError, match="positional"):
        ColBERT(str(tiny_bert_dir), None, "cpu")  # type: ignore[misc]
    with pytest.raises(TypeError, match="use_auth_token"):  # dropped by sentence-transformers 6: pass token=
        ColBERT(str(tiny_bert_dir), device="cpu", use_auth_token="hf_not_a_real_token")  # type: ignore[call-arg]


def test_offline_hub_name_gives_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelNotAvailableError, match=r"no-such-org/no-such-colbert.*local_files_only"):
        ColBERT("no-such-org/no-such-colbert", cache_folder=str(tmp_path), local_files_only=True)


def test_security_defaults() -> None:
    import inspect

    parameters = inspect.signature(ColBERT.__init__).parameters
    assert parameters["trust_remote_code"].default is False


def test_pylate_similarity_name_is_accepted(tiny_bert_dir: Path) -> None:
    model = ColBERT(str(tiny_bert_dir), device="cpu", similarity_fn_name="MaxSim")
    assert model.similarity_fn_name == "maxsim"
