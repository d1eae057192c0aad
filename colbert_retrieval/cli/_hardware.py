"""What this machine offers and what the library will use on it (``colbert-retrieval info --hardware``).

Examples:
    >>> report = describe()
    >>> {"device", "pooling", "maxsim_dtype"} <= set(report)
    True
"""

from __future__ import annotations

import os
import platform
from importlib import metadata
from typing import Any

import torch

__all__ = ["cpu_flags", "describe"]

#: CPU instruction sets that matter for encoding and pooling speed.
FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8")


def cpu_flags() -> list[str]:
    """The :data:`FLAGS` this CPU has (Linux ``/proc/cpuinfo``; empty elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf8") as handle:
            for line in handle:
                if line.startswith("flags"):
                    present = set(line.split(":", 1)[1].split())
                    return [flag for flag in FLAGS if flag in present]
    except OSError:
        pass
    return []


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _short_inputs(device: torch.device) -> str:
    """How short calls (queries) run with the default setting here, and how to change it."""
    from colbert_retrieval.models import ShortInputs, resolve_inference_precision, resolve_short_path

    settings = ShortInputs.of(None)
    path = resolve_short_path(settings, "torch", resolve_inference_precision("auto", "torch", device), device)
    where = f"{path}" if path is not None else "the same path as long calls"
    return (
        f"{where}; long calls use {torch.get_num_threads()} torch threads; override with "
        "ColBERT(..., short_inputs={'runtime': ..., 'threads': ...}) or COLBERT_RETRIEVAL_SHORT_INPUTS"
    )


def _bulk_encoding(device: torch.device) -> str:
    """What bulk document calls (an ingest) run on with the default setting here, or what would be faster."""
    from colbert_retrieval.models import bulk_unavailable, resolve_inference_precision

    default = resolve_inference_precision("auto", "torch", device)
    if device.type != "cpu":
        return f"torch {default}"
    if (why := bulk_unavailable()) is not None:
        return (
            f"torch {default}: OpenVINO int8 would be faster (about 1.7x bf16 autocast and 3.5x float32 on NFCorpus "
            f"documents, docs/benchmarks/encode.md) but {why}"
        )
    return (
        "OpenVINO int8, calibrated on the first call of 128+ documents and kept only where its MaxSim rankings "
        f"agree with float32's (else torch {default}); model.resolved_bulk_path() says what a model decided; "
        "inference_precision='float32' or 'bfloat16' keeps torch"
    )


def describe() -> dict[str, Any]:
    """Device, precision, kernels and stores this process will use, and why."""
    from colbert_retrieval.models import resolve_inference_precision
    from colbert_retrieval.pooling import compiled_cpu_kernels
    from colbert_retrieval.scores import compute_dtype_for

    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    flags = cpu_flags()
    missing = 'not installed: pip install "colbert-retrieval[{}]"'
    numba_layer = None
    compiled = compiled_cpu_kernels()
    if compiled:
        import numba

        numba_layer = numba.config.THREADING_LAYER
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cpu_flags": flags,
        "cuda": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if cuda else [],
        "device": f"{device.type} ({'a CUDA GPU was found' if cuda else 'no CUDA GPU'})",
        "encoding_precision": f"{resolve_inference_precision('auto', 'torch', device)}; override with "
        "ColBERT(..., inference_precision=...)",
        "short_inputs": _short_inputs(device),
        "bulk_encoding": _bulk_encoding(device),
        "backends": {
            "torch": torch.__version__,
            "onnx (onnxruntime)": _version("onnxruntime") or missing.format("onnx"),
            "openvino": _version("openvino") or missing.format("openvino"),
        },
        "pooling": "batched Ward in torch on the GPU (lockstep)"
        if cuda
        else (
            f"compiled CPU kernels (numba {_version('numba')}, threading layer {numba_layer}; loaded from numba's "
            "cache at model load; with a cold cache a detached idle-priority process compiles them and small "
            "calls use torch meanwhile)"
            if compiled
            else "torch lockstep on the CPU (numba missing)"
        ),
        "maxsim_dtype": str(compute_dtype_for(device, torch.float32)).replace("torch.", ""),
        "stores": {
            "embedded (qdrant-edge-py)": _version("qdrant-edge-py"),
            "server (qdrant-client)": _version("qdrant-client"),
        },
    }
