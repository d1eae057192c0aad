"""The embedded store: crash safety, the folder lock, the 0.1.0 folder format and moving between stores."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from qdrant_client import QdrantClient

from colbert_retrieval import ColBERT
from colbert_retrieval.cli import main
from colbert_retrieval.errors import IndexMismatchError, StoreFormatError, StoreLockedError
from colbert_retrieval.qdrant import ColBERTIndex, Schema, Storage, Store, migrate
from colbert_retrieval.qdrant.backends import EdgeBackend, ServerBackend
from tests.qdrant.conftest import DOCS

MODEL = """
import sys, time, torch
from pathlib import Path
from colbert_retrieval import ColBERT
from colbert_retrieval.qdrant import ColBERTIndex, Schema

torch.manual_seed(0)
model = ColBERT(sys.argv[1], device="cpu", embedding_size=8, query_length=12, document_length=24)
index = ColBERTIndex(model, "docs", store=sys.argv[2], schema=Schema(pool_factor=1, model_name="tiny"))
"""


def _script(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(MODEL) + textwrap.dedent(body))
    return script


def _docs(n: int) -> list[dict[str, object]]:
    words = ["vitamin", "scurvy", "paris", "river", "heart", "diet", "study", "blood"]
    return [{"id": f"d{i}", "text": f"{words[i % 8]} {words[(i * 3) % 8]} study {i}"} for i in range(n)]


def _open(model: ColBERT, store: Path) -> ColBERTIndex:
    return ColBERTIndex(model, "docs", store=str(store), schema=Schema(pool_factor=1, model_name="tiny"))


def test_sigkill_during_ingest_loses_and_duplicates_nothing(
    tiny_colbert: ColBERT, tiny_bert_dir: Path, tmp_path: Path
) -> None:
    store, progress = tmp_path / "store", tmp_path / "progress"
    script = _script(
        tmp_path,
        f"""
        def documents():
            for i in range(10_000):
                if i % 10 == 0:
                    Path({str(progress)!r}).write_text(str(i))
                    time.sleep(0.02)
                yield {{"id": f"d{{i}}", "text": ["vitamin", "scurvy", "paris", "river", "heart", "diet",
                       "study", "blood"][i % 8] + " study " + str(i)}}

        index.add(documents(), chunk_size=10)
        """,
    )
    child = subprocess.Popen([sys.executable, str(script), str(tiny_bert_dir), str(store)])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not progress.exists() or int(progress.read_text() or 0) < 200):
        assert child.poll() is None, "the ingest process ended early"
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    index = _open(tiny_colbert, store)  # the lock died with the process
    stored = index.count()
    assert 100 <= stored < 10_000
    ids, offset = [], None
    while True:
        page, offset = index.backend.scroll(offset, 500)
        ids += [p.payload["id"] for p in page]
        if offset is None:
            break
    assert sorted(ids) == sorted(f"d{i}" for i in range(stored))  # every acknowledged chunk, in order, once
    words = ["vitamin", "scurvy", "paris", "river", "heart", "diet", "study", "blood"]
    resumed = [{"id": f"d{i}", "text": words[i % 8] + " study " + str(i)} for i in range(stored + 50)]
    summary = index.add(resumed, chunk_size=64)
    assert (summary.skipped, summary.documents) == (stored, 50) and index.count() == stored + 50
    index.close()


def test_second_process_gets_a_clear_error(tiny_colbert: ColBERT, tiny_bert_dir: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    index = _open(tiny_colbert, store)
    index.add(DOCS)
    script = _script(tmp_path, "")
    result = subprocess.run(
        [sys.executable, str(script), str(tiny_bert_dir), str(store)], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0 and "StoreLockedError" in result.stderr and "another process" in result.stderr
    with pytest.raises(StoreLockedError, match="another process"):
        _open(tiny_colbert, store)  # a second index object in this process, too
    index.close()
    _open(tiny_colbert, store).close()  # free again once closed


def test_a_0_1_0_folder_names_the_migration_and_migrates(
    tiny_colbert: ColBERT, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "old"
    client = QdrantClient(path=str(old))
    legacy = ColBERTIndex(
        tiny_colbert, "docs", store=client, schema=Schema(pool_factor=1, model_name="tiny", bm25=False)
    )
    legacy.add(DOCS)
    client.close()
    with pytest.raises(StoreFormatError, match=r"colbert-retrieval migrate --from-local"):
        _open(tiny_colbert, old)
    new = tmp_path / "new"
    assert main(["migrate", "--from-local", str(old), "--to-path", str(new), "--collection", "docs"]) == 0
    assert "5 documents copied" in capsys.readouterr().out
    index = _open(tiny_colbert, new)
    assert index.settings.has_bm25 and index.count() == 5
    hit = index.search("statins cholesterol", k=1, config={"bm25_weight": 1.0})[0]
    assert hit.id == "statins" and hit.scores["bm25"] > 0  # BM25 vectors were added from the stored text
    index.close()


def test_migrate_embedded_to_server_and_back_copies_points_exactly(tiny_colbert: ColBERT, tmp_path: Path) -> None:
    index = _open(tiny_colbert, tmp_path / "a")
    index.add(DOCS)
    source = index.backend
    client = QdrantClient(location=":memory:")
    server = ServerBackend(client, "copy")
    first = migrate(source, server, batch_size=2)
    assert (first.documents, first.skipped) == (5, 0)
    again = migrate(source, server, batch_size=2)  # resumable: nothing is copied twice
    assert (again.documents, again.skipped) == (0, 5) and server.count() == 5
    back = EdgeBackend(tmp_path / "b", "docs")
    migrate(server, back)
    ids = sorted(p.id for p in source.scroll(None, 100)[0])
    original = {p.id: p for p in source.retrieve(ids, with_vectors=True)}
    for copy in back.retrieve(ids, with_vectors=True):
        vectors = original[copy.id].vectors
        assert copy.payload == original[copy.id].payload
        np.testing.assert_array_equal(np.asarray(copy.vectors["colbert"]), np.asarray(vectors["colbert"]))
        np.testing.assert_allclose(np.asarray(copy.vectors["first_stage"]), np.asarray(vectors["first_stage"]))
        assert list(copy.vectors["bm25"].indices) == list(vectors["bm25"].indices)
    back.close()
    expected = [h.id for h in index.search("vitamin scurvy", k=3)]
    index.close()
    reopened = ColBERTIndex(
        tiny_colbert, "docs", store=str(tmp_path / "b"), schema=Schema(pool_factor=1, model_name="tiny")
    )
    assert [h.id for h in reopened.search("vitamin scurvy", k=3)] == expected
    reopened.close()
    with pytest.raises(IndexMismatchError, match="model_name"):
        other = EdgeBackend(None, "x")
        from dataclasses import replace

        from colbert_retrieval.qdrant._schema import StorageOptions

        other.create(replace(server.read_settings(), model_name="else"), StorageOptions())
        migrate(server, other)
    other.close()


def test_embedded_layout_and_schema(tiny_colbert: ColBERT, tmp_path: Path) -> None:
    import json

    index = ColBERTIndex(
        tiny_colbert, "docs", store=str(tmp_path / "store"), schema=Schema(pool_factor=1), storage=Storage(on_disk=True)
    )
    index.add(DOCS)
    folder = tmp_path / "store" / "docs"
    settings = json.loads((folder / "colbert_retrieval.json").read_text())["colbert_retrieval"]
    assert settings["dim"] == 8 and settings["bm25"]["language"] == "english"
    config = json.loads((folder / "shard" / "edge_config.json").read_text())
    assert set(config["vectors"]) == {"colbert", "first_stage"} and set(config["sparse_vectors"]) == {"bm25"}
    text = json.dumps(config).lower()
    assert "max_sim" in text and "float16" in text and "idf" in text and "cold" in text
    assert config["vectors"]["first_stage"]["quantization_config"]["scalar"]["type"] == "int8"
    assert index.embedded and index.backend.shard.info().points_count == 5
    index.close()
    with pytest.raises(ValueError, match="folder"):
        ColBERTIndex(tiny_colbert, "../escape", store=str(tmp_path / "store"))


def test_client_options_for_an_embedded_store_are_refused_not_dropped(tiny_colbert) -> None:
    import pytest

    from colbert_retrieval.errors import InvalidArgumentError
    from colbert_retrieval.qdrant import ColBERTIndex

    with pytest.raises(TypeError, match="collection_name"):  # a misspelt argument is Python's own error
        ColBERTIndex(tiny_colbert, "docs", store=":memory:", collection_name="other")  # type: ignore[call-arg]
    with pytest.raises(InvalidArgumentError, match="embedded store"):
        ColBERTIndex(tiny_colbert, "docs", store=Store(path=":memory:", options={"timeout": 5}))
    with pytest.raises(InvalidArgumentError, match="one of path, url or client"):
        Store(path="folder", url="http://localhost:6333")
