"""Inference precision (bf16 autocast default on native-bf16 CPUs) and the ONNX / OpenVINO backends."""

from __future__ import annotations

import io
import os
import sys
import threading

import numpy as np
import pytest
import torch

from colbert_retrieval import ColBERT, default_model, load_model
from colbert_retrieval.errors import InputTypeError, InvalidArgumentError
from colbert_retrieval.models import _precision
from colbert_retrieval.models._exported_runtimes import _INPUTS, _quiet, export_fingerprint, export_key
from colbert_retrieval.testing import SAMPLE_QUERY, SAMPLE_TEXTS

DOCS = [*SAMPLE_TEXTS, "Vitamin C deficiency, scurvy: bleeding gums; fatigue (and more)!"]


@pytest.fixture(scope="module")
def fp32() -> ColBERT:
    return default_model(device="cpu", inference_precision="float32")


@pytest.fixture(scope="module")
def reference(fp32: ColBERT) -> dict[str, list[np.ndarray]]:
    return {
        "docs": fp32.encode(DOCS, is_query=False),
        "pooled": fp32.encode(DOCS, is_query=False, pool_factor=2),
        "query": fp32.encode([SAMPLE_QUERY], is_query=True),
    }


@pytest.fixture()
def export_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("exports"))


def cosines(a: list[np.ndarray], b: list[np.ndarray]) -> np.ndarray:
    assert [x.shape for x in a] == [y.shape for y in b]  # same tokens kept: markers, expansion, skiplist
    return np.concatenate([(x * y).sum(-1) for x, y in zip(a, b)])


def check_like_torch(model: ColBERT, reference: dict[str, list[np.ndarray]], mean: float, low: float) -> None:
    docs = model.encode(DOCS, is_query=False)
    query = model.encode([SAMPLE_QUERY], is_query=True)
    pooled = model.encode(DOCS, is_query=False, pool_factor=2)
    for vectors in (docs, query):
        assert all(v.dtype == np.float32 for v in vectors)
        np.testing.assert_allclose(np.linalg.norm(np.concatenate(vectors), axis=-1), 1.0, atol=1e-5)
    similarity = np.concatenate([cosines(reference["docs"], docs), cosines(reference["query"], query)])
    assert similarity.mean() > mean and similarity.min() > low, (similarity.mean(), similarity.min())
    assert [p.shape for p in pooled] == [p.shape for p in reference["pooled"]]


# ----------------------------------------------------------------------------- choosing the precision
@pytest.mark.parametrize("native", [True, False])
def test_auto_picks_bf16_autocast_only_on_cpus_with_native_bf16(monkeypatch, native: bool) -> None:
    monkeypatch.setattr(_precision, "cpu_has_native_bf16", lambda: native)
    choice = _precision.resolve_inference_precision("auto", "torch", "cpu")
    assert choice.precision == ("bfloat16" if native else "float32") and choice.reason.startswith("auto")
    assert _precision.resolve_inference_precision("auto", "torch", "cuda").precision == "float32"  # GPU as before
    assert _precision.resolve_inference_precision("auto", "onnx", "cpu").precision == "float32"
    assert _precision.resolve_inference_precision("float32", "torch", "cpu") == _precision.PrecisionChoice(
        "float32", "explicit"
    )
    cast = _precision.resolve_inference_precision("auto", "torch", "cpu", torch.bfloat16)
    assert cast.precision == "bfloat16" and "dtype" in cast.reason


@pytest.mark.parametrize(
    ("backend", "precision", "fix"),
    [
        ("tensorrt", "auto", "one of"),
        ("torch", "int8", "backend='onnx' or 'openvino'"),
        ("onnx", "bfloat16", "supports"),
        ("torch", "fp8", "one of"),
    ],
)
def test_impossible_runtime_options_are_refused_before_loading(backend: str, precision: str, fix: str) -> None:
    with pytest.raises(InvalidArgumentError, match=fix):
        default_model(backend=backend, inference_precision=precision)


def test_the_choice_is_in_the_repr_and_can_be_changed(fp32: ColBERT) -> None:
    assert "backend='torch', inference_precision='float32 (explicit)'" in repr(fp32)
    model = default_model(device="cpu")
    expected = "bfloat16" if _precision.cpu_has_native_bf16() else "float32"
    assert model.resolved_inference_precision().precision == expected
    assert f"inference_precision='{expected} (auto:" in repr(model)


def test_default_model_takes_only_runtime_options_through_load_model() -> None:
    assert load_model(None, inference_precision="float32").inference_precision == "float32"
    with pytest.raises(InputTypeError, match="only"):
        load_model(None, inference_precision="float32", document_length=12)


