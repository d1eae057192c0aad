"""Embeddings equal PyLate 1.6's on a checkpoint PyLate converted and saved (fixture made by PyLate itself)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from colbert_retrieval import ColBERT

QUERIES = ["what causes scurvy?", "hello, how are you?", "statins and cancer risk"]
DOCUMENTS = [
    "scurvy is a disease from a lack of vitamin c.",
    "paris is the capital city of france, on a river.",
    "statins lower cholesterol; study of patients with heart disease and cancer risk " * 3,
]


def sort_rows(a: np.ndarray) -> np.ndarray:
    return a[np.lexsort(np.round(a, 5).T[::-1])]


def test_unpooled_and_pooled_embeddings_equal_pylate(pylate_tiny_dir: Path) -> None:
    reference = np.load(pylate_tiny_dir / "pylate_embeddings.npz")
    model = ColBERT(str(pylate_tiny_dir), device="cpu", inference_precision="float32")  # PyLate runs float32
    queries = model.encode(QUERIES, is_query=True)
    documents = model.encode(DOCUMENTS, is_query=False)
    pooled = model.encode(DOCUMENTS, is_query=False, pool_factor=2)
    for i, q in enumerate(queries):
        assert q.shape == reference[f"q{i}"].shape == (12, 8)
        np.testing.assert_allclose(q, reference[f"q{i}"], atol=1e-5)
    for i, d in enumerate(documents):
        np.testing.assert_allclose(d, reference[f"d{i}"], atol=1e-5)
    for i, p in enumerate(pooled):
        assert p.shape == reference[f"p{i}"].shape
        np.testing.assert_allclose(p[0], reference[f"p{i}"][0], atol=1e-5)  # protected [CLS] first
        np.testing.assert_allclose(sort_rows(p), sort_rows(reference[f"p{i}"]), atol=1e-5)
