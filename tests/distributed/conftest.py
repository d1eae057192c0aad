"""A local Ray instance with 2 CPU workers, shared by the module, and a few hundred documents."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

TOPICS = ["vitamin c and scurvy", "paris and the seine", "statins and cholesterol", "weather in the alps"]


def documents(n: int = 300) -> list[dict]:
    """BEIR-style rows with distinct texts."""
    return [
        {"_id": f"d{i}", "title": f"note {i}", "text": f"{TOPICS[i % 4]} number {i} " + "word " * (i % 17)}
        for i in range(n)
    ]


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture
def corpus_jsonl(tmp_path: Path) -> Path:
    path = tmp_path / "corpus.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in documents()))
    return path
