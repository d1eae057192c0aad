"""What runs a ColBERT's forward pass: engine, precision and threads, its exports and caches, and its fallbacks.

A :class:`~colbert_retrieval.models.ColBERT` holds one :class:`EncoderRuntime` (``model.runtime``) and asks it;
the model itself keeps no runtime state (as sentence-transformers' models record which backend they use and its
``backend/`` package does the work). The runtime decides, per call:

* the device check of sentence-transformers, done once per device and placement (``.to``, ``.half`` move it);
* the precision of the forward pass (``inference_precision``, resolved per device);
* whether a call is short (a query, a few texts) and then runs on its own runtime and thread budget
  (``short_inputs``); a short runtime whose export, session or call fails falls back to torch for that model
  with one warning, and one whose weights changed since its export runs on torch until reassigned;
* whether a bulk document call runs on the int8 path calibrated and checked on the user's documents
  (``bulk_path``, :mod:`colbert_retrieval.models._bulk`), decided once, falling back where it fails or disagrees;
* the exported transformer of a non-torch ``backend`` (ONNX Runtime, OpenVINO), opened once and reused.

The model records which engine and precision it uses (``backend``, ``inference_precision``,
``backend_options``, as sentence-transformers' models record ``backend``); the runtime reads them from it.

Examples:
    >>> runtime = EncoderRuntime({"runtime": "torch"})
    >>> runtime.short_inputs.runtime
    'torch'
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from typing import Any

import torch
from sentence_transformers.base.modules import Normalize, Transformer

from colbert_retrieval import scores
from colbert_retrieval.models._bulk import (
    CALIBRATION_TEXTS,
    CHECK_TEXTS,
    MIN_TEXTS,
    Agreement,
    BulkPath,
    agreement,
    bulk_unavailable,
    pseudo_queries,
    spread,
)
from colbert_retrieval.models._exported_runtimes import BackendRuntime, load_runtime
from colbert_retrieval.models._precision import PrecisionChoice, forward_precision, resolve_inference_precision
from colbert_retrieval.models._settings import transformer_of
from colbert_retrieval.models._short_inputs import (
    ShortInputs,
    ShortPath,
    optimizer_steps,
    resolve_short_path,
    thread_budget,
)

#: The model these functions take: a ``colbert_retrieval.ColBERT`` (not imported: it imports this module).
ColBERT = Any

__all__ = ["EncoderRuntime"]

#: Held while a runtime is exported or opened (rare; a per-object lock would not survive deepcopy/pickle).
#: Re-entrant: deciding the bulk path encodes queries, which may open the short path's runtime.
_OPENING = threading.RLock()

RuntimeKey = tuple[str, str, "int | None"]


def _cause(error: Exception) -> str:
    """An optional runtime's failure as users read it: its type and the start of its message."""
    return f"{type(error).__name__}: {str(error).strip()[:300]}"


def _stays_on_torch(default: str, reason: str) -> BulkPath:
    """The default bulk path, said once: a warning naming why the int8 one was not kept."""
    warnings.warn(f"Bulk document encoding stays on torch {default}: {reason}.", RuntimeWarning, stacklevel=7)
    return BulkPath("torch", default, reason)


def _calibration(model: ColBERT) -> Callable[[list[str]], list[dict[str, Any]]]:
    """Turns calibration texts into tokenised document batches of 16 (what an int8 export calibrates on)."""

    def batches(texts: list[str]) -> list[dict[str, Any]]:
        return [model.preprocess(texts[i : i + 16], prompt="", task="document") for i in range(0, len(texts), 16)]

    return batches


