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

import torch

from colbert_retrieval.errors import InvalidArgumentError

__all__ = [
    "BACKENDS",
    "INFERENCE_PRECISIONS",
    "PrecisionChoice",
    "SUPPORTED_PRECISIONS",
    "check_runtime_options",
    "cpu_has_native_bf16",
    "forward_precision",
    "resolve_inference_precision",
]

#: Runtimes of the transformer's forward pass.
BACKENDS = ("torch", "onnx", "openvino")
#: Accepted ``inference_precision`` values.
INFERENCE_PRECISIONS = ("auto", "float32", "bfloat16", "float16", "int8")
#: The precisions each runtime can run.
SUPPORTED_PRECISIONS = {
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
    if inference_precision != "auto" and inference_precision not in SUPPORTED_PRECISIONS[backend]:
        msg = (
            f"inference_precision={inference_precision!r} is not available on backend={backend!r} "
            f"(it supports {SUPPORTED_PRECISIONS[backend]}); int8 runs on backend='onnx' or 'openvino'."
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