# ----------------------------------------------------------------------------- torch autocast
@pytest.mark.parametrize("precision", ["bfloat16", "float16"])
def test_autocast_keeps_float32_unit_vectors_close_to_float32(reference, precision: str) -> None:
    model = default_model(device="cpu", inference_precision=precision)
    check_like_torch(model, reference, mean=0.999, low=0.98)
    assert next(model.parameters()).dtype == torch.float32  # weights untouched: training and save unchanged
    raw = model.encode(DOCS[:2], is_query=False, normalize_embeddings=False)
    assert all(v.dtype == np.float32 and not np.allclose(np.linalg.norm(v, axis=-1), 1.0) for v in raw)


# ----------------------------------------------------------------------------- ONNX and OpenVINO
def test_onnx_float32_matches_torch_and_reuses_its_export(reference, export_dir: str) -> None:
    options = {"export_dir": export_dir}
    model = default_model(backend="onnx", inference_precision="float32", backend_options=options)
    check_like_torch(model, reference, mean=0.99999, low=0.9999)
    exported = os.path.join(export_dir, "onnx", "model.onnx")
    stamp = os.stat(exported).st_mtime_ns
    again = default_model(backend="onnx", backend_options=options)  # auto on ONNX: float32, same file
    assert again.resolved_inference_precision().precision == "float32"
    again.encode("reuse", is_query=False)
    assert os.stat(exported).st_mtime_ns == stamp
    assert "backend='onnx'" in repr(again)


def test_onnx_int8_dynamic_quantisation_stays_close(reference, export_dir: str) -> None:
    model = default_model(backend="onnx", inference_precision="int8", backend_options={"export_dir": export_dir})
    check_like_torch(model, reference, mean=0.97, low=0.8)
    assert os.path.exists(os.path.join(export_dir, "onnx", "model_qint8_dynamic.onnx"))


@pytest.mark.parametrize(
    ("precision", "options", "mean", "low"),
    [
        ("float32", {}, 0.99999, 0.9999),
        ("bfloat16", {}, 0.999, 0.98),
        ("int8", {}, 0.995, 0.97),  # int8 weight compression
        ("int8", {"calibration_texts": DOCS * 8}, 0.9, 0.0),  # static int8; calibrated on 6 texts only here
    ],
)
def test_openvino_matches_torch(reference, export_dir: str, precision: str, options: dict, mean, low) -> None:
    settings = {**options, "export_dir": export_dir}
    model = default_model(backend="openvino", inference_precision=precision, backend_options=settings)
    check_like_torch(model, reference, mean=mean, low=low)


def test_the_export_cache_is_keyed_by_the_weights(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("COLBERT_RETRIEVAL_CACHE", str(tmp_path))
    model = default_model(backend="onnx", inference_precision="float32")
    transformer = model[0].model
    (folder,) = (tmp_path / "exports").iterdir()
    names = [name for name in _INPUTS if name in model.tokenizer.model_input_names]  # the exporter's order
    assert folder.name == f"{export_fingerprint(transformer)}-{export_key(names)}"
    with torch.no_grad():
        transformer.embeddings.word_embeddings.weight[0, 0] += 1.0  # a fine-tuned model: another export
    assert not folder.name.startswith(export_fingerprint(transformer))


def test_backend_errors_are_typed(monkeypatch) -> None:
    with pytest.raises(InvalidArgumentError, match="backend_options"):
        default_model(backend="onnx", backend_options={"exprot_dir": "x"})
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if not installed
    with pytest.raises(ImportError, match="pip install"):
        default_model(backend="onnx")


class _RichProxy:
    """What rich's ``FileProxy`` exposes of the stream it wraps."""

    def __init__(self, stream: object) -> None:
        self.rich_proxied_file = stream


def test_an_export_silences_stdout_and_gives_it_back() -> None:
    before = sys.stdout
    with _quiet():
        print("an exporter's notice")
        assert sys.stdout is not before
        sys.stdout = _RichProxy(sys.stdout)  # a progress display left wrapping the sink
    assert sys.stdout is before


def test_an_export_leaves_a_stream_set_while_it_ran() -> None:
    """Another thread's export ending during a capture (a test's capsys) must not put back the stream it saw."""
    before = sys.stdout
    entered, release = threading.Event(), threading.Event()

    def export() -> None:
        with _quiet():
            entered.set()
            release.wait(30)

    worker = threading.Thread(target=export)
    worker.start()
    assert entered.wait(30)
    capture = io.StringIO()
    sys.stdout = capture
    try:
        release.set()
        worker.join(30)
        print("the command's line")
        assert sys.stdout is capture
    finally:
        sys.stdout = before
    assert capture.getvalue() == "the command's line\n"