class EncoderRuntime:
    """How one model's forward passes run: short-call settings, opened exports, fallbacks, placement caches.

    Args:
        short_inputs: how short calls run (:class:`ShortInputs`, a dict of its fields, a runtime name or None).
    """

    def __init__(self, short_inputs: ShortInputs | dict[str, Any] | str | None = None) -> None:
        self._short_inputs = ShortInputs.of(short_inputs)
        self._opened: dict[RuntimeKey, tuple[BackendRuntime, tuple[int, ...]]] = {}
        self._failures: dict[str, str] = {}  # optional short-call runtime -> why it fell back to torch
        self._weights_moved = False
        self._epoch = 0  # placements seen (.to, .cuda, .half)
        self._device_checked: tuple[tuple[Any, ...], torch.device] | None = None
        self._parameters: tuple[tuple[int, int], list[torch.nn.Parameter]] | None = None
        self._bulk: BulkPath | None = None  # decided at the first bulk document call (None: not yet)
        self._bulk_engine: tuple[BackendRuntime, tuple[int, ...]] | None = None  # the checked int8 runtime
        self._bulk_held: str | None = None  # why bulk calls keep the default path (hold_bulk)
        self._steps_at_start = optimizer_steps()

    # ----------------------------------------------------------------- state
    @property
    def short_inputs(self) -> ShortInputs:
        """How short calls run on the CPU."""
        return self._short_inputs

    @short_inputs.setter
    def short_inputs(self, value: ShortInputs | dict[str, Any] | str | None) -> None:
        # Assigning it again exports trained weights for the short path and retries a runtime that failed.
        self._short_inputs = ShortInputs.of(value)
        self._weights_moved = False
        self._failures = {}
        self._opened = {key: opened for key, opened in self._opened.items() if key[2] is None}

    def moved(self) -> None:
        """The model's tensors moved or were cast: check the device again, list the parameters again."""
        self._epoch += 1

    def __getstate__(self) -> dict[str, Any]:
        """Pickle / deepcopy without opened sessions (not picklable; reopened on use) or cached tensors.

        A copy decides its bulk path again (its first bulk call re-checks the calibrated export on its documents).
        """
        return {
            **self.__dict__,
            "_opened": {},
            "_device_checked": None,
            "_parameters": None,
            "_bulk": None,
            "_bulk_engine": None,
        }

    # ----------------------------------------------------------------- decisions
    def inference_device(self, model: ColBERT, device: Any, resolve: Callable[[Any], torch.device]) -> torch.device:
        """sentence-transformers' device resolution (``resolve``), done once per device and placement.

        Its walk over every tensor costs more than tokenising a query.
        """
        stamp = (None if device is None else str(device), self._epoch, len(model._modules))
        if self._device_checked is not None and self._device_checked[0] == stamp:
            return self._device_checked[1]
        resolved = resolve(device)
        self._device_checked = (stamp, resolved)
        return resolved

    def precision(self, model: ColBERT, device: Any = None) -> PrecisionChoice:
        """The precision the forward pass takes on ``device`` (None: the model's) and why."""
        device = device if device is not None else model.device
        dtype = next(model.parameters()).dtype
        return resolve_inference_precision(model.inference_precision, model.backend, device, dtype)

    def short_path(self, model: ColBERT, device: Any = None) -> ShortPath | None:
        """The runtime, precision and thread budget of short calls on ``device`` (None: the model's), or None."""
        device = device if device is not None else model.device
        choice = self.precision(model, device)
        dtype = next(model.parameters()).dtype
        short = resolve_short_path(self._short_inputs, model.backend, choice, device, dtype)
        if short is None or short.runtime in ("torch", model.backend):
            return short
        precision = choice.precision if choice.precision != "int8" else "float32"
        if short.runtime in self._failures:
            reason = f"{short.runtime} failed: {self._failures[short.runtime]}"
            return ShortPath("torch", precision, short.threads, short.max_tokens, reason)
        if self._short_weights_moved(model, short):
            return ShortPath("torch", precision, short.threads, short.max_tokens, "weights changed since the export")
        return short

    def weights_stamp(self, model: ColBERT) -> tuple[int, int, int, int]:
        """Changes when the transformer's weights change: replaced, written in place, or stepped by an optimiser.

        Cheap enough for every short call: the optimiser steps taken in this process (optimisers may write
        without moving the tensors' version counters), the parameters' count, addresses and version counters.
        """
        network = transformer_of(model).model
        key = (self._epoch, id(network))
        if self._parameters is None or self._parameters[0] != key:  # listing walks every module: once per placement
            self._parameters = (key, list(network.parameters()))
        parameters = self._parameters[1]
        versions = sum(p._version for p in parameters)
        return optimizer_steps(), len(parameters), sum(p.data_ptr() for p in parameters), versions

    def _short_weights_moved(self, model: ColBERT, short: ShortPath) -> bool:
        """Whether the weights changed since the short path's export (then it runs on torch, not re-exported).

        Re-exporting after every change would write a new export per evaluation while training; assigning
        ``model.short_inputs`` again (or reloading the model) exports the new weights.
        """
        if not self._weights_moved:
            opened = self._opened.get((short.runtime, short.precision, short.threads))
            self._weights_moved = opened is not None and opened[1] != self.weights_stamp(model)
        return self._weights_moved

    # ----------------------------------------------------------------- bulk document calls
    def hold_bulk(self, reason: str) -> None:
        """Keep bulk document calls on the default path from now on (``reason`` is shown by the model).

        Fine-tuning holds it so that every checkpoint is evaluated on the same numeric path.
        """
        self._bulk_held = reason

    def _bulk_blocked(self, model: ColBERT, device: Any) -> str | None:
        """Why bulk document calls on ``device`` take the default path whatever their documents (None: they may not)."""
        if self._bulk_held is not None:
            return self._bulk_held
        if model.inference_precision != "auto":
            return f"explicit inference_precision={model.inference_precision!r}"
        if model.backend != "torch":
            return f"the model's backend ({model.backend})"
        if torch.device(device).type != "cpu":
            return "not on the CPU"
        if next(model.parameters()).dtype != torch.float32:
            return "the weights' dtype"
        if optimizer_steps() != self._steps_at_start:
            return "an optimiser stepped since the model was built (weights in training)"
        return None

    def describe_bulk(self, model: ColBERT, device: Any = None) -> BulkPath:
        """What bulk document calls on ``device`` (None: the model's) run on now, or will once decided, and why."""
        device = device if device is not None else model.device
        default = self.precision(model, device)
        if (blocked := self._bulk_blocked(model, device)) is not None:
            return BulkPath("torch", default.precision, blocked)
        if (unavailable := bulk_unavailable()) is not None:
            return BulkPath("torch", default.precision, f"auto: {unavailable}")
        if self._bulk is None:
            when = f"auto: calibrated and checked at the first call of {MIN_TEXTS}+ documents"
            return BulkPath("openvino", "int8", when)
        if self._bulk.runtime != "torch" and not self._bulk_engine_current(model):
            return BulkPath("torch", default.precision, "weights changed since the int8 export")
        return self._bulk

    def bulk_path(self, model: ColBERT, device: Any, task: str, texts: list[str]) -> BulkPath | None:
        """The int8 path for this call's forward passes, or None for the default path (see ``models._bulk``).

        The first document call of at least ``MIN_TEXTS`` texts decides (calibrates, checks) for the model.
        """
        if task != "document" or self._bulk_blocked(model, device) is not None:
            return None
        if self._bulk is None:
            if len(texts) < MIN_TEXTS:
                return None
            with _OPENING:
                if self._bulk is None:
                    self._bulk = self._decide_bulk(model, texts)
        return self._bulk if self._bulk.runtime != "torch" and self._bulk_engine_current(model) else None

    def _bulk_engine_current(self, model: ColBERT) -> bool:
        """Whether the checked int8 runtime is open and the weights are still those it was exported from."""
        return self._bulk_engine is not None and self._bulk_engine[1] == self.weights_stamp(model)

    def _decide_bulk(self, model: ColBERT, texts: list[str]) -> BulkPath:
        default = self.precision(model, "cpu").precision
        if (unavailable := bulk_unavailable()) is not None:
            return BulkPath("torch", default, f"auto: {unavailable}")
        calibration = spread(CALIBRATION_TEXTS, len(texts))
        others = sorted(set(range(len(texts))) - set(calibration)) or calibration
        checked = [texts[others[i]] for i in spread(CHECK_TEXTS, len(others))]
        stamp = self.weights_stamp(model)
        try:
            engine = self._open_calibrated(model, [texts[i] for i in calibration])
            verdict = self._check(model, engine, checked)
        except Exception as error:  # an optional fast path: never a crash
            return _stays_on_torch(default, f"openvino int8 failed: {_cause(error)}")
        if not verdict.passes:
            disagreed = f"int8 rankings disagreed with float32 on this call's documents ({verdict})"
            return _stays_on_torch(default, disagreed)
        self._bulk_engine = (engine, stamp)
        return BulkPath("openvino", "int8", f"auto: calibrated and checked on the first documents ({verdict})")

    def _open_calibrated(self, model: ColBERT, texts: list[str]) -> BackendRuntime:
        """OpenVINO's static int8 transformer calibrated on ``texts`` (an existing calibrated export is reused)."""
        names = model.tokenizer.model_input_names
        network = transformer_of(model).model
        options = {"calibration_texts": texts}
        return load_runtime(network, names, "openvino", "int8", options, _calibration(model), "auto")

    def _check(self, model: ColBERT, engine: BackendRuntime, texts: list[str]) -> Agreement:
        """MaxSim rankings of ``texts`` under float32 torch and ``engine``, for pseudo-queries drawn from them."""
        queries = model.encode(pseudo_queries(texts), is_query=True, convert_to_tensor=True)
        padded_queries, query_mask = scores.pad_embeddings(list(queries))
        features = model.preprocess(texts, prompt="", task="document")
        matrices = []
        for backend, precision, opened in (("torch", "float32", None), ("openvino", "int8", engine)):
            with torch.inference_mode():  # each path gets its own dict: the modules write into it
                out = self._forward_on(model, dict(features), "document", True, backend, precision, None, opened)
            masks = out["attention_mask"].bool()
            documents = [out["token_embeddings"][row][masks[row]] for row in range(len(texts))]
            padded, mask = scores.pad_embeddings(documents)
            matrices.append(scores.colbert_scores(padded_queries, padded, query_mask, mask))
        return agreement(*matrices)

    @staticmethod
    def is_short(features: dict[str, Any], short: ShortPath | None) -> ShortPath | None:
        """``short`` where this batch (rows x padded length) is a short call, else None."""
        return short if short is not None and features["input_ids"].numel() <= short.max_tokens else None

    # ----------------------------------------------------------------- engines
    def transformer(self, model: ColBERT, backend: str, precision: str, threads: int | None = None) -> BackendRuntime:
        """The exported transformer on ``backend`` in ``precision`` (``threads``: None, the backend options')."""
        key = (backend, precision, threads)
        checked = threads is None or backend == model.backend  # else short_path checks (falls back)
        opened = self._opened.get(key)
        if opened is not None and (not checked or opened[1] == self.weights_stamp(model)):
            return opened[0]
        with _OPENING:  # concurrent first calls export and open it once; changed weights: export again
            opened = self._opened.get(key)
            stamp = self.weights_stamp(model)
            if opened is None or (checked and opened[1] != stamp):
                names = model.tokenizer.model_input_names
                options = model.backend_options if threads is None else {**model.backend_options, "threads": threads}
                network = transformer_of(model).model
                runtime = load_runtime(network, names, backend, precision, options, _calibration(model))
                self._opened[key] = (runtime, stamp)
        return self._opened[key][0]

    def forward(
        self,
        model: ColBERT,
        features: dict[str, Any],
        task: str,
        normalize: bool,
        short: ShortPath | None = None,
        bulk: BulkPath | None = None,
    ) -> dict[str, Any]:
        """The model's modules over tokenised ``features``.

        A ``short`` call takes its own runtime and threads; a ``bulk`` one the checked int8 runtime.
        """
        if short is None:
            if bulk is not None and self._bulk_engine is not None:
                try:  # an optional fast runtime: a failing call falls back to the default path for good
                    engine = self._bulk_engine[0]
                    return self._forward_on(
                        model, dict(features), task, normalize, bulk.runtime, bulk.precision, None, engine
                    )
                except Exception as error:
                    default = self.precision(model, features["input_ids"].device).precision
                    reason = f"openvino int8 failed: {_cause(error)}"
                    self._bulk, self._bulk_engine = BulkPath("torch", default, reason), None
                    warnings.warn(
                        f"Bulk document encoding moves to torch {default}: {reason}.", RuntimeWarning, stacklevel=5
                    )
            return self._forward_on(model, features, task, normalize, model.backend, None, None)
        # The budget covers torch's modules too (the head around another runtime: measured 16 vs 22 ms p50 per
        # query beside two busy torch processes with and without it).
        with thread_budget(short.threads):
            if short.runtime in ("torch", model.backend):
                return self._forward_on(model, features, task, normalize, short.runtime, short.precision, short.threads)
            try:  # an optional fast runtime: its export, session or call failing must not fail the call
                return self._forward_on(
                    model, dict(features), task, normalize, short.runtime, short.precision, short.threads
                )
            except Exception as error:
                self._failures[short.runtime] = _cause(error)
                warnings.warn(
                    f"Short calls of this model ran on {short.runtime} and it failed "
                    f"({self._failures[short.runtime]}); they run on torch from now on (model."
                    "resolved_short_path() says why). Assign model.short_inputs again to retry.",
                    RuntimeWarning,
                    stacklevel=5,
                )
            fallback = self.short_path(model, features["input_ids"].device) or short  # torch, with the reason
            return self._forward_on(model, features, task, normalize, "torch", fallback.precision, fallback.threads)

    def _forward_on(
        self,
        model: ColBERT,
        features: dict[str, Any],
        task: str,
        normalize: bool,
        backend: str,
        precision: str | None,
        threads: int | None,
        engine: BackendRuntime | None = None,
    ) -> dict[str, Any]:
        device = features["input_ids"].device
        # A short call's precision is already resolved.
        choice = PrecisionChoice(precision, "short inputs") if precision is not None else self.precision(model, device)
        if normalize and backend == "torch" and choice.precision == "float32":
            return model(features, task=task)
        with forward_precision(choice if backend == "torch" else PrecisionChoice("float32", ""), device):
            for module in model:
                if isinstance(module, Normalize):
                    if not normalize:  # every module but the token-level Normalize
                        continue
                    features["token_embeddings"] = features["token_embeddings"].float()
                    with torch.autocast(device.type, enabled=False):
                        features = module(features)
                    continue
                if isinstance(module, Transformer) and backend != "torch":
                    engine = engine or self.transformer(model, backend, choice.precision, threads)
                    features = engine(features)
                    continue
                wants_task = "task" in getattr(module, "forward_kwargs", set())
                features = module(features, task=task) if wants_task else module(features)
        features["token_embeddings"] = features["token_embeddings"].float()
        return features
