"""The Ray pipeline on a local Ray instance (2 CPU workers, tiny model, 300 documents).

Every target: Parquet shards + bulk load, the driver writing into an embedded index, and the workers writing
into a server stand-in (qdrant-client local mode shared through a file lock). One test kills an encoder actor
mid-run and checks the store ends with every document exactly once.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
from qdrant_client import QdrantClient

from colbert_retrieval.distributed import QdrantTarget, index_with_ray, load_shards, read_shard_settings
from colbert_retrieval.documents import Record, point_id
from colbert_retrieval.errors import TruncationWarning
from colbert_retrieval.models import overlong_documents
from colbert_retrieval.qdrant import SPANS_KEY, ColBERTIndex, Schema
from colbert_retrieval.testing import SharedLocalClient
from conftest import documents

pytestmark = pytest.mark.usefixtures("local_ray")


def expected_ids(n: int = 300) -> set[str]:
    return {point_id(Record(text="x", id=f"d{i}")) for i in range(n)}


def test_parquet_shards_then_bulk_load_match_single_process_ingest(tiny_colbert, corpus_jsonl, tmp_path: Path):
    shards = tmp_path / "shards"
    with pytest.warns(TruncationWarning, match="longer than the model reads"):
        summary = index_with_ray(corpus_jsonl, shards, model=tiny_colbert, num_workers=2, rows_per_call=64)
    assert (summary.documents, summary.skipped) == (300, 0)
    texts = [f"{d['title']} {d['text']}".strip() for d in documents()]
    assert summary.truncated.count == len(overlong_documents(tiny_colbert, texts)) > 0  # counted, never silent
    settings = read_shard_settings(shards)
    with ColBERTIndex(
        tiny_colbert, "docs", store=str(tmp_path / "store"), schema=Schema(pool_factor=settings.pool_factor)
    ) as index:
        loaded = load_shards(shards, index)
        assert (loaded.documents, index.count()) == (300, 300)
        with ColBERTIndex(tiny_colbert, "direct", store=":memory:") as direct:
            direct.add([{"id": d["_id"], "text": f"{d['title']} {d['text']}".strip()} for d in documents()[:20]])
            ids = [point_id(Record(text="x", id=f"d{i}")) for i in range(20)]
            ray_points = {p.id: p for p in index.backend.retrieve(ids, with_vectors=True)}
            direct_points = {p.id: p for p in direct.backend.retrieve(ids, with_vectors=True)}
            for i in ids:  # the same vectors and payload as the single-process ingest
                for name in ("colbert", "first_stage"):
                    np.testing.assert_allclose(
                        np.asarray(ray_points[i].vectors[name], dtype=np.float32),
                        np.asarray(direct_points[i].vectors[name], dtype=np.float32),
                        atol=2e-3,
                    )
                assert ray_points[i].payload == direct_points[i].payload
        assert load_shards(shards, index).documents == 0  # a second load writes nothing
    again = index_with_ray(corpus_jsonl, shards, model=tiny_colbert, num_workers=2, rows_per_call=64)
    assert (again.documents, again.skipped) == (0, 300)  # resumable: stored ids are skipped before encoding


def test_driver_writes_into_an_embedded_index(tiny_colbert, corpus_jsonl, tmp_path: Path):
    with ColBERTIndex(tiny_colbert, "docs", store=str(tmp_path / "store")) as index:
        index.add([{"id": "d0", "text": "note 0 vitamin c and scurvy number 0"}])
        with pytest.warns(TruncationWarning):
            summary = index_with_ray(corpus_jsonl, index, num_workers=2, rows_per_call=64)
        assert (summary.documents, summary.skipped) == (299, 1)
        texts = [f"{d['title']} {d['text']}".strip() for d in documents()[1:]]
        assert summary.truncated.count == len(overlong_documents(tiny_colbert, texts)) > 0
        assert index.count() == 300
        stored = index.backend.retrieve([point_id(Record(text="x", id="d7"))])[0].payload
        spans = stored.pop(SPANS_KEY)  # the encoder actors store span tables too: highlights work on Ray ingest
        assert stored == {"id": "d7", "text": "note 7 weather in the alps number 7" + " word" * 7, "metadata": {}}
        assert spans and len(spans) % 3 == 0


def _kill_one_encoder(killed: list[int], stop: threading.Event) -> None:
    """Wait until an encoder actor has worked for a moment, then SIGKILL it."""
    first_seen = None
    while not stop.is_set():
        for process in psutil.process_iter(["pid", "cmdline"]):
            if "EncoderActor" in " ".join(process.info["cmdline"] or []):
                first_seen = first_seen or time.monotonic()
                if time.monotonic() - first_seen > 4:
                    os.kill(process.info["pid"], signal.SIGKILL)
                    killed.append(process.info["pid"])
                    return
        time.sleep(0.2)


@pytest.mark.slow
def test_workers_write_to_a_server_and_a_killed_worker_duplicates_nothing(tiny_colbert, tmp_path: Path):
    import ray.data

    def slow(batch: dict) -> dict:  # a slow source, so the kill lands mid-run (local: pickled by value)
        time.sleep(0.5)
        return batch

    store = tmp_path / "server"
    target = QdrantTarget(None, "docs", connect=SharedLocalClient(str(store)))
    source = ray.data.from_items(documents()).map_batches(slow, batch_size=10, num_cpus=0)
    killed: list[int] = []
    stop = threading.Event()
    killer = threading.Thread(target=_kill_one_encoder, args=(killed, stop), daemon=True)
    killer.start()
    try:
        summary = index_with_ray(source, target, model=tiny_colbert, num_workers=2, rows_per_call=10)
    finally:
        stop.set()
        killer.join()
    assert killed, "no encoder actor was running long enough to be killed"
    assert summary.documents >= 300
    client = QdrantClient(path=str(store))
    try:
        assert client.count("docs").count == 300
        points, _ = client.scroll("docs", limit=1000, with_payload=True)
        assert {str(p.id) for p in points} == expected_ids()
        assert sorted(p.payload["id"] for p in points) == sorted(f"d{i}" for i in range(300))
    finally:
        client.close()


def test_cli_index_ray_to_parquet_then_load(corpus_jsonl, tmp_path: Path, capsys):
    from colbert_retrieval.cli import main

    lines = corpus_jsonl.read_text().splitlines()[:40]
    small = tmp_path / "small.jsonl"
    small.write_text("\n".join(lines) + "\n")
    shards, store = str(tmp_path / "shards"), str(tmp_path / "store")
    assert main(["index", str(small), "--ray", "--parquet", shards, "--num-workers", "2"]) == 0
    assert "40 documents written" in capsys.readouterr().out
    assert main(["load", shards, "--path", store]) == 0
    assert "40 documents written" in capsys.readouterr().out
    assert main(["load", shards, "--path", store]) == 0  # resumable: nothing left to write
    assert "0 documents written (40 unchanged, skipped)" in capsys.readouterr().out
    assert main(["search", "vitamin c and scurvy number 4", "--path", store, "-k", "1", "--json"]) == 0
    assert '"id": "d4"' in capsys.readouterr().out


def test_sources_need_ids_and_read_parquet_and_beir(tmp_path: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from colbert_retrieval.distributed import read_documents
    from colbert_retrieval.distributed._sources import record_json
    from colbert_retrieval.errors import InputFormatError, InputNotFoundError

    with pytest.raises(InputFormatError, match="needs an id per document"):
        record_json({"text": "no id here"})
    assert record_json({"id": 3, "text": "  "}) is None
    pq.write_table(pa.table({"id": [1, 2], "text": ["a b", "c d"], "lang": ["en", "fr"]}), tmp_path / "p.parquet")
    rows = read_documents(tmp_path / "p.parquet").take_all()
    assert sorted(r["record"] for r in rows) == [
        '{"id": 1, "text": "a b", "metadata": {"lang": "en"}}',
        '{"id": 2, "text": "c d", "metadata": {"lang": "fr"}}',
    ]
    beir = tmp_path / "beir"
    beir.mkdir()
    (beir / "corpus.jsonl").write_text('{"_id": "x", "title": "T", "text": "body"}\n')
    assert [r["record"] for r in read_documents(beir).take_all()] == ['{"id": "x", "text": "T body", "metadata": {}}']
    with pytest.raises(InputNotFoundError):
        read_documents(tmp_path / "missing.jsonl")
