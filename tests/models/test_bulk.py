"""Bulk document calls on the CPU: OpenVINO int8 calibrated and checked on the call's documents, or a said fallback."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from colbert_retrieval import default_model
from colbert_retrieval.models import _bulk
from colbert_retrieval.models._bulk import MIN_TEXTS, agreement, bulk_unavailable
from colbert_retrieval.pooling import compile_cpu_kernels

ROOT = Path(__file__).resolve().parents[2]
needs_openvino = pytest.mark.skipif(bulk_unavailable() is not None, reason=str(bulk_unavailable()))


def paragraphs(count: int) -> list[str]:
    """Real prose nobody wrote for this test: paragraphs of the docs, in a fixed order."""
    found: list[str] = []
    for page in sorted((ROOT / "docs").rglob("*.md")):
        for block in re.split(r"\n\s*\n", page.read_text(encoding="utf-8")):
            text = " ".join(block.split())
            if len(text.split()) >= 12 and not text.startswith(("|", "```", "<!--")):
                found.append(text[:600])
    assert len(found) >= count
    return found[:count]


@pytest.fixture(scope="module")
def documents() -> list[str]:
    compile_cpu_kernels(wait=True)  # the background compile's warnings filter is not thread-safe
    return paragraphs(MIN_TEXTS + 16)


def default_path_model():  # type: ignore[no-untyped-def]
    """The default model with its bulk path held on the default (what the vectors fall back to)."""
    model = default_model(device="cpu")
    model.runtime.hold_bulk("test: the default path")
    return model


def _close(a: list, b: list, tolerance: float) -> bool:
    return all(x.shape == y.shape and np.abs(np.asarray(x) - np.asarray(y)).max() <= tolerance for x, y in zip(a, b))


@needs_openvino
def test_a_large_document_call_runs_on_checked_int8_and_stays_close_to_float32(documents: list[str]) -> None:
    model = default_model(device="cpu")
    assert "first call of 128+ documents" in str(model.resolved_bulk_path())
    small = model.encode(documents[:8], is_query=False)  # smaller calls take the default path, decide nothing
    assert model.runtime.bulk_path(model, "cpu", "document", documents[:8]) is None
    assert "first call" in model.resolved_bulk_path().reason
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # checked and kept: no warning
        bulk = model.encode(documents, is_query=False)
    path = model.resolved_bulk_path()
    assert (path.runtime, path.precision) == ("openvino", "int8"), path
    assert "top-5 overlap" in path.reason
    reference = default_model(device="cpu", inference_precision="float32").encode(documents, is_query=False)
    cosines = [float((np.asarray(a) * np.asarray(b)).sum(-1).mean()) for a, b in zip(bulk, reference)]
    assert min(cosines) > 0.9 and np.mean(cosines) > 0.97, (min(cosines), np.mean(cosines))
    assert [len(e) for e in bulk] == [len(e) for e in reference]
    assert _close(small, default_path_model().encode(documents[:8], is_query=False), 1e-6)  # before: default
    after = model.encode(documents[:8], is_query=False)  # after the decision every document call takes int8
    assert not _close(small, after, 1e-4)
    same = [float((np.asarray(a) * np.asarray(b)).sum(-1).mean()) for a, b in zip(after, bulk[:8])]
    assert min(same) > 0.99, same  # the int8 path in other batches (other padding): the same vectors, near enough
    # queries keep their own path: the same vectors before and after the decision
    fresh = default_model(device="cpu")
    assert _close(model.encode(documents[:3], is_query=True), fresh.encode(documents[:3], is_query=True), 1e-6)


@needs_openvino
def test_int8_rankings_that_disagree_keep_the_default_path_with_one_warning(
    documents: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    model = default_model(device="cpu")
    expected = default_path_model().encode(documents, is_query=False)

    def reversed_ranking(reference: torch.Tensor, candidate: torch.Tensor) -> _bulk.Agreement:
        return agreement(reference, -candidate)

    monkeypatch.setattr("colbert_retrieval.models._encoder_runtime.agreement", reversed_ranking)
    with pytest.warns(RuntimeWarning, match="disagreed with float32") as caught:
        vectors = model.encode(documents, is_query=False)
    assert len([w for w in caught if issubclass(w.category, RuntimeWarning)]) == 1
    assert model.resolved_bulk_path().runtime == "torch"
    assert "disagreed" in model.resolved_bulk_path().reason
    assert _close(vectors, expected, 1e-5)  # the default path's vectors


def test_a_failing_calibration_falls_back_with_one_warning_naming_the_cause(
    documents: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_bulk, "bulk_unavailable", lambda: None)
    monkeypatch.setattr("colbert_retrieval.models._encoder_runtime.bulk_unavailable", lambda: None)

    def broken(self, model, texts):  # type: ignore[no-untyped-def]
        raise RuntimeError("calibration exploded")

    monkeypatch.setattr("colbert_retrieval.models._encoder_runtime.EncoderRuntime._open_calibrated", broken)
    model = default_model(device="cpu")
    expected = default_path_model().encode(documents, is_query=False)
    with pytest.warns(RuntimeWarning, match="calibration exploded"):
        vectors = model.encode(documents, is_query=False)
    assert _close(vectors, expected, 1e-5)
    assert "calibration exploded" in model.resolved_bulk_path().reason
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # decided once: no second warning
        model.encode(documents, is_query=False)


@needs_openvino
def test_a_failing_int8_call_moves_bulk_calls_to_the_default_path_for_good(
    documents: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    model = default_model(device="cpu")
    model.encode(documents, is_query=False)
    assert model.resolved_bulk_path().runtime == "openvino"
    engine = model.runtime._bulk_engine[0]

    def broken(features):  # type: ignore[no-untyped-def]
        raise RuntimeError("device lost")

    monkeypatch.setattr(engine, "_run", broken)
    with pytest.warns(RuntimeWarning, match="device lost"):
        vectors = model.encode(documents, is_query=False)
    assert _close(vectors, default_path_model().encode(documents, is_query=False), 1e-5)
    assert "device lost" in model.resolved_bulk_path().reason


def test_explicit_precisions_other_backends_and_training_never_take_the_int8_path(documents: list[str]) -> None:
    explicit = default_model(device="cpu", inference_precision="float32")
    assert explicit.runtime.bulk_path(explicit, "cpu", "document", documents) is None
    assert str(explicit.resolved_bulk_path()) == "torch float32 (explicit inference_precision='float32')"
    onnx = default_model(device="cpu", backend="onnx")
    assert onnx.runtime.bulk_path(onnx, "cpu", "document", documents) is None
    assert "backend" in onnx.resolved_bulk_path().reason
    auto = default_model(device="cpu")
    assert auto.runtime.bulk_path(auto, "cpu", "query", documents) is None  # queries: their own path
    assert auto.runtime._bulk is None  # nothing decided by a query call
    weight = torch.nn.Parameter(torch.ones(1))
    optimizer = torch.optim.SGD([weight], lr=0.1)
    weight.sum().backward()
    optimizer.step()  # an optimiser stepped since the model was built: its weights may be in training
    assert auto.runtime.bulk_path(auto, "cpu", "document", documents) is None
    assert "optimiser" in auto.resolved_bulk_path().reason
    assert "first call" in default_model(device="cpu").resolved_bulk_path().reason  # a model built after it may
    held = default_model(device="cpu")
    held.runtime.hold_bulk("test: held")
    assert held.runtime.bulk_path(held, "cpu", "document", documents) is None
    assert held.resolved_bulk_path().reason == "test: held"


def test_without_openvino_the_path_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "nncf" else real(name, *a))
    bulk_unavailable.cache_clear()
    try:
        reason = bulk_unavailable()
        assert reason is not None and "pip install 'colbert-retrieval[openvino]'" in reason
    finally:
        monkeypatch.undo()
        bulk_unavailable.cache_clear()
