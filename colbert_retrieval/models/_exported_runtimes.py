"""ONNX Runtime and OpenVINO runtimes for the encoder's transformer (everything after it stays torch).

Only the transformer's forward pass (``input_ids``, ``attention_mask``[, ``token_type_ids``] ->
``last_hidden_state``) is exported; the ColBERT head, markers, ``[MASK]`` expansion, skiplist, normalisation
and pooling are the same torch modules on every backend. Exports are written once and reused: into
``backend_options["export_dir"]`` when given, else under ``$COLBERT_RETRIEVAL_CACHE`` (default
``~/.cache/colbert_retrieval``) in a folder named by a hash of the transformer's weights and of what else the
export depends on (the tokenizer's input names, the opset, the torch version), so a fine-tuned model or a
tokenizer with other inputs never reuses a stale export. A runtime is fed exactly the inputs its graph
declares: an exporter drops an input the network does not use (DeBERTa-v2/v3 ignore ``token_type_ids``).
File names follow sentence-transformers' layout (``onnx/model.onnx``,
``onnx/model_qint8_dynamic.onnx``, ``openvino/openvino_model.xml``, ``openvino/openvino_model_qint8_*.xml``;
a calibrated export is named by a hash of its calibration texts).

int8: ONNX Runtime's dynamic quantisation (int8 weights, activations quantised per batch; no calibration);
OpenVINO's NNCF, either static post-training quantisation on ``backend_options["calibration_texts"]`` (the
fast path, int8 matrix products) or, without calibration texts, int8 weight compression.

sentence-transformers 6 exposes ``backend="onnx" | "openvino"`` through Optimum, but the published
``optimum-onnx`` requires transformers < 4.58 and ``optimum-intel`` < 5.6 while sentence-transformers 6
requires transformers >= 5, so this module exports with torch / OpenVINO directly.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import io
import logging
import os
import sys
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from colbert_retrieval._extras import missing_extra
from colbert_retrieval.errors import InvalidArgumentError

__all__ = ["BackendRuntime", "load_runtime", "export_fingerprint"]

_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
#: The ONNX opset of the exports (part of the export folder's key).
OPSET = 17
_OPTIONS = {"export_dir", "calibration_texts", "provider", "threads"}


def _require(module: str, extra: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise missing_extra(extra, module.split(".")[0]) from error


class _LastHiddenState(nn.Module):
    """The HF model as a function of positional integer tensors (what the exporters trace)."""

    def __init__(self, model: nn.Module, names: Sequence[str]) -> None:
        super().__init__()
        self.model = model
        self.names = tuple(names)

    def forward(self, *inputs: Tensor) -> Tensor:
        return self.model(**dict(zip(self.names, inputs))).last_hidden_state


def export_fingerprint(model: nn.Module) -> str:
    """A short hash of a module's parameters and buffers (names, shapes, values).

    Examples:
        >>> a, b = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
        >>> export_fingerprint(a) == export_fingerprint(a), export_fingerprint(a) == export_fingerprint(b)
        (True, False)
    """
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(f"{name}:{tuple(tensor.shape)}:{tensor.dtype}".encode())
        digest.update(tensor.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:16]


class BackendRuntime:
    """Runs the exported transformer and writes ``features["token_embeddings"]`` as the torch module does."""

    def __init__(self, run: Callable[[list[np.ndarray]], np.ndarray], names: Sequence[str], path: Path) -> None:
        self._run = run
        self.names = tuple(names)
        self.path = path

    def __call__(self, features: dict[str, Any]) -> dict[str, Any]:
        arrays = [features[name].detach().cpu().numpy().astype(np.int64, copy=False) for name in self.names]
        hidden = torch.from_numpy(np.asarray(self._run(arrays), dtype=np.float32))
        features["token_embeddings"] = hidden.to(features["input_ids"].device)
        return features


def export_key(names: Sequence[str]) -> str:
    """A short hash of what an export depends on besides the weights: input names, opset, exporter version.

    Examples:
        >>> export_key(["input_ids", "attention_mask"]) == export_key(["input_ids", "attention_mask"])
        True
        >>> export_key(["input_ids", "attention_mask"]) == export_key(["input_ids", "attention_mask", "token_type_ids"])
        False
    """
    return hashlib.sha256(f"{','.join(names)}|opset{OPSET}|torch{torch.__version__}".encode()).hexdigest()[:8]


def _export_dir(model: nn.Module, names: Sequence[str], options: dict[str, Any]) -> Path:
    if options.get("export_dir"):
        return Path(options["export_dir"])
    root = Path(os.environ.get("COLBERT_RETRIEVAL_CACHE", Path.home() / ".cache" / "colbert_retrieval"))
    return root / "exports" / f"{export_fingerprint(model)}-{export_key(names)}"


def _declared(declared: Sequence[str], names: Sequence[str], path: Path) -> list[str]:
    """The graph's inputs, in its order; an input the tokenizer does not give means a stale or foreign export."""
    if missing := [name for name in declared if name not in names]:
        msg = f"The export {path} needs inputs {missing} that the tokenizer does not give ({list(names)})."
        raise RuntimeError(msg)
    return list(declared)


