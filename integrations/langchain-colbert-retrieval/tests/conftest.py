"""Test set-up of langchain-colbert-retrieval (shared helpers live in lc_shared.py)."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
