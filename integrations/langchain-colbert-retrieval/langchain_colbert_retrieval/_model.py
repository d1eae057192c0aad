"""Resolve the ``model`` argument of the adapters (a ColBERT, a name or path, or None for the default)."""

from __future__ import annotations

from typing import Any

from colbert_retrieval import ColBERT, default_model

__all__ = ["resolve_model"]


def resolve_model(model: Any, device: str | None = None) -> ColBERT:
    """A ``ColBERT`` instance from a model, a hub name or local path, or None (the offline default model)."""
    if isinstance(model, ColBERT):
        return model
    if model is None:
        return default_model(device=device)
    if isinstance(model, str):
        return ColBERT(model, device=device)
    msg = f"model must be a colbert_retrieval.ColBERT, a model name or path, or None; got {type(model).__name__}."
    raise TypeError(msg)