def _examples(names: Sequence[str]) -> tuple[Tensor, ...]:
    return tuple((torch.zeros if name == "token_type_ids" else torch.ones)(2, 8, dtype=torch.long) for name in names)


#: One export silences stdout at a time: ``sys.stdout`` is the process's, and two interleaved swaps would leave it
#: on a sink.
_QUIETING = threading.RLock()


def _still_ours(stream: Any, sink: io.StringIO) -> bool:
    """Whether ``sys.stdout`` is still the sink (or rich's proxy of it, which NNCF's progress display may leave)."""
    return stream is sink or getattr(stream, "rich_proxied_file", None) is sink


@contextlib.contextmanager
def _quiet() -> Any:
    """Exporters' notices (tracer warnings, quantiser hints, NNCF tables) are not the user's to act on.

    ``sys.stdout`` goes to a sink for the call and comes back only if it is still that sink: a stream that
    something else put there meanwhile (another thread's capture, a test's ``capsys``) is left as it is, where
    ``contextlib.redirect_stdout`` would put back the stream of the moment the export started.
    """
    previous_level = logging.root.manager.disable
    with _QUIETING:
        logging.disable(logging.WARNING)
        sink, previous = io.StringIO(), sys.stdout
        sys.stdout = sink
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                yield
        finally:
            if _still_ours(sys.stdout, sink):
                sys.stdout = previous
            logging.disable(previous_level)


def _write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".partial-{os.getpid()}-{path.name}")
    with _quiet():
        write(partial)
    for sibling in partial.parent.glob(partial.stem + ".*"):  # OpenVINO writes .xml and .bin together
        sibling.replace(path.with_suffix(sibling.suffix))


def _onnx_runtime(
    model: nn.Module, names: Sequence[str], folder: Path, precision: str, options: dict
) -> BackendRuntime:
    ort = _require("onnxruntime", "onnx")
    fp32 = folder / "onnx" / "model.onnx"
    if not fp32.exists():
        axes = {name: {0: "batch", 1: "tokens"} for name in (*names, "last_hidden_state")}

        def export(path: Path) -> None:
            torch.onnx.export(
                _LastHiddenState(model, names).eval(),
                _examples(names),
                str(path),
                input_names=list(names),
                output_names=["last_hidden_state"],
                dynamic_axes=axes,
                opset_version=OPSET,
                dynamo=False,
            )

        _write_atomically(fp32, export)
    path = fp32
    if precision == "int8":
        path = folder / "onnx" / "model_qint8_dynamic.onnx"
        if not path.exists():
            quantization = _require("onnxruntime.quantization", "onnx")
            _write_atomically(
                path,
                lambda p: quantization.quantize_dynamic(
                    str(fp32), str(p), weight_type=quantization.QuantType.QInt8, per_channel=True
                ),
            )
    settings = ort.SessionOptions()
    settings.intra_op_num_threads = int(options.get("threads") or torch.get_num_threads())
    settings.log_severity_level = 3
    provider = options.get("provider") or "CPUExecutionProvider"
    session = ort.InferenceSession(str(path), settings, providers=[provider])
    declared = _declared([graph_input.name for graph_input in session.get_inputs()], names, path)
    return BackendRuntime(lambda arrays: session.run(None, dict(zip(declared, arrays)))[0], declared, path)


def _calibration_tag(texts: Sequence[str]) -> str:
    """A short hash of calibration texts: an int8 export calibrated on other texts is another file."""
    return hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:8]


