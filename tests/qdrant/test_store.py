"""A Store is the one address: its server fields (write ordering, cluster, API key) reach the backend (#36)."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import numpy as np
import pytest
from qdrant_client import QdrantClient
from qdrant_client import models as qm

from colbert_retrieval.errors import InvalidArgumentError
from colbert_retrieval.qdrant import ColBERTIndex, Store
from colbert_retrieval.qdrant.backends import make_backend

PACKAGE = Path(__file__).resolve().parents[2] / "colbert_retrieval"


def test_write_ordering_and_cluster_fields_reach_the_server_backend(tiny_colbert) -> None:
    client = QdrantClient(":memory:")
    store = Store(client=client, write_ordering="strong", shard_key_selector=None, replication_factor=2)
    backend = make_backend("docs", store)
    try:
        assert backend.write_ordering is qm.WriteOrdering.STRONG
        assert backend._cluster["replication_factor"] == 2
    finally:
        backend.close()
    # an index on that store writes with it (local mode accepts the ordering as a server does)
    with ColBERTIndex(tiny_colbert, "docs", store=store) as index:
        assert index.add([{"id": 1, "text": "vitamin C prevents scurvy"}]).documents == 1
        assert index.backend.write_ordering is qm.WriteOrdering.STRONG
        assert [h.id for h in index.search("scurvy", k=1)] == [1]
    client.close()


def test_write_ordering_is_checked_and_ignored_by_the_embedded_store(caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(InvalidArgumentError, match="weak, medium, strong"):
        Store(url="http://localhost:6333", write_ordering="eventual")
    with caplog.at_level("INFO"):
        make_backend("docs", Store(path=":memory:", write_ordering="strong")).close()
    assert "write_ordering is ignored by the embedded store" in caplog.text


def test_the_api_key_is_read_from_its_variable_when_a_client_opens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_QDRANT_KEY", "s3cret-key")
    store = Store(url="http://qdrant:6333", api_key_env="MY_QDRANT_KEY")
    assert store.key() == "s3cret-key"
    assert b"s3cret-key" not in pickle.dumps(store) and "s3cret-key" not in repr(store)
    assert Store(url="http://qdrant:6333", api_key="given", api_key_env="MY_QDRANT_KEY").key() == "given"
    assert Store(url="http://qdrant:6333").key() is None  # no variable named: the library reads none
    monkeypatch.delenv("MY_QDRANT_KEY")
    assert store.key() is None


def test_the_api_key_variable_is_read_in_one_place() -> None:
    """Every environment read of an API key goes through Store.key (the CLI, the Ray workers, migrate)."""
    reads = []
    for path in PACKAGE.rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"os\.environ(\.get|\[)|os\.getenv", line) and re.search(r"key", line, re.IGNORECASE):
                reads.append(f"{path.relative_to(PACKAGE)}:{number}")
    assert reads == ["qdrant/backends/_factory.py:" + str(_line_of_key_read())]


def _line_of_key_read() -> int:
    text = (PACKAGE / "qdrant" / "backends" / "_factory.py").read_text().splitlines()
    return next(i for i, line in enumerate(text, 1) if "os.environ.get(self.api_key_env)" in line)


def test_the_schema_is_built_from_loose_options_in_one_helper() -> None:
    """A `Schema(` of variables (options, arguments) is written once (cli/_values.schema_of); literals are examples."""
    places = []
    for path in PACKAGE.rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\bSchema\(\w+=[A-Za-z_]", line) and not re.search(r"Schema\(\w+=(True|False|None)\b", line):
                places.append(f"{path.relative_to(PACKAGE)}:{number}")
    assert len(places) == 1 and places[0].startswith("cli/_values.py"), places


def test_a_migrate_target_reads_its_own_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse

    from colbert_retrieval.cli._values import store_of

    monkeypatch.setenv("QDRANT_API_KEY", "source-key")
    monkeypatch.setenv("QDRANT_TARGET_API_KEY", "target-key")
    args = argparse.Namespace(from_path=None, from_url="http://a:6333", to_path=None, to_url="http://b:6333")
    assert store_of(args, "from_").key() == "source-key"
    assert store_of(args, "to_", "QDRANT_TARGET_API_KEY").key() == "target-key"
    assert np.array_equal([store_of(args, "to_").url], ["http://b:6333"])


def test_from_arguments_splits_the_index_arguments_from_the_client_ones(tiny_colbert) -> None:
    """Both frameworks' adapters open their index here (one split of the index's and QdrantClient's keywords)."""
    with ColBERTIndex.from_arguments(tiny_colbert, "docs", location=":memory:", storage="small", url=None) as index:
        assert index.store.embedded and index.store.path == ":memory:"
        assert index.search_config.first_stage_oversampling == 8.0  # the small preset reached the constructor
    with pytest.raises(InvalidArgumentError, match="not both"):
        ColBERTIndex.from_arguments(tiny_colbert, "docs", store=":memory:", url="http://localhost:6333")
    with pytest.raises(InvalidArgumentError, match="embedded store takes path= only"):
        ColBERTIndex.from_arguments(tiny_colbert, "docs", path=":memory:", timeout=5)
