"""Shared helpers: the offline default model (loaded once) and a small corpus, from colbert_retrieval.testing."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from colbert_retrieval.testing import SAMPLE_TEXTS, shared_model

TEXTS = SAMPLE_TEXTS

__all__ = ["TEXTS", "shared_model"]