def _openvino_runtime(
    model: nn.Module,
    names: Sequence[str],
    folder: Path,
    precision: str,
    options: dict,
    calibrate: Callable,
    calibration_name: str | None = None,
) -> BackendRuntime:
    ov = _require("openvino", "openvino")
    fp32 = folder / "openvino" / "openvino_model.xml"
    if not fp32.exists():

        def convert(path: Path) -> None:
            converted = ov.convert_model(_LastHiddenState(model, names).eval(), example_input=_examples(names))
            ov.save_model(converted, str(path), compress_to_fp16=False)

        _write_atomically(fp32, convert)
    path = fp32
    core = ov.Core()
    if precision == "int8":
        texts = list(options.get("calibration_texts") or [])
        tag = calibration_name or _calibration_tag(texts)
        name = f"openvino_model_qint8_quantized-{tag}.xml" if texts else "openvino_model_qint8_weights.xml"
        path = folder / "openvino" / name
        if not path.exists():
            nncf = _require("nncf", "openvino")
            batches = [[f[n].numpy() for n in names] for f in calibrate(texts)] if texts else []

            def quantize(target: Path) -> None:
                source = core.read_model(str(fp32))
                if batches:
                    size = sum(b[0].shape[0] for b in batches)
                    dataset = nncf.Dataset(batches)
                    quantized = nncf.quantize(source, dataset, model_type=nncf.ModelType.TRANSFORMER, subset_size=size)
                else:
                    quantized = nncf.compress_weights(source)
                ov.save_model(quantized, str(target), compress_to_fp16=False)

            _write_atomically(path, quantize)
    config: dict[str, Any] = {"INFERENCE_NUM_THREADS": int(options.get("threads") or torch.get_num_threads())}
    if precision != "int8":  # int8: the plugin's default (bf16 where native) for the layers left in float
        config["INFERENCE_PRECISION_HINT"] = "bf16" if precision == "bfloat16" else "f32"
    compiled = core.compile_model(core.read_model(str(path)), "CPU", config)
    requests = threading.local()  # an infer request serves one call at a time: one per calling thread

    def run(arrays: list[np.ndarray]) -> np.ndarray:
        request = getattr(requests, "request", None)
        if request is None:
            request = requests.request = compiled.create_infer_request()
        return np.array(request.infer(arrays)[0], dtype=np.float32)  # a copy: the request reuses its buffer

    return BackendRuntime(run, names, path)


def load_runtime(
    model: nn.Module,
    input_names: Sequence[str],
    backend: str,
    precision: str,
    options: dict[str, Any] | None,
    calibrate: Callable[[list[str]], list[dict[str, Tensor]]],
    calibration_name: str | None = None,
) -> BackendRuntime:
    """Export the transformer ``model`` once (or reuse the export) and open it in ``backend``'s runtime.

    Args:
        model: the transformers model inside the sentence-transformers ``Transformer`` module.
        input_names: the tokenizer's inputs among ``input_ids``, ``attention_mask``, ``token_type_ids``.
        backend: ``"onnx"`` or ``"openvino"``.
        precision: ``"float32"``, ``"bfloat16"`` (OpenVINO) or ``"int8"``.
        options: ``export_dir``, ``calibration_texts`` (OpenVINO int8), ``provider`` (ONNX), ``threads``.
        calibrate: turns calibration texts into batches of tokenised features.
        calibration_name: names the calibrated int8 export (None: a hash of the calibration texts, so other
            texts make another export); the bulk path's ``"auto"`` export is calibrated once and reused.

    Returns:
        The runtime (call it with the tokenised features).

    Raises:
        InvalidArgumentError: an unknown option.
        ImportError: the backend's extra is not installed (the message names the pip line).
    """
    options = dict(options or {})
    if unknown := set(options) - _OPTIONS:
        raise InvalidArgumentError(f"Unknown backend_options {sorted(unknown)}; use some of {sorted(_OPTIONS)}.")
    names = [name for name in _INPUTS if name in input_names]
    folder = _export_dir(model, names, options)
    if backend == "onnx":
        return _onnx_runtime(model, names, folder, precision, options)
    return _openvino_runtime(model, names, folder, precision, options, calibrate, calibration_name)
