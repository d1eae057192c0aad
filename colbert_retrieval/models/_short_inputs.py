"""How short calls (a query, a few texts) run on the CPU: their own runtime and an intra-op thread budget.

A search service never runs alone. Torch's intra-op pool (OpenMP) splits each of the ~100 small operations of
a query's forward pass across every core and waits at a barrier after each; when another process holds a
core, every barrier waits for the OS to give the thread back, and one query that takes 12 ms on an idle
machine takes 230 ms beside two other torch processes. A call with few tokens gains little from a second
thread anyway, so short calls run on their own runtime with ``threads`` intra-op threads (1 by default):
ONNX Runtime in float32 where it is installed (it is a dependency of the package), computed on the calling
thread, so concurrent searches in one process each use their own core and share the weights; bulk encoding
(long calls) keeps torch on every core. Measured in ``benchmarks/search_under_load.py``
(docs/benchmarks/search-under-load.md).

``ShortInputs(runtime="auto", threads=1, max_tokens=256)`` is the setting (``ColBERT(short_inputs=...)``,
``model.short_inputs = ...``, or the environment variable ``COLBERT_RETRIEVAL_SHORT_INPUTS``, e.g.
``"runtime=torch,threads=2"``; ``"runtime=off"`` restores the single path); ``resolve_short_path`` says what a
model will do with it, shown by ``colbert-retrieval info --hardware`` and ``model.resolved_short_path()``.

Examples:
    >>> from colbert_retrieval.models._precision import PrecisionChoice
    >>> settings = ShortInputs(runtime="torch", threads=1)
    >>> str(resolve_short_path(settings, "torch", PrecisionChoice("float32", "explicit"), "cpu"))
    'torch float32, 1 thread, calls up to 256 tokens (runtime=torch)'
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from typing import Any

import torch
from torch.optim.optimizer import register_optimizer_step_post_hook

from colbert_retrieval.errors import InvalidArgumentError
from colbert_retrieval.models._precision import SUPPORTED_PRECISIONS, PrecisionChoice

__all__ = [
    "ENVIRONMENT",
    "ShortInputs",
    "ShortPath",
    "optimizer_steps",
    "resolve_short_path",
    "thread_budget",
]

#: Environment variable read when a model is built without ``short_inputs=`` (``key=value`` pairs, commas).
ENVIRONMENT = "COLBERT_RETRIEVAL_SHORT_INPUTS"
RUNTIMES = ("auto", "torch", "onnx", "openvino", "off")


@dataclass(frozen=True)
class ShortInputs:
    """How calls of at most ``max_tokens`` tokens (padded batch) run on the CPU.

    Attributes:
        runtime: ``"auto"`` (the model's backend if it is ONNX or OpenVINO; an explicit non-float32 torch
            precision stays on torch; else ONNX Runtime float32 if installed, else torch), ``"torch"``,
            ``"onnx"``, ``"openvino"``, or ``"off"`` (short calls take the same path as long ones).
        threads: intra-op threads of one short call (concurrent calls each get their own).
        max_tokens: rows x padded length of the largest call that counts as short (a query is 32 tokens).

    Examples:
        >>> ShortInputs.of({"threads": 2})
        ShortInputs(runtime='auto', threads=2, max_tokens=256)
        >>> ShortInputs.parse("runtime=off").runtime
        'off'
    """

    runtime: str = "auto"
    threads: int = 1
    max_tokens: int = 256

    def __post_init__(self) -> None:
        if self.runtime not in RUNTIMES:
            raise InvalidArgumentError(f"Unknown short_inputs runtime {self.runtime!r}; use one of {RUNTIMES}.")
        for name in ("threads", "max_tokens"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidArgumentError(f"short_inputs {name} must be an integer >= 1, got {value!r}.")

    @classmethod
    def of(cls, value: ShortInputs | Mapping[str, Any] | str | None) -> ShortInputs:
        """The setting from an instance, a dict of its fields, a ``key=value`` string, or None (environment)."""
        if isinstance(value, ShortInputs):
            return value
        if value is None:
            return cls.parse(os.environ.get(ENVIRONMENT, ""))
        if isinstance(value, str):
            return cls.parse(value)
        if isinstance(value, Mapping):
            names = {field.name for field in fields(cls)}
            if unknown := set(value) - names:
                raise InvalidArgumentError(f"Unknown short_inputs keys {sorted(unknown)}; use some of {sorted(names)}.")
            return cls(**dict(value))
        msg = f"short_inputs takes a ShortInputs, a dict of its fields or a 'key=value,...' string, not {value!r}."
        raise InvalidArgumentError(msg)

    @classmethod
    def parse(cls, text: str) -> ShortInputs:
        """``"runtime=torch,threads=2"`` -> ``ShortInputs`` (empty: the defaults)."""
        values: dict[str, Any] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, sep, raw = part.partition("=")
            if not sep:
                raise InvalidArgumentError(f"short_inputs {text!r}: write key=value pairs, e.g. 'runtime=torch'.")
            name, raw = name.strip(), raw.strip()
            values[name] = int(raw) if raw.isdigit() else raw
        return cls.of(values)


@dataclass(frozen=True)
class ShortPath:
    """What a short call runs: the runtime, its precision and thread budget, and why."""

    runtime: str
    precision: str
    threads: int
    max_tokens: int
    reason: str

    def __str__(self) -> str:
        plural = "" if self.threads == 1 else "s"
        return (
            f"{self.runtime} {self.precision}, {self.threads} thread{plural}, calls up to {self.max_tokens} tokens "
            f"({self.reason})"
        )


@functools.cache  # asked on every call
def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def resolve_short_path(
    settings: ShortInputs,
    backend: str,
    choice: PrecisionChoice,
    device: str | torch.device,
    weights_dtype: torch.dtype = torch.float32,
) -> ShortPath | None:
    """The path short calls take on ``device`` for a model on ``backend`` whose long calls run in ``choice``.

    ``weights_dtype``: a model cast to bf16 / fp16 keeps torch for short calls too (``auto``).

    Returns:
        None where short calls take the long path: ``runtime="off"`` or a device other than the CPU.

    Examples:
        >>> from colbert_retrieval.models._precision import PrecisionChoice
        >>> resolve_short_path(ShortInputs(), "torch", PrecisionChoice("float32", "explicit"), "cuda") is None
        True
    """
    if settings.runtime == "off" or torch.device(device).type != "cpu":
        return None
    runtime, reason = settings.runtime, f"runtime={settings.runtime}"
    if runtime == "auto":
        if backend != "torch":
            runtime, reason = backend, "auto: the model's backend"
        elif weights_dtype != torch.float32:
            runtime, reason = "torch", "auto: the weights' dtype stays on torch"
        elif choice.reason == "explicit" and choice.precision != "float32":
            runtime, reason = "torch", f"auto: explicit {choice.precision} stays on torch"
        elif _installed("onnxruntime") and _installed("onnx"):
            runtime, reason = "onnx", "auto: ONNX Runtime"
        else:
            runtime, reason = "torch", "auto: onnxruntime or onnx not installed"
    precision = choice.precision if choice.precision in SUPPORTED_PRECISIONS[runtime] else "float32"
    if runtime == "onnx" and backend == "torch" and choice.reason != "explicit":
        precision = "float32"  # auto: ONNX Runtime has no fast bf16 CPU path; float32 is exact and faster
    return ShortPath(runtime, precision, settings.threads, settings.max_tokens, reason)


@functools.cache
def _per_thread_counts() -> bool:
    """Whether ``torch.set_num_threads`` sets only the calling thread's count (OpenMP + MKL builds)."""
    return torch.backends.openmp.is_available() and torch.backends.mkl.is_available()


