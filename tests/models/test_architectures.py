"""The architecture matrix: every encoder family users bring, through load, the default query and document
paths against torch float32, the ONNX and OpenVINO backends, save/load, and one training step."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from colbert_retrieval import ColBERT
from tests.models.families import build

FAMILIES = ["bert", "distilbert", "roberta", "xlm-roberta", "modernbert", "deberta-v2", "gpt2"]
QUERIES = ["what causes scurvy", "capital of france"]
DOCUMENTS = ["scurvy is a disease of the blood from a lack of vitamin", "paris is the capital of france"]
SHAPE = {"device": "cpu", "embedding_size": 8, "query_length": 12, "document_length": 24}


@pytest.fixture(scope="module", params=FAMILIES)
def family(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    return request.param, build(request.param, tmp_path_factory.mktemp(request.param))


def _load(folder: Path, **kwargs: object) -> ColBERT:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*no trained ColBERT head")
        return ColBERT(str(folder), **{**SHAPE, "inference_precision": "float32", **kwargs})


def _close(a: list[np.ndarray], b: list[np.ndarray], atol: float) -> None:
    assert [x.shape for x in a] == [y.shape for y in b]
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, atol=atol)


def test_default_paths_match_torch_float32(family: tuple[str, Path]) -> None:
    name, folder = family
    model = _load(folder)  # the default: short calls on ONNX Runtime
    reference = _load(folder, short_inputs={"runtime": "off"})
    reference.load_state_dict(model.state_dict())
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no fallback: the fast path itself works
        queries = model.encode(QUERIES, is_query=True)
        documents = model.encode(DOCUMENTS, is_query=False)
    assert model.resolved_short_path("cpu").runtime == "onnx", name
    _close(queries, reference.encode(QUERIES, is_query=True), 1e-5)
    _close(documents, reference.encode(DOCUMENTS, is_query=False), 1e-5)
    assert queries[0].shape == (12, 8)


@pytest.mark.parametrize("backend", ["onnx", "openvino"])
def test_backends_match_torch(family: tuple[str, Path], backend: str, tmp_path: Path) -> None:
    _, folder = family
    reference = _load(folder, short_inputs={"runtime": "off"})
    reference.save(str(tmp_path / "colbert"))  # the same head for both: a saved model
    model = _load(tmp_path / "colbert", backend=backend)
    torch_model = _load(tmp_path / "colbert", short_inputs={"runtime": "off"})
    _close(model.encode(QUERIES, is_query=True), torch_model.encode(QUERIES, is_query=True), 1e-4)
    _close(model.encode(DOCUMENTS, is_query=False), torch_model.encode(DOCUMENTS, is_query=False), 1e-4)


def test_save_load_round_trip_and_one_training_step(family: tuple[str, Path], tmp_path: Path) -> None:
    _, folder = family
    model = _load(folder)
    model.save(str(tmp_path / "saved"))
    reloaded = _load(tmp_path / "saved")
    _close(model.encode(QUERIES, is_query=True), reloaded.encode(QUERIES, is_query=True), 0)
    _close(model.encode(DOCUMENTS, is_query=False), reloaded.encode(DOCUMENTS, is_query=False), 0)
    model.train()
    queries = model.tokenize(QUERIES, is_query=True)
    documents = model.tokenize(DOCUMENTS, is_query=False)
    q = model(queries, task="query")["token_embeddings"]
    d = model(documents, task="document")["token_embeddings"]
    scores = torch.einsum("qid,cjd->qcij", q, d).amax(dim=-1).sum(dim=-1)  # MaxSim, (queries, documents)
    loss = torch.nn.functional.cross_entropy(scores, torch.arange(len(QUERIES)))
    loss.backward()
    head = model[1].linear.weight
    assert head.grad is not None and float(head.grad.abs().sum()) > 0
    before = head.detach().clone()
    torch.optim.SGD(model.parameters(), lr=0.1).step()
    assert not torch.equal(before, head.detach())


def test_a_failing_fast_runtime_falls_back_to_torch_with_one_warning(
    family: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from colbert_retrieval.models import _exported_runtimes

    name, folder = family
    model = _load(folder)
    reference = _load(folder, short_inputs={"runtime": "off"})
    reference.load_state_dict(model.state_dict())

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("simulated ONNX Runtime failure")

    monkeypatch.setattr(_exported_runtimes, "_onnx_runtime", broken)
    with pytest.warns(RuntimeWarning, match="simulated ONNX Runtime failure") as caught:
        queries = model.encode(QUERIES, is_query=True)
        again = model.encode(QUERIES, is_query=True)
    assert len([w for w in caught if w.category is RuntimeWarning]) == 1, name
    _close(queries, reference.encode(QUERIES, is_query=True), 0)
    _close(again, queries, 0)
    short = model.resolved_short_path("cpu")
    assert short.runtime == "torch" and "onnx failed: RuntimeError: simulated" in short.reason


def test_an_export_made_for_other_tokenizer_inputs_is_not_reused(tmp_path: Path) -> None:
    """The export cache is keyed by the inputs too; a foreign export given by hand falls back, never crashes."""
    import os

    folder = build("bert", tmp_path / "bert")
    cache = Path(os.environ["COLBERT_RETRIEVAL_CACHE"]) / "exports"
    with_types = _load(folder)
    with_types.encode(QUERIES, is_query=True)  # exported with input_ids, token_type_ids, attention_mask
    without = _load(folder)
    without.load_state_dict(with_types.state_dict())
    without.tokenizer.model_input_names = ["input_ids", "attention_mask"]
    before = set(cache.iterdir())
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        queries = without.encode(QUERIES, is_query=True)
    assert len(set(cache.iterdir()) - before) == 1  # a second export, not the first one reused
    assert without.resolved_short_path("cpu").runtime == "onnx"
    _close(queries, with_types.encode(QUERIES, is_query=True), 1e-5)
    import onnx

    def inputs(export: Path) -> list[str]:
        return [i.name for i in onnx.load(str(export / "onnx" / "model.onnx"), load_external_data=False).graph.input]

    three = next(p for p in before if (p / "onnx" / "model.onnx").exists() and "token_type_ids" in inputs(p))
    foreign = _load(folder, backend_options={"export_dir": str(three)})  # an export for other inputs, by hand
    foreign.load_state_dict(with_types.state_dict())
    foreign.tokenizer.model_input_names = ["input_ids", "attention_mask"]
    with pytest.warns(RuntimeWarning, match=r"needs inputs \['token_type_ids'\]"):
        fallback = foreign.encode(QUERIES, is_query=True)
    assert foreign.resolved_short_path("cpu").runtime == "torch"
    _close(fallback, queries, 1e-5)


@pytest.mark.parametrize("truncation", [True, False])
def test_token_spans_account_for_every_document_vector(family: tuple[str, Path], truncation: bool) -> None:
    """Highlights map a vector back to its characters: one span per vector ``encode`` returns, in every
    family's tokenizer, for short texts, texts the model cuts and texts read in sliding windows; each span's
    characters are a piece of the word its token spells."""
    from colbert_retrieval.models import document_token_spans, query_token_labels

    name, folder = family
    model = _load(folder, truncation=truncation)
    texts = [*DOCUMENTS, " ".join(["scurvy is a disease, of the blood!"] * 8), "vitamin  c"]
    vectors = model.encode(texts, is_query=False)
    for text, array, spans in zip(texts, vectors, document_token_spans(model, texts)):
        assert len(spans) == len(array), (name, text)
        pieces = [text[start:end] for start, end in (s for s in spans if s)]
        assert pieces and all(piece.strip() and piece in text for piece in pieces), (name, pieces)
        assert {piece.strip().lower() for piece in pieces} <= set("".join(text.lower().split())) or all(
            piece.strip().lower() in text.lower() for piece in pieces
        )
    labels = query_token_labels(model, QUERIES)
    for query, array, names in zip(QUERIES, model.encode(QUERIES, is_query=True), labels):
        assert len(names) == len(array), name
        words = [label for label in names if label in query.split()]
        assert words and set(words) <= set(query.split()), (name, names)
