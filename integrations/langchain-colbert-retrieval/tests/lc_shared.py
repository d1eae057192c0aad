"""Shared helpers: the offline default model (loaded once) and a small corpus."""

from __future__ import annotations

import os
from functools import lru_cache

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@lru_cache(maxsize=1)
def shared_model():
    """The offline default ColBERT model (one instance for every test)."""
    from colbert_retrieval import default_model

    return default_model(device="cpu")


TEXTS = [
    "Scurvy is a disease resulting from a lack of vitamin C.",
    "Citrus fruits such as oranges and lemons are rich in vitamin C.",
    "Statins lower LDL cholesterol and the risk of heart attacks.",
    "Paris is the capital and most populous city of France.",
    "Regular exercise improves blood pressure, sleep and mood.",
]
