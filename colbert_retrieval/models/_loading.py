"""One way to get a model: from a name, a folder, an instance, or nothing (the offline default).

The CLI, the index helpers and every framework adapter call :func:`load_model`, so a ``model=`` argument
means the same everywhere.

Examples:
    >>> from colbert_retrieval import load_model
    >>> model = load_model()  # the offline default
    >>> load_model(model) is model
    True
"""

from __future__ import annotations

from os import PathLike
from typing import Any

import torch

from colbert_retrieval.errors import InputTypeError, InvalidArgumentError
from colbert_retrieval.models._colbert import ColBERT
from colbert_retrieval.models._default import RUNTIME_OPTIONS, default_model

__all__ = ["check_device", "load_model"]


def check_device(device: str | None) -> None:
    """Raise :class:`InvalidArgumentError` unless ``device`` is None or a device this machine has.

    Examples:
        >>> check_device("cpu")
    """
    if device is None:
        return
    try:
        kind = torch.device(device).type
    except (RuntimeError, TypeError):
        msg = f"Unknown device {device!r}; use 'cpu', 'cuda', 'cuda:1', 'mps', ... (or leave it unset)."
        raise InvalidArgumentError(msg) from None
    available = {"cuda": torch.cuda.is_available, "mps": torch.backends.mps.is_available}
    if kind in available and not available[kind]():
        msg = f"Device {device!r} is not available on this machine; use device='cpu' (or leave it unset)."
        raise InvalidArgumentError(msg)


def load_model(
    model: ColBERT | str | PathLike[str] | None = None, *, device: str | None = None, **kwargs: Any
) -> ColBERT:
    """A :class:`ColBERT` from what a user passes as ``model=``.

    Args:
        model: a ``ColBERT`` (used as is, moved to ``device`` if one is given), a hub name or local folder
            (loaded with ``ColBERT(model, device=device, **kwargs)``), or None for :func:`default_model`.
        device: where to put the model (None: the model's own / the best available).
        **kwargs: more ``ColBERT`` constructor arguments for a name or folder (``revision``, ``token``,
            ``local_files_only``, ``trust_remote_code``, ``document_length``, ...); for the default model
            only the runtime options (``backend``, ``inference_precision``, ``backend_options``).

    Returns:
        The model.

    Raises:
        InputTypeError: ``model`` is of another type, or constructor arguments came with an instance.
        InvalidArgumentError: ``device`` is not a device name, or names one this machine does not have.
        ModelNotAvailableError: a name that is neither local, nor cached, nor reachable.
    """
    check_device(device)
    if isinstance(model, ColBERT):
        if kwargs:
            msg = f"Constructor arguments {sorted(kwargs)} only apply when loading by name; got a ColBERT instance."
            raise InputTypeError(msg)
        return model.to(device) if device else model
    if model is None:
        if fixed := sorted(set(kwargs) - set(RUNTIME_OPTIONS)):
            msg = (
                f"Constructor arguments {fixed} need a model name or folder; the default is fixed "
                f"(only {list(RUNTIME_OPTIONS)} apply to it)."
            )
            raise InputTypeError(msg)
        return default_model(device=device, **kwargs)
    if isinstance(model, (str, PathLike)):
        return ColBERT(str(model), device=device, **kwargs)
    msg = f"model must be a colbert_retrieval.ColBERT, a model name or folder, or None; got {type(model).__name__}."
    raise InputTypeError(msg)
