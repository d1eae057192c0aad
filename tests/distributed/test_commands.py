"""`colbert-retrieval index --ray --url ...` builds the server target the workers write to (no Ray needed)."""

from __future__ import annotations

import pickle

import pytest

pytest.importorskip("ray")

from colbert_retrieval.cli import _ray_commands as commands
from colbert_retrieval.cli import build_parser
from colbert_retrieval.distributed import QdrantTarget


def test_cluster_options_reach_the_target(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = {}

    def fake(paths, target, **kwargs):
        seen.update(paths=paths, target=target, **kwargs)
        return "summary"

    monkeypatch.setattr(commands, "index_with_ray", fake)
    monkeypatch.setenv("QDRANT_API_KEY", "s3cret-key")
    argv = "index corpus.jsonl --ray --url http://qdrant:6333 --collection docs --num-workers 4 --num-gpus 1"
    argv += " --shard-number 6 --replication-factor 2 --write-ordering strong --storage small"
    args = build_parser().parse_args(argv.split())
    assert commands.index_from_args(args) == 0
    target = seen["target"]
    assert isinstance(target, QdrantTarget)
    store = target.store
    assert (store.url, target.collection, store.write_ordering) == ("http://qdrant:6333", "docs", "strong")
    assert (store.shard_number, store.replication_factor, store.write_consistency_factor) == (6, 2, None)
    assert store.api_key is None and store.api_key_env == "QDRANT_API_KEY"
    assert (seen["num_workers"], seen["num_gpus"], seen["storage"]) == (4, 1.0, "small")
    # only the variable's name travels to the workers, never the key
    assert b"s3cret-key" not in pickle.dumps(target) and "s3cret-key" not in repr(target)


def test_an_in_memory_embedded_target_writes_nothing_to_disk(
    monkeypatch: pytest.MonkeyPatch, tmp_path, tiny_bert_dir
) -> None:
    """`index --ray --location :memory:` kept `--location` out and wrote ./colbert_index (#36)."""
    seen = {}

    def fake(paths, target, **kwargs):
        seen.update(target=target, store=target.store)
        return "summary"

    monkeypatch.setattr(commands, "index_with_ray", fake)
    monkeypatch.chdir(tmp_path)
    argv = ["index", "corpus.jsonl", "--ray", "--location", ":memory:", "--model", str(tiny_bert_dir)]
    assert commands.index_from_args(build_parser().parse_args(argv)) == 0
    assert seen["store"].path == ":memory:" and seen["store"].embedded
    assert list(tmp_path.iterdir()) == []  # no ./colbert_index