@contextlib.contextmanager
def thread_budget(threads: int) -> Iterator[None]:
    """Run torch's operations on this thread with ``threads`` intra-op threads, then restore its count.

    Torch's count is per thread once a thread has run an operation (OpenMP's ``nthreads-var`` and MKL's
    thread-local setting), so another thread's calls are not affected; ``torch.set_num_threads`` also
    records the value new threads start with, and the exit writes this thread's previous count back. Nothing
    changes when the thread already runs with at most ``threads``, nor on torch builds without OpenMP and MKL
    (ARM, macOS), where ``torch.set_num_threads`` rebuilds a thread pool that all threads share.

    Examples:
        >>> before = torch.get_num_threads()
        >>> with thread_budget(1):
        ...     torch.get_num_threads()
        1
        >>> torch.get_num_threads() == before
        True
    """
    previous = torch.get_num_threads()
    if previous <= threads or not _per_thread_counts():
        yield
        return
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


_steps = 0
_watching = threading.Lock()
_watched = False


def _count_step(*_: Any) -> None:
    global _steps
    _steps += 1


def optimizer_steps() -> int:
    """Optimiser steps taken in this process since the first call (a short runtime's export is stale after one).

    The first call registers torch's global optimiser step hook (an observer: it changes no optimiser).

    Examples:
        >>> before = optimizer_steps()
        >>> weight = torch.nn.Parameter(torch.ones(2))
        >>> optimizer = torch.optim.SGD([weight], lr=0.1)
        >>> weight.sum().backward()
        >>> optimizer.step()
        >>> optimizer_steps() - before
        1
    """
    global _watched
    if not _watched:
        with _watching:
            if not _watched:
                register_optimizer_step_post_hook(_count_step)
                _watched = True
    return _steps
