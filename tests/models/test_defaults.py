from __future__ import annotations

import string

import numpy as np
import torch

from colbert_retrieval import default_model
from colbert_retrieval.models._default import SHIPPED, build_minilm_colbert


def head(model) -> torch.Tensor:
    return next(m for m in model if hasattr(m, "linear")).linear.weight.detach()


def test_shipped_configuration(minilm) -> None:
    assert (SHIPPED.head, SHIPPED.dim, SHIPPED.markers, SHIPPED.expansion) == ("orthogonal", 128, False, False)
    assert minilm.output_dimension == 128
    assert (minilm.query_prefix, minilm.document_prefix) == ("", "")
    assert not minilm.do_query_expansion and minilm.document_length == 256
    assert minilm.skiplist_words == list(string.punctuation)
    weight = head(minilm)
    assert weight.shape == (128, 384)
    torch.testing.assert_close(weight @ weight.T, torch.eye(128), atol=1e-5, rtol=0)


def test_default_model_is_identical_on_every_build(minilm) -> None:
    again = build_minilm_colbert(SHIPPED)
    torch.testing.assert_close(head(again), head(minilm), atol=0, rtol=0)
    text = "Scurvy is caused by a lack of vitamin C."
    np.testing.assert_array_equal(again.encode(text, is_query=False), minilm.encode(text, is_query=False))


def test_golden_values() -> None:
    minilm = default_model(device="cpu", inference_precision="float32")
    document = minilm.encode("Scurvy is caused by a lack of vitamin C.", is_query=False)
    query = minilm.encode("what causes scurvy?")
    assert document.shape == (13, 128) and query.shape == (8, 128)
    np.testing.assert_allclose(document[0, :4], [0.0434, 0.1213, 0.0206, 0.0926], atol=2e-4)
    np.testing.assert_allclose(document[3, :4], [-0.0833, -0.0258, 0.0230, 0.0456], atol=2e-4)
    assert abs(float(minilm.similarity([query], [document])[0, 0]) - 6.9418) < 2e-3
    fast = default_model(device="cpu", inference_precision="bfloat16")  # the auto path on bf16 CPUs
    np.testing.assert_allclose(
        fast.encode("Scurvy is caused by a lack of vitamin C.", is_query=False), document, atol=1e-2
    )


def test_loading_the_default_model_prints_nothing(tmp_path) -> None:
    """Also a fresh install's first process: the numba cache is empty, so the pooling kernels start compiling in
    the background; the pooled encode does not wait for them and the process exits cleanly mid-compile."""
    import os
    import subprocess
    import sys

    script = (
        "from colbert_retrieval import default_model; "
        "default_model().encode(['quiet', 'a second quiet document'], is_query=False, pool_factor=2)"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == "", result.stderr


def test_head_fingerprint_does_not_depend_on_the_thread_count() -> None:
    """A 1-thread process (a Ray actor, a CLI run with OMP_NUM_THREADS=1) builds the same head as a 2-thread one."""
    import os
    import subprocess
    import sys

    code = (
        "from colbert_retrieval import default_model;"
        "from colbert_retrieval.qdrant._schema import head_fingerprint;"
        "print(head_fingerprint(default_model()))"
    )
    prints = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env={**os.environ, "OMP_NUM_THREADS": threads},
            check=True,
        ).stdout.strip()
        for threads in ("1", "2")
    }
    assert len(prints) == 1


def test_collections_recorded_with_the_float32_head_still_open(minilm, tmp_path) -> None:
    from dataclasses import replace

    from colbert_retrieval.qdrant import ColBERTIndex, IndexSettings, Schema, settings_for
    from colbert_retrieval.qdrant._schema import StorageOptions
    from colbert_retrieval.qdrant.backends import EdgeBackend

    legacy = minilm.head_fingerprint_aliases[0]
    settings = settings_for(minilm, Schema(pool_factor=2))
    stored = IndexSettings.from_metadata(
        replace(settings, encoding={**settings.encoding, "head": legacy}).to_metadata()
    )
    backend = EdgeBackend(str(tmp_path / "store"), "old")
    backend.create(stored, StorageOptions())
    backend.close()
    with ColBERTIndex(minilm, "old", store=str(tmp_path / "store")) as index:
        assert index.settings.encoding["head"] == legacy and "_head_aliases" not in index.settings.encoding
