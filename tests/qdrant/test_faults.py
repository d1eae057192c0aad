"""Fault injection: a killed ingest, transient and permanent store faults, a full disk, a damaged store.

In every case nothing that was stored is lost, a re-run completes the ingest exactly once, or the error
says how to recover.
"""

from __future__ import annotations

import errno
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from colbert_retrieval import errors
from colbert_retrieval.qdrant import ColBERTIndex, Schema
from colbert_retrieval.qdrant.backends import _server as server

DOCS = [{"id": f"d{i}", "text": f"document number {i} on subject {i % 7}"} for i in range(64)]

CHILD = """
import sys
from colbert_retrieval import default_model
from colbert_retrieval.qdrant import ColBERTIndex, Schema
docs = [{"id": f"d{i}", "text": f"document number {i} on subject {i % 7}"} for i in range(int(sys.argv[2]))]
index = ColBERTIndex(default_model(), "docs", store=sys.argv[1], schema=Schema(pool_factor=2))
print("ready", flush=True)
for start in range(0, len(docs), 4):
    index.add(docs[start : start + 4], chunk_size=4)
index.close()
print("done", flush=True)
"""


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sigkill_during_ingest_loses_nothing_and_a_rerun_stores_each_document_once(
    tmp_path: Path, minilm, seed: int
) -> None:
    store = str(tmp_path / "store")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, store, str(len(DOCS))], stdout=subprocess.PIPE, env=env, text=True
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    time.sleep(random.Random(seed).uniform(0.05, 1.5))
    child.send_signal(signal.SIGKILL)
    child.wait()
    with ColBERTIndex(minilm, "docs", store=store) as index:
        partial = index.count()
        assert 0 <= partial <= len(DOCS)
        stored = index.get([d["id"] for d in DOCS])
        assert all(h.text == DOCS[int(h.id[1:])]["text"] for h in stored)  # what is there is intact
        summary = index.add(DOCS)
        assert summary.documents + summary.skipped == len(DOCS)
        assert index.count() == len(DOCS)
        assert sorted(h.id for h in index.get([d["id"] for d in DOCS])) == sorted(d["id"] for d in DOCS)


def _failing_upsert(index: ColBERTIndex, monkeypatch: pytest.MonkeyPatch, errors_to_raise: list[BaseException]) -> None:
    real = index.client.upsert

    def upsert(*args: object, **kwargs: object) -> None:
        if errors_to_raise:
            raise errors_to_raise.pop(0)
        real(*args, **kwargs)

    monkeypatch.setattr(index.client, "upsert", upsert)
    monkeypatch.setattr(server.time, "sleep", lambda _: None)  # no real backoff in tests


def test_transient_store_faults_are_retried(index: ColBERTIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    if index.embedded:
        pytest.skip("retries live in the server backend; the embedded engine has no network")
    _failing_upsert(index, monkeypatch, [ConnectionError("reset"), TimeoutError("slow")])
    summary = index.add(DOCS[:10])
    assert summary.documents == 10 and index.count() == 10


@pytest.mark.parametrize(
    "fault",
    [ValueError("the server refused the points"), OSError(errno.ENOSPC, "No space left on device")],
    ids=["permanent", "disk-full"],
)
def test_a_failed_write_keeps_what_was_stored_and_a_rerun_completes(
    index: ColBERTIndex, monkeypatch: pytest.MonkeyPatch, fault: BaseException
) -> None:
    index.add(DOCS[:8], chunk_size=4)
    real = index.backend.upsert
    calls = {"n": 0}

    def upsert(points: object) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise fault
        real(points)

    monkeypatch.setattr(index.backend, "upsert", upsert)
    with pytest.raises(type(fault)):
        index.add(DOCS[8:24], chunk_size=4)
    monkeypatch.setattr(index.backend, "upsert", real)  # the disk has room again / the server accepts
    survivors = index.get([d["id"] for d in DOCS[:24]])
    assert {h.id for h in DOCS_TEXT(survivors)} >= {d["id"] for d in DOCS[:8]}
    index.add(DOCS[:24], chunk_size=4)
    assert index.count() == 24
    assert sorted(h.id for h in index.get([d["id"] for d in DOCS[:24]])) == sorted(d["id"] for d in DOCS[:24])


def DOCS_TEXT(hits: list) -> list:
    by_id = {d["id"]: d["text"] for d in DOCS}
    assert all(h.text == by_id[h.id] for h in hits)
    return hits


def test_a_damaged_settings_file_names_the_recovery(tiny_colbert, tmp_path: Path) -> None:
    store = tmp_path / "store"
    with ColBERTIndex(tiny_colbert, "docs", store=str(store), schema=Schema(pool_factor=1)) as index:
        index.add(DOCS[:4])
    (store / "docs" / "colbert_retrieval.json").write_text("{ not json")
    with pytest.raises(errors.StoreFormatError, match="Restore it from a backup"):
        ColBERTIndex(tiny_colbert, "docs", store=str(store), schema=Schema(pool_factor=1))


def test_a_damaged_shard_names_the_recovery(tiny_colbert, tmp_path: Path) -> None:
    store = tmp_path / "store"
    with ColBERTIndex(tiny_colbert, "docs", store=str(store), schema=Schema(pool_factor=1)) as index:
        index.add(DOCS[:4])
    for config in (store / "docs" / "shard" / "segments").rglob("config.json"):
        config.write_text("not json")
    with pytest.raises(errors.StoreFormatError, match="could not be opened"):
        ColBERTIndex(tiny_colbert, "docs", store=str(store), schema=Schema(pool_factor=1))
